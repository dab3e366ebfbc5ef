/* SPDX-License-Identifier: MIT */
/* The frame reader: accepts what jansson accepts, builds the same values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"

struct json_case {
	const char *text;
	size_t len; /* 0: strlen(text) */
	enum proto_json_error want;
};

static const struct json_case cases[] = {
	{ "{}", 0, PROTO_JSON_OK },
	{ " \t\r\n[ ] \n", 0, PROTO_JSON_OK },
	{ "{\"v\":1,\"op\":\"headers\",\"url\":\"https://a.example/x?y=1\"}", 0, PROTO_JSON_OK },
	{ "{\"s\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\u20AC \\ud83d\\ude00\"}", 0,
	  PROTO_JSON_OK },
	{ "{\"utf8\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"}", 0,
	  PROTO_JSON_OK },
	{ "[0,-0,1,-1,9223372036854775807,-9223372036854775808,1.5,-0.0,1e3,1E-3,2e+2,1e-400]", 0,
	  PROTO_JSON_OK },
	{ "[true,false,null,{},[],{\"\":\"\"},[[[[1]]]]]", 0, PROTO_JSON_OK },
	{ "{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":1}]}", 0, PROTO_JSON_OK },
	{ "", 0, PROTO_JSON_SYNTAX },
	{ "   ", 0, PROTO_JSON_SYNTAX },
	{ "1", 0, PROTO_JSON_SYNTAX },
	{ "\"s\"", 0, PROTO_JSON_SYNTAX },
	{ "\xef\xbb\xbf{}", 0, PROTO_JSON_SYNTAX },
	{ "{", 0, PROTO_JSON_SYNTAX },
	{ "[1,]", 0, PROTO_JSON_SYNTAX },
	{ "{\"a\":1,}", 0, PROTO_JSON_SYNTAX },
	{ "{\"a\" 1}", 0, PROTO_JSON_SYNTAX },
	{ "{a:1}", 0, PROTO_JSON_SYNTAX },
	{ "['a']", 0, PROTO_JSON_SYNTAX },
	{ "[01]", 0, PROTO_JSON_SYNTAX },
	{ "[1.]", 0, PROTO_JSON_SYNTAX },
	{ "[.5]", 0, PROTO_JSON_SYNTAX },
	{ "[+1]", 0, PROTO_JSON_SYNTAX },
	{ "[1e]", 0, PROTO_JSON_SYNTAX },
	{ "[-]", 0, PROTO_JSON_SYNTAX },
	{ "[tru]", 0, PROTO_JSON_SYNTAX },
	{ "[truex]", 0, PROTO_JSON_SYNTAX },
	{ "[NaN]", 0, PROTO_JSON_SYNTAX },
	{ "[\"a\tb\"]", 0, PROTO_JSON_SYNTAX },
	{ "[\"\\x\"]", 0, PROTO_JSON_SYNTAX },
	{ "[\"\\u12\"]", 0, PROTO_JSON_SYNTAX },
	{ "[\"\\u12G4\"]", 0, PROTO_JSON_SYNTAX },
	{ "[\"\\ud83d\"]", 0, PROTO_JSON_SYNTAX },
	{ "[\"\\ud83d\\u0041\"]", 0, PROTO_JSON_SYNTAX },
	{ "[\"\\ude00\\ud83d\"]", 0, PROTO_JSON_SYNTAX },
	{ "[\"unterminated]", 0, PROTO_JSON_SYNTAX },
	{ "[\"a\0b\"]", 7, PROTO_JSON_SYNTAX },
	{ "[1]\0", 4, PROTO_JSON_TRAILING },
	{ "{} {}", 0, PROTO_JSON_TRAILING },
	{ "[\"\\u0000\"]", 0, PROTO_JSON_NUL },
	{ "{\"a\\u0000\":1}", 0, PROTO_JSON_NUL },
	{ "[\"\xc0\xaf\"]", 0, PROTO_JSON_UTF8 },         /* overlong '/' */
	{ "[\"\xe0\x80\xaf\"]", 0, PROTO_JSON_UTF8 },     /* overlong, 3 bytes */
	{ "[\"\xed\xa0\x80\"]", 0, PROTO_JSON_UTF8 },     /* a surrogate */
	{ "[\"\xf4\x90\x80\x80\"]", 0, PROTO_JSON_UTF8 }, /* above U+10FFFF */
	{ "[\"\xf5\x80\x80\x80\"]", 0, PROTO_JSON_UTF8 },
	{ "[\"\xc3\"]", 0, PROTO_JSON_UTF8 }, /* cut short */
	{ "[\"\x80\"]", 0, PROTO_JSON_UTF8 }, /* a lone continuation byte */
	{ "{\"a\":1,\"a\":2}", 0, PROTO_JSON_DUPLICATE },
	{ "{\"a\":1,\"\\u0061\":2}", 0, PROTO_JSON_DUPLICATE },
	{ "[9223372036854775808]", 0, PROTO_JSON_RANGE },
	{ "[-9223372036854775809]", 0, PROTO_JSON_RANGE },
	{ "[1e400]", 0, PROTO_JSON_RANGE },
	{ "[-1e400]", 0, PROTO_JSON_RANGE },
};

