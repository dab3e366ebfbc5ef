/* SPDX-License-Identifier: MIT */
/*
 * The decision, once per request.
 *
 * libcurl calls CURLOPT_PREREQFUNCTION after connecting and before sending
 * each request, redirect hops included, and builds the request's headers
 * after it returns.  So here, for the URL this very request goes to
 * (CURLINFO_EFFECTIVE_URL holds the current hop's URL by then), the hook
 * asks the agent and sets the handle's header list: a private copy of the
 * application's list with the profile's headers, or the application's own
 * list unchanged.  A secret decided for one hop is gone from the handle
 * before the next: redirects to other hosts, ports or to plain http get
 * nothing unless the agent covers them in their own right.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hook.h"
#include "json_mini.h"
#include "proto.h"

/* A request on the stack up to this size; longer URLs are rare (and the
 * callback may run on a thread with a small stack). */
#define REQUEST_STACK 2048

enum verdict {
	VERDICT_PASS,   /* the application's list, silently */
	VERDICT_INJECT, /* ask the agent / the agent's headers */
	VERDICT_FAIL,   /* the application's list; reported; strict mode aborts */
};

static const char *failure_tail(void)
{
	return hook_strict() ? "transfer aborted (AOAI_PRELOAD_STRICT=1)"
			     : "requests go out without credentials";
}

static bool scheme_is(const char *url, const char *prefix)
{
	return strncasecmp(url, prefix, strlen(prefix)) == 0;
}

/* The address libcurl connected to (empty over a Unix socket). */
static bool ip_is_loopback(const char *ip)
{
	return ip && (strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 ||
		      strncasecmp(ip, "::ffff:127.", 11) == 0);
}

/*
 * Requests that may never carry credentials, decided without the agent:
 * https without certificate checks, http to anything but loopback (the
 * address actually connected to, whatever the name said), other schemes,
 * and headers that libcurl would also send to a proxy (CURLHEADER_UNIFIED).
 */
static enum verdict eligible(const struct record *rec, const char *url, const char *ip, long hops)
{
	if (!url)
		return VERDICT_PASS;
	if (scheme_is(url, "https://")) {
		if (rec->peer_off || rec->host_off)
			return VERDICT_PASS;
	} else if (!scheme_is(url, "http://") || !ip_is_loopback(ip)) {
		return VERDICT_PASS;
	}
	if (rec->headers_unified)
		return VERDICT_PASS;
	if (!origin_request_consistent(rec, url, hops)) {
		report_once(REPORT_MISMATCH,
			    "the request URL and its destination disagree (CURLOPT_CURLU or "
			    "CURLOPT_PORT): no credentials sent; %s",
			    hook_strict() ? "transfer aborted (AOAI_PRELOAD_STRICT=1)"
					  : "the request goes out without them");
		return VERDICT_FAIL;
	}
	return VERDICT_INJECT;
}

/* An error reply: no_match and insecure_url are the normal "not ours". */
static enum verdict refused(const struct agent_reply *reply)
{
	if (strcmp(reply->error, "no_match") == 0 || strcmp(reply->error, "insecure_url") == 0)
		return VERDICT_PASS;
	report_once(REPORT_AGENT, "agent refused (%s%s%.200s): %s", reply->error,
		    reply->message ? ": " : "", reply->message ? reply->message : "",
		    failure_tail());
	return VERDICT_FAIL;
}

struct decision {
	struct curl_slist *list; /* NULL: the application's */
	size_t ninjected;
	struct injected injected[HOOK_MAX_HEADERS];
};

static enum verdict merge_reply(const struct record *rec, const struct agent_reply *reply,
				struct decision *d)
{
	if (merge_headers(rec->flavour, rec->app_headers, reply->headers, reply->nheaders, &d->list,
			  d->injected, &d->ninjected) < 0) {
		report_once(REPORT_AGENT, "cannot build the header list (out of memory): %s",
			    failure_tail());
		return VERDICT_FAIL;
	}
	return VERDICT_INJECT;
}

/*
 * The request for @url: in @stack when it fits (the usual case), else in
 * *ret_heap (free() it).  Returns its length, or 0.
 */
