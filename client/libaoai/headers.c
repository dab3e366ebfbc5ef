/* SPDX-License-Identifier: MIT */
/*
 * "headers": the credentials for one request, the call a program makes
 * before each of its own, so it costs what the frames cost and no more: the
 * request is written and the reply read with protocol/json_mini.c (no
 * jansson document is built).  The reply is decoded in place in its frame;
 * the values are copied out into memory libaoai owns and
 * aoai_headers_free() wipes, then the frame is wiped.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aoai.h"
#include "aoai_conn.h"
#include "headers_reply.h"
#include "json_mini.h"
#include "proto.h"

/* More than any profile needs; a reply with more is not from a sane agent. */
#define HEADERS_MAX 64

struct header {
	char *name;
	char *value;
	int action;
};

/*
 * One allocation: this struct, the @count headers, then every string
 * (profile, names, values) NUL-terminated; @size bytes in all, wiped whole.
 */
struct aoai_headers {
	size_t size;
	char *profile;
	size_t count;
	struct header h[];
};

struct aoai_headers *aoai_headers_free(struct aoai_headers *h)
{
	if (!h)
		return NULL;
	explicit_bzero(h, h->size);
	free(h);
	return NULL;
}

static int action_from_name(const char *s)
{
	if (!s || strcmp(s, "override") == 0)
		return AOAI_EXISTS_OVERRIDE;
	if (strcmp(s, "skip") == 0)
		return AOAI_EXISTS_SKIP;
	if (strcmp(s, "append") == 0)
		return AOAI_EXISTS_APPEND;
	return -1;
}

/*
 * A header must be printable as a `Name: value` line: no NUL (which would cut
 * it short), no CR or LF (which would start another header), and a name
 * without separators.
 */
static bool header_string_valid(const struct reply_field *f, bool name)
{
	if (f->type != REPLY_STRING || memchr(f->s, '\0', f->len) || strpbrk(f->s, "\r\n"))
		return false;
	return !name || (f->len > 0 && !strpbrk(f->s, ": \t"));
}

/* Checks header @item; returns its AOAI_EXISTS_* action. */
static int header_check(struct aoai_conn *conn, const struct reply_header *item)
{
	const struct reply_field *action = &item->exists_action;
	int a;

	if (action->type != REPLY_ABSENT && action->type != REPLY_STRING)
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "bad exists_action in reply");
	a = action_from_name(action->type == REPLY_STRING ? action->s : NULL);
	if (a < 0)
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "unknown exists_action in reply");
	if (!header_string_valid(&item->name, true) || !header_string_valid(&item->value, false))
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "bad header in reply");
	return a;
}

/* Copies @f and its NUL to *@pos, moving it on; returns the copy. */
static char *put_field(char **pos, const struct reply_field *f)
{
	char *s = *pos;

	memcpy(s, f->s, f->len + 1);
	*pos += f->len + 1;
	return s;
}

/* The headers of @reply, all checked (their @n actions in @actions), in one allocation. */
static int headers_copy(struct aoai_conn *conn, const struct headers_reply *reply,
			const int *actions, struct aoai_headers **ret_headers)
{
	size_t i, n = reply->nheaders, size;
	struct aoai_headers *h;
	char *pos;

	size = sizeof(*h) + n * sizeof(h->h[0]) + reply->profile.len + 1;
	for (i = 0; i < n; i++)
		size += reply->h[i].name.len + 1 + reply->h[i].value.len + 1;
	h = malloc(size);
	if (!h)
		return conn_fail(conn, AOAI_E_NOMEM, "", "out of memory");
	h->size = size;
	h->count = n;
	pos = (char *)&h->h[n];
	h->profile = put_field(&pos, &reply->profile);
	for (i = 0; i < n; i++) {
		h->h[i].name = put_field(&pos, &reply->h[i].name);
		h->h[i].value = put_field(&pos, &reply->h[i].value);
		h->h[i].action = actions[i];
	}
	*ret_headers = h;
	return 0;
}

static int headers_from_reply(struct aoai_conn *conn, const struct headers_reply *reply,
			      struct aoai_headers **ret_headers)
{
	int actions[HEADERS_MAX];
	size_t i;

	if (reply->headers.type != REPLY_ARRAY || reply->profile.type != REPLY_STRING)
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "\"headers\" reply without headers");
	if (reply->nheaders > HEADERS_MAX)
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "too many headers in reply");
	for (i = 0; i < reply->nheaders; i++) {
		actions[i] = header_check(conn, &reply->h[i]);
		if (actions[i] < 0)
			return actions[i];
	}
	return headers_copy(conn, reply, actions, ret_headers);
}

/* Reads the reply frame in place; the caller wipes it. */
static int headers_from_frame(struct aoai_conn *conn, uint8_t *buf, size_t len,
			      struct aoai_headers **ret_headers)
{
	struct reply_header items[HEADERS_MAX];
	struct headers_reply reply = { .cap = HEADERS_MAX, .h = items };
	int r;

	if (headers_reply_read((char *)buf, len, &reply) < 0)
		return conn_fail(conn, AOAI_E_PROTOCOL, "",
				 "the agent's reply is not a JSON object");
	r = reply_check_fields(conn, &reply);
	if (r < 0)
		return r;
	return headers_from_reply(conn, &reply, ret_headers);
}

static int headers_request(struct aoai_conn *conn, const char *url, char **ret_req, size_t *ret_len)
{
	int r = json_mini_headers_request(url, ret_req, ret_len);

	if (r == -ENOMEM)
		return conn_fail(conn, AOAI_E_NOMEM, "", "out of memory");
	if (r < 0)
		return conn_fail(conn, AOAI_E_INVALID, "", "URL is not valid UTF-8");
	return 0;
}

int aoai_get_headers(struct aoai_conn *conn, const char *url, struct aoai_headers **ret_headers)
{
	uint8_t *buf = NULL;
	size_t req_len, len = 0;
	char *req;
	int r;

	if (!conn || !url || !ret_headers)
		return AOAI_E_INVALID;
	conn_clear_error(conn);
	if (strlen(url) == 0 || strlen(url) > PROTO_MAX_URL)
		return conn_fail(conn, AOAI_E_INVALID, "", "URL length out of range");
	r = headers_request(conn, url, &req, &req_len);
	if (r < 0)
		return r;
	r = conn_exchange(conn, req, req_len, &buf, &len);
	proto_buf_free(req, req_len);
	if (r < 0)
		return r;
	r = headers_from_frame(conn, buf, len, ret_headers);
	/* The frame holds the credentials, decoded in place. */
	proto_buf_free(buf, len);
	return r;
}

size_t aoai_headers_count(const struct aoai_headers *h)
{
	return h ? h->count : 0;
}

const char *aoai_header_name(const struct aoai_headers *h, size_t i)
{
	return h && i < h->count ? h->h[i].name : NULL;
}

const char *aoai_header_value(const struct aoai_headers *h, size_t i)
{
	return h && i < h->count ? h->h[i].value : NULL;
}

int aoai_header_action(const struct aoai_headers *h, size_t i)
{
	return h && i < h->count ? h->h[i].action : -1;
}

const char *aoai_headers_profile(const struct aoai_headers *h)
{
	return h ? h->profile : NULL;
}
