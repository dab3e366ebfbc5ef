/* SPDX-License-Identifier: MIT */
/*
 * One request, one checked reply: the step every operation shares, and the
 * generic aoai_request() for operations without a wrapper of their own.
 */
#include <string.h>

#include "aoai.h"
#include "aoai_conn.h"
#include "headers_reply.h"
#include "proto.h"

/*
 * An error reply (@code NULL when "error" is no string, @message NULL when
 * "message" is none): keep its code and message, return its AOAI_E_* value.
 */
static int reply_error(struct aoai_conn *conn, const char *code, const char *message)
{
	if (!code)
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "error reply without an error code");
	return conn_fail(conn, errors_from_code(code), code, "%s", message ? message : "");
}

static int reply_unknown_version(struct aoai_conn *conn)
{
	return conn_fail(conn, AOAI_E_PROTOCOL, "", "reply of an unknown protocol version");
}

static int reply_without_ok(struct aoai_conn *conn)
{
	return conn_fail(conn, AOAI_E_PROTOCOL, "", "reply without \"ok\"");
}

static int reply_check(struct aoai_conn *conn, const json_t *reply)
{
	const json_t *v, *ok;

	v = json_object_get(reply, "v");
	ok = json_object_get(reply, "ok");
	if (!json_is_integer(v) || json_integer_value(v) != PROTO_VERSION)
		return reply_unknown_version(conn);
	if (!json_is_boolean(ok))
		return reply_without_ok(conn);
	if (!json_is_true(ok))
		return reply_error(conn, json_string_value(json_object_get(reply, "error")),
				   json_string_value(json_object_get(reply, "message")));
	return 0;
}

static const char *field_string(const struct reply_field *f)
{
	return f->type == REPLY_STRING ? f->s : NULL;
}

int reply_check_fields(struct aoai_conn *conn, const struct headers_reply *reply)
{
	_Static_assert(PROTO_VERSION == 1, "REPLY_ONE stands for PROTO_VERSION");
	if (reply->v.type != REPLY_ONE)
		return reply_unknown_version(conn);
	if (reply->ok.type != REPLY_TRUE && reply->ok.type != REPLY_FALSE)
		return reply_without_ok(conn);
	if (reply->ok.type == REPLY_FALSE)
		return reply_error(conn, field_string(&reply->error),
				   field_string(&reply->message));
	return 0;
}

int request_run(struct aoai_conn *conn, json_t *request, json_t **ret_reply)
{
	json_t *reply = NULL;
	int r;

	conn_clear_error(conn);
	r = conn_roundtrip(conn, request, &reply);
	/* Done with the request: whatever it carried goes now. */
	wipe_json(request);
	if (r < 0)
		return r;
	r = reply_check(conn, reply);
	if (r < 0 || !ret_reply) {
		wipe_json_decref(reply);
		return r;
	}
	*ret_reply = reply;
	return 0;
}

int aoai_request(struct aoai_conn *conn, const char *request_json, char **ret_json)
{
	json_t *request, *reply = NULL;
	int r;

	if (!conn || !request_json || !ret_json)
		return AOAI_E_INVALID;
	conn_clear_error(conn);
	request = json_loads(request_json, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(request)) {
		wipe_json_decref(request);
		return conn_fail(conn, AOAI_E_INVALID, "", "the request is not a JSON object");
	}
	r = request_run(conn, request, &reply);
	json_decref(request);
	if (r < 0)
		return r;
	r = wipe_json_dump(reply, ret_json, NULL);
	/* The reply may be anything, a credential included. */
	wipe_json_decref(reply);
	return r;
}
