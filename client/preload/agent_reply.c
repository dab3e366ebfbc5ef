/* SPDX-License-Identifier: MIT */
/*
 * The agent's reply to "headers" (PROTOCOL.md), checked strictly: v 1, ok,
 * and for a success every header with a token name, a value without
 * control characters (a CR or LF would start a header of the agent's
 * choosing) and a known exists_action.  The reply is read by
 * protocol/headers_reply.c, as libaoai reads it: fields it does not know are
 * skipped, as the protocol's compatibility rules ask; one it knows given
 * twice makes the reply ambiguous and is refused.  The checks are the hook's.
 */
#include <errno.h>
#include <string.h>

#include "headers_reply.h"
#include "hook.h"

/* RFC 9110 token characters. */
static bool header_name_valid(const char *s, size_t len)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	size_t i;

	if (len == 0 || len > HOOK_MAX_HEADER_NAME)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      memchr(extra, c, sizeof(extra) - 1)))
			return false;
	}
	return true;
}

/* No CR, LF or other control characters: a value must not start a new header. */
static bool header_value_valid(const char *s, size_t len)
{
	size_t i;

	if (len > HOOK_MAX_HEADER_VALUE)
		return false;
	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
			return false;
	return true;
}

static int parse_action(const char *s, enum exists_action *ret)
{
	if (strcmp(s, "override") == 0)
		*ret = EXISTS_OVERRIDE;
	else if (strcmp(s, "skip") == 0)
		*ret = EXISTS_SKIP;
	else if (strcmp(s, "append") == 0)
		*ret = EXISTS_APPEND;
	else
		return -EBADMSG;
	return 0;
}

/* PROTOCOL.md: every header object carries all three fields, each a string. */
static int header_take(const struct reply_header *in, struct agent_header *out)
{
	if (!in->object || in->name.type != REPLY_STRING || in->value.type != REPLY_STRING ||
	    in->exists_action.type != REPLY_STRING)
		return -EBADMSG;
	if (!header_name_valid(in->name.s, in->name.len) ||
	    !header_value_valid(in->value.s, in->value.len) ||
	    parse_action(in->exists_action.s, &out->action) < 0)
		return -EBADMSG;
	out->name = in->name.s;
	out->value = in->value.s;
	out->value_len = in->value.len;
	return 0;
}

/* "error" is a string, "message" a string or null where a reply has none. */
static int error_take(const struct headers_reply *in, struct agent_reply *out)
{
	if (in->error.type != REPLY_ABSENT && in->error.type != REPLY_STRING)
		return -EBADMSG;
	if (in->message.type != REPLY_ABSENT && in->message.type != REPLY_STRING &&
	    in->message.type != REPLY_NULL)
		return -EBADMSG;
	out->error = in->error.s;
	out->message = in->message.type == REPLY_STRING ? in->message.s : NULL;
	return 0;
}

int agent_reply_parse(char *buf, size_t len, struct agent_reply *ret)
{
	struct reply_header items[HOOK_MAX_HEADERS];
	struct headers_reply in = { .cap = HOOK_MAX_HEADERS, .h = items };
	struct agent_reply r = { 0 };
	size_t i;

	if (headers_reply_read(buf, len, &in) < 0 || in.v.type != REPLY_ONE)
		return -EBADMSG;
	if (in.ok.type != REPLY_TRUE && in.ok.type != REPLY_FALSE)
		return -EBADMSG;
	r.ok = in.ok.type == REPLY_TRUE;
	/* "headers", an array, is required of a success; "error" of a refusal. */
	if (in.headers.type != REPLY_ARRAY && (r.ok || in.headers.type != REPLY_ABSENT))
		return -EBADMSG;
	if (in.nheaders > HOOK_MAX_HEADERS || error_take(&in, &r) < 0 || (!r.ok && !r.error))
		return -EBADMSG;
	for (i = 0; i < in.nheaders; i++)
		if (header_take(&in.h[i], &r.headers[i]) < 0)
			return -EBADMSG;
	r.nheaders = in.nheaders;
	*ret = r;
	return 0;
}
