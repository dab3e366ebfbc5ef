/* SPDX-License-Identifier: MIT */
/* The secret store: replacement, lifetime on an injected clock, origins. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "secrets.h"

#define SEC 1000000ULL

static int setup(void **state)
{
	*state = secrets_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	secrets_free(*state);
	return 0;
}

static void put_and_find(void **state)
{
	struct secret_store *s = *state;
	const struct secret *e;

	assert_int_equal(secrets_put(s, "contoso", "key-one", 7, ORIGIN_ADDED, 0), 0);
	e = secrets_find(s, "contoso", 0);
	assert_non_null(e);
	assert_int_equal(e->len, 7);
	secret_reveal(e);
	assert_memory_equal(e->value, "key-one", 7);
	assert_int_equal(e->value[7], '\0');
	secret_conceal(e);
	assert_string_equal(e->origin == ORIGIN_ADDED ? "added" : "?", "added");
	assert_int_equal(strncmp(e->fingerprint, "sha256:", 7), 0);
	assert_int_equal(strlen(e->fingerprint), 7 + 12);
	assert_null(secrets_find(s, "other", 0));
}

static void replace_changes_value_and_fingerprint(void **state)
{
	struct secret_store *s = *state;
	char first[SECRET_FINGERPRINT_LEN];

	assert_int_equal(secrets_put(s, "k", "aaaa", 4, ORIGIN_ADDED, 0), 0);
	memcpy(first, secrets_find(s, "k", 0)->fingerprint, sizeof(first));
	assert_int_equal(secrets_put(s, "k", "bbbbbb", 6, ORIGIN_ADDED, 0), 0);
	assert_int_equal(secrets_count(s), 1);
	assert_int_equal(secrets_find(s, "k", 0)->len, 6);
	assert_string_not_equal(secrets_find(s, "k", 0)->fingerprint, first);
}

static void rejects_bad_input(void **state)
{
	struct secret_store *s = *state;
	static char big[PROTO_MAX_SECRET + 1];

	assert_int_equal(secrets_put(s, "bad name", "x", 1, ORIGIN_ADDED, 0), -EINVAL);
	assert_int_equal(secrets_put(s, "", "x", 1, ORIGIN_ADDED, 0), -EINVAL);
	assert_int_equal(secrets_put(s, "k", "", 0, ORIGIN_ADDED, 0), -EINVAL);
	assert_int_equal(secrets_put(s, "k", big, sizeof(big), ORIGIN_ADDED, 0), -EINVAL);
	assert_int_equal(secrets_count(s), 0);
}

static void lifetime_on_injected_clock(void **state)
{
	struct secret_store *s = *state;
	uint64_t t0 = 1000 * SEC;

	assert_int_equal(secrets_put(s, "short", "v1", 2, ORIGIN_ADDED, t0 + 5 * SEC), 0);
	assert_int_equal(secrets_put(s, "long", "v2", 2, ORIGIN_ADDED, t0 + 60 * SEC), 0);
	assert_int_equal(secrets_put(s, "forever", "v3", 2, ORIGIN_ADDED, 0), 0);
	assert_int_equal(secrets_next_expiry(s), t0 + 5 * SEC);
	assert_non_null(secrets_find(s, "short", t0 + 5 * SEC - 1));
	/* Expired but not yet swept: lookups already refuse it. */
	assert_null(secrets_find(s, "short", t0 + 5 * SEC));
	assert_int_equal(secrets_expire(s, t0 + 5 * SEC), 1);
	assert_int_equal(secrets_count(s), 2);
	assert_int_equal(secrets_next_expiry(s), t0 + 60 * SEC);
	assert_int_equal(secrets_expire(s, t0 + 3600 * SEC), 1);
	assert_int_equal(secrets_next_expiry(s), 0);
	assert_non_null(secrets_find(s, "forever", UINT64_MAX));
}

