/* SPDX-License-Identifier: MIT */
/*
 * Framing (protocol/frame.c) on arbitrary bytes from a peer: the input is
 * what arrived on a connection.  Frames are split off the front the way
 * agent/server/conn.c's process_input() does, each payload is decoded as the
 * agent's handle_frame() would, and every split is checked against the
 * header it came from and against partial arrival.
 */
#include <errno.h>

#include "fuzz.h"
#include "proto.h"

/* The agent's reply to a bad frame is fixed; a short buffer exercises truncation. */
#define FRAME_ERR_LEN 64

/* Every proper prefix of a whole frame must ask for more bytes, never split. */
static void check_prefixes(const uint8_t *buf, size_t consumed)
{
	const uint8_t *payload;
	size_t plen, used;

	FUZZ_CHECK(proto_frame_split(buf, 0, &payload, &plen, &used) == 0);
	FUZZ_CHECK(proto_frame_split(buf, PROTO_HEADER_LEN - 1, &payload, &plen, &used) == 0);
	FUZZ_CHECK(proto_frame_split(buf, PROTO_HEADER_LEN, &payload, &plen, &used) == 0);
	FUZZ_CHECK(proto_frame_split(buf, consumed - 1, &payload, &plen, &used) == 0);
}

static void check_frame(const uint8_t *buf, size_t avail, const uint8_t *payload, size_t plen,
			size_t used)
{
	uint8_t header[PROTO_HEADER_LEN];
	size_t declared;

	FUZZ_CHECK(proto_frame_length(buf, &declared) == 0);
	FUZZ_CHECK(declared == plen && plen >= 1 && plen <= PROTO_MAX_FRAME);
	FUZZ_CHECK(payload == buf + PROTO_HEADER_LEN);
	FUZZ_CHECK(used == PROTO_HEADER_LEN + plen && used <= avail);
	FUZZ_CHECK(proto_frame_header(plen, header) == 0);
	FUZZ_CHECK(memcmp(header, buf, PROTO_HEADER_LEN) == 0);
	check_prefixes(buf, used);
}

/* What handle_frame() does with a payload: decode, then release. */
static void decode_payload(const uint8_t *payload, size_t plen)
{
	struct proto_request req;
	char err[FRAME_ERR_LEN];
	enum proto_status st;

	st = proto_request_decode(payload, plen, &req, err, sizeof(err));
	FUZZ_CHECK((unsigned)st < _PROTO_STATUS_MAX);
	FUZZ_CHECK(fuzz_message_ok(err, sizeof(err)));
	proto_request_done(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *payload;
	size_t off = 0, plen, used, len;
	int r;

	/* Each round consumes at least one header and one byte: bounded by @size. */
	while (off < size) {
		r = proto_frame_split(data + off, size - off, &payload, &plen, &used);
		if (r == 0) {
			FUZZ_CHECK(size - off < PROTO_HEADER_LEN ||
				   proto_frame_length(data + off, &len) == 0);
			break;
		}
		if (r < 0) {
			/* The agent drops the peer: the declared length must be out of range. */
			FUZZ_CHECK(r == -EMSGSIZE);
			FUZZ_CHECK(proto_frame_length(data + off, &len) == -EMSGSIZE);
			break;
		}
		FUZZ_CHECK(r == 1);
		check_frame(data + off, size - off, payload, plen, used);
		decode_payload(payload, plen);
		off += used;
	}
	FUZZ_CHECK(off <= size);
	return 0;
}
