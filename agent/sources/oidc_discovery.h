/* SPDX-License-Identifier: MIT */
/*
 * OpenID Connect Discovery 1.0: the provider's configuration document at
 * ISSUER/.well-known/openid-configuration, fetched once for every fetch
 * that needs it at the time and kept per issuer, so that a token request
 * does not fetch it again.  The agent owns one cache (source_ctx.oidc);
 * fetches (oidc.c) read it or wait on it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "http.h"

#define OIDC_CACHE_MAX         64                       /* issuers */
#define OIDC_DISCOVERY_MAX_AGE (24ULL * 3600 * 1000000) /* microseconds of clock_now() */
#define OIDC_DISCOVERY_PATH    "/.well-known/openid-configuration"
#define OIDC_MAX_URL           2048
#define OIDC_MAX_MESSAGE       384
#define OIDC_TIMEOUT_MS        10000 /* one discovery request */

/* What the agent uses of a discovery document (all strings owned). */
struct oidc_provider {
	char *issuer;
	char *token_endpoint;
	/* For signing in people (not used yet): NULL when the provider has none. */
	char *authorization_endpoint;
	char *device_authorization_endpoint;
	enum token_auth secret_auth; /* the first of basic and post it lists, else basic */
	uint64_t fetched;            /* clock_now() */
};

struct oidc_cache;

/* How a discovery ended, for the fetches that waited on it. */
struct oidc_outcome {
	bool ok;                        /* the document is in the cache */
	long status;                    /* HTTP status, 0 for transport and local errors */
	bool retryable;                 /* 404 408 410 429 5xx and transport errors */
	int64_t retry_after;            /* seconds, -1 when absent */
	char message[OIDC_MAX_MESSAGE]; /* "discovery at URL: why" */
};

/* A fetch waiting for a document; its memory is the fetch's. */
struct oidc_waiter {
	struct oidc_waiter *next, **pprev; /* the cache's, while it waits */
	/* Runs once, from the event loop, when the discovery ends. */
	void (*done)(struct oidc_waiter *w, const struct oidc_outcome *o);
};

/* 0 and *ret, or -ENOMEM. */
int oidc_cache_new(struct oidc_cache **ret);
/* Cancels the discoveries under way (their waiters are not called) and
 * frees.  Accepts NULL; returns NULL. */
struct oidc_cache *oidc_cache_free(struct oidc_cache *c);
/*
 * Has @w wait for @issuer's document: joins the discovery under way for
 * it, or starts one on @http.  Returns 0, or -errno with a message in @why
 * (then @w->done never runs).
 */
int oidc_cache_wait(struct oidc_cache *c, struct http *http, const char *issuer,
		    struct oidc_waiter *w, char *why, size_t whylen);
/* Stops waiting: @w->done will not run.  Accepts a waiter that does not wait. */
void oidc_waiter_cancel(struct oidc_waiter *w);
/* The document of @issuer fetched less than OIDC_DISCOVERY_MAX_AGE before @now,
 * or NULL.  Valid until the next call that changes the cache. */
const struct oidc_provider *oidc_cache_find(const struct oidc_cache *c, const char *issuer,
					    uint64_t now);
/*
 * What a sign-in waiting on discovery goes on with: @issuer's document once
 * @o says it arrived, or NULL with the reason in @why ("oidc: …": the
 * discovery failed, or the document left the cache since).
 */
const struct oidc_provider *oidc_outcome_provider(const struct oidc_cache *c, const char *issuer,
						  const struct oidc_outcome *o, uint64_t now,
						  char *why, size_t whylen);
/* Keeps @p (moved in: @p is left empty), replacing @p->issuer's; the oldest
 * entry leaves a full cache.  Returns the kept entry, or NULL (ENOMEM). */
const struct oidc_provider *oidc_cache_put(struct oidc_cache *c, struct oidc_provider *p);
/* Drops @issuer's document, so that the next fetch discovers it again. */
void oidc_cache_forget(struct oidc_cache *c, const char *issuer);
/* Frees the strings of @p. */
void oidc_provider_done(struct oidc_provider *p);

/* The document's URL: @issuer without its trailing '/' + OIDC_DISCOVERY_PATH.
 * Returns 0, or -E2BIG when @len is too small. */
int oidc_discovery_url(const char *issuer, char *out, size_t len);
/*
 * Reads a discovery document: its "issuer" must be @issuer exactly, its
 * "token_endpoint" https (or http to loopback).  Returns 0 and fills *ret
 * (fetched left 0), or -EINVAL / -ENOMEM with the reason in @why.
 */
int oidc_discovery_parse(const char *body, size_t len, const char *issuer,
			 struct oidc_provider *ret, char *why, size_t whylen);
