/* SPDX-License-Identifier: MIT */
/*
 * The agent's reply to "headers" (PROTOCOL.md), checked strictly: v 1, ok,
 * and for a success every header with a token name, a value without
 * control characters (a CR or LF would start a header of the agent's
 * choosing) and a known exists_action.  Fields the hook does not know are
 * skipped, as the protocol's compatibility rules ask; a field given twice
 * makes the reply ambiguous and is refused.
 */
#include <errno.h>
#include <string.h>

#include "hook.h"
#include "json_mini.h"

/* Marks @bit in *seen; a key seen twice makes the reply ambiguous. */
static int seen_once(unsigned *seen, unsigned bit)
{
	if (*seen & bit)
		return -EBADMSG;
	*seen |= bit;
	return 0;
}

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

enum { H_NAME = 1, H_VALUE = 2, H_ACTION = 4 };

struct header_ctx {
	struct agent_header *h;
	unsigned seen;
};

static int header_member(struct json_mini_parser *ps, const char *key, void *ctx)
{
	struct header_ctx *hc = ctx;
	char *s;
	size_t len;

	if (strcmp(key, "name") == 0) {
		if (seen_once(&hc->seen, H_NAME) < 0 || json_mini_string(ps, &s, &len) < 0 ||
		    !header_name_valid(s, len))
			return -EBADMSG;
		hc->h->name = s;
	} else if (strcmp(key, "value") == 0) {
		if (seen_once(&hc->seen, H_VALUE) < 0 || json_mini_string(ps, &s, &len) < 0 ||
		    !header_value_valid(s, len))
			return -EBADMSG;
		hc->h->value = s;
		hc->h->value_len = len;
	} else if (strcmp(key, "exists_action") == 0) {
		if (seen_once(&hc->seen, H_ACTION) < 0 || json_mini_string(ps, &s, &len) < 0 ||
		    parse_action(s, &hc->h->action) < 0)
			return -EBADMSG;
	} else {
		return json_mini_skip(ps, 2);
	}
	return 0;
}

static int header_element(struct json_mini_parser *ps, void *ctx)
{
	struct agent_reply *r = ctx;
	struct header_ctx hc;

	if (r->nheaders >= HOOK_MAX_HEADERS)
		return -EBADMSG;
	hc.h = &r->headers[r->nheaders];
	hc.seen = 0;
	/* PROTOCOL.md: every header object carries all three fields. */
	if (json_mini_object(ps, header_member, &hc) < 0 ||
	    hc.seen != (H_NAME | H_VALUE | H_ACTION))
		return -EBADMSG;
	r->nheaders++;
	return 0;
}

enum { R_V = 1, R_OK = 2, R_ERROR = 4, R_MESSAGE = 8, R_HEADERS = 16 };

struct reply_ctx {
	struct agent_reply *r;
	unsigned seen;
};

/* "message" is a string, or null where a reply has none. */
static int parse_message(struct json_mini_parser *ps, const char **ret)
{
	char *s;
	size_t len;

	if (json_mini_peek(ps) == 'n') {
		*ret = NULL;
		return json_mini_literal(ps, "null");
	}
	if (json_mini_string(ps, &s, &len) < 0)
		return -EBADMSG;
	*ret = s;
	return 0;
}

static int reply_member(struct json_mini_parser *ps, const char *key, void *ctx)
{
	struct reply_ctx *rc = ctx;
	char *s;
	size_t len;
	bool one;

	if (strcmp(key, "v") == 0) {
		if (seen_once(&rc->seen, R_V) < 0 || json_mini_number(ps, &one) < 0 || !one)
			return -EBADMSG;
	} else if (strcmp(key, "ok") == 0) {
		if (seen_once(&rc->seen, R_OK) < 0 || json_mini_bool(ps, &rc->r->ok) < 0)
			return -EBADMSG;
	} else if (strcmp(key, "error") == 0) {
		if (seen_once(&rc->seen, R_ERROR) < 0 || json_mini_string(ps, &s, &len) < 0)
			return -EBADMSG;
		rc->r->error = s;
	} else if (strcmp(key, "message") == 0) {
		if (seen_once(&rc->seen, R_MESSAGE) < 0 || parse_message(ps, &rc->r->message) < 0)
			return -EBADMSG;
	} else if (strcmp(key, "headers") == 0) {
		if (seen_once(&rc->seen, R_HEADERS) < 0 ||
		    json_mini_array(ps, header_element, rc->r) < 0)
			return -EBADMSG;
	} else {
		return json_mini_skip(ps, 1);
	}
	return 0;
}

int agent_reply_parse(char *buf, size_t len, struct agent_reply *ret)
{
	struct json_mini_parser ps = { .p = buf, .end = buf + len };
	struct agent_reply r = { 0 };
	struct reply_ctx rc = { .r = &r };

	if (json_mini_object(&ps, reply_member, &rc) < 0 || json_mini_peek(&ps) != -1)
		return -EBADMSG;
	if (!(rc.seen & R_V) || !(rc.seen & R_OK))
		return -EBADMSG;
	if (r.ok ? !(rc.seen & R_HEADERS) : !(rc.seen & R_ERROR))
		return -EBADMSG;
	*ret = r;
	return 0;
}
