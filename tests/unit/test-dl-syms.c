/* SPDX-License-Identifier: MIT */
/* dl_syms_open(): a missing library or function is a message naming what to install. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dl_syms.h"

static size_t (*sym_strlen)(const char *);
static int (*sym_aoai_no_such_function)(void);

static void loads_and_resolves(void **state)
{
	const struct dl_sym syms[] = { DL_SYM(strlen) };
	char err[256] = "";

	(void)state;
	assert_int_equal(dl_syms_open("libc.so.6", "libc6", syms, 1, err, sizeof(err)), 0);
	assert_non_null(sym_strlen);
	assert_int_equal(sym_strlen("four"), 4);
}

static void missing_library_names_package(void **state)
{
	const struct dl_sym syms[] = { DL_SYM(strlen) };
	char err[256] = "";

	(void)state;
	sym_strlen = NULL;
	assert_int_equal(
	    dl_syms_open("libaoai-missing.so.9", "libaoai-missing9", syms, 1, err, sizeof(err)),
	    -ENOENT);
	assert_null(sym_strlen);
	assert_non_null(strstr(err, "libaoai-missing.so.9 cannot be loaded"));
	assert_non_null(strstr(err, "install the libaoai-missing9 package"));
}

static void missing_function_sets_nothing(void **state)
{
	const struct dl_sym syms[] = { DL_SYM(strlen), DL_SYM(aoai_no_such_function) };
	char err[256] = "";

	(void)state;
	sym_strlen = NULL;
	assert_int_equal(dl_syms_open("libc.so.6", "libc6", syms, 2, err, sizeof(err)), -ELIBBAD);
	assert_null(sym_strlen);
	assert_null(sym_aoai_no_such_function);
	assert_non_null(strstr(err, "libc.so.6 has no aoai_no_such_function"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loads_and_resolves),
		cmocka_unit_test(missing_library_names_package),
		cmocka_unit_test(missing_function_sets_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
