/* SPDX-License-Identifier: MIT */
/*
 * The authority ("user@host:port") of an http(s) URL, accepted only where
 * RFC 3986 readers (libcurl, Python's urllib) and WHATWG readers (Node,
 * browsers, urllib3) agree on it: see url_authority.c for the subset.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Pointers into the URL; not NUL-terminated. */
struct url_authority {
	const char *authority; /* after "scheme://" */
	const char *host;      /* as written: brackets, case and a trailing dot kept */
	size_t host_len;
	const char *port; /* the digits after ':', or NULL */
	size_t port_len;
};

/*
 * Splits @url's authority.  Returns 0; -EINVAL when @url is not an absolute
 * http(s) URL; or -EILSEQ when URL parsers could read another host or port
 * from it than libcurl does.  The reason is in @err (never the URL, which
 * may carry credentials).
 */
int url_authority_split(const char *url, struct url_authority *ret, char *err, size_t errlen);
