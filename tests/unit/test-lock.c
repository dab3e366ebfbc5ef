/* SPDX-License-Identifier: MIT */
/* Lock / unlock and the growing delay after wrong passphrases. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>

#include "lock.h"

#define SEC 1000000ULL

static void lock_and_unlock(void **state)
{
	struct agent_lock *l = lock_new();

	(void)state;
	assert_false(lock_is_locked(l));
	assert_int_equal(lock_unlock(l, "x", 1, 0), -EALREADY);
	assert_int_equal(lock_lock(l, "correct horse", 13), 0);
	assert_true(lock_is_locked(l));
	assert_int_equal(lock_lock(l, "again", 5), -EBUSY);
	assert_int_equal(lock_unlock(l, "correct horse", 13, 0), 0);
	assert_false(lock_is_locked(l));
	lock_free(l);
}

static void wrong_passphrase_doubles_delay(void **state)
{
	struct agent_lock *l = lock_new();
	uint64_t now = 100 * SEC;
	uint64_t expected[] = { 1, 2, 4, 8, 16, 32, 32 };

	(void)state;
	assert_int_equal(lock_lock(l, "pass", 4), 0);
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		assert_int_equal(lock_unlock(l, "wrong", 5, now), -EACCES);
		assert_int_equal(lock_next_attempt(l), now + expected[i] * SEC);
		now = lock_next_attempt(l);
	}
	/* A prefix of the passphrase is not the passphrase. */
	assert_int_equal(lock_unlock(l, "pas", 3, now), -EACCES);
	now = lock_next_attempt(l);
	assert_int_equal(lock_unlock(l, "pass", 4, now), 0);
	assert_int_equal(lock_next_attempt(l), 0);
	/* The delay starts over after a good unlock. */
	assert_int_equal(lock_lock(l, "pass", 4), 0);
	assert_int_equal(lock_unlock(l, "nope", 4, now), -EACCES);
	assert_int_equal(lock_next_attempt(l), now + 1 * SEC);
	lock_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lock_and_unlock),
		cmocka_unit_test(wrong_passphrase_doubles_delay),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("lock", tests, NULL, NULL);
}
