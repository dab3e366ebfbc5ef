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

/* The value of field @key, or NULL; each field's iovec spans it exactly. */
static const char *field(const struct release_fields *f, const char *key)
{
	size_t k = strlen(key);

	for (int i = 0; i < f->n; i++) {
		const char *s = f->iov[i].iov_base;

		assert_int_equal(strlen(s), f->iov[i].iov_len);
		if (strncmp(s, key, k) == 0 && s[k] == '=')
			return s + k + 1;
	}
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
	struct release_fields f;

	(void)state;
	release_fields(&e, &f);
	assert_int_equal(f.n, 6);
	assert_string_equal(field(&f, "AOAI_PROFILE"), "contoso");
	assert_string_equal(field(&f, "AOAI_HOST"), "contoso.openai.azure.com:443");
	assert_string_equal(field(&f, "AOAI_PEER_PID"), "4242");
	assert_string_equal(field(&f, "AOAI_PEER_UID"), "1000");
	assert_string_equal(field(&f, "AOAI_PEER_EXE"), "/usr/bin/python3.11");
	assert_string_equal(field(&f, "AOAI_RESULT"), "ok");
	assert_null(field(&f, "AOAI_SCOPE"));
	/* Every field is one of the documented keys: nothing else can slip in. */
	for (int i = 0; i < f.n; i++)
		assert_true(strncmp(f.iov[i].iov_base, "AOAI_", 5) == 0 &&
			    memchr(f.iov[i].iov_base, '=', f.iov[i].iov_len) != NULL);
}

static void token_release_without_host(void **state)
{
	struct release_event e = { .profile = NULL,
				   .scope = "https://cognitiveservices.azure.com/.default",
				   .peer_pid = 7,
				   .peer_uid = 0,
				   .peer_exe = NULL,
				   .result = "unavailable" };
	struct release_fields f;

	(void)state;
	release_fields(&e, &f);
	assert_int_equal(f.n, 6);
	assert_null(field(&f, "AOAI_HOST"));
	assert_string_equal(field(&f, "AOAI_PROFILE"), "?");
	assert_string_equal(field(&f, "AOAI_SCOPE"),
			    "https://cognitiveservices.azure.com/.default");
	assert_string_equal(field(&f, "AOAI_PEER_EXE"), "?");
	assert_string_equal(field(&f, "AOAI_PEER_UID"), "0");
	assert_string_equal(field(&f, "AOAI_RESULT"), "unavailable");
}

static void all_fields_fit(void **state)
{
	struct release_event e = { .profile = "p",
				   .host = "h",
				   .port = 1,
				   .scope = "s",
				   .peer_exe = "x",
				   .result = "ok" };
	struct release_fields f;

	(void)state;
	release_fields(&e, &f);
	assert_int_equal(f.n, RELEASE_FIELDS_MAX);
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

/* A line longer than its buffer is cut there, terminated, its length told. */
static void text_is_cut_not_overrun(void **state)
{
	struct release_event e = { .profile = "contoso", .host = "h", .port = 443, .result = "ok" };
	char buf[20 + 8];
	size_t n;

	(void)state;
	memset(buf, 'x', sizeof(buf));
	n = release_text(&e, buf, 20);
	assert_int_equal(n, 19);
	assert_string_equal(buf, "release profile=con");
	assert_int_equal(buf[20], 'x');
	assert_int_equal(release_text(&e, buf, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_is_cut_not_overrun),    cmocka_unit_test(header_release),
		cmocka_unit_test(token_release_without_host), cmocka_unit_test(all_fields_fit),
		cmocka_unit_test(text_of_both_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
