/* SPDX-License-Identifier: MIT */
/*
 * Origins (scheme, host, port) of URLs, taken apart by the handle's own
 * libcurl so the hook sees a URL exactly as the transfer does.
 *
 * They matter where CURLINFO_EFFECTIVE_URL does not say where a request
 * goes.  In libcurl 7.88 a handle with both CURLOPT_CURLU and CURLOPT_URL
 * reports the URL string but connects to the CURLU; CURLOPT_PORT overrides
 * the URL's port on the first request without showing in the URL.  A
 * secret decided for one origin must not go to another, so those requests
 * are checked (origin_request_consistent) and get nothing when they differ.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hook.h"

void origin_done(enum hook_flavour fl, struct origin *o)
{
	free_fn cfree = (free_fn)curl_real(fl, REAL_FREE);

	if (cfree) {
		cfree(o->scheme);
		cfree(o->host);
		cfree(o->port);
	}
	o->scheme = o->host = o->port = NULL;
}

int origin_of_curlu(enum hook_flavour fl, const CURLU *curlu, struct origin *ret)
{
	url_get_fn get = (url_get_fn)curl_real(fl, REAL_URL_GET);
	struct origin o = { 0 };

	if (!get)
		return -ENOSYS;
	if (get(curlu, CURLUPART_SCHEME, &o.scheme, CURLU_DEFAULT_SCHEME) != CURLUE_OK ||
	    get(curlu, CURLUPART_HOST, &o.host, 0) != CURLUE_OK ||
	    get(curlu, CURLUPART_PORT, &o.port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		origin_done(fl, &o);
		return -EINVAL;
	}
	*ret = o;
	return 0;
}

int origin_of_url(enum hook_flavour fl, const char *url, struct origin *ret)
{
	url_fn make = (url_fn)curl_real(fl, REAL_URL);
	url_set_fn set = (url_set_fn)curl_real(fl, REAL_URL_SET);
	url_cleanup_fn cleanup = (url_cleanup_fn)curl_real(fl, REAL_URL_CLEANUP);
	CURLU *u;
	int r;

	if (!make || !set || !cleanup)
		return -ENOSYS;
	u = make();
	if (!u)
		return -ENOMEM;
	if (set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		r = -EINVAL;
	else
		r = origin_of_curlu(fl, u, ret);
	cleanup(u);
	return r;
}

bool origin_equal(const struct origin *a, const struct origin *b)
{
	return strcasecmp(a->scheme, b->scheme) == 0 && strcasecmp(a->host, b->host) == 0 &&
	       strcmp(a->port, b->port) == 0;
}

static bool port_is(const char *port, long want)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%ld", want);
	return strcmp(port, buf) == 0;
}

bool origin_request_consistent(const struct record *rec, const char *url, long hops)
{
	bool check_curlu = hops == 0 && rec->app_curlu, ok = true;
	struct origin req = { 0 }, app = { 0 };

	if (!rec->app_port && !check_curlu)
		return true;
	if (origin_of_url(rec->flavour, url, &req) < 0)
		return false;
	/* libcurl 7.88 applies CURLOPT_PORT to the first request only; checking
	 * every hop can only refuse more, never send a secret elsewhere. */
	if (rec->app_port)
		ok = port_is(req.port, rec->app_port);
	if (ok && check_curlu) {
		ok = origin_of_curlu(rec->flavour, rec->app_curlu, &app) == 0 &&
		     origin_equal(&req, &app);
		origin_done(rec->flavour, &app);
	}
	origin_done(rec->flavour, &req);
	return ok;
}
