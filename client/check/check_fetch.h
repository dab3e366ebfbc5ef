/* SPDX-License-Identifier: MIT */
/*
 * Public JSON documents (an OpenID configuration, a key set) fetched by
 * `aoai check` itself when no agent is running to fetch and cache them.
 */
#pragma once

#include <stddef.h>

#include <jansson.h>

#define FETCH_MAX_DOCUMENT (128 * 1024) /* as the agent's limit (agent/tokens/jwks.h) */
#define FETCH_TIMEOUT_MS   10000

/*
 * GETs @url (https, or http to loopback: what the agent fetches) and parses
 * a 200 response as a strict JSON object.  Returns 0 and *ret, or a negative
 * errno with @err naming @what, the host and the problem (never the URL).
 */
int fetch_json(const char *url, const char *what, json_t **ret, char *err, size_t errlen);
