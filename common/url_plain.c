/* SPDX-License-Identifier: MIT */
/*
 * The plain URLs clients send, read without libcurl.  Every `headers`
 * request names a URL; through libcurl's URL API (a handle, a copy of every
 * part, three gets, frees) it costs 7,000 to 9,500 instructions, and needs
 * libcurl in an agent that may serve API keys only.  This reader, at 450 to
 * 650 instructions for the URLs of docs/PERFORMANCE.md's runs, takes a
 * subset on which its answer is, byte for byte, the one of the libcurl path
 * (url_target_parse_libcurl: libcurl 7.88's urlapi.c, then url_authority.c's
 * and hosts.c's checks):
 *   - "http://" or "https://", the scheme in any case;
 *   - a host that is either a DNS name (labels of letters, digits and '-',
 *     none empty, the last one starting with a letter, and at most one
 *     trailing dot, dropped as hosts.c drops it) or a dotted quad in its
 *     canonical form (four decimal parts 0..255 without leading zeros),
 *     of at most HOSTS_MAX_NAME bytes as written.  libcurl's
 *     ipv4_normalize() reads "127.1", "0x7f.0.0.1", "2130706433" and
 *     "1.2.3.4." as addresses or names of its own; a last label starting
 *     with a letter is never a number to it, and a canonical quad is
 *     rewritten to itself;
 *   - optionally ':' and a port as hosts.c's parse_port() reads it (1..5
 *     digits, 1..65535; libcurl's strtol() drops leading zeros alike);
 *   - then the end, or '/', '?' or '#' and only printable ASCII without
 *     spaces (libcurl's junkscan() refuses controls and spaces, nothing
 *     else, in path, query and fragment).
 * Anything else (in the authority userinfo, '%', IPv6 literals, a
 * backslash, an empty port; anywhere a byte outside ASCII, a control or a
 * space ...) is handed to libcurl, so its answer and the errors users see
 * stay the same.  tests/fuzz/fuzz-url-plain.c runs both
 * paths on every input and fails when this one accepts a URL the libcurl
 * path refuses or reads differently.
 */
#include <stdint.h>
#include <string.h>

#include "url_plain.h"

#define URL_PLAIN_SCHEME_SEP      "://"
#define URL_PLAIN_MAX_LEN         65536 /* far below libcurl's own limit (8,000,000) */
#define URL_PLAIN_MAX_PORT        65535
#define URL_PLAIN_MAX_PORT_DIGITS 5
#define URL_PLAIN_QUAD_PARTS      4
#define URL_PLAIN_MAX_OCTET       255
#define URL_PLAIN_HTTP_PORT       80
#define URL_PLAIN_HTTPS_PORT      443
#define URL_PLAIN_ASCII_CASE      0x20 /* the bit between 'A' and 'a' */

/* What a byte may be, looked up once per byte: the scan is most of the cost. */
enum {
	CLASS_LETTER = 1 << 0,
	CLASS_DIGIT = 1 << 1,
	CLASS_HYPHEN = 1 << 2,
	CLASS_DOT = 1 << 3,
	CLASS_PRINTABLE = 1 << 4, /* '!'..'~': printable ASCII but space */
	CLASS_LABEL = CLASS_LETTER | CLASS_DIGIT | CLASS_HYPHEN,
};

static const uint8_t byte_class[256] = {
	['!' ... ','] = CLASS_PRINTABLE,
	['-'] = CLASS_PRINTABLE | CLASS_HYPHEN,
	['.'] = CLASS_PRINTABLE | CLASS_DOT,
	['/'] = CLASS_PRINTABLE,
	['0' ... '9'] = CLASS_PRINTABLE | CLASS_DIGIT,
	[':' ... '@'] = CLASS_PRINTABLE,
	['A' ... 'Z'] = CLASS_PRINTABLE | CLASS_LETTER,
	['[' ... '`'] = CLASS_PRINTABLE,
	['a' ... 'z'] = CLASS_PRINTABLE | CLASS_LETTER,
	['{' ... '~'] = CLASS_PRINTABLE,
};

