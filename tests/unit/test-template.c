/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "template.h"

static void expect_valid(const char *tmpl, bool secret, bool token, size_t n_named)
{
	struct template_refs refs;
	char err[256] = "";

	if (template_check(tmpl, &refs, err, sizeof(err)) < 0)
		fail_msg("\"%s\": %s", tmpl, err);
	assert_int_equal(refs.secret, secret);
	assert_int_equal(refs.token, token);
	assert_int_equal(refs.n_named, n_named);
}

static void test_check_valid(void **state)
{
	(void)state;
	expect_valid("{secret}", true, false, 0);
	expect_valid("Bearer {token}", false, true, 0);
	expect_valid("{secret:apim-sub}", false, false, 1);
	expect_valid("{secret:a}{secret:b.c_d-E9}x{secret}{token}", true, true, 2);
	expect_valid("literal text, no placeholders } at all", false, false, 0);
	expect_valid("tab\there", false, false, 0);
	assert_int_equal(template_check("{token}", NULL, NULL, 0), 0);
}

static void expect_invalid(const char *tmpl, const char *why)
{
	struct template_refs refs = { .n_named = 99 };
	char err[256] = "";

	assert_int_equal(template_check(tmpl, &refs, err, sizeof(err)), -EINVAL);
	if (!strstr(err, why))
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", tmpl ? tmpl : "(null)", err, why);
	assert_int_equal(refs.n_named, 99);
}

static void test_check_invalid(void **state)
{
	char name[80], tmpl[100];
	char *big;

	(void)state;
	expect_invalid(NULL, "no template");
	expect_invalid("{", "offset 0 does not start");
	expect_invalid("ab{secrets}", "offset 2 does not start");
	expect_invalid("{Secret}", "does not start");
	expect_invalid("{ token }", "does not start");
	expect_invalid("{tokens}", "does not start");
	expect_invalid("{{token}}", "does not start");
	expect_invalid("{secret:}", "1 to 64");
	expect_invalid("{secret:a/b}", "letters, digits");
	expect_invalid("{secret:a b}", "letters, digits");
	expect_invalid("{secret:abc", "no closing");
	expect_invalid("a\r\nb", "CR or LF");
	expect_invalid("a\nb", "offset 1");
	expect_invalid("a\x01", "control character");
	expect_invalid("a\x7f", "control character");
	memset(name, 'n', 65);
	name[65] = '\0';
	snprintf(tmpl, sizeof(tmpl), "{secret:%s}", name);
	expect_invalid(tmpl, "1 to 64");
	name[64] = '\0';
	snprintf(tmpl, sizeof(tmpl), "{secret:%s}", name);
	expect_valid(tmpl, false, false, 1);
	big = malloc(TEMPLATE_MAX_VALUE + 2);
	assert_non_null(big);
	memset(big, 'x', TEMPLATE_MAX_VALUE + 1);
	big[TEMPLATE_MAX_VALUE + 1] = '\0';
	expect_invalid(big, "longer than");
	big[TEMPLATE_MAX_VALUE] = '\0';
	expect_valid(big, false, false, 0);
	free(big);
}

/* A fake secret store: "default" for {secret}, two named ones. */
struct fake {
	const char *own;
	const char *bad;
	const char *huge;
	unsigned calls;
};

static const char *fake_lookup(void *userdata, const char *name, size_t *ret_len)
{
	struct fake *f = userdata;
	const char *v = NULL;

	f->calls++;
	if (!name)
		v = f->own;
	else if (strcmp(name, "apim-sub") == 0)
		v = "sub-key-123";
	else if (strcmp(name, "empty") == 0)
		v = "";
	else if (strcmp(name, "bad") == 0)
		v = f->bad;
	else if (strcmp(name, "huge") == 0)
		v = f->huge;
	if (v)
		*ret_len = strlen(v);
	return v;
}

