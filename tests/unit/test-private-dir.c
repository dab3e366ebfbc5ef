/* SPDX-License-Identifier: MIT */
/* private_dir_check(): the rule the socket's and the store's directories share. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "private_dir.h"

#define NOBODY 65534

struct fixture {
	char root[64];
	char dir[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/aoai-private-dir-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->dir, sizeof(f->dir), "%s/aoai", f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char link[160];

	snprintf(link, sizeof(link), "%s.real", f->dir);
	(void)unlink(f->dir); /* the link or the file */
	(void)rmdir(f->dir);
	(void)rmdir(link);
	(void)rmdir(f->root);
	free(f);
	return 0;
}

/* Checks f->dir, expecting @want and, when it fails, @words in the message. */
static void expect(struct fixture *f, int want, const char *words)
{
	char err[512] = "";

	assert_int_equal(private_dir_check(f->dir, err, sizeof(err)), want);
	if (want < 0) {
		assert_non_null(strstr(err, f->dir));
		assert_non_null(strstr(err, words));
	}
}

static void private_directory_passes(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mkdir(f->dir, 0700), 0);
	assert_int_equal(chmod(f->dir, 0700), 0);
	expect(f, 0, NULL);
	assert_int_equal(chmod(f->dir, 0500), 0); /* tighter is fine */
	expect(f, 0, NULL);
}

static void missing_is_enoent(void **state)
{
	expect(*state, -ENOENT, "cannot inspect");
}

static void group_or_other_access_refused(void **state)
{
	static const mode_t modes[] = { 0770, 0720, 0707, 0701, 0740, 0777 };
	struct fixture *f = *state;

	assert_int_equal(mkdir(f->dir, 0700), 0);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(chmod(f->dir, modes[i]), 0);
		expect(f, -EPERM, "chmod 700");
	}
}

static void symlink_refused(void **state)
{
	struct fixture *f = *state;
	char real[160];

	snprintf(real, sizeof(real), "%s.real", f->dir);
	assert_int_equal(mkdir(real, 0700), 0);
	assert_int_equal(symlink(real, f->dir), 0);
	expect(f, -EPERM, "symbolic link");
}

static void file_refused(void **state)
{
	struct fixture *f = *state;
	FILE *fp = fopen(f->dir, "w");

	assert_non_null(fp);
	fclose(fp);
	expect(f, -ENOTDIR, "not a directory");
}

static void other_owner_refused(void **state)
{
	struct fixture *f = *state;

	if (geteuid() != 0)
		skip(); /* only root can give a directory away */
	assert_int_equal(mkdir(f->dir, 0700), 0);
	assert_int_equal(chown(f->dir, NOBODY, NOBODY), 0);
	expect(f, -EPERM, "belongs to uid 65534");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(private_directory_passes, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_is_enoent, setup, teardown),
		cmocka_unit_test_setup_teardown(group_or_other_access_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(symlink_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(file_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(other_owner_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
