/* SPDX-License-Identifier: MIT */
/*
 * Encoding: a JSON object in, one complete frame (header and compact JSON)
 * out.  Frames may carry secrets (an "add" request, a "headers" reply), so
 * every buffer holding one is wiped before it is freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/*
 * A new object with "v" first, then @msg's members (shared, not copied).
 * "v" reads first on the wire as in PROTOCOL.md, and @msg is not modified.
 * A "v" already in @msg wins, which lets tests speak other versions.
 */
static json_t *with_version(json_t *msg)
{
	json_t *out;

	out = json_pack("{s:i}", "v", PROTO_VERSION);
	if (!out)
		return NULL;
	if (json_object_update(out, msg) < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* Dumps @msg behind a frame header.  The size is known before allocating. */
static int frame_dump(const json_t *msg, uint8_t **ret_buf, size_t *ret_len)
{
	size_t len, total;
	uint8_t *buf;

	len = json_dumpb(msg, NULL, 0, JSON_COMPACT);
	if (len == 0)
		return -ENOMEM;
	if (len > PROTO_MAX_FRAME)
		return -EMSGSIZE;
	total = PROTO_HEADER_LEN + len;
	buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	if (json_dumpb(msg, (char *)buf + PROTO_HEADER_LEN, len, JSON_COMPACT) != len ||
	    proto_frame_header(len, buf) < 0) {
		proto_buf_free(buf, total);
		return -ENOMEM;
	}
	*ret_buf = buf;
	*ret_len = total;
	return 0;
}

int proto_encode(json_t *msg, uint8_t **ret_buf, size_t *ret_len)
{
	json_t *out;
	int r;

	if (!json_is_object(msg) || !ret_buf || !ret_len)
		return -EINVAL;
	out = with_version(msg);
	if (!out)
		return -ENOMEM;
	r = frame_dump(out, ret_buf, ret_len);
	json_decref(out);
	return r;
}

void *proto_buf_free(void *buf, size_t len)
{
	if (!buf)
		return NULL;
	explicit_bzero(buf, len);
	free(buf);
	return NULL;
}
