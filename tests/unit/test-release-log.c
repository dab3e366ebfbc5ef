/* SPDX-License-Identifier: MIT */
/* The journal fields of a credential release (release_fields()). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "release_log.h"

/* The value of field @key among @n fields, or NULL. */
static const char *field(char *f[], int n, const char *key)
{
	size_t k = strlen(key);

	for (int i = 0; i < n; i++)
		if (strncmp(f[i], key, k) == 0 && f[i][k] == '=')
			return f[i] + k + 1;
	return NULL;
}

static void header_release(void **state)
{
	struct release_event e = { .profile = "contoso",
				   .host = "contoso.openai.azure.com",
				   .port = 443,
				   .peer_pid = 4242,
				   .peer_uid = 1000,
				   .peer_exe = "/usr/bin/python3.11",
				   .result = "ok" };
	char *f[RELEASE_FIELDS_MAX];
	int n = release_fields(&e, f);

	(void)state;
	assert_int_equal(n, 6);
	assert_string_equal(field(f, n, "AOAI_PROFILE"), "contoso");
	assert_string_equal(field(f, n, "AOAI_HOST"), "contoso.openai.azure.com:443");
	assert_string_equal(field(f, n, "AOAI_PEER_PID"), "4242");
	assert_string_equal(field(f, n, "AOAI_PEER_UID"), "1000");
	assert_string_equal(field(f, n, "AOAI_PEER_EXE"), "/usr/bin/python3.11");
	assert_string_equal(field(f, n, "AOAI_RESULT"), "ok");
	assert_null(field(f, n, "AOAI_SCOPE"));
	/* Every field is one of the documented keys: nothing else can slip in. */
	for (int i = 0; i < n; i++)
		assert_true(strncmp(f[i], "AOAI_", 5) == 0 && strchr(f[i], '=') != NULL);
	release_fields_free(f, n);
}

static void token_release_without_host(void **state)
{
	struct release_event e = { .profile = NULL,
				   .scope = "https://cognitiveservices.azure.com/.default",
				   .peer_pid = 7,
				   .peer_uid = 0,
				   .peer_exe = NULL,
				   .result = "unavailable" };
	char *f[RELEASE_FIELDS_MAX];
	int n = release_fields(&e, f);

	(void)state;
	assert_int_equal(n, 6);
	assert_null(field(f, n, "AOAI_HOST"));
	assert_string_equal(field(f, n, "AOAI_PROFILE"), "?");
	assert_string_equal(field(f, n, "AOAI_SCOPE"),
			    "https://cognitiveservices.azure.com/.default");
	assert_string_equal(field(f, n, "AOAI_PEER_EXE"), "?");
	assert_string_equal(field(f, n, "AOAI_PEER_UID"), "0");
	assert_string_equal(field(f, n, "AOAI_RESULT"), "unavailable");
	release_fields_free(f, n);
}

static void all_fields_fit(void **state)
{
	struct release_event e = { .profile = "p",
				   .host = "h",
				   .port = 1,
				   .scope = "s",
				   .peer_exe = "x",
				   .result = "ok" };
	char *f[RELEASE_FIELDS_MAX];
	int n = release_fields(&e, f);

	(void)state;
	assert_int_equal(n, RELEASE_FIELDS_MAX);
	release_fields_free(f, n);
}

/* The log line says what the fields say, in the form the tests and users grep for. */
static void text_of_both_kinds(void **state)
{
	struct release_event header = { .profile = "contoso",
					.host = "contoso.openai.azure.com",
					.port = 443,
					.peer_pid = 4242,
					.peer_uid = 1000,
					.peer_exe = "/usr/bin/curl",
					.result = "ok" };
	struct release_event token = { .scope = "https://cognitiveservices.azure.com/.default",
				       .peer_pid = 7,
				       .result = "unavailable" };
	char buf[512];

	(void)state;
	release_text(&header, buf, sizeof(buf));
	assert_string_equal(buf, "release profile=contoso host=contoso.openai.azure.com:443 "
				 "pid=4242 uid=1000 exe=/usr/bin/curl result=ok");
	release_text(&token, buf, sizeof(buf));
	assert_string_equal(buf, "release profile=? token "
				 "scope=https://cognitiveservices.azure.com/.default pid=7 uid=0 "
				 "exe=? result=unavailable");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(header_release),
		cmocka_unit_test(token_release_without_host),
		cmocka_unit_test(all_fields_fit),
		cmocka_unit_test(text_of_both_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
