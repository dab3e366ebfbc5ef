/* SPDX-License-Identifier: MIT */
/*
 * Host patterns ("contoso.openai.azure.com", "*.openai.azure.com",
 * "127.0.0.1:8443") and the URL rules of aoai-agent.json(5): which request targets a
 * profile covers, which pattern is the most specific, and when plain http
 * is acceptable.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define HOSTS_MAX_NAME 255

struct host_pattern {
	char host[HOSTS_MAX_NAME + 1]; /* lower case; for a wildcard, the suffix without "*." */
	bool wildcard;                 /* "*.suffix": any host ending in ".suffix" */
	int port;                      /* 0: the scheme's default port only */
};

/* Where a request goes, as parsed from its URL. */
struct url_target {
	bool https;
	char host[HOSTS_MAX_NAME + 1]; /* lower case, no brackets, no trailing dot */
	int port;                      /* explicit or the scheme's default */
	bool default_port;             /* port is the scheme's default */
	bool loopback;                 /* 127.0.0.0/8, ::1 or localhost */
};

/*
 * Parses a host pattern as written in a config file or `aoai add --host`.
 * A URL of nothing but a scheme, host and port ("https://h/",
 * "https://h:8443") stands for its host and port (none for the scheme's
 * default); any other URL is refused with the pattern to write instead.
 * Returns 0, or -EINVAL with the reason in @err.
 */
int host_pattern_parse(const char *text, struct host_pattern *ret, char *err, size_t errlen);
/* Writes the pattern back in its config spelling. Returns the snprintf result. */
int host_pattern_format(const struct host_pattern *p, char *buf, size_t len);
/* True when @a and @b are the same pattern. */
bool host_pattern_equal(const struct host_pattern *a, const struct host_pattern *b);

/*
 * Parses an absolute http(s) URL as libcurl's URL parser reads it (so
 * userinfo, fragments, IPv6 literals and default ports are handled exactly
 * as libcurl handles them), and only where every mainstream URL parser reads
 * the same host and port from it (url_authority.h).  Plain URLs are read
 * without libcurl, to the same answer (url_plain.h).  Returns 0; -EINVAL
 * when it is not such a URL; -EILSEQ when another parser could read another
 * host or port from it; curl_dl_open()'s error when libcurl is needed and
 * cannot be loaded.  The reason is in @err (never echoing the URL, which may
 * carry credentials).
 */
int url_target_parse(const char *url, struct url_target *ret, char *err, size_t errlen);

struct url_authority;
/*
 * url_target_parse() through libcurl alone, whatever the URL, also handing
 * back the authority as written: what the plain reader (url_plain.h) must
 * agree with, for the differential fuzzer and tests.  Same returns.
 */
int url_target_parse_libcurl(const char *url, struct url_target *ret, struct url_authority *ret_a,
			     char *err, size_t errlen);

/*
 * How specifically @p covers @t: a negative value when it does not, else a
 * score where exact hosts beat wildcards, longer suffixes beat shorter ones
 * and an explicit port beats the default.  A pattern without a port covers
 * only the scheme's default port.
 */
int host_pattern_score(const struct host_pattern *p, const struct url_target *t);

/* True for localhost and the loopback addresses (127.0.0.0/8, ::1, ::ffff:127.x.y.z). */
bool host_is_loopback(const char *host);
/* True when headers may go to @t: https, or http to a loopback host. */
bool url_target_secure(const struct url_target *t);

/*
 * For a document to fetch: only a URL url_target_secure() accepts (over
 * plain http to another host, anyone on the path could answer).  Writes its
 * "host:port", what messages may name, into @where.  Returns 0, or -EINVAL
 * with the reason in @err (naming the host, never the URL).
 */
int url_fetchable(const char *url, char *where, size_t wlen, char *err, size_t errlen);
