/* SPDX-License-Identifier: MIT */
/*
 * Host patterns and request targets (aoai-agent.json(5)).  URLs are parsed with
 * libcurl's own URL parser, so the host decided on here is the host libcurl
 * connects to: userinfo ("https://a.test@b.test/"), fragments, IPv6
 * literals and default ports are read exactly as the transfer reads them.
 * The plain URLs clients send ("https://name/...", "http://127.0.0.1:8080/")
 * are read by url_plain.c instead, which gives libcurl's answer without
 * calling it (a twentieth of the cost; fuzzed against this path,
 * tests/fuzz/fuzz-url-plain.c); every other URL, and so every error
 * message, still comes from libcurl.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "curl_dl.h"
#include "errmsg.h"
#include "hosts.h"
#include "url_authority.h"
#include "url_plain.h"

#define HOSTS_MAX_LABEL       63
#define HOSTS_MAX_PORT        65535
#define HOSTS_MAX_PORT_DIGITS 5
#define HOSTS_HTTP_PORT       80
#define HOSTS_HTTPS_PORT      443
#define HOSTS_MAX_ERROR       256
#define HOSTS_URL_MARK        "://" /* what sets a URL apart from a host pattern */
/* Score bits: an exact host outranks any wildcard, whose suffix length (≤ 255) sits above the
 * explicit-port bit. */
#define HOSTS_SCORE_EXACT        (1 << 20)
#define HOSTS_SCORE_SUFFIX_SHIFT 1
#define HOSTS_SCORE_PORT         1

/* ASCII only: host names are compared byte-wise, whatever the locale. */
static void ascii_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static bool host_char_valid(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.';
}

/* Reads "1".."65535" (nothing else) into *ret. */
static int parse_port(const char *s, int *ret, char *err, size_t errlen)
{
	size_t n = strlen(s);
	long v = 0;

	if (n == 0)
		return errmsg(err, errlen, -EINVAL, "empty port after ':'");
	if (n > HOSTS_MAX_PORT_DIGITS || strspn(s, "0123456789") != n)
		return errmsg(err, errlen, -EINVAL, "port must be a number from 1 to %d",
			      HOSTS_MAX_PORT);
	for (; *s; s++)
		v = v * 10 + (*s - '0');
	if (v < 1 || v > HOSTS_MAX_PORT)
		return errmsg(err, errlen, -EINVAL, "port must be a number from 1 to %d",
			      HOSTS_MAX_PORT);
	*ret = (int)v;
	return 0;
}

/* Rewrites an IPv6 literal in its canonical lower-case form.  False when it is not one. */
static bool ipv6_canonical(const char *text, char *out, size_t outlen)
{
	struct in6_addr a;

	return inet_pton(AF_INET6, text, &a) == 1 && inet_ntop(AF_INET6, &a, out, outlen);
}

static bool host_is_ip(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1;
}

bool host_is_loopback(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (strcmp(host, "localhost") == 0)
		return true;
	/* An IPv6 address has a ':', an IPv4 one starts with a digit; a name
	 * (most hosts) needs neither parse. */
	if (strchr(host, ':'))
		return inet_pton(AF_INET6, host, &a6) == 1 &&
		       (IN6_IS_ADDR_LOOPBACK(&a6) ||
			(IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127));
	if (host[0] >= '0' && host[0] <= '9' && inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return false;
}

/* Checks a DNS-style name: labels of 1..63 of [A-Za-z0-9-], no '*'. */
static int check_name(const char *host, char *err, size_t errlen)
{
	const char *p, *label = host;

	for (p = host;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == host)
				return errmsg(err, errlen, -EINVAL, "host name starts with a dot");
			if (p == label)
				return errmsg(err, errlen, -EINVAL,
					      *p ? "host name has an empty label (\"..\")"
						 : "host name ends with a dot");
			if (p - label > HOSTS_MAX_LABEL)
				return errmsg(err, errlen, -EINVAL,
					      "a label is longer than %d characters",
					      HOSTS_MAX_LABEL);
			if (*p == '\0')
				return 0;
			label = p + 1;
		} else if (*p == '*') {
			return errmsg(err, errlen, -EINVAL,
				      "'*' is only allowed as \"*.\" at the start");
		} else if (!host_char_valid(*p)) {
			return errmsg(
			    err, errlen, -EINVAL,
			    "invalid character in host name (allowed: letters, digits, '-', "
			    "'.', and IPv6 addresses in brackets)");
		}
	}
}

