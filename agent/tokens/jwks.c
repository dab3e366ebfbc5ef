/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hosts.h"
#include "http.h"
#include "jwks.h"
#include "proto.h"

#define JWKS_MAX_MESSAGE 256

struct jwks_waiter {
	struct jwks_waiter *next;
	struct jwks_entry *e;
	jwks_done_fn done;
	void *userdata;
};

struct jwks_entry {
	struct jwks_cache *cache;
	char *url;                      /* the OpenID configuration */
	char where[HOSTS_MAX_NAME + 8]; /* its "host:port", what messages may name */
	char *issuer;                   /* from the last good fetch ... */
	char *jwks_uri;
	json_t *keys;
	int64_t fetched_at; /* Unix time; 0: never fetched */
	struct timespec fetched_mono;
	bool refreshing;          /* the fetch in flight was asked for with refresh */
	bool refreshed;           /* so was the last good one */
	struct http_request *req; /* in flight: the configuration, then the keys */
	char *pending_issuer, *pending_jwks_uri; /* what the configuration step found */
	struct jwks_waiter *waiters;
};

struct jwks_cache {
	struct http *http;
	struct jwks_entry *entries[JWKS_MAX_ENTRIES];
	size_t n;
};

int jwks_cache_new(struct http *http, struct jwks_cache **ret)
{
	struct jwks_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->http = http;
	*ret = c;
	return 0;
}

static void entry_free(struct jwks_entry *e)
{
	struct jwks_waiter *w, *next;

	if (e->req)
		http_cancel(e->req);
	for (w = e->waiters; w; w = next) {
		next = w->next;
		free(w);
	}
	free(e->url);
	free(e->issuer);
	free(e->jwks_uri);
	free(e->pending_issuer);
	free(e->pending_jwks_uri);
	json_decref(e->keys);
	free(e);
}

struct jwks_cache *jwks_cache_free(struct jwks_cache *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		entry_free(c->entries[i]);
	free(c);
	return NULL;
}

static double age_sec(const struct jwks_entry *e)
{
	struct timespec now;

	clock_gettime(CLOCK_BOOTTIME, &now);
	return (double)(now.tv_sec - e->fetched_mono.tv_sec) +
	       (double)(now.tv_nsec - e->fetched_mono.tv_nsec) / 1e9;
}

static void fill_view(const struct jwks_entry *e, bool cached, struct jwks_view *v)
{
	*v = (struct jwks_view){ .issuer = e->issuer,
				 .jwks_uri = e->jwks_uri,
				 .keys = e->keys,
				 .fetched_at = e->fetched_at,
				 .cached = cached };
}

/* Answers every waiter: with the entry's keys, or NULL and @message. */
static void answer_all(struct jwks_entry *e, const char *message)
{
	struct jwks_view v;

	fill_view(e, false, &v);
	while (e->waiters) {
		struct jwks_waiter *w = e->waiters;

		e->waiters = w->next;
		w->done(w->userdata, message ? NULL : &v, message);
		free(w);
	}
}

__attribute__((format(printf, 2, 3))) static void failed(struct jwks_entry *e, const char *fmt, ...)
{
	char msg[JWKS_MAX_MESSAGE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e->req = NULL;
	answer_all(e, msg);
}

/* The body of a 200 as a JSON object, or NULL with the entry answered. */
static json_t *document(struct jwks_entry *e, const struct http_response *resp, const char *what)
{
	enum proto_json_error jerr;
	json_t *doc;

	if (resp->curl_code != 0) {
		failed(e, "%s from %s: %s", what, e->where, resp->error);
		return NULL;
	}
	if (resp->status != 200) {
		failed(e, "%s from %s: HTTP %ld", what, e->where, resp->status);
		return NULL;
	}
	if (resp->body_len > JWKS_MAX_DOCUMENT) {
		failed(e, "%s from %s: larger than %d bytes", what, e->where, JWKS_MAX_DOCUMENT);
		return NULL;
	}
	doc = proto_json_parse((const uint8_t *)resp->body, resp->body_len, &jerr, NULL);
	if (!doc || !json_is_object(doc)) {
		failed(e, "%s from %s: not a JSON object (%s)", what, e->where,
		       doc ? "an array" : proto_json_error_what(jerr));
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static void on_keys(const struct http_response *resp, void *userdata)
{
	struct jwks_entry *e = userdata;
	json_t *doc = document(e, resp, "JSON Web Key Set");

	if (!doc)
		return;
	if (!json_is_array(json_object_get(doc, "keys"))) {
		json_decref(doc);
		failed(e, "JSON Web Key Set from %s: no \"keys\" array", e->where);
		return;
	}
	e->req = NULL;
	json_decref(e->keys);
	e->keys = doc;
	free(e->issuer);
	free(e->jwks_uri);
	e->issuer = e->pending_issuer;
	e->jwks_uri = e->pending_jwks_uri;
	e->pending_issuer = e->pending_jwks_uri = NULL;
	e->fetched_at = (int64_t)time(NULL);
	clock_gettime(CLOCK_BOOTTIME, &e->fetched_mono);
	e->refreshed = e->refreshing;
	answer_all(e, NULL);
}

static int start(struct jwks_entry *e, const char *url, http_done_fn done)
{
	struct http_options o = { .method = "GET",
				  .url = url,
				  .headers = { "Accept: application/json" },
				  .timeout_ms = JWKS_TIMEOUT_MS,
				  .allow_http = strncmp(url, "http:", 5) == 0 };

	return http_start(e->cache->http, &o, done, e, &e->req);
}

static void on_config(const struct http_response *resp, void *userdata)
{
	struct jwks_entry *e = userdata;
	json_t *doc = document(e, resp, "OpenID configuration");
	const char *uri, *issuer;
	char where[HOSTS_MAX_NAME + 8], why[JWKS_MAX_MESSAGE];
	int r;

	if (!doc)
		return;
	uri = json_string_value(json_object_get(doc, "jwks_uri"));
	issuer = json_string_value(json_object_get(doc, "issuer"));
	if (!uri) {
		json_decref(doc);
		failed(e, "OpenID configuration from %s: no \"jwks_uri\" string", e->where);
		return;
	}
	/* The keys' address is the document's to give, but never plain http
	 * away from loopback, where anyone on the path could swap the keys. */
	if (url_fetchable(uri, where, sizeof(where), why, sizeof(why)) < 0) {
		json_decref(doc);
		failed(e, "OpenID configuration from %s: jwks_uri: %s", e->where, why);
		return;
	}
	free(e->pending_issuer);
	free(e->pending_jwks_uri);
	e->pending_issuer = issuer ? strdup(issuer) : NULL;
	e->pending_jwks_uri = strdup(uri);
	json_decref(doc);
	if (!e->pending_jwks_uri || (issuer && !e->pending_issuer)) {
		failed(e, "out of memory");
		return;
	}
	r = start(e, e->pending_jwks_uri, on_keys);
	if (r < 0)
		failed(e, "cannot fetch the keys: %s", http_strerror(r));
}

static struct jwks_entry *find(struct jwks_cache *c, const char *url)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->entries[i]->url, url) == 0)
			return c->entries[i];
	return NULL;
}

