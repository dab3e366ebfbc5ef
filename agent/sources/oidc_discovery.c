/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clock.h"
#include "hosts.h"
#include "oidc_discovery.h"

/* One discovery request under way, and the fetches waiting for it. */
struct oidc_run {
	struct oidc_run *next;
	struct oidc_cache *cache;
	char *issuer;
	char url[OIDC_MAX_URL];
	struct http_request *req;
	struct oidc_waiter *waiters;
};

struct oidc_cache {
	struct oidc_provider entries[OIDC_CACHE_MAX];
	size_t n;
	struct oidc_run *runs;
};

int oidc_cache_new(struct oidc_cache **ret)
{
	struct oidc_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	*ret = c;
	return 0;
}

void oidc_provider_done(struct oidc_provider *p)
{
	free(p->issuer);
	free(p->token_endpoint);
	free(p->authorization_endpoint);
	free(p->device_authorization_endpoint);
	memset(p, 0, sizeof(*p));
}

static void run_free(struct oidc_run *run)
{
	free(run->issuer);
	free(run);
}

struct oidc_cache *oidc_cache_free(struct oidc_cache *c)
{
	struct oidc_run *run, *next;

	if (!c)
		return NULL;
	for (run = c->runs; run; run = next) {
		next = run->next;
		http_cancel(run->req);
		while (run->waiters)
			oidc_waiter_cancel(run->waiters);
		run_free(run);
	}
	for (size_t i = 0; i < c->n; i++)
		oidc_provider_done(&c->entries[i]);
	free(c);
	return NULL;
}

static struct oidc_provider *lookup(const struct oidc_cache *c, const char *issuer)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->entries[i].issuer, issuer) == 0)
			return (struct oidc_provider *)&c->entries[i];
	return NULL;
}

const struct oidc_provider *oidc_cache_find(const struct oidc_cache *c, const char *issuer,
					    uint64_t now)
{
	const struct oidc_provider *p = lookup(c, issuer);

	return p && now - p->fetched < OIDC_DISCOVERY_MAX_AGE ? p : NULL;
}

const struct oidc_provider *oidc_outcome_provider(const struct oidc_cache *c, const char *issuer,
						  const struct oidc_outcome *o, uint64_t now,
						  char *why, size_t whylen)
{
	const struct oidc_provider *prov = NULL;

	if (!o->ok)
		snprintf(why, whylen, "oidc: %s", o->message);
	else if (!(prov = oidc_cache_find(c, issuer, now)))
		snprintf(why, whylen, "oidc: discovery: the document is gone");
	return prov;
}

void oidc_cache_forget(struct oidc_cache *c, const char *issuer)
{
	struct oidc_provider *p = lookup(c, issuer);

	if (!p)
		return;
	oidc_provider_done(p);
	*p = c->entries[--c->n];
	memset(&c->entries[c->n], 0, sizeof(c->entries[c->n]));
}

const struct oidc_provider *oidc_cache_put(struct oidc_cache *c, struct oidc_provider *p)
{
	struct oidc_provider *slot = lookup(c, p->issuer);

	if (!slot && c->n == OIDC_CACHE_MAX) {
		slot = &c->entries[0];
		for (size_t i = 1; i < c->n; i++)
			if (c->entries[i].fetched < slot->fetched)
				slot = &c->entries[i];
	}
	if (!slot)
		slot = &c->entries[c->n++];
	oidc_provider_done(slot);
	*slot = *p;
	memset(p, 0, sizeof(*p));
	return slot;
}

int oidc_discovery_url(const char *issuer, char *out, size_t len)
{
	size_t n = strlen(issuer);
	int w;

	while (n > 0 && issuer[n - 1] == '/')
		n--;
	w = snprintf(out, len, "%.*s%s", (int)n, issuer, OIDC_DISCOVERY_PATH);
	return w < 0 || (size_t)w >= len ? -E2BIG : 0;
}

