/* SPDX-License-Identifier: MIT */
/*
 * protocol/json_mini.c against jansson, on random strings made of the bytes
 * its word-at-a-time scanning must stop at or step over (quotes,
 * backslashes, escapes, control characters, UTF-8 lead and continuation
 * bytes, invalid bytes) at every position relative to an 8-byte word: both
 * must accept the same strings and decode them alike.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "json_mini.h"

#define ROUNDS  200000
#define MAX_LEN 40

static const unsigned char alphabet[] = {
	'a',  'Z',  ' ',  '"',  '\\', 'u',  'n',  '/',  '0',  'd',  '8',  'c',  'e',  0x01, 0x1f,
	0x7f, 0x80, 0xbf, 0xc2, 0xc3, 0xa9, 0xe2, 0xed, 0xa0, 0xf0, 0x9f, 0xf4, 0x90, 0xff,
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

/* Mostly plain letters, so that runs span words, with the odd special byte. */
static size_t random_bytes(unsigned char *buf)
{
	size_t len = rng() % (MAX_LEN + 1), i;

	for (i = 0; i < len; i++)
		buf[i] = rng() % 3 ? 'a' + rng() % 26 : alphabet[rng() % sizeof(alphabet)];
	return len;
}

/* "@body" (quotes added) through json_mini_string() and through jansson. */
static void compare_string(const unsigned char *body, size_t len)
{
	char text[MAX_LEN + 8], mini[MAX_LEN + 8];
	struct json_mini_parser ps = { .p = mini, .end = mini + len + 3 };
	json_t *doc;
	size_t got_len;
	char *got;
	int r;

	text[0] = '[';
	text[1] = '"';
	memcpy(text + 2, body, len);
	memcpy(text + 2 + len, "\"]", 2);
	memcpy(mini, text + 1, len + 2);
	mini[len + 2] = '}'; /* something after the string, as in a reply */
	doc = json_loadb(text, len + 4, 0, NULL);
	r = json_mini_string(&ps, &got, &got_len);
	/* An unescaped quote in @body ends the string early: jansson finds trailing bytes. */
	assert_int_equal(r == 0 && ps.p == mini + len + 2, doc != NULL);
	if (doc) {
		json_t *s = json_array_get(doc, 0);

		assert_int_equal(got_len, json_string_length(s));
		assert_memory_equal(got, json_string_value(s), got_len);
		assert_int_equal(got[got_len], '\0');
	}
	json_decref(doc);
}

static void test_string_matches_jansson(void **state)
{
	unsigned char body[MAX_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < ROUNDS; i++)
		compare_string(body, random_bytes(body));
}

static void test_utf8_matches_jansson(void **state)
{
	unsigned char body[MAX_LEN];
	json_t *s;
	size_t i, len;

	(void)state;
	for (i = 0; i < ROUNDS; i++) {
		len = random_bytes(body);
		s = json_stringn((const char *)body, len);
		assert_int_equal(json_mini_utf8_valid(body, len), s != NULL);
		json_decref(s);
	}
}

/* The request carries the URL exactly, whatever it holds. */
static void test_request_round_trip(void **state)
{
	unsigned char url[MAX_LEN + 1];
	size_t i, len, req_len;
	json_t *doc;
	char *req;
	int r;

	(void)state;
	for (i = 0; i < ROUNDS; i++) {
		len = random_bytes(url);
		url[len] = '\0';
		if (memchr(url, '\0', len))
			continue;
		r = json_mini_headers_request((const char *)url, &req, &req_len);
		if (!json_mini_utf8_valid(url, len)) {
			assert_int_equal(r, -EINVAL);
			continue;
		}
		assert_int_equal(r, 0);
		doc = json_loadb(req, req_len, JSON_REJECT_DUPLICATES, NULL);
		assert_non_null(doc);
		assert_string_equal(json_string_value(json_object_get(doc, "url")), (char *)url);
		assert_string_equal(json_string_value(json_object_get(doc, "op")), "headers");
		assert_int_equal(json_integer_value(json_object_get(doc, "v")), 1);
		json_decref(doc);
		free(req);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_string_matches_jansson),
		cmocka_unit_test(test_utf8_matches_jansson),
		cmocka_unit_test(test_request_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
