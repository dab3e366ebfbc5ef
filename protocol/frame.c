/* SPDX-License-Identifier: MIT */
/*
 * Framing: a 4-byte big-endian length, then that many bytes of payload.
 * The length is validated before anything else looks at the payload, so no
 * caller ever sizes a buffer from an unchecked peer value.
 */
#include <errno.h>

#include "proto.h"

static bool frame_len_valid(size_t len)
{
	return len >= 1 && len <= PROTO_MAX_FRAME;
}

int proto_frame_length(const uint8_t buf[PROTO_HEADER_LEN], size_t *ret_len)
{
	uint32_t len;

	len = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 |
	      (uint32_t)buf[3];
	if (!frame_len_valid(len))
		return -EMSGSIZE;
	*ret_len = len;
	return 0;
}

int proto_frame_header(size_t len, uint8_t ret_buf[PROTO_HEADER_LEN])
{
	/* 0 is refused as well: the peer would treat it as a protocol violation. */
	if (!frame_len_valid(len))
		return -EMSGSIZE;
	ret_buf[0] = (uint8_t)(len >> 24);
	ret_buf[1] = (uint8_t)(len >> 16);
	ret_buf[2] = (uint8_t)(len >> 8);
	ret_buf[3] = (uint8_t)len;
	return 0;
}

int proto_frame_split(const uint8_t *buf, size_t len, const uint8_t **ret_payload,
		      size_t *ret_payload_len, size_t *ret_consumed)
{
	size_t payload_len;
	int r;

	if (len < PROTO_HEADER_LEN)
		return 0;
	r = proto_frame_length(buf, &payload_len);
	if (r < 0)
		return r;
	if (len - PROTO_HEADER_LEN < payload_len)
		return 0;
	*ret_payload = buf + PROTO_HEADER_LEN;
	*ret_payload_len = payload_len;
	*ret_consumed = PROTO_HEADER_LEN + payload_len;
	return 1;
}
