/* SPDX-License-Identifier: MIT */
/*
 * A profile's endpoint, from its entry in the agent's `list` reply: the URL
 * aoai-exec gives its child and the upstream aoai-relay serves.
 */
#pragma once

#include <stddef.h>

#include <jansson.h>

#define ENDPOINT_HOST_MAX 256 /* a host pattern of the config is at most 255 bytes */

/*
 * The host (lower case, IPv6 without brackets) and port (0 when absent) of
 * "host", "host:port" or "[v6]:port", @n bytes of @s, into @host
 * (ENDPOINT_HOST_MAX bytes).  Returns 0, or -1 when malformed.
 */
int endpoint_split_host(const char *s, size_t n, char *host, unsigned *port);
/*
 * "https://HOST[:PORT]/" for the first host of @profile that is not a
 * wildcard (http:// for a loopback host).  Sets *@ret to it (free() it), or
 * to NULL when the profile has wildcard hosts only.  Returns 0, or -1 when
 * out of memory.
 */
int profile_endpoint(const json_t *profile, char **ret);
