/* SPDX-License-Identifier: MIT */
/*
 * Encoding: a JSON object in, one complete frame (header and compact JSON)
 * out.  Frames may carry secrets (an "add" request, a "headers" reply), so
 * every buffer holding one is wiped before it is freed.
 *
 * The writer is our own (writer.c) rather than json_dumpb(): jansson's dump formats a
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

#define ENCODE_MAX_DEPTH PROTO_JSON_MAX_DEPTH /* what proto_json_parse() reads back */

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
static void put_number(struct proto_writer *w, const json_t *v)
{
	char num[40];
	int n;

	if (json_is_integer(v))
		n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		n = snprintf(num, sizeof(num) - 2, "%.17g", json_real_value(v));
	if (n <= 0 || (size_t)n >= sizeof(num) - 2) {
		w->err = w->err ? w->err : -EINVAL;
		return;
	}
	if (json_is_real(v) && !strpbrk(num, ".e"))
		n += snprintf(num + n, 3, ".0");
	proto_writer_raw(w, num, tidy_exponent(num, (size_t)n));
}

static void put_value(struct proto_writer *w, const json_t *v, unsigned depth);

/* Members of @obj in insertion order, without @skip (NULL: none). */
static void put_members(struct proto_writer *w, const json_t *obj, const char *skip, bool first,
			unsigned depth)
{
	for (void *it = json_object_iter((json_t *)obj); it && !w->err;
	     it = json_object_iter_next((json_t *)obj, it)) {
		const char *key = json_object_iter_key(it);
		size_t key_len = json_object_iter_key_len(it);

		if (skip && key_len == strlen(skip) && memcmp(key, skip, key_len) == 0)
			continue;
		if (!first)
			proto_writer_raw(w, ",", 1);
		first = false;
		proto_writer_string(w, key, key_len);
		proto_writer_raw(w, ":", 1);
		put_value(w, json_object_iter_value(it), depth + 1);
	}
}

static void put_array(struct proto_writer *w, const json_t *arr, unsigned depth)
{
	proto_writer_raw(w, "[", 1);
	for (size_t i = 0; !w->err && i < json_array_size(arr); i++) {
		if (i > 0)
			proto_writer_raw(w, ",", 1);
		put_value(w, json_array_get(arr, i), depth + 1);
	}
	proto_writer_raw(w, "]", 1);
}

static void put_value(struct proto_writer *w, const json_t *v, unsigned depth)
{
	if (depth > ENCODE_MAX_DEPTH) {
		w->err = w->err ? w->err : -ELOOP;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		proto_writer_raw(w, "{", 1);
		put_members(w, v, NULL, true, depth);
		proto_writer_raw(w, "}", 1);
		return;
	case JSON_ARRAY:
		put_array(w, v, depth);
		return;
	case JSON_STRING:
		proto_writer_string(w, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
	case JSON_REAL:
		put_number(w, v);
		return;
	case JSON_TRUE:
		proto_writer_raw(w, "true", 4);
		return;
	case JSON_FALSE:
		proto_writer_raw(w, "false", 5);
		return;
	case JSON_NULL:
		proto_writer_raw(w, "null", 4);
		return;
	}
	w->err = w->err ? w->err : -EINVAL;
}

/*
 * @msg with "v" first, as PROTOCOL.md shows it: PROTO_VERSION, or the "v"
 * @msg already has (which lets tests speak other versions).
 */
static void put_message(struct proto_writer *w, const json_t *msg)
{
	const json_t *version = json_object_get(msg, "v");

	proto_writer_frame_begin(w);
	if (version && !w->err) {
		/* Back to {"v": and the given value instead of ours. */
		w->len = w->frame_start + PROTO_HEADER_LEN + strlen("{\"v\":");
		put_value(w, version, 1);
	}
	put_members(w, msg, "v", false, 0);
	proto_writer_frame_end(w);
}

int proto_encode(json_t *msg, uint8_t **ret_buf, size_t *ret_len)
{
	struct proto_writer w = { 0 };

	if (!json_is_object(msg) || !ret_buf || !ret_len)
		return -EINVAL;
	put_message(&w, msg);
	if (w.err) {
		proto_buf_free(w.buf, w.cap);
		return w.err;
	}
	*ret_buf = w.buf;
	*ret_len = w.len;
	return 0;
}
