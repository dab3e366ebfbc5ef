/* SPDX-License-Identifier: MIT */
/*
 * The authority of a URL, read by a grammar every mainstream parser agrees
 * on.  Parsers disagree about URLs: libcurl and Python's urllib.parse follow
 * RFC 3986, Node's URL, browsers and (for the backslash) urllib3 and
 * requests follow the WHATWG URL Standard.  For
 * "https://evil.example\@contoso.openai.azure.com/" libcurl and urllib.parse
 * read the host contoso.openai.azure.com, Node and requests read
 * evil.example (WHATWG ends the authority at a backslash).  A program that
 * asks the agent for the headers of a URL and sends the request with
 * another parser would hand them to the host the agent did not decide on.
 *
 * So an authority is accepted only in the subset on which they all agree,
 * and its host is handed back as written for the caller to compare with the
 * host libcurl decided on (url_target_parse): where libcurl normalises what
 * others keep ("127.1", "0x7f.0.0.1", "%2e", an IPv6 zone), the two differ
 * and the URL is refused.  Refused:
 *   - C0 controls, space and DEL anywhere (WHATWG strips tab, CR and LF even
 *     inside the host; the others keep or reject them);
 *   - a backslash or a byte outside ASCII in the authority (WHATWG turns the
 *     one into '/' and maps the other through IDNA);
 *   - anything but exactly "//" after the scheme ("https:/h", "https:///h"
 *     and "https:\\h" are one host to WHATWG and libcurl, none to urllib);
 *   - userinfo outside RFC 3986's characters, or more than one '@';
 *   - a host other than letters, digits, '-' and '.', or an IPv6 address in
 *     brackets without a zone; a port other than digits.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "errmsg.h"
#include "url_authority.h"

#define URL_SCHEME_SEP "://"

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 3986 userinfo: unreserved / pct-encoded / sub-delims / ":". */
static bool userinfo_char(char c)
{
	return is_alnum(c) || (c && strchr("-._~%!$&'()*+,;=:", c));
}

static bool name_char(char c)
{
	return is_alnum(c) || c == '-' || c == '.';
}

static bool ipv6_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
	       c == ':' || c == '.';
}

/* A control, space or DEL anywhere: the byte's offset, or -1. */
static long find_control(const char *url)
{
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return p - url;
	return -1;
}

/* Reads "[v6]" or a name at @s (ending at @end) into @ret's host. */
static int split_host(const char *s, const char *end, struct url_authority *ret, char *err,
		      size_t errlen)
{
	const char *p = s, *close;

	if (*s == '[') {
		close = memchr(s, ']', (size_t)(end - s));
		if (!close)
			return errmsg(err, errlen, -EILSEQ, "URL has '[' without ']' in its host");
		for (p = s + 1; p < close && ipv6_char(*p); p++)
			;
		if (p != close)
			return errmsg(err, errlen, -EILSEQ,
				      "URL host in brackets is not a plain IPv6 address (no zone, "
				      "no other characters)");
		p = close + 1;
	} else {
		while (p < end && name_char(*p))
			p++;
	}
	if (p < end && *p != ':')
		return errmsg(err, errlen, -EILSEQ,
			      "URL host has a character other than letters, digits, '-' and '.' "
			      "(percent-escapes and international names are read differently by "
			      "different URL parsers; write the host in ASCII)");
	ret->host = s;
	ret->host_len = (size_t)(p - s);
	ret->port = p < end ? p + 1 : NULL;
	ret->port_len = p < end ? (size_t)(end - p - 1) : 0;
	if (ret->port_len != strspn(ret->port ? ret->port : "", "0123456789"))
		return errmsg(err, errlen, -EILSEQ, "URL port is not a number");
	return 0;
}

/* The authority at @s, up to the first '/', '?', '#' or the end. */
static int split_authority(const char *s, struct url_authority *ret, char *err, size_t errlen)
{
	const char *end = s + strcspn(s, "/?#"), *at = NULL, *p;

	for (p = s; p < end; p++) {
		if (*p == '\\')
			return errmsg(
			    err, errlen, -EILSEQ,
			    "URL has a backslash before its path: URL parsers disagree on "
			    "which host that names");
		if ((unsigned char)*p >= 0x80)
			return errmsg(err, errlen, -EILSEQ,
				      "URL host part is not ASCII (write an international name in "
				      "its xn-- form)");
		if (*p == '@') {
			if (at)
				return errmsg(err, errlen, -EILSEQ, "URL has more than one '@'");
			at = p;
		}
	}
	if (at) {
		for (p = s; p < at; p++)
			if (!userinfo_char(*p))
				return errmsg(err, errlen, -EILSEQ,
					      "URL user name or password has a character that "
					      "must be percent-encoded");
		s = at + 1;
	}
	return split_host(s, end, ret, err, errlen);
}

int url_authority_split(const char *url, struct url_authority *ret, char *err, size_t errlen)
{
	struct url_authority a = { 0 };
	const char *sep = strstr(url, URL_SCHEME_SEP);
	const char *colon = strchr(url, ':');
	size_t scheme_len = colon ? (size_t)(colon - url) : 0;
	long bad = find_control(url);
	int r;

	/* A leading one first: WHATWG strips it and reads the URL after it. */
	if (bad == 0)
		return errmsg(err, errlen, -EILSEQ,
			      "URL starts with a control character or space (remove it)");
	if (!colon || !((scheme_len == 4 && strncasecmp(url, "http", 4) == 0) ||
			(scheme_len == 5 && strncasecmp(url, "https", 5) == 0)))
		return errmsg(err, errlen, -EINVAL,
			      "unsupported URL scheme: not an absolute http(s) URL");
	if (bad > 0)
		return errmsg(err, errlen, -EILSEQ,
			      "URL has a control character or space at offset %ld (encode it)",
			      bad);
	if (sep != colon)
		return errmsg(err, errlen, -EILSEQ,
			      "URL must have \"//\" right after its scheme (\"https://host/\")");
	a.authority = sep + strlen(URL_SCHEME_SEP);
	if (*a.authority == '/' || *a.authority == '\\')
		return errmsg(err, errlen, -EILSEQ,
			      "URL has more than two slashes after its scheme: URL parsers "
			      "disagree on which host that names");
	r = split_authority(a.authority, &a, err, errlen);
	if (r < 0)
		return r;
	*ret = a;
	return 0;
}