/* Splits "[V6]" or "[V6]:PORT" into @p. */
static int split_ipv6(const char *text, struct host_pattern *p, char *err, size_t errlen)
{
	char addr[HOSTS_MAX_NAME + 1];
	const char *end = strchr(text, ']');
	size_t len;

	if (!end)
		return errmsg(err, errlen, -EINVAL, "missing ']' after the IPv6 address");
	if (end[1] != '\0' && end[1] != ':')
		return errmsg(err, errlen, -EINVAL,
			      "unexpected text after ']' (expected \":PORT\")");
	len = (size_t)(end - text - 1);
	if (len == 0 || len >= sizeof(addr))
		return errmsg(err, errlen, -EINVAL, "invalid IPv6 address");
	memcpy(addr, text + 1, len);
	addr[len] = '\0';
	if (!ipv6_canonical(addr, p->host, sizeof(p->host)))
		return errmsg(err, errlen, -EINVAL, "invalid IPv6 address");
	return end[1] == ':' ? parse_port(end + 2, &p->port, err, errlen) : 0;
}

/* Splits "NAME" or "NAME:PORT" into @p and checks NAME. */
static int split_name(const char *text, struct host_pattern *p, char *err, size_t errlen)
{
	const char *colon = strchr(text, ':');
	size_t len = colon ? (size_t)(colon - text) : strlen(text);
	int r;

	if (colon && strchr(colon + 1, ':'))
		return errmsg(err, errlen, -EINVAL,
			      "IPv6 addresses must be written in brackets, as \"[::1]:8443\"");
	if (len == 0)
		return errmsg(err, errlen, -EINVAL, "empty host name");
	if (len > HOSTS_MAX_NAME)
		return errmsg(err, errlen, -EINVAL, "host name is longer than %d characters",
			      HOSTS_MAX_NAME);
	memcpy(p->host, text, len);
	p->host[len] = '\0';
	r = check_name(p->host, err, errlen);
	if (r < 0)
		return r;
	ascii_lower(p->host);
	return colon ? parse_port(colon + 1, &p->port, err, errlen) : 0;
}

/*
 * A URL where a host belongs, as copied from the portal
 * ("https://contoso.openai.azure.com/"): its host, and its port unless the
 * scheme's default.  Only a bare origin is taken: a user name, a path, a
 * query or a fragment says the writer expects something a profile cannot do
 * (cover one path, carry a credential), so the message says what to write.
 * url_target_parse() reads it, so the host is the one every URL parser reads.
 */
static int target_parse(const char *url, struct url_target *ret, struct url_authority *ret_a,
			char *err, size_t errlen);

static int pattern_from_url(const char *url, struct host_pattern *ret, char *err, size_t errlen)
{
	struct host_pattern p = { .port = 0 };
	char plain[HOSTS_MAX_NAME + 16], why[HOSTS_MAX_ERROR];
	struct url_authority a;
	struct url_target t;
	const char *rest;

	if (target_parse(url, &t, &a, why, sizeof(why)) < 0)
		return errmsg(err, errlen, -EINVAL,
			      "expected a host name, got a URL: write just the host (and :PORT), "
			      "without \"https://\" (%s)",
			      why);
	memcpy(p.host, t.host, sizeof(p.host));
	p.port = t.default_port ? 0 : t.port;
	host_pattern_format(&p, plain, sizeof(plain));
	rest = a.port ? a.port + a.port_len : a.host + a.host_len;
	if (a.host != a.authority)
		return errmsg(err, errlen, -EINVAL,
			      "expected a host name, got a URL with a user name: write \"%s\"",
			      plain);
	if (*rest && strcmp(rest, "/") != 0)
		return errmsg(
		    err, errlen, -EINVAL,
		    "expected a host name, got a URL with a path, query or fragment: write "
		    "\"%s\" (a profile covers every path on its hosts)",
		    plain);
	if (!strchr(p.host, ':') && check_name(p.host, err, errlen) < 0)
		return -EINVAL;
	*ret = p;
	return 0;
}

int host_pattern_parse(const char *text, struct host_pattern *ret, char *err, size_t errlen)
{
	struct host_pattern p = { .port = 0 };
	int r;

	if (!text || !*text)
		return errmsg(err, errlen, -EINVAL, "empty host pattern");
	if (strstr(text, HOSTS_URL_MARK))
		return pattern_from_url(text, ret, err, errlen);
	if (text[0] == '*') {
		if (text[1] == '\0' || text[1] == ':')
			return errmsg(err, errlen, -EINVAL,
				      "a lone '*' is not allowed; write \"*.suffix\" (e.g. "
				      "\"*.openai.azure.com\")");
		if (text[1] != '.')
			return errmsg(err, errlen, -EINVAL,
				      "a wildcard must be written \"*.suffix\"");
		if (text[2] == '[')
			return errmsg(err, errlen, -EINVAL,
				      "a wildcard cannot cover an IP address");
		p.wildcard = true;
		text += 2;
	}
	if (text[0] == '[')
		r = split_ipv6(text, &p, err, errlen);
	else
		r = split_name(text, &p, err, errlen);
	if (r < 0)
		return r;
	*ret = p;
	return 0;
}

