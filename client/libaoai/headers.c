/* SPDX-License-Identifier: MIT */
/*
 * "headers": the credentials for one request.  The values are copied out of
 * the reply into memory libaoai owns and aoai_headers_free() wipes; the
 * reply itself is wiped as soon as it has been copied.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aoai.h"
#include "aoai_conn.h"
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
static bool header_string_valid(const json_t *s, bool name)
{
	const char *v = json_string_value(s);
	size_t len = json_string_length(s);

	if (!v || strlen(v) != len || strpbrk(v, "\r\n"))
		return false;
	return !name || (len > 0 && !strpbrk(v, ": \t"));
}

static int header_copy(struct aoai_conn *conn, const json_t *item, struct header *h)
{
	const json_t *action = json_object_get(item, "exists_action");
	const json_t *name = json_object_get(item, "name");
	const json_t *value = json_object_get(item, "value");

	if (action && !json_is_string(action))
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "bad exists_action in reply");
	h->action = action_from_name(json_string_value(action));
	if (h->action < 0)
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "unknown exists_action in reply");
	if (!header_string_valid(name, true) || !header_string_valid(value, false))
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "bad header in reply");
	h->name = strdup(json_string_value(name));
	h->value = strdup(json_string_value(value));
	if (!h->name || !h->value)
		return conn_fail(conn, AOAI_E_NOMEM, "", "out of memory");
	return 0;
}

static int headers_from_reply(struct aoai_conn *conn, const json_t *reply,
			      struct aoai_headers **ret_headers)
{
	const json_t *list = json_object_get(reply, "headers");
	const char *profile = json_string_value(json_object_get(reply, "profile"));
	struct aoai_headers *h;
	size_t i, n;
	int r = 0;

	if (!json_is_array(list) || !profile)
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "\"headers\" reply without headers");
	n = json_array_size(list);
	if (n > HEADERS_MAX)
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "too many headers in reply");
	h = calloc(1, sizeof(*h) + n * sizeof(h->h[0]));
	if (!h)
		return conn_fail(conn, AOAI_E_NOMEM, "", "out of memory");
	h->profile = strdup(profile);
	for (i = 0; i < n && r == 0; i++, h->count++)
		r = header_copy(conn, json_array_get(list, i), &h->h[i]);
	if (r == 0 && !h->profile)
		r = conn_fail(conn, AOAI_E_NOMEM, "", "out of memory");
	if (r < 0) {
		aoai_headers_free(h);
		return r;
	}
	*ret_headers = h;
	return 0;
}

int aoai_get_headers(struct aoai_conn *conn, const char *url, struct aoai_headers **ret_headers)
{
	json_t *request, *reply = NULL;
	int r;

	if (!conn || !url || !ret_headers)
		return AOAI_E_INVALID;
	conn_clear_error(conn);
	if (strlen(url) == 0 || strlen(url) > PROTO_MAX_URL)
		return conn_fail(conn, AOAI_E_INVALID, "", "URL length out of range");
	request = json_pack("{s:s,s:s}", "op", "headers", "url", url);
	if (!request)
		return conn_fail(conn, AOAI_E_INVALID, "", "URL is not valid UTF-8");
	r = request_run(conn, request, &reply);
	json_decref(request);
	if (r < 0)
		return r;
	r = headers_from_reply(conn, reply, ret_headers);
	wipe_json_decref(reply);
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
