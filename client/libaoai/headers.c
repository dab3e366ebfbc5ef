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

struct aoai_headers {
	char *profile;
	size_t count;
	struct header h[];
};

struct aoai_headers *aoai_headers_free(struct aoai_headers *h)
{
	size_t i;

	if (!h)
		return NULL;
	for (i = 0; i < h->count; i++) {
		wipe_str_free(h->h[i].name);
		wipe_str_free(h->h[i].value);
	}
	free(h->profile);
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

static char *copy_field(const struct reply_field *f)
{
	char *s = malloc(f->len + 1);

	if (s)
		memcpy(s, f->s, f->len + 1);
	return s;
}

static int header_copy(struct aoai_conn *conn, const struct reply_header *item, struct header *h)
{
	const struct reply_field *action = &item->exists_action;

	if (action->type != REPLY_ABSENT && action->type != REPLY_STRING)
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "bad exists_action in reply");
	h->action = action_from_name(action->type == REPLY_STRING ? action->s : NULL);
	if (h->action < 0)
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "unknown exists_action in reply");
	if (!header_string_valid(&item->name, true) || !header_string_valid(&item->value, false))
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "bad header in reply");
	h->name = copy_field(&item->name);
	h->value = copy_field(&item->value);
	if (!h->name || !h->value)
		return conn_fail(conn, AOAI_E_NOMEM, "", "out of memory");
	return 0;
}

static int headers_from_reply(struct aoai_conn *conn, const struct headers_reply *reply,
			      struct aoai_headers **ret_headers)
{
	struct aoai_headers *h;
	size_t i, n = reply->nheaders;
	int r = 0;

	if (reply->headers.type != REPLY_ARRAY || reply->profile.type != REPLY_STRING)
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "\"headers\" reply without headers");
	if (n > HEADERS_MAX)
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "too many headers in reply");
	h = calloc(1, sizeof(*h) + n * sizeof(h->h[0]));
	if (!h)
		return conn_fail(conn, AOAI_E_NOMEM, "", "out of memory");
	h->profile = copy_field(&reply->profile);
	for (i = 0; i < n && r == 0; i++, h->count++)
		r = header_copy(conn, &reply->h[i], &h->h[i]);
	if (r == 0 && !h->profile)
		r = conn_fail(conn, AOAI_E_NOMEM, "", "out of memory");
	if (r < 0) {
		aoai_headers_free(h);
		return r;
	}
	*ret_headers = h;
	return 0;
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