int host_pattern_format(const struct host_pattern *p, char *buf, size_t len)
{
	const char *open = "", *close = "";
	char port[16] = "";

	if (strchr(p->host, ':')) {
		open = "[";
		close = "]";
	}
	if (p->port > 0)
		snprintf(port, sizeof(port), ":%d", p->port);
	return snprintf(buf, len, "%s%s%s%s%s", p->wildcard ? "*." : "", open, p->host, close,
			port);
}

bool host_pattern_equal(const struct host_pattern *a, const struct host_pattern *b)
{
	return a->wildcard == b->wildcard && a->port == b->port && strcmp(a->host, b->host) == 0;
}

/* Stores curl's host in @t: lower case, brackets and one trailing dot removed. */
static int target_set_host(struct url_target *t, const char *host, char *err, size_t errlen)
{
	size_t len = strlen(host);

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	} else if (len > 1 && host[len - 1] == '.') {
		len--;
	}
	if (len == 0)
		return errmsg(err, errlen, -EINVAL, "URL has no host");
	if (len > HOSTS_MAX_NAME)
		return errmsg(err, errlen, -EINVAL, "URL host is longer than %d characters",
			      HOSTS_MAX_NAME);
	memcpy(t->host, host, len);
	t->host[len] = '\0';
	ascii_lower(t->host);
	if (strchr(t->host, ':')) {
		char canon[INET6_ADDRSTRLEN];

		if (ipv6_canonical(t->host, canon, sizeof(canon)))
			snprintf(t->host, sizeof(t->host), "%s", canon);
	}
	t->loopback = host_is_loopback(t->host);
	return 0;
}

static int target_set_scheme(struct url_target *t, const char *scheme, char *err, size_t errlen)
{
	if (strcasecmp(scheme, "https") == 0)
		t->https = true;
	else if (strcasecmp(scheme, "http") != 0)
		return errmsg(err, errlen, -EINVAL, "unsupported URL scheme (only http and https)");
	return 0;
}

static int target_set_port(struct url_target *t, const char *port, char *err, size_t errlen)
{
	int r = parse_port(port, &t->port, err, errlen);

	if (r < 0)
		return errmsg(err, errlen, -EINVAL, "URL port must be a number from 1 to %d",
			      HOSTS_MAX_PORT);
	t->default_port = t->port == (t->https ? HOSTS_HTTPS_PORT : HOSTS_HTTP_PORT);
	return 0;
}

static int target_from_curl(CURLU *u, struct url_target *t, char *err, size_t errlen)
{
	char *scheme = NULL, *host = NULL, *port = NULL;
	int r = -EINVAL;

	if (sym_curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		errmsg(err, errlen, -EINVAL, "URL has no scheme");
		goto out;
	}
	r = target_set_scheme(t, scheme, err, errlen);
	if (r < 0)
		goto out;
	if (sym_curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		r = errmsg(err, errlen, -EINVAL, "URL has no host");
		goto out;
	}
	r = target_set_host(t, host, err, errlen);
	if (r < 0)
		goto out;
	if (sym_curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		r = errmsg(err, errlen, -EINVAL, "URL has no port");
		goto out;
	}
	r = target_set_port(t, port, err, errlen);
out:
	sym_curl_free(scheme);
	sym_curl_free(host);
	sym_curl_free(port);
	return r;
}

/* The port as written, or the scheme's default: -1 when it is not a port. */
static int written_port(const struct url_authority *a, bool https)
{
	char digits[HOSTS_MAX_PORT_DIGITS + 2], why[HOSTS_MAX_ERROR];
	int port;

	if (a->port_len == 0)
		return https ? HOSTS_HTTPS_PORT : HOSTS_HTTP_PORT;
	if (a->port_len >= sizeof(digits))
		return -1;
	memcpy(digits, a->port, a->port_len);
	digits[a->port_len] = '\0';
	return parse_port(digits, &port, why, sizeof(why)) < 0 ? -1 : port;
}

/* Refuses a URL whose host or port libcurl reads other than it is written:
 * where libcurl normalises ("127.1", "0x7f.0.0.1"), other parsers do not. */