/* An endpoint the agent may send a client's credential to. */
static int check_endpoint(const char *key, const char *url, char *why, size_t whylen)
{
	struct url_target t;
	char msg[160];

	if (url_target_parse(url, &t, msg, sizeof(msg)) < 0) {
		snprintf(why, whylen, "\"%s\": %s", key, msg);
		return -EINVAL;
	}
	if (!t.https && !t.loopback) {
		snprintf(why, whylen, "\"%s\" must be https (plain http only to loopback)", key);
		return -EINVAL;
	}
	return 0;
}

/* @doc[@key] as a new string; NULL when absent.  -EINVAL when not a string. */
static int take_string(json_t *doc, const char *key, char **ret, char *why, size_t whylen)
{
	json_t *v = json_object_get(doc, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(why, whylen, "\"%s\" is not a string", key);
		return -EINVAL;
	}
	*ret = strdup(json_string_value(v));
	return *ret ? 0 : -ENOMEM;
}

/* RFC 8414 §2: without token_endpoint_auth_methods_supported, client_secret_basic. */
static enum token_auth secret_auth(json_t *doc)
{
	json_t *methods = json_object_get(doc, "token_endpoint_auth_methods_supported"), *m;
	size_t i;

	json_array_foreach(methods, i, m)
	{
		if (!json_is_string(m))
			continue;
		if (strcmp(json_string_value(m), "client_secret_basic") == 0)
			return TOKEN_AUTH_BASIC;
		if (strcmp(json_string_value(m), "client_secret_post") == 0)
			return TOKEN_AUTH_POST;
	}
	return TOKEN_AUTH_BASIC;
}

static int read_document(json_t *doc, const char *issuer, struct oidc_provider *p, char *why,
			 size_t whylen)
{
	int r = take_string(doc, "issuer", &p->issuer, why, whylen);

	if (r == 0 && !p->issuer) {
		snprintf(why, whylen, "no \"issuer\"");
		return -EINVAL;
	}
	/* Discovery §4.3: the same issuer exactly, or the document is not the provider's. */
	if (r == 0 && strcmp(p->issuer, issuer) != 0) {
		snprintf(why, whylen, "the document names issuer \"%.200s\", not \"%.200s\"",
			 p->issuer, issuer);
		return -EINVAL;
	}
	if (r == 0)
		r = take_string(doc, "token_endpoint", &p->token_endpoint, why, whylen);
	if (r == 0 && !p->token_endpoint) {
		snprintf(why, whylen, "no \"token_endpoint\"");
		return -EINVAL;
	}
	if (r == 0)
		r = check_endpoint("token_endpoint", p->token_endpoint, why, whylen);
	if (r == 0)
		r = take_string(doc, "authorization_endpoint", &p->authorization_endpoint, why,
				whylen);
	if (r == 0)
		r = take_string(doc, "device_authorization_endpoint",
				&p->device_authorization_endpoint, why, whylen);
	if (r == -ENOMEM)
		snprintf(why, whylen, "out of memory");
	p->secret_auth = secret_auth(doc);
	return r;
}

int oidc_discovery_parse(const char *body, size_t len, const char *issuer,
			 struct oidc_provider *ret, char *why, size_t whylen)
{
	struct oidc_provider p = { 0 };
	json_error_t jerr;
	json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	int r;

	if (!json_is_object(doc)) {
		snprintf(why, whylen, "not a JSON object%s%.100s", doc ? "" : ": ",
			 doc ? "" : jerr.text);
		json_decref(doc);
		return -EINVAL;
	}
	r = read_document(doc, issuer, &p, why, whylen);
	json_decref(doc);
	if (r < 0) {
		oidc_provider_done(&p);
		return r;
	}
	*ret = p;
	return 0;
}

void oidc_waiter_cancel(struct oidc_waiter *w)
{
	if (!w->pprev)
		return;
	*w->pprev = w->next;
	if (w->next)
		w->next->pprev = w->pprev;
	w->next = NULL;
	w->pprev = NULL;
}