static void remove_and_origins(void **state)
{
	struct secret_store *s = *state;

	assert_int_equal(secrets_put(s, "a", "1", 1, ORIGIN_ADDED, 0), 0);
	assert_int_equal(secrets_put(s, "b", "2", 1, ORIGIN_FILE, 0), 0);
	assert_int_equal(secrets_put_missing(s, "c", ORIGIN_CREDENTIALS, "no such file"), 0);
	assert_int_equal(secrets_put(s, "d", "4", 1, ORIGIN_ADDED, 0), 0);
	assert_null(secrets_find(s, "c", 0)->value);
	assert_string_equal(secrets_find(s, "c", 0)->error, "no such file");
	assert_int_equal(secrets_remove(s, "b"), 0);
	assert_int_equal(secrets_remove(s, "b"), -ENOENT);
	assert_int_equal(secrets_remove_origin(s, ORIGIN_ADDED), 2);
	assert_int_equal(secrets_count(s), 1);
	assert_string_equal(secrets_at(s, 0)->name, "c");
	assert_null(secrets_at(s, 1));
}

static void expect_why(struct secret_store *s, const char *name, uint64_t now, bool addable,
		       const char *want)
{
	char why[SECRET_MAX_ERROR + 32];

	assert_int_equal(secrets_why_missing(s, name, now, why, sizeof(why)), addable);
	assert_string_equal(why, want);
}

/* "expired N s ago" rather than "has not been added" for a secret whose
 * lifetime ran out, from the moment it does until it is added or removed. */
static void why_missing(void **state)
{
	struct secret_store *s = *state;
	const uint64_t t0 = 1000 * SEC;
	char name[16];

	expect_why(s, "never", t0, true, " has not been added");
	assert_int_equal(secrets_put(s, "short", "v1", 2, ORIGIN_ADDED, t0 + 5 * SEC), 0);
	expect_why(s, "short", t0 + 7 * SEC, true, " expired 2 s ago"); /* not yet wiped */
	assert_int_equal(secrets_expire(s, t0 + 8 * SEC), 1);
	expect_why(s, "short", t0 + 20 * SEC, true, " expired 15 s ago");
	assert_int_equal(secrets_put(s, "short", "v2", 2, ORIGIN_ADDED, 0), 0);
	assert_int_equal(secrets_remove(s, "short"), 0);
	expect_why(s, "short", t0 + 30 * SEC, true, " has not been added");
	/* remove --all forgets expiries too. */
	assert_int_equal(secrets_put(s, "gone", "v", 1, ORIGIN_ADDED, t0 + SEC), 0);
	assert_int_equal(secrets_expire(s, t0 + SEC), 1);
	assert_int_equal(secrets_remove_origin(s, ORIGIN_ADDED), 0);
	expect_why(s, "gone", t0 + 2 * SEC, true, " has not been added");
	/* A config source that failed: its error; `aoai add` would not help. */
	assert_int_equal(secrets_put_missing(s, "f", ORIGIN_FILE, "cannot read /x"), 0);
	expect_why(s, "f", t0, false, ": cannot read /x");
	/* Bounded: the oldest expiry is forgotten first. */
	assert_int_equal(secrets_put(s, "e0", "v", 1, ORIGIN_ADDED, t0 + SEC), 0);
	assert_int_equal(secrets_expire(s, t0 + SEC), 1);
	for (int i = 1; i <= SECRETS_EXPIRED_MAX; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		assert_int_equal(secrets_put(s, name, "v", 1, ORIGIN_ADDED, t0 + 2 * SEC), 0);
	}
	assert_int_equal(secrets_expire(s, t0 + 2 * SEC), SECRETS_EXPIRED_MAX);
	expect_why(s, "e1", t0 + 3 * SEC, true, " expired 1 s ago");
	expect_why(s, name, t0 + 3 * SEC, true, " expired 1 s ago");
	expect_why(s, "e0", t0 + 3 * SEC, true, " has not been added");
}

