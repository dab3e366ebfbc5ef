/* SPDX-License-Identifier: MIT */
/*
 * The frame writer (proto.h): compact JSON appended to a growing buffer,
 * strings escaped as jansson escapes them (UTF-8 passed through, control
 * characters as \b \f \n \r \t or \u00XX).  proto_encode() writes value
 * trees with it; the hot replies write their members straight.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define WRITER_INITIAL 512

#define QUOTE(x)   #x
#define TEXT_OF(x) QUOTE(x) /* a number macro as a string literal */

static void set_error(struct proto_writer *w, int err)
{
	if (!w->err)
		w->err = err;
}

/* Room for @n more bytes; realloc() would leave unwiped copies behind. */
static bool reserve(struct proto_writer *w, size_t n)
{
	size_t cap = w->cap ? w->cap : WRITER_INITIAL;
	uint8_t *buf;

	if (w->err)
		return false;
	if (n > PROTO_HEADER_LEN + PROTO_MAX_FRAME - (w->len - w->frame_start)) {
		set_error(w, -EMSGSIZE);
		return false;
	}
	if (w->len + n <= w->cap)
		return true;
	while (cap < w->len + n)
		cap *= 2;
	buf = malloc(cap);
	if (!buf) {
		set_error(w, -ENOMEM);
		return false;
	}
	if (w->buf)
		memcpy(buf, w->buf, w->len);
	proto_buf_free(w->buf, w->cap);
	w->buf = buf;
	w->cap = cap;
	return true;
}

void proto_writer_raw(struct proto_writer *w, const void *data, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, data, n);
	w->len += n;
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

/* Bytes that go out as they are: all but '"', '\\' and controls. */
static const bool plain_byte[256] = {
	[0x20 ... '"' - 1] = true,
	['"' + 1 ... '\\' - 1] = true,
	['\\' + 1 ... 0xff] = true,
};

/* Runs of plain bytes are copied at once. */
void proto_writer_escaped(struct proto_writer *w, const char *s, size_t len)
{
	size_t run = 0;
	char tmp[7];

	for (size_t i = 0; i < len; i++) {
		const char *esc;

		if (plain_byte[(unsigned char)s[i]])
			continue;
		esc = escape_of((unsigned char)s[i], tmp);
		proto_writer_raw(w, s + run, i - run);
		proto_writer_raw(w, esc, strlen(esc));
		run = i + 1;
	}
	proto_writer_raw(w, s + run, len - run);
}

void proto_writer_string(struct proto_writer *w, const char *s, size_t len)
{
	proto_writer_raw(w, "\"", 1);
	proto_writer_escaped(w, s, len);
	proto_writer_raw(w, "\"", 1);
}

void proto_writer_frame_begin(struct proto_writer *w)
{
	static const char open[] = "{\"v\":" TEXT_OF(PROTO_VERSION);
	static const uint8_t header[PROTO_HEADER_LEN];

	w->frame_start = w->len;
	proto_writer_raw(w, header, sizeof(header));
	proto_writer_raw(w, open, sizeof(open) - 1);
}

void proto_writer_frame_end(struct proto_writer *w)
{
	proto_writer_raw(w, "}", 1);
	if (!w->err && proto_frame_header(w->len - w->frame_start - PROTO_HEADER_LEN,
					  w->buf + w->frame_start) < 0)
		set_error(w, -EMSGSIZE);
}

void proto_writer_frame_discard(struct proto_writer *w)
{
	if (w->buf && w->len > w->frame_start)
		explicit_bzero(w->buf + w->frame_start, w->len - w->frame_start);
	w->len = w->frame_start;
	w->err = 0;
}

void *proto_buf_free(void *buf, size_t len)
{
	if (!buf)
		return NULL;
	explicit_bzero(buf, len);
	free(buf);
	return NULL;
}
