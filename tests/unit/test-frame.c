/* SPDX-License-Identifier: MIT */
/* Frame header encoding/decoding and splitting frames off a byte stream. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"

static void test_header_round_trip(void **state)
{
	static const size_t lens[] = {
		1, 2, 255, 256, 65535, 65536, PROTO_MAX_FRAME - 1, PROTO_MAX_FRAME
	};
	uint8_t hdr[PROTO_HEADER_LEN];
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		assert_int_equal(proto_frame_header(lens[i], hdr), 0);
		len = 0;
		assert_int_equal(proto_frame_length(hdr, &len), 0);
		assert_int_equal(len, lens[i]);
	}
}

static void test_header_big_endian(void **state)
{
	uint8_t hdr[PROTO_HEADER_LEN];

	(void)state;
	assert_int_equal(proto_frame_header(0x00030201, hdr), 0);
	assert_int_equal(hdr[0], 0x00);
	assert_int_equal(hdr[1], 0x03);
	assert_int_equal(hdr[2], 0x02);
	assert_int_equal(hdr[3], 0x01);
}

static void test_header_bad_lengths(void **state)
{
	uint8_t hdr[PROTO_HEADER_LEN] = { 0xaa, 0xbb, 0xcc, 0xdd };

	(void)state;
	assert_int_equal(proto_frame_header(0, hdr), -EMSGSIZE);
	assert_int_equal(proto_frame_header(PROTO_MAX_FRAME + 1, hdr), -EMSGSIZE);
	assert_int_equal(proto_frame_header(SIZE_MAX, hdr), -EMSGSIZE);
	/* Untouched on failure. */
	assert_int_equal(hdr[0], 0xaa);
	assert_int_equal(hdr[3], 0xdd);
}

