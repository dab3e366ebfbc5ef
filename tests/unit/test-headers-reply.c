/* SPDX-License-Identifier: MIT */
/* protocol/headers_reply.c: what it records of a "headers" reply, and what it refuses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "headers_reply.h"

#define CAP 2

struct parsed {
	char buf[512];
	struct reply_header h[CAP];
	struct headers_reply r;
};

/* Reads @text (copied: it is decoded in place); returns headers_reply_read()'s result. */
static int read_text(struct parsed *p, const char *text)
{
	size_t len = strlen(text);

	assert_true(len < sizeof(p->buf));
	memcpy(p->buf, text, len);
	p->r = (struct headers_reply){ .cap = CAP, .h = p->h };
	return headers_reply_read(p->buf, len, &p->r);
}

static void test_success_reply(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(read_text(&p,
				   " {\"v\":1,\"ok\":true,\"profile\":\"pr\\u00f6\",\"future\":"
				   "{\"a\":[1,{}]},\"headers\":[{\"name\":\"api-key\",\"value\":"
				   "\"k\\\"ey\",\"x\":null},{\"exists_action\":\"skip\"}]}\n"),
			 0);
	assert_int_equal(p.r.v.type, REPLY_ONE);
	assert_int_equal(p.r.ok.type, REPLY_TRUE);
	assert_int_equal(p.r.profile.type, REPLY_STRING);
	assert_string_equal(p.r.profile.s, "pr\xc3\xb6");
	assert_int_equal(p.r.profile.len, 4);
	assert_int_equal(p.r.headers.type, REPLY_ARRAY);
	assert_int_equal(p.r.error.type, REPLY_ABSENT);
	assert_int_equal(p.r.nheaders, 2);
	assert_true(p.h[0].object);
	assert_string_equal(p.h[0].name.s, "api-key");
	assert_string_equal(p.h[0].value.s, "k\"ey");
	assert_int_equal(p.h[0].value.len, 4);
	assert_int_equal(p.h[0].exists_action.type, REPLY_ABSENT);
	assert_int_equal(p.h[1].name.type, REPLY_ABSENT);
	assert_int_equal(p.h[1].exists_action.type, REPLY_STRING);
}

static void test_types_recorded(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(read_text(&p, "{\"v\":1.0,\"ok\":null,\"error\":5,\"message\":[\"m\"],"
				       "\"profile\":{},\"headers\":false}"),
			 0);
	assert_int_equal(p.r.v.type, REPLY_NUMBER);
	assert_int_equal(p.r.ok.type, REPLY_NULL);
	assert_int_equal(p.r.error.type, REPLY_NUMBER);
	assert_int_equal(p.r.message.type, REPLY_ARRAY);
	assert_int_equal(p.r.profile.type, REPLY_OBJECT);
	assert_int_equal(p.r.headers.type, REPLY_FALSE);
	assert_int_equal(p.r.nheaders, 0);
}

/* Elements past the caller's room are checked and counted, not kept. */
static void test_headers_beyond_cap_counted(void **state)
{
	struct parsed p;

	(void)state;
	assert_int_equal(read_text(&p, "{\"headers\":[{\"name\":\"a\"},7,{\"name\":\"c\"},[]]}"),
			 0);
	assert_int_equal(p.r.nheaders, 4);
	assert_true(p.h[0].object);
	assert_false(p.h[1].object);
	assert_int_equal(p.h[1].name.type, REPLY_ABSENT);
	assert_int_equal(read_text(&p, "{\"headers\":[{},{},{\"name\":\"c\",}]}"), -EBADMSG);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"\"v\"",
		"{\"v\":1",
		"{\"v\":1} x",
		"{\"v\":1}{}",
		"{\"v\":1,\"v\":1}",
		"{\"ok\":true,\"ok\":true}",
		"{\"profile\":\"a\",\"profile\":\"a\"}",
		"{\"headers\":[],\"headers\":[]}",
		"{\"headers\":[{\"name\":\"a\",\"name\":\"b\"}]}",
		"{\"headers\":[{\"value\":\"a\\u0000\"}]}",
		"{\"headers\":[{\"value\":\"\xff\"}]}",
		"{\"message\":\"a\nb\"}",
		"{\"v\":01}",
		"{\"v\":tru}",
		"{v:1}",
	};
	struct parsed p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (read_text(&p, bad[i]) != -EBADMSG)
			fail_msg("accepted: %s", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success_reply),
		cmocka_unit_test(test_types_recorded),
		cmocka_unit_test(test_headers_beyond_cap_counted),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
