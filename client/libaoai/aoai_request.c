/* SPDX-License-Identifier: MIT */
/*
 * One request, one checked reply: the step every operation shares, and the
 * generic aoai_request() for operations without a wrapper of their own.
 */
#include <string.h>

#include "aoai.h"
#include "aoai_conn.h"
#include "proto.h"

/* An error reply: keep its code and message, return its AOAI_E_* value. */
static int reply_error(struct aoai_conn *conn, const json_t *reply)
{
	const char *code, *message;

	code = json_string_value(json_object_get(reply, "error"));
	message = json_string_value(json_object_get(reply, "message"));
	if (!code)
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "error reply without an error code");
	return conn_fail(conn, errors_from_code(code), code, "%s", message ? message : "");
}

static int reply_check(struct aoai_conn *conn, const json_t *reply)
{
	const json_t *v, *ok;

	v = json_object_get(reply, "v");
	ok = json_object_get(reply, "ok");
	if (!json_is_integer(v) || json_integer_value(v) != PROTO_VERSION)
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "reply of an unknown protocol version");
	if (!json_is_boolean(ok))
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "reply without \"ok\"");
	if (!json_is_true(ok))
		return reply_error(conn, reply);
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