static size_t build_request(const char *url, char *stack, size_t cap, char **ret_heap)
{
	ssize_t n;
	size_t len = 0;

	*ret_heap = NULL;
	if (strlen(url) > PROTO_MAX_URL)
		return 0;
	n = json_mini_headers_request_into(url, stack, cap);
	if (n > 0)
		return (size_t)n;
	if (n < 0 || json_mini_headers_request(url, ret_heap, &len) < 0)
		return 0;
	return len;
}

/* One round trip; the reply buffer (credentials) is wiped before returning. */
static enum verdict ask_agent(const struct record *rec, const char *url, struct decision *d)
{
	struct agent_reply reply;
	char err[256], stack[REQUEST_STACK], *heap, *buf = NULL;
	size_t req_len = build_request(url, stack, sizeof(stack), &heap), len = 0;
	enum verdict v;
	int r;

	if (req_len == 0) {
		report_once(REPORT_AGENT, "request URL too long or not UTF-8: %s", failure_tail());
		return VERDICT_FAIL;
	}
	r = agent_roundtrip(heap ? heap : stack, req_len, &buf, &len, err, sizeof(err));
	free(heap);
	if (r < 0) {
		report_once(REPORT_AGENT, "agent unreachable (%s): %s", err, failure_tail());
		return VERDICT_FAIL;
	}
	if (agent_reply_parse(buf, len, &reply) < 0) {
		report_once(REPORT_AGENT, "the agent sent a malformed reply: %s", failure_tail());
		v = VERDICT_FAIL;
	} else if (!reply.ok) {
		v = refused(&reply);
	} else {
		v = merge_reply(rec, &reply, d);
	}
	explicit_bzero(buf, len);
	free(buf);
	return v;
}

/*
 * Puts the chosen list on the handle, then lets go of the previous private
 * list, which libcurl no longer uses once the new one is set.
 */
static void use_list(struct record *rec, struct decision *d)
{
	easy_setopt_fn setopt = (easy_setopt_fn)curl_real(rec->flavour, REAL_EASY_SETOPT);
	struct curl_slist *old = rec->private_headers;

	if (setopt)
		setopt(rec->handle, CURLOPT_HTTPHEADER, d->list ? d->list : rec->app_headers);
	rec->private_headers = d->list;
	rec->ninjected = d->list ? d->ninjected : 0;
	memcpy(rec->injected, d->injected, rec->ninjected * sizeof(rec->injected[0]));
	merge_free(rec->flavour, old);
}

static int decide(struct record *rec, const char *primary_ip)
{
	easy_getinfo_fn getinfo = (easy_getinfo_fn)curl_real(rec->flavour, REAL_EASY_GETINFO);
	struct decision d; /* not zeroed: only its first ninjected entries are read */
	const char *url = NULL;
	long hops = 0;
	enum verdict v;

	d.list = NULL;
	d.ninjected = 0;
	if (getinfo) {
		getinfo(rec->handle, CURLINFO_EFFECTIVE_URL, &url);
		getinfo(rec->handle, CURLINFO_REDIRECT_COUNT, &hops);
	}
	v = eligible(rec, url, primary_ip, hops);
	/* A host no profile covers needs no question (host_list.c). */
	if (v == VERDICT_INJECT && !host_list_may_cover(url))
		v = VERDICT_PASS;
	if (v == VERDICT_INJECT)
		v = ask_agent(rec, url, &d);
	use_list(rec, &d);
	if (v == VERDICT_FAIL && hook_strict())
		return CURL_PREREQFUNC_ABORT;
	return CURL_PREREQFUNC_OK;
}

int prereq_callback(void *clientp, char *primary_ip, char *local_ip, int primary_port,
		    int local_port)
{
	struct record *rec = clientp;
	int r;

	/* The application's first: it may still change its headers, or abort. */
	if (rec->app_prereq) {
		r = rec->app_prereq(rec->app_prereq_data, primary_ip, local_ip, primary_port,
				    local_port);
		if (r != CURL_PREREQFUNC_OK)
			return r;
	}
	return decide(rec, primary_ip);
}
