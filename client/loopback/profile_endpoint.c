/* SPDX-License-Identifier: MIT */
/*
 * Where a profile's requests go, as its `list` entry says: the first host
 * that is not a wildcard, https, or plain http for a loopback host (the
 * agent allows only that, and it is what local stand-ins serve).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hosts.h"
#include "profile_endpoint.h"

int endpoint_split_host(const char *s, size_t n, char *host, unsigned *port)
{
	const char *colon = NULL, *h = s;
	size_t hn = n, i;

	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close)
			return -1;
		h = s + 1;
		hn = (size_t)(close - h);
		if ((size_t)(close + 1 - s) < n)
			colon = close + 1;
		if (colon && *colon != ':')
			return -1;
	} else {
		colon = memchr(s, ':', n);
		if (colon)
			hn = (size_t)(colon - s);
	}
	if (hn == 0 || hn >= ENDPOINT_HOST_MAX)
		return -1;
	for (i = 0; i < hn; i++)
		host[i] = (char)tolower((unsigned char)h[i]);
	host[hn] = '\0';
	*port = 0;
	if (colon) {
		char digits[8], *end;
		size_t dn = n - (size_t)(colon + 1 - s);
		unsigned long v;

		if (dn == 0 || dn >= sizeof(digits))
			return -1;
		memcpy(digits, colon + 1, dn);
		digits[dn] = '\0';
		v = strtoul(digits, &end, 10);
		if (*end || v == 0 || v > 65535)
			return -1;
		*port = (unsigned)v;
	}
	return 0;
}

int profile_endpoint(const json_t *profile, char **ret)
{
	const json_t *host;
	char name[ENDPOINT_HOST_MAX];
	unsigned port;
	size_t i;
	const char *h;

	*ret = NULL;
	json_array_foreach(json_object_get(profile, "hosts"), i, host)
	{
		h = json_string_value(host);
		if (!h || strncmp(h, "*.", 2) == 0 ||
		    endpoint_split_host(h, strlen(h), name, &port) < 0)
			continue;
		if (asprintf(ret, "%s://%s/", host_is_loopback(name) ? "http" : "https", h) < 0) {
			*ret = NULL;
			return -1;
		}
		return 0;
	}
	return 0;
}
