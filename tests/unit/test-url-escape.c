/* SPDX-License-Identifier: MIT */
/* url_escape() writes what curl_easy_escape() writes, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "url_escape.h"

static void expect_escape(const char *in, size_t len, const char *want)
{
	char *got = url_escape(in, len);

	assert_non_null(got);
	assert_string_equal(got, want);
	url_escape_free(got);
}

static void unreserved_kept_rest_encoded(void **state)
{
	(void)state;
	expect_escape("AZaz09-._~", 0, "AZaz09-._~");
	expect_escape("a b&c=d+e/f?", 0, "a%20b%26c%3Dd%2Be%2Ff%3F");
	expect_escape("\xc3\xa9", 0, "%C3%A9");
	expect_escape("", 0, "");
}

static void length_counts_nul_bytes(void **state)
{
	(void)state;
	expect_escape("a\0b", 3, "a%00b");
}

/* Every byte value, as libcurl (linked by this test only) encodes it. */
static void same_as_libcurl(void **state)
{
	char all[256];
	char *ours, *curls;

	(void)state;
	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (char)i;
	ours = url_escape(all, sizeof(all));
	curls = curl_easy_escape(NULL, all, (int)sizeof(all));
	assert_non_null(ours);
	assert_non_null(curls);
	assert_string_equal(ours, curls);
	url_escape_free(ours);
	curl_free(curls);
}

static void free_accepts_null(void **state)
{
	(void)state;
	assert_null(url_escape_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unreserved_kept_rest_encoded),
		cmocka_unit_test(length_counts_nul_bytes),
		cmocka_unit_test(same_as_libcurl),
		cmocka_unit_test(free_accepts_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
