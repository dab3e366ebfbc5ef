/* SPDX-License-Identifier: MIT */
/* Shell statements for eval and the lifetime syntax shared by agent and CLI. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "lifetime.h"
#include "proto.h"
#include "shellenv.h"

static char *render_set(enum shell_kind kind, const char *value, int *ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*ret = shell_print_set(f, kind, "AOAI_AUTH_SOCK", value);
	fclose(f);
	return buf;
}

static void set_statements(void **state)
{
	int r;
	char *s;

	(void)state;
	s = render_set(SHELL_SH, "/run/a b/agent.sock", &r);
	assert_int_equal(r, 0);
	assert_string_equal(s, "AOAI_AUTH_SOCK='/run/a b/agent.sock'; export AOAI_AUTH_SOCK;\n");
	free(s);
	s = render_set(SHELL_CSH, "/x/it's!", &r);
	assert_string_equal(s, "setenv AOAI_AUTH_SOCK '/x/it'\\''s\\!';\n");
	free(s);
	s = render_set(SHELL_FISH, "/x/it's\\", &r);
	assert_string_equal(s, "set -gx AOAI_AUTH_SOCK '/x/it\\'s\\\\';\n");
	free(s);
	s = render_set(SHELL_SH, "/x/new\nline", &r);
	assert_int_equal(r, -EINVAL);
	free(s);
}

static void kind_from_shell_path(void **state)
{
	(void)state;
	assert_int_equal(shell_kind_from_path(NULL), SHELL_SH);
	assert_int_equal(shell_kind_from_path("/bin/bash"), SHELL_SH);
	assert_int_equal(shell_kind_from_path("/bin/tcsh"), SHELL_CSH);
	assert_int_equal(shell_kind_from_path("csh"), SHELL_CSH);
	assert_int_equal(shell_kind_from_path("/usr/bin/fish"), SHELL_FISH);
	assert_int_equal(shell_kind_from_path("/usr/bin/fishy"), SHELL_SH);
}

static void lifetimes(void **state)
{
	long long v = -1;

	(void)state;
	assert_int_equal(lifetime_parse("3600", &v), 0);
	assert_int_equal(v, 3600);
	assert_int_equal(lifetime_parse("90s", &v), 0);
	assert_int_equal(v, 90);
	assert_int_equal(lifetime_parse("30m", &v), 0);
	assert_int_equal(v, 1800);
	assert_int_equal(lifetime_parse("8h", &v), 0);
	assert_int_equal(v, 28800);
	assert_int_equal(lifetime_parse("2d", &v), 0);
	assert_int_equal(v, 172800);
	assert_int_equal(lifetime_parse("1w", &v), 0);
	assert_int_equal(v, 604800);
	assert_int_equal(lifetime_parse("0", &v), 0);
	assert_int_equal(v, 0);
	v = 7;
	assert_int_equal(lifetime_parse("", &v), -EINVAL);
	assert_int_equal(lifetime_parse("-5", &v), -EINVAL);
	assert_int_equal(lifetime_parse("5x", &v), -EINVAL);
	assert_int_equal(lifetime_parse("5mm", &v), -EINVAL);
	assert_int_equal(lifetime_parse(" 5", &v), -EINVAL);
	assert_int_equal(lifetime_parse("99999999999999999999", &v), -EINVAL);
	assert_int_equal(lifetime_parse("5300w", &v), -EINVAL); /* > PROTO_MAX_LIFETIME */
	assert_int_equal(v, 7);                                 /* untouched on failure */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_statements),
		cmocka_unit_test(kind_from_shell_path),
		cmocka_unit_test(lifetimes),
	};

	return cmocka_run_group_tests_name("shellenv", tests, NULL, NULL);
}
