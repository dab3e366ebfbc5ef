/* SPDX-License-Identifier: MIT */
/*
 * The frame reader (protocol/json.c) against jansson's: for any input
 * within the nesting limit both accept or both refuse, and what they accept
 * is equal.  What is accepted also survives the frame writer
 * (protocol/encode.c): encoded, then read back, it is the same value.
 */
#include "fuzz.h"
#include "proto.h"

static void check_round_trip(json_t *v)
{
	uint8_t *frame = NULL;
	size_t len = 0;
	json_t *back;

	if (!json_is_object(v) || proto_encode(v, &frame, &len) < 0)
		return; /* only objects are framed; a frame may outgrow PROTO_MAX_FRAME */
	back = proto_json_parse(frame + PROTO_HEADER_LEN, len - PROTO_HEADER_LEN, NULL, NULL);
	FUZZ_CHECK(back);
	if (!json_object_get(v, "v"))
		FUZZ_CHECK(json_object_del(back, "v") == 0);
	FUZZ_CHECK(json_equal(v, back));
	json_decref(back);
	proto_buf_free(frame, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum proto_json_error err = PROTO_JSON_NOMEM;
	size_t pos = size + 1;
	json_t *ours = proto_json_parse(data, size, &err, &pos);
	json_t *theirs;

	FUZZ_CHECK(pos <= size);
	FUZZ_CHECK((ours != NULL) == (err == PROTO_JSON_OK));
	FUZZ_CHECK(strcmp(proto_json_error_what(err), "") != 0);
	if (err != PROTO_JSON_DEPTH) {
		theirs = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
		/* jansson 2.14 skips a NUL byte right after a number or literal
		 * ("[1\0]"); RFC 8259 does not allow it, and neither do we. */
		FUZZ_CHECK((ours != NULL) == (theirs != NULL) ||
			   (!ours && memchr(data, '\0', size)));
		FUZZ_CHECK(!ours || json_equal(ours, theirs));
		json_decref(theirs);
	}
	if (ours)
		check_round_trip(ours);
	json_decref(ours);
	return 0;
}
