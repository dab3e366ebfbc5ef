/* SPDX-License-Identifier: MIT */
/* libcurl on first use (curl_dl.h). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "curl_dl.h"
#include "dl_syms.h"

#define CURL_DL_DEFINE(name) __typeof__(name) *sym_##name
CURL_DL_DEFINE(curl_global_init);
CURL_DL_DEFINE(curl_global_init_mem);
CURL_DL_DEFINE(curl_global_cleanup);
CURL_DL_DEFINE(curl_multi_init);
CURL_DL_DEFINE(curl_multi_cleanup);
CURL_DL_DEFINE(curl_multi_setopt);
CURL_DL_DEFINE(curl_multi_add_handle);
CURL_DL_DEFINE(curl_multi_remove_handle);
CURL_DL_DEFINE(curl_multi_info_read);
CURL_DL_DEFINE(curl_multi_socket_action);
CURL_DL_DEFINE(curl_multi_assign);
CURL_DL_DEFINE(curl_easy_init);
CURL_DL_DEFINE(curl_easy_cleanup);
CURL_DL_DEFINE(curl_easy_setopt);
CURL_DL_DEFINE(curl_easy_getinfo);
CURL_DL_DEFINE(curl_easy_strerror);
CURL_DL_DEFINE(curl_slist_append);
CURL_DL_DEFINE(curl_slist_free_all);
CURL_DL_DEFINE(curl_url);
CURL_DL_DEFINE(curl_url_set);
CURL_DL_DEFINE(curl_url_get);
CURL_DL_DEFINE(curl_url_cleanup);
CURL_DL_DEFINE(curl_url_strerror);
CURL_DL_DEFINE(curl_free);

static const struct dl_sym curl_syms[] = {
	DL_SYM(curl_global_init),
	DL_SYM(curl_global_init_mem),
	DL_SYM(curl_global_cleanup),
	DL_SYM(curl_multi_init),
	DL_SYM(curl_multi_cleanup),
	DL_SYM(curl_multi_setopt),
	DL_SYM(curl_multi_add_handle),
	DL_SYM(curl_multi_remove_handle),
	DL_SYM(curl_multi_info_read),
	DL_SYM(curl_multi_socket_action),
	DL_SYM(curl_multi_assign),
	DL_SYM(curl_easy_init),
	DL_SYM(curl_easy_cleanup),
	DL_SYM(curl_easy_setopt),
	DL_SYM(curl_easy_getinfo),
	DL_SYM(curl_easy_strerror),
	DL_SYM(curl_slist_append),
	DL_SYM(curl_slist_free_all),
	DL_SYM(curl_url),
	DL_SYM(curl_url_set),
	DL_SYM(curl_url_get),
	DL_SYM(curl_url_cleanup),
	DL_SYM(curl_url_strerror),
	DL_SYM(curl_free),
};

static struct {
	curl_malloc_callback m;
	curl_free_callback f;
	curl_realloc_callback r;
	curl_strdup_callback s;
	curl_calloc_callback c;
} memory;

/* Written once by load(), under pthread_once; read-only afterwards. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_result = -EAGAIN;
static char load_error[CURL_DL_MAX_ERROR];

void curl_dl_use_memory(curl_malloc_callback m, curl_free_callback f, curl_realloc_callback r,
			curl_strdup_callback s, curl_calloc_callback c)
{
	memory.m = m;
	memory.f = f;
	memory.r = r;
	memory.s = s;
	memory.c = c;
}

static void load(void)
{
	CURLcode code;
	int r =
	    dl_syms_open(CURL_DL_SONAME, CURL_DL_PACKAGE, curl_syms,
			 sizeof(curl_syms) / sizeof(curl_syms[0]), load_error, sizeof(load_error));

	if (r < 0) {
		load_result = r;
		return;
	}
	if (memory.m)
		code = sym_curl_global_init_mem(CURL_GLOBAL_DEFAULT, memory.m, memory.f, memory.r,
						memory.s, memory.c);
	else
		code = sym_curl_global_init(CURL_GLOBAL_DEFAULT);
	if (code != CURLE_OK) {
		snprintf(load_error, sizeof(load_error), "%s: curl_global_init failed: %s",
			 CURL_DL_SONAME, sym_curl_easy_strerror(code));
		load_result = -EIO;
		return;
	}
	load_result = 0;
}

int curl_dl_open(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (load_result < 0 && err && errlen > 0)
		snprintf(err, errlen, "%s", load_error);
	return load_result;
}

void curl_dl_cleanup(void)
{
	if (load_result == 0)
		sym_curl_global_cleanup();
}

/* libcurl's own rule (lib/setopt.c): the option's number says the type of its argument. */
CURLcode(curl_easy_setopt)(CURL *easy, CURLoption option, ...)
{
	CURLcode code;
	va_list ap;

	va_start(ap, option);
	if (option < CURLOPTTYPE_OBJECTPOINT)
		code = sym_curl_easy_setopt(easy, option, va_arg(ap, long));
	else if (option < CURLOPTTYPE_FUNCTIONPOINT)
		code = sym_curl_easy_setopt(easy, option, va_arg(ap, void *));
	else if (option < CURLOPTTYPE_OFF_T)
		code = sym_curl_easy_setopt(easy, option, va_arg(ap, void (*)(void)));
	else if (option < CURLOPTTYPE_BLOB)
		code = sym_curl_easy_setopt(easy, option, va_arg(ap, curl_off_t));
	else
		code = sym_curl_easy_setopt(easy, option, va_arg(ap, void *));
	va_end(ap);
	return code;
}

/* Every CURLINFO takes a pointer to where the answer goes. */
CURLcode(curl_easy_getinfo)(CURL *easy, CURLINFO info, ...)
{
	CURLcode code;
	va_list ap;

	va_start(ap, info);
	code = sym_curl_easy_getinfo(easy, info, va_arg(ap, void *));
	va_end(ap);
	return code;
}