static void matches_jansson(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct json_case *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->text), pos = 0;
		enum proto_json_error err = PROTO_JSON_NOMEM;
		json_t *ours = proto_json_parse((const uint8_t *)c->text, len, &err, &pos);
		json_t *theirs = json_loadb(c->text, len, JSON_REJECT_DUPLICATES, NULL);

		if (err != c->want || pos > len || (ours != NULL) != (theirs != NULL) ||
		    (ours && !json_equal(ours, theirs)))
			fail_msg("case %zu (%s): error %d at %zu, want %d; jansson %s it", i,
				 c->text, err, pos, c->want, theirs ? "accepts" : "refuses");
		json_decref(ours);
		json_decref(theirs);
	}
}

/* jansson 2.14 skips a NUL byte after a number or literal; RFC 8259 does not. */
static void stricter_than_jansson_on_nul(void **state)
{
	static const char *const texts[] = { "[1\0]", "[-90\0]", "[true\0]", "{\"a\":1.5\0}" };
	static const size_t lens[] = { 4, 6, 7, 10 };

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		enum proto_json_error err;
		json_t *theirs = json_loadb(texts[i], lens[i], JSON_REJECT_DUPLICATES, NULL);

		assert_non_null(theirs);
		assert_null(proto_json_parse((const uint8_t *)texts[i], lens[i], &err, NULL));
		assert_int_equal(err, PROTO_JSON_SYNTAX);
		json_decref(theirs);
	}
}

/* What the escapes decode to, byte for byte. */
static void decodes_escapes(void **state)
{
	const char text[] = "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20ac\\ud83d\\ude00\"]";
	const char want[] = "\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
	json_t *v = proto_json_parse((const uint8_t *)text, strlen(text), NULL, NULL);
	const json_t *s = json_array_get(v, 0);

	(void)state;
	assert_non_null(s);
	assert_int_equal(json_string_length(s), strlen(want));
	assert_memory_equal(json_string_value(s), want, strlen(want));
	json_decref(v);
}

/* Nesting stops at PROTO_JSON_MAX_DEPTH, long before the stack could. */
static void depth_bounded(void **state)
{
	char text[2 * (PROTO_JSON_MAX_DEPTH + 1) + 1];
	enum proto_json_error err;

	(void)state;
	for (int depth = PROTO_JSON_MAX_DEPTH; depth <= PROTO_JSON_MAX_DEPTH + 1; depth++) {
		json_t *v;

		memset(text, '[', (size_t)depth);
		memset(text + depth, ']', (size_t)depth);
		v = proto_json_parse((const uint8_t *)text, 2 * (size_t)depth, &err, NULL);
		assert_int_equal(err,
				 depth > PROTO_JSON_MAX_DEPTH ? PROTO_JSON_DEPTH : PROTO_JSON_OK);
		json_decref(v);
	}
	assert_string_equal(proto_json_error_what(PROTO_JSON_DEPTH), "nested too deeply");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(matches_jansson),
		cmocka_unit_test(stricter_than_jansson_on_nul),
		cmocka_unit_test(decodes_escapes),
		cmocka_unit_test(depth_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
