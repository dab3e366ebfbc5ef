/* SPDX-License-Identifier: MIT */
/*
 * Encoding: a JSON object in, one complete frame (header and compact JSON)
 * out.  Frames may carry secrets (an "add" request, a "headers" reply), so
 * every buffer holding one is wiped before it is freed.
 *
 * The writer is our own rather than json_dumpb(): jansson's dump formats a
 * loop-detection key with snprintf for every object and has to run twice to
 * size the buffer, which made encoding the largest cost of a request.  The
 * output is the same compact JSON (UTF-8 passed through, control characters
 * escaped, members in insertion order).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define ENCODE_INITIAL   512
#define ENCODE_MAX_DEPTH PROTO_JSON_MAX_DEPTH /* what proto_json_parse() reads back */

#define QUOTE(x)   #x
#define TEXT_OF(x) QUOTE(x) /* a number macro as a string literal */

struct writer {
	uint8_t *buf;
	size_t len, cap;
};

/* Grows the buffer to hold @n more bytes; realloc() would leave unwiped copies. */
static int reserve(struct writer *w, size_t n)
{
	size_t cap = w->cap ? w->cap : ENCODE_INITIAL;
	uint8_t *buf;

	if (n > PROTO_HEADER_LEN + PROTO_MAX_FRAME - w->len)
		return -EMSGSIZE;
	if (w->len + n <= w->cap)
		return 0;
	while (cap < w->len + n)
		cap *= 2;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	if (w->buf)
		memcpy(buf, w->buf, w->len);
	proto_buf_free(w->buf, w->cap);
	w->buf = buf;
	w->cap = cap;
	return 0;
}

static int put(struct writer *w, const void *data, size_t n)
{
	int r = reserve(w, n);

	if (r < 0)
		return r;
	memcpy(w->buf + w->len, data, n);
	w->len += n;
	return 0;
}

static int put_char(struct writer *w, char c)
{
	return put(w, &c, 1);
}

/* The escape for byte @c, or NULL when it goes out as it is. */
static const char *escape_of(unsigned char c, char tmp[7])
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	default:
		if (c >= 0x20)
			return NULL;
		snprintf(tmp, 7, "\\u%04X", c);
		return tmp;
	}
}

/* A JSON string: runs of plain bytes are copied at once. */
static int put_string(struct writer *w, const char *s, size_t len)
{
	size_t run = 0;
	char tmp[7];
	int r = put_char(w, '"');

	for (size_t i = 0; r >= 0 && i < len; i++) {
		const char *esc = escape_of((unsigned char)s[i], tmp);

		if (!esc)
			continue;
		r = put(w, s + run, i - run);
		if (r >= 0)
			r = put(w, esc, strlen(esc));
		run = i + 1;
	}
	if (r >= 0)
		r = put(w, s + run, len - run);
	return r < 0 ? r : put_char(w, '"');
}

/* "1e+07" → "1e7", "1e-07" → "1e-7": an exponent without '+' or leading zeros. */
static size_t tidy_exponent(char *num, size_t n)
{
	char *e = strchr(num, 'e'), *digits, *first;

	if (!e)
		return n;
	digits = e + 1;
	if (*digits == '+')
		memmove(digits, digits + 1, strlen(digits));
	else if (*digits == '-')
		digits++;
	for (first = digits; first[0] == '0' && first[1]; first++)
		;
	memmove(digits, first, strlen(first) + 1);
	return strlen(num);
}

/* Numbers as jansson writes them: integers exactly, reals with 17 digits,
 * a fraction or an exponent always, and a tidy exponent. */
static int put_number(struct writer *w, const json_t *v)
{
	char num[40];
	int n;

	if (json_is_integer(v))
		n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		n = snprintf(num, sizeof(num) - 2, "%.17g", json_real_value(v));
	if (n <= 0 || (size_t)n >= sizeof(num) - 2)
		return -EINVAL;
	if (json_is_real(v) && !strpbrk(num, ".e"))
		n += snprintf(num + n, 3, ".0");
	return put(w, num, tidy_exponent(num, (size_t)n));
}

static int put_value(struct writer *w, const json_t *v, unsigned depth);

/* Members of @obj in insertion order, without @skip (NULL: none). */
static int put_members(struct writer *w, const json_t *obj, const char *skip, bool first,
		       unsigned depth)
{
	int r = 0;

	for (void *it = json_object_iter((json_t *)obj); it && r >= 0;
	     it = json_object_iter_next((json_t *)obj, it)) {
		const char *key = json_object_iter_key(it);
		size_t key_len = json_object_iter_key_len(it);

		if (skip && key_len == strlen(skip) && memcmp(key, skip, key_len) == 0)
			continue;
		if (!first)
			r = put_char(w, ',');
		first = false;
		if (r >= 0)
			r = put_string(w, key, key_len);
		if (r >= 0)
			r = put_char(w, ':');
		if (r >= 0)
			r = put_value(w, json_object_iter_value(it), depth + 1);
	}
	return r;
}

static int put_array(struct writer *w, const json_t *arr, unsigned depth)
{
	int r = put_char(w, '[');

	for (size_t i = 0; r >= 0 && i < json_array_size(arr); i++) {
		if (i > 0)
			r = put_char(w, ',');
		if (r >= 0)
			r = put_value(w, json_array_get(arr, i), depth + 1);
	}
	return r < 0 ? r : put_char(w, ']');
}

static int put_value(struct writer *w, const json_t *v, unsigned depth)
{
	int r;

	if (depth > ENCODE_MAX_DEPTH)
		return -ELOOP;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		r = put_char(w, '{');
		if (r >= 0)
			r = put_members(w, v, NULL, true, depth);
		return r < 0 ? r : put_char(w, '}');
	case JSON_ARRAY:
		return put_array(w, v, depth);
	case JSON_STRING:
		return put_string(w, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
	case JSON_REAL:
		return put_number(w, v);
	case JSON_TRUE:
		return put(w, "true", 4);
	case JSON_FALSE:
		return put(w, "false", 5);
	case JSON_NULL:
		return put(w, "null", 4);
	}
	return -EINVAL;
}

/*
 * @msg with "v" first, as PROTOCOL.md shows it: PROTO_VERSION, or the "v"
 * @msg already has (which lets tests speak other versions).
 */
static int put_message(struct writer *w, const json_t *msg)
{
	static const char ours[] = "{\"v\":" TEXT_OF(PROTO_VERSION);
	const json_t *version = json_object_get(msg, "v");
	int r = version ? put(w, ours, 5) : put(w, ours, sizeof(ours) - 1);

	if (r >= 0 && version)
		r = put_value(w, version, 1);
	if (r >= 0)
		r = put_members(w, msg, "v", false, 0);
	return r < 0 ? r : put_char(w, '}');
}

int proto_encode(json_t *msg, uint8_t **ret_buf, size_t *ret_len)
{
	struct writer w = { 0 };
	int r;

	if (!json_is_object(msg) || !ret_buf || !ret_len)
		return -EINVAL;
	r = reserve(&w, PROTO_HEADER_LEN);
	if (r >= 0) {
		w.len = PROTO_HEADER_LEN;
		r = put_message(&w, msg);
	}
	if (r >= 0)
		r = proto_frame_header(w.len - PROTO_HEADER_LEN, w.buf);
	if (r < 0) {
		proto_buf_free(w.buf, w.cap);
		return r;
	}
	*ret_buf = w.buf;
	*ret_len = w.len;
	return 0;
}

void *proto_buf_free(void *buf, size_t len)
{
	if (!buf)
		return NULL;
	explicit_bzero(buf, len);
	free(buf);
	return NULL;
}
