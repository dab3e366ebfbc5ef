/* SPDX-License-Identifier: MIT */
/*
 * Public JSON documents (an OpenID configuration, a key set) fetched by
 * `aoai check` itself when no agent is running to fetch and cache them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define FETCH_MAX_DOCUMENT (128 * 1024) /* as the agent's limit (agent/jwks.h) */
#define FETCH_TIMEOUT_MS   10000

/*
 * Whether @url may be fetched: https, or plain http to a loopback host.
 * Writes "host:port" into @where.  Returns 0 or -EINVAL with @err set.
 */
int fetch_url_usable(const char *url, char *where, size_t wlen, char *err, size_t errlen);

/*
 * GETs @url (checked with fetch_url_usable()) and parses a 200 response as a
 * strict JSON object.  Returns 0 and *ret, or a negative errno with @err
 * naming @what, the host and the problem (never the whole URL).
 */
int fetch_json(const char *url, const char *what, json_t **ret, char *err, size_t errlen);