static void add_waiter(struct oidc_run *run, struct oidc_waiter *w)
{
	w->next = run->waiters;
	w->pprev = &run->waiters;
	if (w->next)
		w->next->pprev = &w->next;
	run->waiters = w;
}

static bool status_retryable(long status)
{
	return status == 404 || status == 408 || status == 410 || status == 429 || status >= 500;
}

/* What @resp makes of @run: the document kept, or why not. */
static void read_response(struct oidc_run *run, const struct http_response *resp,
			  struct oidc_outcome *o)
{
	struct oidc_provider p;
	char why[OIDC_MAX_MESSAGE - 64];

	o->retry_after = -1;
	if (resp->curl_code != 0) {
		o->retryable = true;
		snprintf(why, sizeof(why), "%s", resp->error);
	} else if (resp->status != 200) {
		o->status = resp->status;
		o->retryable = status_retryable(resp->status);
		o->retry_after = http_retry_after(resp->retry_after);
		snprintf(why, sizeof(why), "HTTP %ld", resp->status);
	} else if (oidc_discovery_parse(resp->body, resp->body_len, run->issuer, &p, why,
					sizeof(why)) == 0) {
		p.fetched = clock_now();
		o->ok = oidc_cache_put(run->cache, &p) != NULL;
		if (!o->ok)
			snprintf(why, sizeof(why), "out of memory");
	} else {
		o->status = 200;
	}
	if (!o->ok)
		snprintf(o->message, sizeof(o->message), "discovery at %.*s: %.*s",
			 (int)(sizeof(o->message) / 2), run->url,
			 (int)(sizeof(o->message) / 2 - 32), why);
}

static void on_response(const struct http_response *resp, void *userdata)
{
	struct oidc_run *run = userdata, **pp;
	struct oidc_outcome o = { 0 };
	struct oidc_waiter *w;

	for (pp = &run->cache->runs; *pp != run; pp = &(*pp)->next)
		;
	*pp = run->next; /* a fetch starting from now on finds the document, or tries again */
	read_response(run, resp, &o);
	/* Each waiter leaves before it is told: telling one may cancel another. */
	while ((w = run->waiters)) {
		oidc_waiter_cancel(w);
		w->done(w, &o);
	}
	run_free(run); /* http frees the request after this callback */
}

static int start_run(struct oidc_cache *c, struct http *http, const char *issuer,
		     struct oidc_run **ret, char *why, size_t whylen)
{
	struct oidc_run *run = calloc(1, sizeof(*run));
	struct http_options o = { .method = "GET", .timeout_ms = OIDC_TIMEOUT_MS };
	struct url_target t;
	int r;

	if (!run || !(run->issuer = strdup(issuer))) {
		free(run);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	run->cache = c;
	r = oidc_discovery_url(issuer, run->url, sizeof(run->url));
	if (r == 0)
		r = url_target_parse(run->url, &t, why, whylen);
	else
		snprintf(why, whylen, "issuer too long");
	/* The configuration allows an https issuer, or plain http to loopback. */
	if (r == 0 && !t.https && !t.loopback) {
		snprintf(why, whylen, "issuer: plain http only to loopback");
		r = -EINVAL;
	}
	o.url = run->url;
	o.allow_http = r == 0 && !t.https;
	if (r == 0 && (r = http_start(http, &o, on_response, run, &run->req)) < 0)
		snprintf(why, whylen, "cannot start the discovery request: %s", http_strerror(r));
	if (r < 0) {
		run_free(run);
		return r;
	}
	run->next = c->runs;
	c->runs = run;
	*ret = run;
	return 0;
}

int oidc_cache_wait(struct oidc_cache *c, struct http *http, const char *issuer,
		    struct oidc_waiter *w, char *why, size_t whylen)
{
	struct oidc_run *run;
	int r = 0;

	for (run = c->runs; run && strcmp(run->issuer, issuer) != 0; run = run->next)
		;
	if (!run)
		r = start_run(c, http, issuer, &run, why, whylen);
	if (r == 0)
		add_waiter(run, w);
	return r;
}
