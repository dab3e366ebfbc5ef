/* SPDX-License-Identifier: MIT */
/*
 * libcurl, loaded on first use (dl_syms.h).  An agent whose profiles need no
 * HTTP (API keys only) never maps libcurl, nor the TLS stack under it.
 * Code calls sym_curl_NAME() after curl_dl_open() succeeded;
 * curl_easy_setopt() and curl_easy_getinfo() keep their names, and with
 * them the type checks of curl's typecheck-gcc.h: the calls go to
 * forwarders here (see the declarations at the end).
 */
#pragma once

#include <stddef.h>

#include <curl/curl.h>

/* A test build asks for a library that does not exist (the Makefile's aoai-agent-nocurl). */
#ifndef CURL_DL_SONAME
#define CURL_DL_SONAME "libcurl.so.4"
#endif
#define CURL_DL_PACKAGE   "libcurl4" /* Debian's package of CURL_DL_SONAME */
#define CURL_DL_MAX_ERROR 320

#define CURL_DL_FN(name) extern __typeof__(name) *sym_##name
CURL_DL_FN(curl_global_init);
CURL_DL_FN(curl_global_init_mem);
CURL_DL_FN(curl_global_cleanup);
CURL_DL_FN(curl_multi_init);
CURL_DL_FN(curl_multi_cleanup);
CURL_DL_FN(curl_multi_setopt);
CURL_DL_FN(curl_multi_add_handle);
CURL_DL_FN(curl_multi_remove_handle);
CURL_DL_FN(curl_multi_info_read);
CURL_DL_FN(curl_multi_socket_action);
CURL_DL_FN(curl_multi_assign);
CURL_DL_FN(curl_easy_init);
CURL_DL_FN(curl_easy_cleanup);
CURL_DL_FN(curl_easy_setopt);
CURL_DL_FN(curl_easy_getinfo);
CURL_DL_FN(curl_easy_strerror);
CURL_DL_FN(curl_slist_append);
CURL_DL_FN(curl_slist_free_all);
CURL_DL_FN(curl_url);
CURL_DL_FN(curl_url_set);
CURL_DL_FN(curl_url_get);
CURL_DL_FN(curl_url_cleanup);
CURL_DL_FN(curl_url_strerror);
CURL_DL_FN(curl_free);

/*
 * The allocator curl_global_init_mem() gets when the library is loaded (the
 * agent's wipes what libcurl frees); without one, curl_global_init().  Call
 * it before the first curl_dl_open(), while the process has one thread.
 */
void curl_dl_use_memory(curl_malloc_callback m, curl_free_callback f, curl_realloc_callback r,
			curl_strdup_callback s, curl_calloc_callback c);

/*
 * Loads libcurl and runs its global init, once per process, whichever
 * thread asks first (pthread_once).  Returns 0; or a negative errno with a
 * message naming the library and the package to install in @err (may be
 * NULL), the same on every call.
 */
int curl_dl_open(char *err, size_t errlen);

/* curl_global_cleanup() when curl_dl_open() loaded the library; else nothing. */
void curl_dl_cleanup(void);

/*
 * curl_easy_setopt() and curl_easy_getinfo(), as curl.h and its type
 * checking macros call them, bound to forwarders of this file instead of
 * libcurl's own symbols (the way glibc redirects its internal calls), so
 * the checks stay and the program needs no libcurl to link.
 */
extern __typeof__(curl_easy_setopt) curl_easy_setopt __asm__("curl_dl_easy_setopt");
extern __typeof__(curl_easy_getinfo) curl_easy_getinfo __asm__("curl_dl_easy_getinfo");
