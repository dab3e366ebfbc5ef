/* SPDX-License-Identifier: MIT */
/*
 * The interposed libcurl entry points: the library's only exports.
 *
 * Programs bind versioned references (curl_easy_setopt@CURL_OPENSSL_4 for
 * Debian's OpenSSL libcurl, @CURL_GNUTLS_3 for its GnuTLS libcurl,
 * @CURL_NSS_3 for its NSS libcurl), so each entry point exists once per
 * flavour, under that flavour's version; a flavour's wrapper knows which
 * library to forward to, and several libcurls can live in one process.
 * The OpenSSL ones are the default version (@@), which unversioned
 * references bind to.  preload.map defines the version nodes and hides
 * everything else.
 *
 * Each wrapper passes its return address on, so calls libcurl makes to its
 * own public functions are recognised and left alone.
 */
#include "hook.h"

#define EXPORT __attribute__((visibility("default")))
#define CALLER __builtin_extract_return_addr(__builtin_return_address(0))

#define SYMVER(impl, name, ver) __asm__(".symver " #impl "," #name ver)

/* Declares and defines flavour @fl's wrappers as PREFIX_curl_*. */
#define DEFINE_WRAPPERS(prefix, fl)                                                   \
	EXPORT CURL *prefix##_curl_easy_init(void);                                   \
	CURL *prefix##_curl_easy_init(void)                                           \
	{                                                                             \
		return hook_easy_init(fl, CALLER);                                    \
	}                                                                             \
	EXPORT CURLcode prefix##_curl_easy_setopt(CURL *handle, CURLoption opt, ...); \
	CURLcode prefix##_curl_easy_setopt(CURL *handle, CURLoption opt, ...)         \
	{                                                                             \
		union setopt_arg arg;                                                 \
		va_list ap;                                                           \
                                                                                      \
		va_start(ap, opt);                                                    \
		arg = setopt_read(opt, &ap);                                          \
		va_end(ap);                                                           \
		if (!setopt_watched(opt))                                             \
			return setopt_forward(fl, handle, opt, arg);                  \
		return hook_setopt(fl, handle, opt, arg, CALLER);                     \
	}                                                                             \
	EXPORT CURLcode prefix##_curl_easy_perform(CURL *handle);                     \
	CURLcode prefix##_curl_easy_perform(CURL *handle)                             \
	{                                                                             \
		return hook_easy_perform(fl, handle, CALLER);                         \
	}                                                                             \
	EXPORT CURL *prefix##_curl_easy_duphandle(CURL *handle);                      \
	CURL *prefix##_curl_easy_duphandle(CURL *handle)                              \
	{                                                                             \
		return hook_easy_duphandle(fl, handle, CALLER);                       \
	}                                                                             \
	EXPORT void prefix##_curl_easy_reset(CURL *handle);                           \
	void prefix##_curl_easy_reset(CURL *handle)                                   \
	{                                                                             \
		hook_easy_reset(fl, handle, CALLER);                                  \
	}                                                                             \
	EXPORT void prefix##_curl_easy_cleanup(CURL *handle);                         \
	void prefix##_curl_easy_cleanup(CURL *handle)                                 \
	{                                                                             \
		hook_easy_cleanup(fl, handle, CALLER);                                \
	}                                                                             \
	EXPORT CURLMcode prefix##_curl_multi_add_handle(CURLM *multi, CURL *handle);  \
	CURLMcode prefix##_curl_multi_add_handle(CURLM *multi, CURL *handle)          \
	{                                                                             \
		return hook_multi_add_handle(fl, multi, handle, CALLER);              \
	}

#define BIND_WRAPPERS(prefix, ver)                                      \
	SYMVER(prefix##_curl_easy_init, curl_easy_init, ver);           \
	SYMVER(prefix##_curl_easy_setopt, curl_easy_setopt, ver);       \
	SYMVER(prefix##_curl_easy_perform, curl_easy_perform, ver);     \
	SYMVER(prefix##_curl_easy_duphandle, curl_easy_duphandle, ver); \
	SYMVER(prefix##_curl_easy_reset, curl_easy_reset, ver);         \
	SYMVER(prefix##_curl_easy_cleanup, curl_easy_cleanup, ver);     \
	SYMVER(prefix##_curl_multi_add_handle, curl_multi_add_handle, ver)

DEFINE_WRAPPERS(aoai_openssl, FLAVOUR_OPENSSL)
DEFINE_WRAPPERS(aoai_gnutls, FLAVOUR_GNUTLS)
DEFINE_WRAPPERS(aoai_nss, FLAVOUR_NSS)

BIND_WRAPPERS(aoai_openssl, "@@CURL_OPENSSL_4");
BIND_WRAPPERS(aoai_gnutls, "@CURL_GNUTLS_3");
BIND_WRAPPERS(aoai_nss, "@CURL_NSS_3");
