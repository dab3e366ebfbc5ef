/* SPDX-License-Identifier: MIT */
/*
 * A strict RFC 8259 parser over a writable buffer, for the agent's replies
 * (headers_reply.c), and the writer of the one request the hook and
 * libaoai's aoai_get_headers() send.
 *
 * Strings are decoded in place and NUL-terminated there, so whatever a
 * reply holds exists in that one buffer, which its owner wipes.  Every
 * function returns 0 or -EBADMSG and leaves the parser after what it read;
 * whitespace before a value is skipped.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define JSON_MINI_MAX_DEPTH 32

struct json_mini_parser {
	char *p;   /* next byte */
	char *end; /* one past the last */
};

/* Called for each member of an object, with the parser after the key's ':'. */
typedef int (*json_mini_member_fn)(struct json_mini_parser *ps, const char *key, void *ctx);
/* Called for each element of an array, with the parser before it. */
typedef int (*json_mini_element_fn)(struct json_mini_parser *ps, void *ctx);

/* The next byte after whitespace, or -1 at the end. */
int json_mini_peek(struct json_mini_parser *ps);
/* Consumes @c (after whitespace). */
int json_mini_expect(struct json_mini_parser *ps, char c);
/* Consumes exactly @word ("true", "null", …). */
int json_mini_literal(struct json_mini_parser *ps, const char *word);
int json_mini_bool(struct json_mini_parser *ps, bool *ret);
/* A string, decoded in place: *ret points into the buffer.  \u0000 is refused. */
int json_mini_string(struct json_mini_parser *ps, char **ret, size_t *ret_len);
/* A number; *ret_one tells whether it was exactly 1 (all the protocol's "v" needs). */
int json_mini_number(struct json_mini_parser *ps, bool *ret_one);
/* Any value, nested at most JSON_MINI_MAX_DEPTH - @depth deep. */
int json_mini_skip(struct json_mini_parser *ps, int depth);
/* An object: @member for each member, in order. */
int json_mini_object(struct json_mini_parser *ps, json_mini_member_fn member, void *ctx);
/* An array: @element for each element, in order. */
int json_mini_array(struct json_mini_parser *ps, json_mini_element_fn element, void *ctx);

/* True when @s (@len bytes) is valid UTF-8. */
bool json_mini_utf8_valid(const unsigned char *s, size_t len);
/*
 * Writes {"v":1,"op":"headers","url":URL} into a new buffer.  Returns 0 and
 * *ret_buf / *ret_len (free() it), -EINVAL when @url is not valid UTF-8,
 * -ENOMEM.
 */
int json_mini_headers_request(const char *url, char **ret_buf, size_t *ret_len);
/*
 * The same into @buf (@cap bytes), without allocating: returns its length,
 * 0 when it might not fit (6 bytes per URL byte and 32 more always do), or
 * -EINVAL when @url is not valid UTF-8.
 */
ssize_t json_mini_headers_request_into(const char *url, char *buf, size_t cap);
