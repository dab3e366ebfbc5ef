/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
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
#include <sodium.h>

#include "arc_challenge.h"

#define DIR  ARC_DEFAULT_KEY_DIR
#define GUID "0b1e3c0a-1234-4cde-8f00-123456789abc"
#define KEY  DIR "/" GUID ".key"

static void expect_path(const char *header, const char *dir, const char *want)
{
	char out[512], err[256] = "";

	if (arc_challenge_key_path(header, dir, out, sizeof(out), err, sizeof(err)) < 0)
		fail_msg("\"%s\": %s", header, err);
	assert_string_equal(out, want);
}

static void expect_refused(const char *header, const char *dir, const char *why)
{
	char out[512] = "untouched", err[256] = "";

	assert_int_equal(arc_challenge_key_path(header, dir, out, sizeof(out), err, sizeof(err)),
			 -EINVAL);
	if (!strstr(err, why))
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", header ? header : "(null)", err,
			 why);
	assert_string_equal(out, "untouched");
}

static void test_path_good(void **state)
{
	(void)state;
	expect_path("Basic realm=" KEY, NULL, KEY);
	expect_path("Basic realm=" KEY, DIR, KEY);
	expect_path("Basic realm=\"" KEY "\"", NULL, KEY);
	expect_path("basic realm=" KEY, NULL, KEY);
	expect_path("BASIC Realm=" KEY, NULL, KEY);
	expect_path("  Basic \t realm = \"" KEY "\" ", NULL, KEY);
	expect_path("Basic charset=\"UTF-8\", realm=" KEY, NULL, KEY);
	expect_path("Basic realm=" KEY ", charset=UTF-8", NULL, KEY);
	expect_path("Basic realm=\"" DIR "/a\\.key\"", NULL, DIR "/a.key"); /* quoted-pair */
	expect_path("Basic realm=" KEY, DIR "/", KEY);
	expect_path("Basic realm=/tmp/arc/x_y-z.1.key", "/tmp/arc", "/tmp/arc/x_y-z.1.key");
	expect_path("Basic realm=/x.key", "/", "/x.key");
}

static void test_path_scheme(void **state)
{
	(void)state;
	expect_refused(NULL, NULL, "empty challenge");
	expect_refused("", NULL, "empty challenge");
	expect_refused("   ", NULL, "empty challenge");
	expect_refused("Bearer realm=" KEY, NULL, "scheme is not Basic");
	expect_refused("Basicx realm=" KEY, NULL, "scheme is not Basic");
	expect_refused("Digest realm=\"" KEY "\", nonce=\"1\"", NULL, "scheme is not Basic");
	expect_refused("realm=" KEY, NULL, "scheme is not Basic");
}

static void test_path_no_realm(void **state)
{
	(void)state;
	expect_refused("Basic", NULL, "no realm");
	expect_refused("Basic ", NULL, "no realm");
	expect_refused("Basic charset=UTF-8", NULL, "no realm");
	expect_refused("Basic realm", NULL, "no realm");
	expect_refused("Basic " KEY, NULL, "no realm");
	expect_refused("Basic realm=\"" KEY, NULL, "malformed");
	expect_refused("Basic realm=" KEY " junk", NULL, "malformed");
	expect_refused("Basic realm=" KEY ", realm=" KEY, NULL, "more than one realm");
	expect_refused("Basic realm=", NULL, "not absolute");
	expect_refused("Basic realm=\"\"", NULL, "not absolute");
}

static void test_path_unsafe(void **state)
{
	char name[300], header[400];

	(void)state;
	expect_refused("Basic realm=tokens/" GUID ".key", NULL, "not absolute");
	expect_refused("Basic realm=" GUID ".key", NULL, "not absolute");
	expect_refused("Basic realm=/tmp/" GUID ".key", NULL, "not directly in " DIR);
	expect_refused("Basic realm=/var/opt/azcmagent/x.key", NULL, "not directly in");
	expect_refused("Basic realm=" DIR "/sub/x.key", NULL, "not directly in");
	expect_refused("Basic realm=" DIR "x/a.key", NULL, "not directly in");
	expect_refused("Basic realm=/var/opt/azcmagent//tokens/a.key", NULL, "not directly in");
	expect_refused("Basic realm=" DIR "//a.key", NULL, "not directly in");
	expect_refused("Basic realm=" DIR "/../../../etc/shadow.key", NULL, "\"..\"");
	expect_refused("Basic realm=" DIR "/../tokens/a.key", NULL, "\"..\"");
	expect_refused("Basic realm=" DIR "/..key", NULL, "\"..\"");
	expect_refused("Basic realm=" DIR "/a.pem", NULL, "ending in \".key\"");
	expect_refused("Basic realm=" DIR "/.key", NULL, "ending in \".key\"");
	expect_refused("Basic realm=" DIR "/a.key.bak", NULL, "ending in \".key\"");
	expect_refused("Basic realm=" DIR "/a.KEY", NULL, "ending in \".key\"");
	expect_refused("Basic realm=" DIR "/", NULL, "ending in \".key\"");
	expect_refused("Basic realm=\"" DIR "/a b.key\"", NULL, "letters, digits");
	expect_refused("Basic realm=\"" DIR "/a\tb.key\"", NULL, "letters, digits");
	expect_refused("Basic realm=\"" DIR "/a\\\\b.key\"", NULL, "letters, digits");
	expect_refused("Basic realm=" KEY, "relative/dir", "absolute path");
	/* a file name of 255 bytes is fine, 256 is not */
	memset(name, 'k', 251);
	snprintf(name + 251, sizeof(name) - 251, ".key");
	snprintf(header, sizeof(header), "Basic realm=" DIR "/%s", name);
	expect_path(header, NULL, header + strlen("Basic realm="));
	memset(name, 'k', 252);
	snprintf(name + 252, sizeof(name) - 252, ".key");
	snprintf(header, sizeof(header), "Basic realm=" DIR "/%s", name);
	expect_refused(header, NULL, "1 to 255");
}

