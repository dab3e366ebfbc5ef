/* SPDX-License-Identifier: MIT */
/*
 * Token issuers' signing keys, for `aoai check`: an OpenID configuration is
 * fetched, then the JSON Web Key Set at its jwks_uri, and both are kept for
 * an hour, so that repeated checks (from every shell) ask the issuer once.
 * Public documents only: no secret passes through here.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <systemd/sd-event.h>

#define JWKS_MAX_ENTRIES  16
#define JWKS_TTL_SEC      3600         /* Entra rolls keys over weeks; a refresh covers that */
#define JWKS_REFRESH_SEC  300          /* refreshes (for unknown kids) at most this often */
#define JWKS_MAX_DOCUMENT (128 * 1024) /* Entra's key set is about 15 KiB */
#define JWKS_TIMEOUT_MS   10000

struct http;
struct jwks_cache;
struct jwks_waiter;

/* What a fetch produced.  Valid only during the callback. */
struct jwks_view {
	const char *issuer;   /* the configuration's "issuer", NULL when it has none */
	const char *jwks_uri; /* where the keys came from */
	const json_t *keys;   /* the key set: an object with a "keys" array */
	int64_t fetched_at;   /* Unix time of the fetch */
	bool cached;          /* answered from the cache */
};

/* Called once, with @view, or NULL and @message saying what failed. */
typedef void (*jwks_done_fn)(void *userdata, const struct jwks_view *view, const char *message);

int jwks_cache_new(struct http *http, struct jwks_cache **ret);
/* Cancels fetches (no callbacks run) and frees.  Accepts NULL. */
struct jwks_cache *jwks_cache_free(struct jwks_cache *c);

/*
 * The keys of the OpenID configuration at @url (https, or http to a
 * loopback host): from the cache when younger than JWKS_TTL_SEC, else
 * fetched; with @refresh fetched again unless the cached set came from a
 * refresh under JWKS_REFRESH_SEC ago.  Concurrent callers share
 * one fetch.  @done may run before this returns.  Returns 0 and sets *ret
 * (NULL when @done already ran) for jwks_cancel(); -EINVAL with a message
 * in @err for an unusable URL; -EBUSY when every entry is being fetched;
 * -ENOMEM.
 */
int jwks_get(struct jwks_cache *c, const char *url, bool refresh, jwks_done_fn done, void *userdata,
	     struct jwks_waiter **ret, char *err, size_t errlen);
/* Forgets a waiter whose callback has not run; the fetch goes on for the cache. */
void jwks_cancel(struct jwks_waiter *w);
