/* SPDX-License-Identifier: MIT */
/*
 * The shape of the agent's reply to "headers" (PROTOCOL.md), read with
 * json_mini.h and without jansson: which of the members a client looks at
 * were there, of what JSON type, and the text of those that are strings.
 * Judging them (the version, "ok", header syntax, limits) is the caller's,
 * since libaoai and the hook answer a bad reply each in their own words.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The JSON type of a member, or REPLY_ABSENT when the reply had none. */
enum reply_type {
	REPLY_ABSENT = 0,
	REPLY_NULL,
	REPLY_TRUE,
	REPLY_FALSE,
	REPLY_ONE,    /* the number 1, written "1" (the protocol's "v") */
	REPLY_NUMBER, /* any other number */
	REPLY_STRING,
	REPLY_ARRAY,
	REPLY_OBJECT,
};

struct reply_field {
	enum reply_type type;
	const char *s; /* REPLY_STRING: decoded, NUL-terminated, inside the reply buffer */
	size_t len;    /* REPLY_STRING: bytes of @s */
};

/* One element of "headers"; @object false (and every field absent) when it was no object. */
struct reply_header {
	bool object;
	struct reply_field name, value, exists_action;
};

struct headers_reply {
	struct reply_field v, ok, error, message, profile, headers;
	size_t nheaders;        /* elements of "headers" when an array, even beyond @cap */
	size_t cap;             /* entries at @h, set by the caller */
	struct reply_header *h; /* the first @cap elements, set by the caller */
};

/*
 * Reads the reply of @len bytes at @buf: one JSON object and nothing after
 * it, its strings decoded in place (the buffer holds credentials: its owner
 * wipes it, after the last use of @reply).  Members it does not know are
 * skipped; one it knows given twice, like any malformed JSON, makes it
 * return -EBADMSG.  Returns 0 with @reply filled (@h and @cap kept).
 */
int headers_reply_read(char *buf, size_t len, struct headers_reply *reply);