static int expand(const char *tmpl, struct fake *f, const char *token, char **ret, size_t *ret_len,
		  char *missing)
{
	struct template_vars vars = {
		.secret = fake_lookup,
		.userdata = f,
		.token = token,
		.token_len = token ? strlen(token) : 0,
	};

	return template_expand(tmpl, &vars, ret, ret_len, missing, 80);
}

static void expect_expansion(const char *tmpl, const char *want)
{
	struct fake f = { .own = "own-key" };
	char missing[80] = "";
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(expand(tmpl, &f, "ey.tok.en", &out, &len, missing), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	out = template_value_free(out);
	assert_null(out);
}

static void test_expand(void **state)
{
	(void)state;
	expect_expansion("{secret}", "own-key");
	expect_expansion("Bearer {token}", "Bearer ey.tok.en");
	expect_expansion("{secret:apim-sub}", "sub-key-123");
	expect_expansion("[{secret:empty}]", "[]");
	expect_expansion("k={secret};t={token};s={secret:apim-sub}.",
			 "k=own-key;t=ey.tok.en;s=sub-key-123.");
	expect_expansion("plain literal } text", "plain literal } text");
	expect_expansion("", "");
	assert_null(template_value_free(NULL));
}

static void expect_missing(const char *tmpl, struct fake *f, const char *token, int want,
			   const char *name)
{
	char missing[80] = "";
	char *out = (char *)"untouched";
	size_t len = 7;

	assert_int_equal(expand(tmpl, f, token, &out, &len, missing), want);
	assert_string_equal(missing, name);
	assert_string_equal(out, "untouched");
	assert_int_equal(len, 7);
}

static void test_expand_missing(void **state)
{
	struct fake f = { .own = NULL, .bad = "line\r\nX-Evil: 1" };
	struct fake g = { .own = "own" };
	char *out = NULL;

	(void)state;
	expect_missing("{secret}", &f, "t", -ENOENT, "{secret}");
	expect_missing("x {secret:nope} y", &g, "t", -ENOENT, "nope");
	expect_missing("Bearer {token}", &g, NULL, -ENOENT, "{token}");
	/* a value that would split the header is refused, and named */
	expect_missing("{secret:bad}", &f, "t", -EINVAL, "bad");
	expect_missing("{token}", &g, "a\nb", -EINVAL, "{token}");
	/* no lookup function at all: every secret is missing */
	struct template_vars none = { .secret = NULL };
	char missing[80] = "";
	assert_int_equal(template_expand("{secret:x}", &none, &out, NULL, missing, sizeof(missing)),
			 -ENOENT);
	assert_string_equal(missing, "x");
	assert_int_equal(template_expand("{nope}", &none, &out, NULL, NULL, 0), -EINVAL);
}

static void test_expand_bound(void **state)
{
	struct fake f = { .own = "o" };
	char missing[80] = "";
	char *huge, *out = NULL;
	size_t len = 0;

	(void)state;
	huge = malloc(TEMPLATE_MAX_VALUE + 1);
	assert_non_null(huge);
	memset(huge, 'h', TEMPLATE_MAX_VALUE);
	huge[TEMPLATE_MAX_VALUE] = '\0';
	f.huge = huge;
	/* exactly at the bound is fine */
	assert_int_equal(expand("{secret:huge}", &f, "t", &out, &len, missing), 0);
	assert_int_equal(len, TEMPLATE_MAX_VALUE);
	out = template_value_free(out);
	/* one byte more is not */
	assert_int_equal(expand("x{secret:huge}", &f, "t", &out, &len, missing), -E2BIG);
	assert_int_equal(expand("{secret:huge}{token}", &f, "t", &out, &len, missing), -E2BIG);
	assert_null(out);
	free(huge);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_valid),  cmocka_unit_test(test_check_invalid),
		cmocka_unit_test(test_expand),       cmocka_unit_test(test_expand_missing),
		cmocka_unit_test(test_expand_bound),
	};

	return cmocka_run_group_tests_name("template", tests, NULL, NULL);
}
