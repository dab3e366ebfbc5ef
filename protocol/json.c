/* SPDX-License-Identifier: MIT */
/*
 * Reading frames: strict JSON text (RFC 8259) in, jansson values out.
 *
 * jansson's own reader pulls every byte through a stream callback and a
 * growing string buffer; on a 127-byte request that was 22k instructions,
 * the largest single cost of a request on both sides of the socket.  This
 * reader accepts exactly what json_loadb(JSON_REJECT_DUPLICATES) accepts for
 * an object or array at the top level (tests/fuzz/fuzz-json.c compares the
 * two), except that nesting stops at PROTO_JSON_MAX_DEPTH.  Decoded strings
 * may be secrets, so scratch buffers are wiped.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define NUMBER_STACK 64 /* bytes of a number copied without malloc */

struct parser {
	const uint8_t *p, *start, *end;
	enum proto_json_error err;
	unsigned depth;
};

static json_t *parse_value(struct parser *ps);

static json_t *fail(struct parser *ps, enum proto_json_error err)
{
	if (!ps->err)
		ps->err = err;
	return NULL;
}

static void skip_space(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

/* The length of the valid UTF-8 sequence at @p (shortest form, no
 * surrogates, at most U+10FFFF), or 0. */
static size_t utf8_length(const uint8_t *p, const uint8_t *end)
{
	uint32_t cp;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The four hex digits after "\u" at @p (which has them), or -1. */
static int32_t hex4(const uint8_t *p)
{
	int32_t v = 0;

	for (int i = 0; i < 4; i++) {
		int h = hex_value(p[i]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/*
 * Scans the string whose opening quote is at ps->p: on success ps->p is
 * past the closing quote, *ret_raw and *ret_len span the bytes between the
 * quotes, and *ret_escaped says whether any backslash occurs.
 */
static bool scan_string(struct parser *ps, const uint8_t **ret_raw, size_t *ret_len,
			bool *ret_escaped)
{
	const uint8_t *p = ps->p + 1;
	bool escaped = false;

	while (p < ps->end && *p != '"') {
		size_t n;

		if (*p < 0x20) {
			ps->p = p;
			return fail(ps, PROTO_JSON_SYNTAX), false;
		}
		if (*p == '\\') {
			escaped = true;
			if (ps->end - p < 2 || !strchr("\"\\/bfnrtu", p[1]) || !p[1] ||
			    (p[1] == 'u' && (ps->end - p < 6 || hex4(p + 2) < 0))) {
				ps->p = p;
				return fail(ps, PROTO_JSON_SYNTAX), false;
			}
			p += p[1] == 'u' ? 6 : 2;
			continue;
		}
		n = utf8_length(p, ps->end);
		if (n == 0) {
			ps->p = p;
			return fail(ps, PROTO_JSON_UTF8), false;
		}
		p += n;
	}
	if (p >= ps->end) {
		ps->p = p;
		return fail(ps, PROTO_JSON_SYNTAX), false;
	}
	*ret_raw = ps->p + 1;
	*ret_len = (size_t)(p - ps->p - 1);
	*ret_escaped = escaped;
	ps->p = p + 1;
	return true;
}

static size_t put_utf8(uint8_t *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | cp >> 6);
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | cp >> 12);
		out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (uint8_t)(0xf0 | cp >> 18);
	out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* The code point of the "\uXXXX" escape (or surrogate pair) at *@p, which
 * scan_string() checked for hex digits; advances *@p.  -1: a lone or
 * reversed surrogate. */
static int32_t unicode_escape(const uint8_t **p, const uint8_t *end)
{
	int32_t hi = hex4(*p + 2), lo;

	*p += 6;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return -1;
	if (hi < 0xd800 || hi > 0xdbff)
		return hi;
	if (end - *p < 6 || (*p)[0] != '\\' || (*p)[1] != 'u')
		return -1;
	lo = hex4(*p + 2);
	if (lo < 0xdc00 || lo > 0xdfff)
		return -1;
	*p += 6;
	return 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
}

/* Decodes the escapes of @raw into @out (never longer than @raw). */
static enum proto_json_error unescape(const uint8_t *raw, size_t len, uint8_t *out, size_t *ret_len)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const uint8_t *p = raw, *end = raw + len;
	size_t n = 0;

	while (p < end) {
		int32_t cp;

		if (*p != '\\') {
			out[n++] = *p++;
			continue;
		}
		if (p[1] != 'u') {
			out[n++] = (uint8_t)to[strchr(from, p[1]) - from];
			p += 2;
			continue;
		}
		cp = unicode_escape(&p, end);
		if (cp < 0)
			return PROTO_JSON_SYNTAX;
		if (cp == 0)
			return PROTO_JSON_NUL;
		n += put_utf8(out + n, (uint32_t)cp);
	}
	*ret_len = n;
	return PROTO_JSON_OK;
}

/*
 * The string at ps->p, decoded, handed to @use (which copies it).  Returns
 * @use's result, or NULL with ps->err set.
 */
static json_t *with_string(struct parser *ps, json_t *(*use)(const char *s, size_t len, void *data),
			   void *data)
{
	const uint8_t *raw = NULL, *at = ps->p;
	size_t len = 0, n = 0;
	bool escaped = false;
	enum proto_json_error err;
	uint8_t *buf;
	json_t *v;

	if (!scan_string(ps, &raw, &len, &escaped))
		return NULL;
	if (!escaped)
		return use((const char *)raw, len, data);
	buf = malloc(len ? len : 1);
	if (!buf)
		return fail(ps, PROTO_JSON_NOMEM);
	err = unescape(raw, len, buf, &n);
	v = err ? NULL : use((const char *)buf, n, data);
	explicit_bzero(buf, len);
	free(buf);
	if (err) {
		ps->p = at;
		return fail(ps, err);
	}
	return v;
}

static json_t *new_string(const char *s, size_t len, void *data)
{
	(void)data;
	return json_stringn_nocheck(s, len); /* scan_string() validated the UTF-8 */
}

/* The C locale for strtod, whatever the program linking libaoai set. */
static locale_t c_numeric;
static pthread_once_t c_numeric_once = PTHREAD_ONCE_INIT;

static void c_numeric_init(void)
{
	c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

static double c_strtod(const char *s, char **endp)
{
	pthread_once(&c_numeric_once, c_numeric_init);
	return c_numeric ? strtod_l(s, endp, c_numeric) : strtod(s, endp);
}

/* Skips digits; false when there were none. */
static bool digits(struct parser *ps)
{
	const uint8_t *at = ps->p;

	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
		ps->p++;
	return ps->p > at;
}

/* Numbers as jansson reads them: integers into json_int_t, anything with a
 * fraction or exponent into a double, overflow an error. */
static json_t *convert_number(struct parser *ps, const char *text, bool real)
{
	char *endp;
	json_t *v;

	errno = 0;
	if (real) {
		double d = c_strtod(text, &endp);

		if (errno == ERANGE && isinf(d))
			return fail(ps, PROTO_JSON_RANGE);
		v = json_real(d);
	} else {
		long long i = strtoll(text, &endp, 10);

		if (errno == ERANGE)
			return fail(ps, PROTO_JSON_RANGE);
		v = json_integer(i);
	}
	return v ? v : fail(ps, PROTO_JSON_NOMEM);
}

static json_t *parse_number(struct parser *ps)
{
	const uint8_t *at = ps->p;
	char stack[NUMBER_STACK], *text = stack;
	bool real = false;
	size_t len;
	json_t *v;

	if (*ps->p == '-')
		ps->p++;
	if (ps->p < ps->end && *ps->p == '0')
		ps->p++;
	else if (!digits(ps))
		return fail(ps, PROTO_JSON_SYNTAX);
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		real = true;
		if (!digits(ps))
			return fail(ps, PROTO_JSON_SYNTAX);
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		real = true;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (!digits(ps))
			return fail(ps, PROTO_JSON_SYNTAX);
	}
	len = (size_t)(ps->p - at);
	if (len >= sizeof(stack) && !(text = malloc(len + 1)))
		return fail(ps, PROTO_JSON_NOMEM);
	memcpy(text, at, len);
	text[len] = '\0';
	v = convert_number(ps, text, real);
	if (text != stack)
		free(text);
	if (!v)
		ps->p = at;
	return v;
}

static json_t *parse_literal(struct parser *ps, const char *word, json_t *value)
{
	size_t len = strlen(word);

	if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0)
		return fail(ps, PROTO_JSON_SYNTAX);
	ps->p += len;
	return value;
}

/* Expects @c after optional space; consumes it. */
static bool expect(struct parser *ps, uint8_t c)
{
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == c) {
		ps->p++;
		return true;
	}
	return fail(ps, PROTO_JSON_SYNTAX), false;
}

/* True, consuming it, when the next token is @c. */
static bool next_is(struct parser *ps, uint8_t c)
{
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == c) {
		ps->p++;
		return true;
	}
	return false;
}