/* A slot for a new entry: free, or the least recently fetched idle one. */
static int make_room(struct jwks_cache *c)
{
	size_t victim = c->n;

	if (c->n < JWKS_MAX_ENTRIES)
		return 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct jwks_entry *e = c->entries[i];

		if (e->req || e->waiters)
			continue;
		if (victim == c->n || e->fetched_at < c->entries[victim]->fetched_at)
			victim = i;
	}
	if (victim == c->n)
		return -EBUSY;
	entry_free(c->entries[victim]);
	c->entries[victim] = c->entries[--c->n];
	return 0;
}

static struct jwks_entry *add(struct jwks_cache *c, const char *url, const char *where)
{
	struct jwks_entry *e = calloc(1, sizeof(*e));

	if (!e || !(e->url = strdup(url))) {
		free(e);
		return NULL;
	}
	e->cache = c;
	snprintf(e->where, sizeof(e->where), "%s", where);
	c->entries[c->n++] = e;
	return e;
}

/*
 * Whether the cache answers.  A refresh (the token's key is not in the set)
 * fetches again at once, unless the set came from a refresh under
 * JWKS_REFRESH_SEC ago: a rollover is picked up at the first unknown kid,
 * and tokens with made-up kids cost the issuer one request per interval.
 */
static bool fresh(const struct jwks_entry *e, bool refresh)
{
	if (!e->fetched_at)
		return false;
	if (refresh)
		return e->refreshed && age_sec(e) < JWKS_REFRESH_SEC;
	return age_sec(e) < JWKS_TTL_SEC;
}

static int wait_on(struct jwks_entry *e, jwks_done_fn done, void *userdata,
		   struct jwks_waiter **ret)
{
	struct jwks_waiter *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	if (!e->req) {
		r = start(e, e->url, on_config);
		if (r < 0) {
			free(w);
			return r;
		}
	}
	*w = (struct jwks_waiter){ .next = e->waiters, .e = e, .done = done, .userdata = userdata };
	e->waiters = w;
	*ret = w;
	return 0;
}

int jwks_get(struct jwks_cache *c, const char *url, bool refresh, jwks_done_fn done, void *userdata,
	     struct jwks_waiter **ret, char *err, size_t errlen)
{
	char where[HOSTS_MAX_NAME + 8];
	struct jwks_entry *e = find(c, url);
	struct jwks_view v;
	int r;

	*ret = NULL;
	if (!e) {
		if (url_fetchable(url, where, sizeof(where), err, errlen) < 0)
			return -EINVAL;
		r = make_room(c);
		if (r < 0)
			return r;
		e = add(c, url, where);
		if (!e)
			return -ENOMEM;
	}
	if (!e->req && fresh(e, refresh)) {
		fill_view(e, true, &v);
		done(userdata, &v, NULL);
		return 0;
	}
	if (!e->req)
		e->refreshing = refresh;
	return wait_on(e, done, userdata, ret);
}

void jwks_cancel(struct jwks_waiter *w)
{
	struct jwks_waiter **p;

	if (!w)
		return;
	for (p = &w->e->waiters; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	free(w);
}