static uint8_t class_of(char c)
{
	return byte_class[(unsigned char)c];
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "http://" or "https://" in any case: what follows it, or NULL. */
static const char *skip_scheme(const char *url, bool *ret_https)
{
	static const char http[] = "http";
	size_t i;

	for (i = 0; i < sizeof(http) - 1; i++)
		if ((char)(url[i] | URL_PLAIN_ASCII_CASE) != http[i])
			return NULL;
	url += i;
	*ret_https = (char)(*url | URL_PLAIN_ASCII_CASE) == 's';
	if (*ret_https)
		url++;
	return strncmp(url, URL_PLAIN_SCHEME_SEP, strlen(URL_PLAIN_SCHEME_SEP)) == 0
		   ? url + strlen(URL_PLAIN_SCHEME_SEP)
		   : NULL;
}

/* True when [s, end) is a dotted quad as inet_ntop writes it. */
static bool canonical_quad(const char *s, const char *end)
{
	int part, v = 0;

	for (part = 0; part < URL_PLAIN_QUAD_PARTS; part++) {
		const char *digits = s;

		for (v = 0; s < end && is_digit(*s) && v <= URL_PLAIN_MAX_OCTET; s++)
			v = v * 10 + (*s - '0');
		if (s == digits || v > URL_PLAIN_MAX_OCTET || (*digits == '0' && s - digits > 1))
			return false;
		if (part < URL_PLAIN_QUAD_PARTS - 1 && (s == end || *s++ != '.'))
			return false;
	}
	return s == end;
}

/*
 * The end of the host at @s: labels of letters, digits and '-' between dots,
 * and perhaps one dot after the last.  NULL when a label is empty or there is
 * none.  *ret_last is where the last label starts.
 */
static const char *scan_host(const char *s, const char **ret_last)
{
	const char *p = s, *label;

	for (;;) {
		label = p;
		while (class_of(*p) & CLASS_LABEL)
			p++;
		if (p == label)
			return NULL;
		*ret_last = label;
		if (*p != '.' || !(class_of(*++p) & CLASS_LABEL))
			return p;
	}
}

/* The digits at @s as parse_port() reads them: what follows them, or NULL. */
static const char *scan_port(const char *s, int *ret_port)
{
	const char *p = s;
	int v = 0;

	for (; is_digit(*p) && p - s < URL_PLAIN_MAX_PORT_DIGITS; p++)
		v = v * 10 + (*p - '0');
	if (p == s || is_digit(*p) || v < 1 || v > URL_PLAIN_MAX_PORT)
		return NULL;
	*ret_port = v;
	return p;
}

/*
 * True when one of the 8 bytes of @w is outside '!'..'~'.  A byte below '!'
 * sets its high bit when '!' is taken from it while it had none ("hasless"
 * in Anderson's Bit Twiddling Hacks); one from 0x7f up has its high bit set
 * or gains it when 1 is added ("hasmore").  A borrow or carry only ever
 * spreads from a byte that is itself flagged, so the answer is exact.
 */
static bool word_has_unprintable(uint64_t w)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones << 7;

	return ((((w - ones * '!') & ~w) | (w + ones) | w) & highs) != 0;
}

/* True when the path, query and fragment at @p are printable ASCII without spaces; eight bytes
 * at a time, as the path is most of a URL. */
static bool rest_plain(const char *p)
{
	size_t len, i = 0;
	uint64_t w;

	if (*p != '\0' && *p != '/' && *p != '?' && *p != '#')
		return false;
	len = strlen(p);
	if (len > URL_PLAIN_MAX_LEN)
		return false;
	for (; i + sizeof(w) <= len; i += sizeof(w)) {
		memcpy(&w, p + i, sizeof(w));
		if (word_has_unprintable(w))
			return false;
	}
	for (; i < len; i++)
		if (!(class_of(p[i]) & CLASS_PRINTABLE))
			return false;
	return true;
}

static char byte_lower(char c)
{
	return class_of(c) & CLASS_LETTER ? (char)(c | URL_PLAIN_ASCII_CASE) : c;
}

/* The ASCII bytes of @w with 'A'..'Z' lowered: the high bit of a byte from 'A' up, of none
 * above 'Z', shifted onto the case bit (no carry leaves a byte below 0x80). */
static uint64_t word_lower(uint64_t w)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones << 7;
	uint64_t from_a = w + ones * (0x80 - 'A'), above_z = w + ones * (0x7f - 'Z');

	return w | ((from_a & ~above_z & highs) >> 2);
}

/*
 * The host as url_target holds it: lower case, without the trailing dot.
 * Lowered eight bytes at a time, the last word overlapping the one before
 * (lowering twice changes nothing); hosts have only ASCII bytes here.
 */
static void copy_host(char *out, const char *host, size_t len)
{
	size_t i;
	uint64_t w;

	if (host[len - 1] == '.')
		len--;
	memcpy(out, host, len);
	out[len] = '\0';
	if (len < sizeof(w)) {
		for (i = 0; i < len; i++)
			out[i] = byte_lower(out[i]);
		return;
	}
	for (i = 0;; i += sizeof(w)) {
		if (i + sizeof(w) > len)
			i = len - sizeof(w);
		memcpy(&w, out + i, sizeof(w));
		w = word_lower(w);
		memcpy(out + i, &w, sizeof(w));
		if (i + sizeof(w) == len)
			return;
	}
}

/* True for a host of the subset: a name whose last label starts with a letter, or a quad. */
static bool host_plain(const char *host, const char *end, const char *last)
{
	if ((size_t)(end - host) > HOSTS_MAX_NAME)
		return false;
	if (class_of(*last) & CLASS_LETTER)
		return true;
	return canonical_quad(host, end);
}

/* Written into @ret field by field, once the whole URL is known to be plain: @ret is left
 * untouched otherwise, and its 256-byte host is written once, not zeroed and copied. */
bool url_plain_parse(const char *url, struct url_target *ret, struct url_authority *ret_a)
{
	const char *host, *end, *last, *port = NULL, *p;
	bool https;
	int port_num;

	host = skip_scheme(url, &https);
	end = host ? scan_host(host, &last) : NULL;
	if (!end || !host_plain(host, end, last))
		return false;
	port_num = https ? URL_PLAIN_HTTPS_PORT : URL_PLAIN_HTTP_PORT;
	p = end;
	if (*p == ':') {
		port = p + 1;
		p = scan_port(port, &port_num);
		if (!p)
			return false;
	}
	if (!rest_plain(p))
		return false;
	ret->https = https;
	copy_host(ret->host, host, (size_t)(end - host));
	ret->port = port_num;
	ret->default_port = port_num == (https ? URL_PLAIN_HTTPS_PORT : URL_PLAIN_HTTP_PORT);
	ret->loopback = host_is_loopback(ret->host); /* the rule of hosts.c, in one place */
	*ret_a = (struct url_authority){
		.authority = host,
		.host = host,
		.host_len = (size_t)(end - host),
		.port = port,
		.port_len = port ? (size_t)(p - port) : 0,
	};
	return true;
}
