/* SPDX-License-Identifier: MIT */
/*
 * The curl_easy_setopt wrapper.
 *
 * curl_easy_setopt is variadic and the type of its argument follows from
 * the option's number range (curl.h's CURLOPTTYPE_*), so the wrapper reads
 * it with that type and passes it on with the same type: reading a
 * curl_off_t as a pointer, or a function pointer as a long, is undefined
 * behaviour even where the ABI happens to agree.
 *
 * Most options go straight through.  The few the hook must know are
 * recorded in the handle's record: the application's header list, its own
 * prereq and debug callbacks (which the hook chains to instead of letting
 * them replace its own), and what decides whether a request may carry
 * credentials at all (certificate checks, CURLU, port, header routing).
 */
#include "hook.h"

/*
 * The application's callbacks: while ours are installed they only go into
 * the record (ours call them); before that the handle gets them too, so a
 * libcurl too old for ours behaves as without the hook.
 */
static CURLcode set_callback(struct record *rec, CURLoption opt, union setopt_arg arg)
{
	switch (opt) {
	case CURLOPT_PREREQFUNCTION:
		rec->app_prereq = (curl_prereq_callback)arg.fn;
		break;
	case CURLOPT_PREREQDATA:
		rec->app_prereq_data = arg.p;
		break;
	case CURLOPT_DEBUGFUNCTION:
		rec->app_debug = (curl_debug_callback)arg.fn;
		break;
	default: /* CURLOPT_DEBUGDATA */
		rec->app_debug_data = arg.p;
		break;
	}
	if (rec->installed)
		return CURLE_OK;
	return setopt_forward(rec->flavour, rec->handle, opt, arg);
}

/* Records an option libcurl accepted. */
static void note_option(struct record *rec, CURLoption opt, union setopt_arg arg)
{
	switch (opt) {
	case CURLOPT_HTTPHEADER:
		rec->app_headers = arg.p;
		break;
	case CURLOPT_STDERR:
		rec->app_stderr = arg.p;
		break;
	case CURLOPT_SSL_VERIFYPEER:
		rec->peer_off = arg.l == 0;
		break;
	case CURLOPT_SSL_VERIFYHOST:
		rec->host_off = arg.l == 0;
		break;
	case CURLOPT_CURLU:
		rec->app_curlu = arg.p;
		break;
	case CURLOPT_PORT:
		rec->app_port = arg.l;
		break;
	case CURLOPT_HEADEROPT:
		rec->headers_unified = !(arg.l & CURLHEADER_SEPARATE);
		break;
	default:
		break;
	}
}

CURLcode hook_setopt(enum hook_flavour fl, CURL *handle, CURLoption opt, union setopt_arg arg,
		     const void *caller)
{
	struct record *rec;
	CURLcode r;

	if (!setopt_watched(opt) || curl_real_internal(fl, caller))
		return setopt_forward(fl, handle, opt, arg);
	rec = handles_get(handle);
	if (!rec)
		return setopt_forward(fl, handle, opt, arg);
	switch (opt) {
	case CURLOPT_PREREQFUNCTION:
	case CURLOPT_PREREQDATA:
	case CURLOPT_DEBUGFUNCTION:
	case CURLOPT_DEBUGDATA:
		return set_callback(rec, opt, arg);
	default:
		break;
	}
	r = setopt_forward(fl, handle, opt, arg);
	if (r == CURLE_OK)
		note_option(rec, opt, arg);
	return r;
}
