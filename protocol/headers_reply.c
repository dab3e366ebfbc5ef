/* SPDX-License-Identifier: MIT */
/*
 * Reading a "headers" reply into struct headers_reply (headers_reply.h):
 * one pass of json_mini over the frame, nothing allocated.
 */
#include <errno.h>
#include <string.h>

#include "headers_reply.h"
#include "json_mini.h"

/* Depths handed to json_mini_skip(): members of the reply, of a header. */
#define DEPTH_MEMBER 1
#define DEPTH_HEADER 2

static int read_string(struct json_mini_parser *ps, struct reply_field *f)
{
	char *s;
	size_t len;

	if (json_mini_string(ps, &s, &len) < 0)
		return -EBADMSG;
	f->type = REPLY_STRING;
	f->s = s;
	f->len = len;
	return 0;
}

/* Records the type of the value at @ps (and its text, for a string), then skips it. */
static int read_field(struct json_mini_parser *ps, struct reply_field *f, int depth)
{
	bool one;

	/* A member twice makes the reply ambiguous, whichever value one reads. */
	if (f->type != REPLY_ABSENT)
		return -EBADMSG;
	switch (json_mini_peek(ps)) {
	case '"':
		return read_string(ps, f);
	case 't':
		f->type = REPLY_TRUE;
		return json_mini_literal(ps, "true");
	case 'f':
		f->type = REPLY_FALSE;
		return json_mini_literal(ps, "false");
	case 'n':
		f->type = REPLY_NULL;
		return json_mini_literal(ps, "null");
	case '{':
		f->type = REPLY_OBJECT;
		return json_mini_skip(ps, depth);
	case '[':
		f->type = REPLY_ARRAY;
		return json_mini_skip(ps, depth);
	default:
		if (json_mini_number(ps, &one) < 0)
			return -EBADMSG;
		f->type = one ? REPLY_ONE : REPLY_NUMBER;
		return 0;
	}
}

/* Keys are told apart by their first byte, then compared once. */
static int header_member(struct json_mini_parser *ps, const char *key, void *ctx)
{
	struct reply_header *h = ctx;
	struct reply_field *f = NULL;

	if (key[0] == 'n' && strcmp(key, "name") == 0)
		f = &h->name;
	else if (key[0] == 'v' && strcmp(key, "value") == 0)
		f = &h->value;
	else if (key[0] == 'e' && strcmp(key, "exists_action") == 0)
		f = &h->exists_action;
	return f ? read_field(ps, f, DEPTH_HEADER) : json_mini_skip(ps, DEPTH_HEADER);
}

/* Elements past @cap are checked as JSON and counted, not kept. */
static int header_element(struct json_mini_parser *ps, void *ctx)
{
	struct headers_reply *r = ctx;
	struct reply_header *h;

	if (r->nheaders >= r->cap) {
		r->nheaders++;
		return json_mini_skip(ps, DEPTH_MEMBER);
	}
	h = &r->h[r->nheaders++];
	*h = (struct reply_header){ 0 };
	if (json_mini_peek(ps) != '{')
		return json_mini_skip(ps, DEPTH_MEMBER);
	h->object = true;
	return json_mini_object(ps, header_member, h);
}

static int read_headers(struct json_mini_parser *ps, struct headers_reply *r)
{
	if (json_mini_peek(ps) != '[')
		return read_field(ps, &r->headers, DEPTH_MEMBER);
	if (r->headers.type != REPLY_ABSENT)
		return -EBADMSG;
	r->headers.type = REPLY_ARRAY;
	return json_mini_array(ps, header_element, r);
}

static struct reply_field *reply_field_of(struct headers_reply *r, const char *key)
{
	switch (key[0]) {
	case 'v':
		return key[1] == '\0' ? &r->v : NULL;
	case 'o':
		return strcmp(key, "ok") == 0 ? &r->ok : NULL;
	case 'p':
		return strcmp(key, "profile") == 0 ? &r->profile : NULL;
	case 'e':
		return strcmp(key, "error") == 0 ? &r->error : NULL;
	case 'm':
		return strcmp(key, "message") == 0 ? &r->message : NULL;
	}
	return NULL;
}

static int reply_member(struct json_mini_parser *ps, const char *key, void *ctx)
{
	struct headers_reply *r = ctx;
	struct reply_field *f;

	if (key[0] == 'h' && strcmp(key, "headers") == 0)
		return read_headers(ps, r);
	f = reply_field_of(r, key);
	return f ? read_field(ps, f, DEPTH_MEMBER) : json_mini_skip(ps, DEPTH_MEMBER);
}

int headers_reply_read(char *buf, size_t len, struct headers_reply *reply)
{
	struct json_mini_parser ps = { .p = buf, .end = buf + len };

	*reply = (struct headers_reply){ .cap = reply->cap, .h = reply->h };
	if (json_mini_object(&ps, reply_member, reply) < 0 || json_mini_peek(&ps) != -1)
		return -EBADMSG;
	return 0;
}