static json_t *parse_array(struct parser *ps)
{
	json_t *arr = json_array();

	if (!arr)
		return fail(ps, PROTO_JSON_NOMEM);
	ps->p++;
	if (next_is(ps, ']'))
		return arr;
	do {
		json_t *v = parse_value(ps);

		if (!v || json_array_append_new(arr, v) < 0) {
			json_decref(arr);
			return fail(ps, PROTO_JSON_NOMEM);
		}
	} while (next_is(ps, ','));
	if (!expect(ps, ']')) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

struct member {
	struct parser *ps;
	json_t *obj;
};

/* Reads the member's value and stores it under the key @key. */
static json_t *add_member(const char *key, size_t len, void *data)
{
	struct member *m = data;
	json_t *v;

	if (json_object_getn(m->obj, key, len))
		return fail(m->ps, PROTO_JSON_DUPLICATE);
	if (!expect(m->ps, ':'))
		return NULL;
	v = parse_value(m->ps);
	if (!v)
		return NULL;
	if (json_object_setn_new_nocheck(m->obj, key, len, v) < 0)
		return fail(m->ps, PROTO_JSON_NOMEM);
	return m->obj;
}

static json_t *parse_object(struct parser *ps)
{
	struct member m = { ps, json_object() };

	if (!m.obj)
		return fail(ps, PROTO_JSON_NOMEM);
	ps->p++;
	if (next_is(ps, '}'))
		return m.obj;
	do {
		skip_space(ps);
		if (ps->p >= ps->end || *ps->p != '"' || !with_string(ps, add_member, &m)) {
			json_decref(m.obj);
			return fail(ps, PROTO_JSON_SYNTAX);
		}
	} while (next_is(ps, ','));
	if (!expect(ps, '}')) {
		json_decref(m.obj);
		return NULL;
	}
	return m.obj;
}

static json_t *parse_value(struct parser *ps)
{
	json_t *v;

	skip_space(ps);
	if (ps->p >= ps->end)
		return fail(ps, PROTO_JSON_SYNTAX);
	switch (*ps->p) {
	case '{':
	case '[':
		if (++ps->depth > PROTO_JSON_MAX_DEPTH)
			return fail(ps, PROTO_JSON_DEPTH);
		v = *ps->p == '{' ? parse_object(ps) : parse_array(ps);
		ps->depth--;
		return v;
	case '"':
		return with_string(ps, new_string, NULL);
	case 't':
		return parse_literal(ps, "true", json_true());
	case 'f':
		return parse_literal(ps, "false", json_false());
	case 'n':
		return parse_literal(ps, "null", json_null());
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return parse_number(ps);
		return fail(ps, PROTO_JSON_SYNTAX);
	}
}

json_t *proto_json_parse(const uint8_t *text, size_t len, enum proto_json_error *ret_err,
			 size_t *ret_pos)
{
	struct parser ps = { text, text, text + len, PROTO_JSON_OK, 0 };
	json_t *v = NULL;

	skip_space(&ps);
	if (ps.p < ps.end && (*ps.p == '{' || *ps.p == '['))
		v = parse_value(&ps);
	else
		fail(&ps, PROTO_JSON_SYNTAX);
	skip_space(&ps);
	if (v && ps.p != ps.end) {
		json_decref(v);
		v = fail(&ps, PROTO_JSON_TRAILING);
	}
	if (ret_err)
		*ret_err = v ? PROTO_JSON_OK : ps.err;
	if (ret_pos)
		*ret_pos = (size_t)(ps.p - ps.start);
	return v;
}

const char *proto_json_error_what(enum proto_json_error err)
{
	switch (err) {
	case PROTO_JSON_OK:
		return "no error";
	case PROTO_JSON_SYNTAX:
		return "not valid JSON";
	case PROTO_JSON_UTF8:
		return "invalid UTF-8";
	case PROTO_JSON_NUL:
		return "NUL character in a string";
	case PROTO_JSON_DUPLICATE:
		return "duplicate key";
	case PROTO_JSON_RANGE:
		return "number out of range";
	case PROTO_JSON_DEPTH:
		return "nested too deeply";
	case PROTO_JSON_TRAILING:
		return "data after the JSON object";
	case PROTO_JSON_NOMEM:
		return "out of memory";
	}
	return "not valid JSON";
}