static int target_as_written(const struct url_target *t, const struct url_authority *a, char *err,
			     size_t errlen)
{
	struct url_target w = { .port = 0 };
	char host[HOSTS_MAX_NAME + 1];

	if (a->host_len > HOSTS_MAX_NAME)
		return errmsg(err, errlen, -EINVAL, "URL host is longer than %d characters",
			      HOSTS_MAX_NAME);
	memcpy(host, a->host, a->host_len);
	host[a->host_len] = '\0';
	if (target_set_host(&w, host, err, errlen) < 0 || strcmp(w.host, t->host) != 0 ||
	    written_port(a, t->https) != t->port)
		return errmsg(err, errlen, -EILSEQ,
			      "URL host is not in its plain form (URL parsers read it "
			      "differently): write it as %s",
			      t->host);
	return 0;
}

int url_target_parse_libcurl(const char *url, struct url_target *ret, struct url_authority *ret_a,
			     char *err, size_t errlen)
{
	struct url_target t = { .port = 0 };
	struct url_authority a;
	CURLUcode uc;
	CURLU *u;
	int r;

	if (!url || !*url)
		return errmsg(err, errlen, -EINVAL, "empty URL");
	r = url_authority_split(url, &a, err, errlen);
	if (r < 0)
		return r;
	r = curl_dl_open(err, errlen);
	if (r < 0)
		return r;
	u = sym_curl_url();
	if (!u) {
		errmsg(err, errlen, -EINVAL, "out of memory");
		return -ENOMEM;
	}
	/* Flags 0: no scheme guessing, so relative URLs and bare host names are refused. */
	uc = sym_curl_url_set(u, CURLUPART_URL, url, 0);
	if (uc == CURLUE_OUT_OF_MEMORY)
		r = -ENOMEM;
	else if (uc == CURLUE_UNSUPPORTED_SCHEME)
		r = errmsg(err, errlen, -EINVAL, "unsupported URL scheme (only http and https)");
	else if (uc != CURLUE_OK)
		r = errmsg(err, errlen, -EINVAL, "not an absolute http(s) URL (%s)",
			   sym_curl_url_strerror(uc));
	else
		r = target_from_curl(u, &t, err, errlen);
	sym_curl_url_cleanup(u);
	if (r >= 0)
		r = target_as_written(&t, &a, err, errlen);
	if (r < 0)
		return r;
	*ret = t;
	*ret_a = a;
	return 0;
}

/* url_target_parse(), also handing back the authority as written: the plain URLs clients send
 * without libcurl (url_plain.c, the same answer), any other one through it. */
static int target_parse(const char *url, struct url_target *ret, struct url_authority *ret_a,
			char *err, size_t errlen)
{
	if (url && url_plain_parse(url, ret, ret_a))
		return 0;
	return url_target_parse_libcurl(url, ret, ret_a, err, errlen);
}

int url_target_parse(const char *url, struct url_target *ret, char *err, size_t errlen)
{
	struct url_authority a;

	return target_parse(url, ret, &a, err, errlen);
}

int host_pattern_score(const struct host_pattern *p, const struct url_target *t)
{
	size_t hlen, slen;
	int port_bit;

	if (p->port == 0 ? !t->default_port : p->port != t->port)
		return -1;
	port_bit = p->port > 0 ? HOSTS_SCORE_PORT : 0;
	slen = strlen(p->host);
	if (!p->wildcard) {
		if (strcmp(p->host, t->host) != 0)
			return -1;
		return HOSTS_SCORE_EXACT | (int)(slen << HOSTS_SCORE_SUFFIX_SHIFT) | port_bit;
	}
	/* "*.suffix" covers names below suffix only: never suffix itself, never an address. */
	hlen = strlen(t->host);
	if (hlen < slen + 2 || t->host[hlen - slen - 1] != '.' ||
	    strcmp(t->host + hlen - slen, p->host) != 0 || host_is_ip(t->host))
		return -1;
	return (int)(slen << HOSTS_SCORE_SUFFIX_SHIFT) | port_bit;
}

bool url_target_secure(const struct url_target *t)
{
	return t->https || t->loopback;
}

int url_fetchable(const char *url, char *where, size_t wlen, char *err, size_t errlen)
{
	struct url_target t;
	int r = url_target_parse(url, &t, err, errlen);

	if (r < 0)
		return -EINVAL;
	if (!url_target_secure(&t))
		return errmsg(err, errlen, -EINVAL,
			      "plain http to %s is not loopback: https is required", t.host);
	snprintf(where, wlen, "%s:%d", t.host, t.port);
	return 0;
}
