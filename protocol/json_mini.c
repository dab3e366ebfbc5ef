/* SPDX-License-Identifier: MIT */
/*
 * Just enough JSON for the "headers" operation, without jansson (the hook
 * links nothing but libc, and libaoai's headers call costs what its frames
 * do): a writer for one request, a strict parser for the replies
 * (json_mini.h; the reply's shape is headers_reply.c's).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "json_mini.h"

#define REQUEST_HEAD "{\"v\":1,\"op\":\"headers\",\"url\":\""
#define REQUEST_TAIL "\"}"

/*
 * Word-at-a-time tests (Bit Twiddling Hacks' hasless/haszero): whether any
 * byte of @w is below @n (n <= 0x80), or equal to @b.  Both are exact as
 * to whether such a byte exists, which is all the callers ask.
 */
#define BYTES_ONES  0x0101010101010101ULL
#define BYTES_HIGHS 0x8080808080808080ULL

static uint64_t has_less(uint64_t w, unsigned n)
{
	return (w - BYTES_ONES * n) & ~w & BYTES_HIGHS;
}

static uint64_t has_byte(uint64_t w, unsigned char b)
{
	return has_less(w ^ (BYTES_ONES * b), 1);
}

/*
 * The index of the first byte flagged in @mask, a has_less()/has_byte()
 * result or a bitwise or of them: the lowest flag is always exact, since a
 * borrow only carries towards higher bytes.  Byte 0 is the first in memory
 * on a little-endian machine; elsewhere the callers go byte by byte.
 */
static unsigned first_flagged(uint64_t mask)
{
	return (unsigned)__builtin_ctzll(mask) / 8;
}

#define BYTES_FAST (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)

/* The number of ASCII bytes @s starts with, 8 at a time where it can. */
static size_t ascii_run(const unsigned char *s, size_t len)
{
	size_t i = 0;
	uint64_t w;

	for (; len - i >= sizeof(w); i += sizeof(w)) {
		memcpy(&w, s + i, sizeof(w));
		if (w & BYTES_HIGHS) {
			if (BYTES_FAST)
				return i + first_flagged(w & BYTES_HIGHS);
			break;
		}
	}
	while (i < len && s[i] < 0x80)
		i++;
	return i;
}

/* The bytes of @w before byte @k (k < 8). */
static uint64_t bytes_before(uint64_t w, unsigned k)
{
	return w & (((uint64_t)1 << (8 * k)) - 1);
}

#ifdef __SSE2__
/*
 * verbatim_run() 16 bytes at a time where SSE2 is (every x86-64): the bytes
 * it stops at as a bit mask, the non-ASCII ones in *@highs.
 */
static unsigned verbatim_stops16(const char *p, unsigned *highs)
{
	const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	/* Unsigned v <= 0x1f exactly when min(v, 0x1f) == v. */
	const __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
	const __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
						       _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
					  ctl);

	*highs = (unsigned)_mm_movemask_epi8(v);
	return (unsigned)_mm_movemask_epi8(stop);
}
#endif

/* verbatim_run() 8 bytes, then 1 at a time: what SSE2 leaves, or all of it without. */
static size_t verbatim_words(const char *p, const char *end, bool *high)
{
	const char *start = p;
	uint64_t w, stop, highs = 0;
	unsigned k;

	for (; end - p >= (ptrdiff_t)sizeof(w); p += sizeof(w)) {
		memcpy(&w, p, sizeof(w));
		stop = has_less(w, 0x20) | has_byte(w, '"') | has_byte(w, '\\');
		if (stop && BYTES_FAST) {
			k = first_flagged(stop);
			*high |= (highs | (bytes_before(w, k) & BYTES_HIGHS)) != 0;
			return (size_t)(p - start) + k;
		}
		if (stop)
			break;
		highs |= w & BYTES_HIGHS;
	}
	*high |= highs != 0;
	for (; p < end && (unsigned char)*p >= 0x20 && *p != '"' && *p != '\\'; p++)
		*high |= (unsigned char)*p >= 0x80;
	return (size_t)(p - start);
}

