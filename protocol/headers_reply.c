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

static int header_member(struct json_mini_parser *ps, const char *key, void *ctx)
{
	struct reply_header *h = ctx;

	if (strcmp(key, "name") == 0)
		return read_field(ps, &h->name, DEPTH_HEADER);
	if (strcmp(key, "value") == 0)
		return read_field(ps, &h->value, DEPTH_HEADER);
	if (strcmp(key, "exists_action") == 0)
		return read_field(ps, &h->exists_action, DEPTH_HEADER);
	return json_mini_skip(ps, DEPTH_HEADER);
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

static int reply_member(struct json_mini_parser *ps, const char *key, void *ctx)
{
	struct headers_reply *r = ctx;

	if (strcmp(key, "headers") == 0)
		return read_headers(ps, r);
	if (strcmp(key, "v") == 0)
		return read_field(ps, &r->v, DEPTH_MEMBER);
	if (strcmp(key, "ok") == 0)
		return read_field(ps, &r->ok, DEPTH_MEMBER);
	if (strcmp(key, "profile") == 0)
		return read_field(ps, &r->profile, DEPTH_MEMBER);
	if (strcmp(key, "error") == 0)
		return read_field(ps, &r->error, DEPTH_MEMBER);
	if (strcmp(key, "message") == 0)
		return read_field(ps, &r->message, DEPTH_MEMBER);
	return json_mini_skip(ps, DEPTH_MEMBER);
}

int headers_reply_read(char *buf, size_t len, struct headers_reply *reply)
{
	struct json_mini_parser ps = { .p = buf, .end = buf + len };

	*reply = (struct headers_reply){ .cap = reply->cap, .h = reply->h };
	if (json_mini_object(&ps, reply_member, reply) < 0 || json_mini_peek(&ps) != -1)
		return -EBADMSG;
	return 0;
}
