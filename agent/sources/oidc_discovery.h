/* SPDX-License-Identifier: MIT */
/*
 * OpenID Connect Discovery 1.0: the provider's configuration document at
 * ISSUER/.well-known/openid-configuration, read and kept per issuer so that
 * a token request does not fetch it again.  The agent owns one cache
 * (source_ctx.oidc); fetches (oidc.c) read and fill it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define OIDC_CACHE_MAX         64                       /* issuers */
#define OIDC_DISCOVERY_MAX_AGE (24ULL * 3600 * 1000000) /* microseconds of clock_now() */
#define OIDC_DISCOVERY_PATH    "/.well-known/openid-configuration"

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

/* 0 and *ret, or -ENOMEM. */
int oidc_cache_new(struct oidc_cache **ret);
/* Accepts NULL; returns NULL. */
struct oidc_cache *oidc_cache_free(struct oidc_cache *c);
/* The document of @issuer fetched less than OIDC_DISCOVERY_MAX_AGE before @now,
 * or NULL.  Valid until the next call that changes the cache. */
const struct oidc_provider *oidc_cache_find(const struct oidc_cache *c, const char *issuer,
					    uint64_t now);
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