static void test_length_bounds(void **state)
{
	const uint8_t zero[PROTO_HEADER_LEN] = { 0, 0, 0, 0 };
	const uint8_t one[PROTO_HEADER_LEN] = { 0, 0, 0, 1 };
	const uint8_t max[PROTO_HEADER_LEN] = { 0, 0x04, 0, 0 };  /* 262144 */
	const uint8_t max1[PROTO_HEADER_LEN] = { 0, 0x04, 0, 1 }; /* 262145 */
	const uint8_t huge[PROTO_HEADER_LEN] = { 0xff, 0xff, 0xff, 0xff };
	const uint8_t high[PROTO_HEADER_LEN] = { 0x80, 0, 0, 1 };
	size_t len;

	(void)state;
	assert_int_equal(PROTO_MAX_FRAME, 262144);
	len = 42;
	assert_int_equal(proto_frame_length(zero, &len), -EMSGSIZE);
	assert_int_equal(len, 42);
	assert_int_equal(proto_frame_length(max1, &len), -EMSGSIZE);
	assert_int_equal(proto_frame_length(huge, &len), -EMSGSIZE);
	assert_int_equal(proto_frame_length(high, &len), -EMSGSIZE);
	assert_int_equal(len, 42);
	assert_int_equal(proto_frame_length(one, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(proto_frame_length(max, &len), 0);
	assert_int_equal(len, PROTO_MAX_FRAME);
}

/* Writes a frame with @payload into @buf; returns its total size. */
static size_t put_frame(uint8_t *buf, const char *payload)
{
	size_t len = strlen(payload);

	assert_int_equal(proto_frame_header(len, buf), 0);
	memcpy(buf + PROTO_HEADER_LEN, payload, len);
	return PROTO_HEADER_LEN + len;
}

static void test_split_partial_header(void **state)
{
	const uint8_t *payload = NULL;
	size_t plen = 7, consumed = 9, n;
	uint8_t buf[64];

	(void)state;
	put_frame(buf, "{}");
	for (n = 0; n < PROTO_HEADER_LEN; n++) {
		assert_int_equal(proto_frame_split(buf, n, &payload, &plen, &consumed), 0);
		assert_null(payload);
		assert_int_equal(plen, 7);
		assert_int_equal(consumed, 9);
	}
}

static void test_split_partial_payload(void **state)
{
	const uint8_t *payload = NULL;
	size_t plen = 7, consumed = 9, total, n;
	uint8_t buf[64];

	(void)state;
	total = put_frame(buf, "{\"v\":1}");
	for (n = PROTO_HEADER_LEN; n < total; n++) {
		assert_int_equal(proto_frame_split(buf, n, &payload, &plen, &consumed), 0);
		assert_null(payload);
		assert_int_equal(consumed, 9);
	}
}

static void test_split_one_frame(void **state)
{
	const uint8_t *payload = NULL;
	size_t plen = 0, consumed = 0, total;
	uint8_t buf[64];

	(void)state;
	total = put_frame(buf, "{\"v\":1}");
	assert_int_equal(proto_frame_split(buf, total, &payload, &plen, &consumed), 1);
	assert_ptr_equal(payload, buf + PROTO_HEADER_LEN);
	assert_int_equal(plen, 7);
	assert_int_equal(consumed, total);
	assert_memory_equal(payload, "{\"v\":1}", 7);
}

static void test_split_two_frames(void **state)
{
	const uint8_t *payload = NULL;
	size_t plen = 0, consumed = 0, first, total;
	uint8_t buf[64];

	(void)state;
	first = put_frame(buf, "{\"a\":1}");
	total = first + put_frame(buf + first, "{}");
	/* A third frame's partial header trails the two. */
	buf[total] = 0;
	total++;

	assert_int_equal(proto_frame_split(buf, total, &payload, &plen, &consumed), 1);
	assert_int_equal(consumed, first);
	assert_int_equal(plen, 7);
	assert_memory_equal(payload, "{\"a\":1}", 7);

	assert_int_equal(proto_frame_split(buf + first, total - first, &payload, &plen, &consumed),
			 1);
	assert_int_equal(plen, 2);
	assert_memory_equal(payload, "{}", 2);
	assert_int_equal(consumed, PROTO_HEADER_LEN + 2);

	assert_int_equal(proto_frame_split(buf + first + consumed, 1, &payload, &plen, &consumed),
			 0);
}

static void test_split_bad_length(void **state)
{
	const uint8_t zero[] = { 0, 0, 0, 0, '{', '}' };
	const uint8_t big[] = { 0, 0x04, 0, 1, '{' };
	const uint8_t *payload = NULL;
	size_t plen = 7, consumed = 9;

	(void)state;
	/* Checked as soon as the header is complete, before any payload arrives. */
	assert_int_equal(proto_frame_split(zero, PROTO_HEADER_LEN, &payload, &plen, &consumed),
			 -EMSGSIZE);
	assert_int_equal(proto_frame_split(zero, sizeof(zero), &payload, &plen, &consumed),
			 -EMSGSIZE);
	assert_int_equal(proto_frame_split(big, sizeof(big), &payload, &plen, &consumed),
			 -EMSGSIZE);
	assert_null(payload);
	assert_int_equal(plen, 7);
	assert_int_equal(consumed, 9);
}

static void test_split_max_frame_waits(void **state)
{
	const uint8_t max[] = { 0, 0x04, 0, 0, '{' };
	const uint8_t *payload = NULL;
	size_t plen = 0, consumed = 0;

	(void)state;
	assert_int_equal(proto_frame_split(max, sizeof(max), &payload, &plen, &consumed), 0);
	assert_null(payload);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_round_trip),
		cmocka_unit_test(test_header_big_endian),
		cmocka_unit_test(test_header_bad_lengths),
		cmocka_unit_test(test_length_bounds),
		cmocka_unit_test(test_split_partial_header),
		cmocka_unit_test(test_split_partial_payload),
		cmocka_unit_test(test_split_one_frame),
		cmocka_unit_test(test_split_two_frames),
		cmocka_unit_test(test_split_bad_length),
		cmocka_unit_test(test_split_max_frame_waits),
	};

	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
