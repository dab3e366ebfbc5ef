/* SPDX-License-Identifier: MIT */
/*
 * Reply skeletons.  Handlers add their result fields to proto_ok_reply();
 * proto_encode() adds "v".
 */
#include "proto.h"

/* PROTOCOL.md, "Compatibility": unsupported_version lists what we speak. */
static json_t *add_versions(json_t *reply)
{
	if (!reply)
		return NULL;
	/* json_object_set_new() takes the array, also when it fails. */
	if (json_object_set_new(reply, "versions", json_pack("[i]", PROTO_VERSION)) == 0)
		return reply;
	json_decref(reply);
	return NULL;
}

json_t *proto_error_reply(enum proto_status status, const char *message)
{
	json_t *text, *reply;

	/* An error reply always carries an error code, never "ok". */
	if (status == PROTO_OK || (unsigned)status >= _PROTO_STATUS_MAX)
		status = PROTO_E_INTERNAL;
	text = json_string(message ? message : proto_strerror(status));
	/* json_string() refuses invalid UTF-8: a reply still beats none. */
	if (!text)
		text = json_string(proto_strerror(status));
	if (!text)
		return NULL;
	/* "o" steals @text, also when json_pack() fails. */
	reply = json_pack("{s:b,s:s,s:o}", "ok", 0, "error", proto_status_name(status), "message",
			  text);
	if (status == PROTO_E_UNSUPPORTED_VERSION)
		reply = add_versions(reply);
	return reply;
}

json_t *proto_ok_reply(void)
{
	return json_pack("{s:b}", "ok", 1);
}