/* Reads the value in a child: true when that read faulted. */
static bool read_faults(const struct secret *e)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		volatile unsigned char c;

		signal(SIGSEGV, SIG_DFL); /* not cmocka's handler */
		c = e->value[0];
		(void)c;
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

/* A stray read between reveals faults; reveals nest and must pair up. */
static void value_readable_only_while_revealed(void **state)
{
	struct secret_store *s = *state;
	const struct secret *e;

	assert_int_equal(secrets_put(s, "k", "key-one", 7, ORIGIN_ADDED, 0), 0);
	assert_int_equal(secrets_put_missing(s, "gone", ORIGIN_FILE, "no such file"), 0);
	e = secrets_find(s, "k", 0);
	assert_true(read_faults(e));
	secret_reveal(e);
	secret_reveal(e);
	assert_false(read_faults(e));
	secret_conceal(e);
	assert_false(read_faults(e)); /* one reveal still in force */
	assert_memory_equal(e->value, "key-one", 7);
	secret_conceal(e);
	assert_true(read_faults(e));
	/* Concealing later leaves it readable until the store is told. */
	secret_reveal(e);
	secret_conceal_later(e);
	assert_false(read_faults(e));
	secret_reveal(e); /* still readable: no switch, and idle skips it */
	secrets_conceal_idle(s);
	assert_false(read_faults(e));
	secret_conceal_later(e);
	secrets_conceal_idle(s);
	assert_true(read_faults(e));
	/* An entry without a value: all are no-ops. */
	secret_reveal(secrets_find(s, "gone", 0));
	secret_conceal(secrets_find(s, "gone", 0));
	secret_conceal_later(secrets_find(s, "gone", 0));
	secrets_conceal_idle(s);
	/* Replacing or removing a concealed value needs no reveal. */
	assert_int_equal(secrets_put(s, "k", "key-two", 7, ORIGIN_ADDED, 0), 0);
	assert_int_equal(secrets_remove(s, "k"), 0);
}

/* Values share slabs: a reveal makes the slab readable, the last conceal hides it again. */
static void neighbours_share_a_slab(void **state)
{
	struct secret_store *s = *state;
	const struct secret *a, *b;

	assert_int_equal(secrets_put(s, "a", "fake-a", 6, ORIGIN_ADDED, 0), 0);
	assert_int_equal(secrets_put(s, "b", "fake-b", 6, ORIGIN_ADDED, 0), 0);
	a = secrets_find(s, "a", 0);
	b = secrets_find(s, "b", 0);
	assert_ptr_equal(a->slab, b->slab);
	secret_reveal(a);
	secret_reveal(b);
	secret_conceal(a);
	assert_false(read_faults(a)); /* b's reveal holds the slab */
	secret_conceal(b);
	assert_true(read_faults(b));
	/* Removing a revealed entry (a caller's bug) does not leave the slab readable. */
	secret_reveal(a);
	assert_int_equal(secrets_remove(s, "a"), 0);
	assert_true(read_faults(secrets_find(s, "b", 0)));
}

static void capacity_is_capped(void **state)
{
	struct secret_store *s = *state;
	char name[32];

	for (int i = 0; i < SECRETS_MAX; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		assert_int_equal(secrets_put(s, name, "v", 1, ORIGIN_ADDED, 0), 0);
	}
	assert_int_equal(secrets_put(s, "one-more", "v", 1, ORIGIN_ADDED, 0), -ENOSPC);
	/* Replacing an existing name still works at the cap. */
	assert_int_equal(secrets_put(s, "s0", "w", 1, ORIGIN_ADDED, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(put_and_find, setup, teardown),
		cmocka_unit_test_setup_teardown(replace_changes_value_and_fingerprint, setup,
						teardown),
		cmocka_unit_test_setup_teardown(rejects_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(lifetime_on_injected_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(remove_and_origins, setup, teardown),
		cmocka_unit_test_setup_teardown(why_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(capacity_is_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(value_readable_only_while_revealed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(neighbours_share_a_slab, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("secrets", tests, NULL, NULL);
}
