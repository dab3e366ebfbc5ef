/* SPDX-License-Identifier: MIT */
/*
 * An issuer's signing keys for `aoai check`: asked of the agent, which
 * fetches and caches them (op "jwks"), or fetched here when no agent runs.
 */
#pragma once

#include <stdbool.h>

#include "jwk.h"

#define KEYS_MAX_ERROR 512

struct check_keys {
	char *openid_config; /* the configuration asked for */
	char *issuer;        /* its "issuer"; NULL when it has none */
	char *jwks_uri;
	struct jwk_set *set; /* NULL when they could not be had: see error */
	bool from_agent;     /* fetched by (or cached in) the agent */
	bool cached;         /* the agent answered from its cache */
	char error[KEYS_MAX_ERROR];
};

/*
 * Fills @ret for the OpenID configuration at @url, from the agent at
 * @socket (NULL: the default) when one answers, else directly.  With
 * @refresh the agent fetches again unless it did moments ago (for a key
 * rollover).  Failures leave ret->set NULL and say why in ret->error.
 */
void keys_get(const char *url, const char *socket, bool refresh, struct check_keys *ret);
void keys_done(struct check_keys *k);