static void test_path_small_buffer(void **state)
{
	char out[sizeof(KEY) - 1] = "untouched", err[256] = "";
	char fits[sizeof(KEY)];

	(void)state;
	assert_int_equal(
	    arc_challenge_key_path("Basic realm=" KEY, NULL, out, sizeof(out), err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "too long"));
	assert_string_equal(out, "untouched");
	assert_int_equal(
	    arc_challenge_key_path("Basic realm=" KEY, NULL, fits, sizeof(fits), NULL, 0), 0);
	assert_string_equal(fits, KEY);
}

/* A scratch directory for the key files. */
struct scratch {
	char dir[64];
	char path[128];
};

static int scratch_setup(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	snprintf(s->dir, sizeof(s->dir), "/tmp/test-arc-XXXXXX");
	if (!mkdtemp(s->dir)) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static int scratch_teardown(void **state)
{
	struct scratch *s = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	if (system(cmd) != 0)
		return -1;
	free(s);
	return 0;
}

static const char *scratch_file(struct scratch *s, const char *name, const void *data, size_t len)
{
	int fd;

	snprintf(s->path, sizeof(s->path), "%s/%s", s->dir, name);
	fd = open(s->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return s->path;
}

static void expect_key(const char *path, const char *want)
{
	char *key = NULL, err[256] = "";
	size_t len = 0;

	if (arc_challenge_read_key(path, &key, &len, err, sizeof(err)) < 0)
		fail_msg("%s: %s", path, err);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(key, want, len);
	assert_int_equal(key[len], '\0');
	sodium_free(key);
}

static void expect_key_refused(const char *path, int want, const char *why)
{
	char *key = (char *)"untouched", err[256] = "";
	size_t len = 99;

	assert_int_equal(arc_challenge_read_key(path, &key, &len, err, sizeof(err)), want);
	if (!strstr(err, why))
		fail_msg("%s: message \"%s\" lacks \"%s\"", path, err, why);
	assert_non_null(strstr(err, path)); /* the file is named */
	assert_string_equal(key, "untouched");
	assert_int_equal(len, 99);
}

static void test_read_good(void **state)
{
	struct scratch *s = *state;
	char big[ARC_MAX_KEY + 1];

	expect_key(scratch_file(s, "a.key", "c2VjcmV0LWtleQ==", 16), "c2VjcmV0LWtleQ==");
	expect_key(scratch_file(s, "b.key", "c2VjcmV0\n", 9), "c2VjcmV0");
	expect_key(scratch_file(s, "c.key", "c2VjcmV0\r\n", 10), "c2VjcmV0");
	memset(big, 'k', ARC_MAX_KEY);
	big[ARC_MAX_KEY] = '\0';
	expect_key(scratch_file(s, "max.key", big, ARC_MAX_KEY), big);
}

static void test_read_refused(void **state)
{
	struct scratch *s = *state;
	char big[ARC_MAX_KEY + 1], link[160], sub[160];

	expect_key_refused(scratch_file(s, "empty.key", "", 0), -EINVAL, "empty");
	expect_key_refused(scratch_file(s, "nl.key", "\n", 1), -EINVAL, "empty");
	memset(big, 'k', sizeof(big));
	expect_key_refused(scratch_file(s, "big.key", big, sizeof(big)), -EFBIG,
			   "larger than 4096");
	expect_key_refused(scratch_file(s, "ctl.key", "ab\ncd", 5), -EINVAL, "control");
	expect_key_refused(scratch_file(s, "nul.key", "ab\0cd", 5), -EINVAL, "control");
	/* a symbolic link is not followed, even to a good file */
	scratch_file(s, "target.key", "good", 4);
	snprintf(link, sizeof(link), "%s/link.key", s->dir);
	assert_int_equal(symlink(s->path, link), 0);
	expect_key_refused(link, -ELOOP, "symbolic link");
	snprintf(sub, sizeof(sub), "%s/dir.key", s->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	expect_key_refused(sub, -EINVAL, "not a regular file");
	/* a FIFO neither blocks nor passes */
	snprintf(sub, sizeof(sub), "%s/fifo.key", s->dir);
	assert_int_equal(mkfifo(sub, 0600), 0);
	expect_key_refused(sub, -EINVAL, "not a regular file");
	snprintf(sub, sizeof(sub), "%s/missing.key", s->dir);
	expect_key_refused(sub, -ENOENT, "No such file");
}

static void test_read_permission(void **state)
{
	struct scratch *s = *state;
	const char *path = scratch_file(s, "locked.key", "secret", 6);

	if (geteuid() == 0)
		skip(); /* root reads anything */
	assert_int_equal(chmod(path, 0), 0);
	expect_key_refused(path, -EACCES, "himds group");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_good),
		cmocka_unit_test(test_path_scheme),
		cmocka_unit_test(test_path_no_realm),
		cmocka_unit_test(test_path_unsafe),
		cmocka_unit_test(test_path_small_buffer),
		cmocka_unit_test_setup_teardown(test_read_good, scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(test_read_refused, scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(test_read_permission, scratch_setup,
						scratch_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("arc_challenge", tests, NULL, NULL);
}