/*
 * The number of bytes from @p a JSON string holds as they are: neither a
 * quote, a backslash nor a control character.  Those runs are most of a
 * reply, and move in one piece rather than byte by byte.  Sets *@high when
 * one of them is not ASCII (so UTF-8 needs checking).  Inlined: most
 * strings are keys, a few bytes long, and a call would cost more than they.
 */
static inline __attribute__((always_inline)) size_t verbatim_run(const char *p, const char *end,
								 bool *high)
{
#ifdef __SSE2__
	const char *start = p;
	unsigned m, h, highs = 0, k;

	for (; end - p >= 16; p += 16) {
		m = verbatim_stops16(p, &h);
		if (m) {
			k = (unsigned)__builtin_ctz(m);
			*high |= (highs | (h & ((1u << k) - 1))) != 0;
			return (size_t)(p - start) + k;
		}
		highs |= h;
	}
	*high |= highs != 0;
	return (size_t)(p - start) + verbatim_words(p, end, high);
#else
	return verbatim_words(p, end, high);
#endif
}

bool json_mini_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	uint32_t cp;

	while (i < len) {
		unsigned char c = s[i];

		if (c < 0x80) {
			i += ascii_run(s + i, len - i);
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		if (len - i <= n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		/* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* The request's size at most: each URL byte takes at most 6 ("\u001f"). */
static size_t request_max(size_t ulen)
{
	return sizeof(REQUEST_HEAD) - 1 + ulen * 6 + sizeof(REQUEST_TAIL) - 1;
}

/* Writes the request for @url (@ulen bytes, valid UTF-8) at @p, which has
 * room for request_max(); returns the end. */
static char *write_request(const char *url, size_t ulen, char *p)
{
	static const char hex[] = "0123456789abcdef";
	bool high = false; /* checked by the caller */
	size_t i, n;

	memcpy(p, REQUEST_HEAD, sizeof(REQUEST_HEAD) - 1);
	p += sizeof(REQUEST_HEAD) - 1;
	for (i = 0; i < ulen; i++) {
		unsigned char c;

		n = verbatim_run(url + i, url + ulen, &high);
		memcpy(p, url + i, n);
		p += n;
		i += n;
		if (i == ulen)
			break;
		c = (unsigned char)url[i];
		/* verbatim_run() stopped at a quote, a backslash or a control character. */
		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else {
			memcpy(p, "\\u00", 4);
			p[4] = hex[c >> 4];
			p[5] = hex[c & 0xf];
			p += 6;
		}
	}
	memcpy(p, REQUEST_TAIL, sizeof(REQUEST_TAIL) - 1);
	return p + sizeof(REQUEST_TAIL) - 1;
}

ssize_t json_mini_headers_request_into(const char *url, char *buf, size_t cap)
{
	size_t ulen = strlen(url);

	if (!json_mini_utf8_valid((const unsigned char *)url, ulen))
		return -EINVAL;
	if (request_max(ulen) > cap)
		return 0;
	return write_request(url, ulen, buf) - buf;
}

int json_mini_headers_request(const char *url, char **ret_buf, size_t *ret_len)
{
	size_t ulen = strlen(url);
	char *buf;

	if (!json_mini_utf8_valid((const unsigned char *)url, ulen))
		return -EINVAL;
	buf = malloc(request_max(ulen));
	if (!buf)
		return -ENOMEM;
	*ret_len = (size_t)(write_request(url, ulen, buf) - buf);
	*ret_buf = buf;
	return 0;
}

static void skip_ws(struct json_mini_parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

int json_mini_peek(struct json_mini_parser *ps)
{
	skip_ws(ps);
	return ps->p < ps->end ? (unsigned char)*ps->p : -1;
}

int json_mini_expect(struct json_mini_parser *ps, char c)
{
	if (json_mini_peek(ps) != (unsigned char)c)
		return -EBADMSG;
	ps->p++;
	return 0;
}

int json_mini_literal(struct json_mini_parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return -EBADMSG;
	ps->p += n;
	return 0;
}

int json_mini_bool(struct json_mini_parser *ps, bool *ret)
{
	int c = json_mini_peek(ps);

	*ret = c == 't';
	return json_mini_literal(ps, c == 't' ? "true" : "false");
}

static int hex4(struct json_mini_parser *ps, uint32_t *ret)
{
	uint32_t v = 0;
	int i;

	if (ps->end - ps->p < 4)
		return -EBADMSG;
	for (i = 0; i < 4; i++) {
		char c = *ps->p++;

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -EBADMSG;
	}
	*ret = v;
	return 0;
}

/* Decodes \uXXXX (and a surrogate pair) after the "\u"; U+0000 is refused. */
static int unicode_escape(struct json_mini_parser *ps, uint32_t *ret)
{
	uint32_t hi, lo;

	if (hex4(ps, &hi) < 0 || hi == 0 || (hi >= 0xdc00 && hi <= 0xdfff))
		return -EBADMSG;
	if (hi < 0xd800 || hi > 0xdbff) {
		*ret = hi;
		return 0;
	}
	if (json_mini_literal(ps, "\\u") < 0 || hex4(ps, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
		return -EBADMSG;
	*ret = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

static char *put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		*out++ = (char)cp;
	} else if (cp < 0x800) {
		*out++ = (char)(0xc0 | cp >> 6);
		*out++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*out++ = (char)(0xe0 | cp >> 12);
		*out++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*out++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*out++ = (char)(0xf0 | cp >> 18);
		*out++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*out++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*out++ = (char)(0x80 | (cp & 0x3f));
	}
	return out;
}

static int simple_escape(char c, char *ret)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e = memchr(from, c, sizeof(from) - 1);

	if (!e)
		return -EBADMSG;
	*ret = to[e - from];
	return 0;
}

/*
 * Decodes the string after the opening quote at ps->p in place and
 * NUL-terminates it: the decoded form is never longer than the quoted one,
 * so it fits where it was.
 */
static __attribute__((noinline)) int string_decode(struct json_mini_parser *ps, char **ret,
						   size_t *ret_len)
{
	char *start, *out, c;
	bool high = false; /* a byte >= 0x80 in the string: UTF-8 to check */
	uint32_t cp;
	size_t n;

	start = out = ps->p;
	for (;;) {
		/* Until the first escape, @out is ps->p and nothing moves. */
		n = verbatim_run(ps->p, ps->end, &high);
		if (out != ps->p)
			memmove(out, ps->p, n);
		out += n;
		ps->p += n;
		if (ps->p >= ps->end)
			return -EBADMSG;
		c = *ps->p++;

		if (c == '"')
			break;
		/* Only a quote, a control character or a backslash ends a run. */
		if ((unsigned char)c < 0x20)
			return -EBADMSG;
		if (ps->p >= ps->end)
			return -EBADMSG;
		c = *ps->p++;
		if (c == 'u') {
			if (unicode_escape(ps, &cp) < 0)
				return -EBADMSG;
			high |= cp >= 0x80;
			out = put_utf8(out, cp);
		} else if (simple_escape(c, out++) < 0) {
			return -EBADMSG;
		}
	}
	*out = '\0';
	/* All ASCII is valid UTF-8. */
	if (high && !json_mini_utf8_valid((const unsigned char *)start, (size_t)(out - start)))
		return -EBADMSG;
	*ret = start;
	*ret_len = (size_t)(out - start);
	return 0;
}

/*
 * What most strings of a reply are, keys above all: plain ASCII ending
 * within the 16 bytes after the opening quote.  Read here at a fraction of
 * string_decode()'s cost; returns false, having read nothing, for any other.
 */
static inline bool plain_short_string(struct json_mini_parser *ps, char **ret, size_t *ret_len)
{
#ifdef __SSE2__
	char *p = ps->p;
	unsigned stops, highs, k;

	if (ps->end - p < 16)
		return false;
	stops = verbatim_stops16(p, &highs);
	if (!stops)
		return false;
	k = (unsigned)__builtin_ctz(stops);
	if (p[k] != '"' || (highs & ((1u << k) - 1)))
		return false;
	p[k] = '\0';
	*ret = p;
	*ret_len = k;
	ps->p = p + k + 1;
	return true;
#else
	(void)ps, (void)ret, (void)ret_len;
	return false;
#endif
}

int json_mini_string(struct json_mini_parser *ps, char **ret, size_t *ret_len)
{
	if (json_mini_expect(ps, '"') < 0)
		return -EBADMSG;
	if (plain_short_string(ps, ret, ret_len))
		return 0;
	return string_decode(ps, ret, ret_len);
}

static bool is_digit(const struct json_mini_parser *ps)
{
	return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

static void skip_digits(struct json_mini_parser *ps)
{
	while (is_digit(ps))
		ps->p++;
}

/* RFC 8259 number; *ret_one says whether it was exactly "1". */
int json_mini_number(struct json_mini_parser *ps, bool *ret_one)
{
	char *start;

	skip_ws(ps);
	start = ps->p;
	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (!is_digit(ps))
		return -EBADMSG;
	if (*ps->p == '0')
		ps->p++;
	else
		skip_digits(ps);
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (!is_digit(ps))
			return -EBADMSG;
		skip_digits(ps);
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (!is_digit(ps))
			return -EBADMSG;
		skip_digits(ps);
	}
	*ret_one = ps->p - start == 1 && *start == '1';
	return 0;
}

/* Skips the members or elements of an object or array after its opening bracket. */
static int skip_container(struct json_mini_parser *ps, char close, int depth)
{
	char *key;
	size_t len;

	if (json_mini_peek(ps) == (unsigned char)close) {
		ps->p++;
		return 0;
	}
	for (;;) {
		if (close == '}' &&
		    (json_mini_string(ps, &key, &len) < 0 || json_mini_expect(ps, ':') < 0))
			return -EBADMSG;
		if (json_mini_skip(ps, depth + 1) < 0)
			return -EBADMSG;
		if (json_mini_peek(ps) == ',') {
			ps->p++;
			continue;
		}
		return json_mini_expect(ps, close);
	}
}

int json_mini_skip(struct json_mini_parser *ps, int depth)
{
	char *s;
	size_t len;
	bool one;

	if (depth > JSON_MINI_MAX_DEPTH)
		return -EBADMSG;
	switch (json_mini_peek(ps)) {
	case '{':
		ps->p++;
		return skip_container(ps, '}', depth);
	case '[':
		ps->p++;
		return skip_container(ps, ']', depth);
	case '"':
		return json_mini_string(ps, &s, &len);
	case 't':
		return json_mini_literal(ps, "true");
	case 'f':
		return json_mini_literal(ps, "false");
	case 'n':
		return json_mini_literal(ps, "null");
	default:
		return json_mini_number(ps, &one);
	}
}

int json_mini_object(struct json_mini_parser *ps, json_mini_member_fn member, void *ctx)
{
	char *key;
	size_t len;

	if (json_mini_expect(ps, '{') < 0)
		return -EBADMSG;
	if (json_mini_peek(ps) == '}') {
		ps->p++;
		return 0;
	}
	for (;;) {
		if (json_mini_string(ps, &key, &len) < 0 || json_mini_expect(ps, ':') < 0 ||
		    member(ps, key, ctx) < 0)
			return -EBADMSG;
		if (json_mini_peek(ps) == ',') {
			ps->p++;
			continue;
		}
		return json_mini_expect(ps, '}');
	}
}

int json_mini_array(struct json_mini_parser *ps, json_mini_element_fn element, void *ctx)
{
	if (json_mini_expect(ps, '[') < 0)
		return -EBADMSG;
	if (json_mini_peek(ps) == ']') {
		ps->p++;
		return 0;
	}
	for (;;) {
		if (element(ps, ctx) < 0)
			return -EBADMSG;
		if (json_mini_peek(ps) == ',') {
			ps->p++;
			continue;
		}
		return json_mini_expect(ps, ']');
	}
}
