/* SPDX-License-Identifier: MIT */
/*
 * The "headers" request read without a value tree: the one request on the
 * hot path, where building and freeing jansson values was most of the
 * decoding cost.  Only the form clients send is read here,
 * {"v":1,"op":"headers","url":"…"} with its members in any order and each
 * once; anything else — another operation or member, a member twice, a
 * version written other than as 1, a payload longer than clients send —
 * is left to proto_request_decode(), which accepts every request read here
 * with the same URL (tests/fuzz/fuzz-request.c checks it) and has the
 * error messages.
 */
#include <string.h>

#include "json_mini.h"
#include "proto.h"

enum {
	SEEN_V = 1 << 0,
	SEEN_OP = 1 << 1,
	SEEN_URL = 1 << 2,
	SEEN_ALL = SEEN_V | SEEN_OP | SEEN_URL,
};

struct headers_read {
	unsigned seen;
	char *url;
	size_t url_len;
};

static int once(struct headers_read *hr, unsigned bit)
{
	if (hr->seen & bit)
		return -1;
	hr->seen |= bit;
	return 0;
}

static int member(struct json_mini_parser *ps, const char *key, void *ctx)
{
	struct headers_read *hr = ctx;
	char *s;
	size_t len;
	bool one;

	if (strcmp(key, "v") == 0)
		return once(hr, SEEN_V) < 0 || json_mini_number(ps, &one) < 0 || !one ? -1 : 0;
	if (strcmp(key, "op") == 0)
		return once(hr, SEEN_OP) < 0 || json_mini_string(ps, &s, &len) < 0 ||
			       strcmp(s, "headers") != 0
			   ? -1
			   : 0;
	if (strcmp(key, "url") == 0) {
		if (once(hr, SEEN_URL) < 0 || json_mini_string(ps, &hr->url, &hr->url_len) < 0)
			return -1;
		return hr->url_len >= 1 && hr->url_len <= PROTO_MAX_URL ? 0 : -1;
	}
	return -1;
}

bool proto_headers_request_read(const uint8_t *payload, size_t len, char *url, size_t url_size)
{
	char buf[PROTO_HEADERS_READ_MAX];
	struct json_mini_parser ps = { .p = buf, .end = buf };
	struct headers_read hr = { .seen = 0 };
	bool ok;

	if (len == 0 || len > sizeof(buf))
		return false;
	ps.end = buf + len;
	/* Read in place in a copy: strings are decoded where they are, and
	 * the payload stays intact for proto_request_decode(). */
	memcpy(buf, payload, len);
	ok = json_mini_object(&ps, member, &hr) == 0 && json_mini_peek(&ps) == -1 &&
	     hr.seen == SEEN_ALL && hr.url_len < url_size;
	if (ok)
		memcpy(url, hr.url, hr.url_len + 1);
	/* The URL may carry credentials. */
	explicit_bzero(buf, len);
	return ok;
}
