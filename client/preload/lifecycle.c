/* SPDX-License-Identifier: MIT */
/*
 * A handle's life as the hook follows it: records are made by
 * curl_easy_init and curl_easy_duphandle, our callbacks go onto the handle
 * when a transfer starts (curl_easy_perform, curl_multi_add_handle), and the
 * record goes away with curl_easy_reset's options or curl_easy_cleanup.
 *
 * Calls coming from inside libcurl itself pass straight through: libcurl
 * makes its own handles (the connection cache's closure handle, HTTP/2
 * pushes) and adds handles to multis with the public functions, and none
 * of those may get a record.
 */
#include "hook.h"

/*
 * Puts our prereq and debug callbacks on the handle, each time a transfer
 * starts: cheap, and it undoes anything that replaced them behind the
 * setopt wrapper's back.  A libcurl without CURLOPT_PREREQFUNCTION (before
 * 7.80) cannot decide per request, so the hook then stays out entirely.
 */
static void install(struct record *rec)
{
	easy_setopt_fn setopt = (easy_setopt_fn)curl_real(rec->flavour, REAL_EASY_SETOPT);

	if (!setopt)
		return;
	if (setopt(rec->handle, CURLOPT_PREREQFUNCTION, prereq_callback) != CURLE_OK) {
		report_once(REPORT_OLD_CURL, "libcurl lacks CURLOPT_PREREQFUNCTION (7.80 or later "
					     "needed): requests go out without credentials");
		return;
	}
	setopt(rec->handle, CURLOPT_PREREQDATA, rec);
	setopt(rec->handle, CURLOPT_DEBUGFUNCTION, redact_debug_callback);
	setopt(rec->handle, CURLOPT_DEBUGDATA, rec);
	rec->installed = true;
}

CURL *hook_easy_init(enum hook_flavour fl, const void *caller)
{
	easy_init_fn real = (easy_init_fn)curl_real(fl, REAL_EASY_INIT);
	CURL *handle;

	if (!real)
		return NULL;
	handle = real();
	if (handle && !curl_real_internal(fl, caller))
		handles_add(handle, fl);
	return handle;
}

/*
 * libcurl copies the handle's settings, ours included: our callbacks with
 * the source's record, and our private header list, which dies with the
 * source's next request.  The copy gets the application's own back.
 */
static void restore_app_settings(const struct record *src, CURL *copy)
{
	easy_setopt_fn setopt = (easy_setopt_fn)curl_real(src->flavour, REAL_EASY_SETOPT);

	if (!setopt)
		return;
	setopt(copy, CURLOPT_HTTPHEADER, src->app_headers);
	setopt(copy, CURLOPT_PREREQFUNCTION, src->app_prereq);
	setopt(copy, CURLOPT_PREREQDATA, src->app_prereq_data);
	setopt(copy, CURLOPT_DEBUGFUNCTION, src->app_debug);
	setopt(copy, CURLOPT_DEBUGDATA, src->app_debug_data);
}

static void copy_app_settings(const struct record *src, struct record *dst)
{
	dst->app_headers = src->app_headers;
	dst->app_prereq = src->app_prereq;
	dst->app_prereq_data = src->app_prereq_data;
	dst->app_debug = src->app_debug;
	dst->app_debug_data = src->app_debug_data;
	dst->app_stderr = src->app_stderr;
	/* curl_easy_duphandle shares a CURLU, as it shares every pointer option. */
	dst->app_curlu = src->app_curlu;
	dst->app_port = src->app_port;
	dst->peer_off = src->peer_off;
	dst->host_off = src->host_off;
	dst->headers_unified = src->headers_unified;
}

CURL *hook_easy_duphandle(enum hook_flavour fl, CURL *handle, const void *caller)
{
	easy_duphandle_fn real = (easy_duphandle_fn)curl_real(fl, REAL_EASY_DUPHANDLE);
	struct record *src, *dst;
	CURL *copy;

	if (!real)
		return NULL;
	copy = real(handle);
	if (!copy)
		return NULL;
	src = handles_get(handle);
	if (!src)
		return copy;
	/* Internal copies (HTTP/2 push) too: they must not point at our record. */
	restore_app_settings(src, copy);
	if (curl_real_internal(fl, caller))
		return copy;
	dst = handles_add(copy, src->flavour);
	if (dst)
		copy_app_settings(src, dst);
	return copy;
}

void hook_easy_reset(enum hook_flavour fl, CURL *handle, const void *caller)
{
	easy_reset_fn real = (easy_reset_fn)curl_real(fl, REAL_EASY_RESET);
	struct record *rec;

	if (!real)
		return;
	real(handle);
	if (curl_real_internal(fl, caller))
		return;
	/* After the real reset: libcurl no longer points at our list. */
	rec = handles_get(handle);
	if (rec)
		record_reset(rec);
}

void hook_easy_cleanup(enum hook_flavour fl, CURL *handle, const void *caller)
{
	easy_cleanup_fn real = (easy_cleanup_fn)curl_real(fl, REAL_EASY_CLEANUP);
	struct record *rec = NULL;

	if (!curl_real_internal(fl, caller))
		rec = handles_take(handle);
	/* libcurl may still call our debug callback while closing: free after. */
	if (real)
		real(handle);
	record_free(rec);
}

CURLcode hook_easy_perform(enum hook_flavour fl, CURL *handle, const void *caller)
{
	easy_perform_fn real = (easy_perform_fn)curl_real(fl, REAL_EASY_PERFORM);
	struct record *rec;

	if (!real)
		return CURLE_FAILED_INIT;
	if (!curl_real_internal(fl, caller)) {
		rec = handles_get(handle);
		if (rec)
			install(rec);
	}
	return real(handle);
}

CURLMcode hook_multi_add_handle(enum hook_flavour fl, CURLM *multi, CURL *handle,
				const void *caller)
{
	multi_add_handle_fn real = (multi_add_handle_fn)curl_real(fl, REAL_MULTI_ADD_HANDLE);
	struct record *rec;

	if (!real)
		return CURLM_INTERNAL_ERROR;
	if (!curl_real_internal(fl, caller)) {
		rec = handles_get(handle);
		if (rec)
			install(rec);
	}
	return real(multi, handle);
}
