/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "signins.h"

static void test_put_find_rotate(void **state)
{
	struct signins *s = NULL;
	const struct signin *in;

	(void)state;
	assert_int_equal(signins_new(&s), 0);
	assert_null(signins_find(s, "me", "b1"));
	assert_int_equal(signins_put(s, "me", "b1", "RT-1", 4, "ada@x"), 0);
	in = signins_find(s, "me", "b1");
	assert_non_null(in);
	signin_reveal(in);
	assert_memory_equal(in->refresh_token, "RT-1", 4);
	signin_conceal(in);
	assert_string_equal(in->account, "ada@x");
	/* Another credential: not this sign-in. */
	assert_null(signins_find(s, "me", "b2"));
	/* Rotation keeps the account when the response names nobody. */
	assert_int_equal(signins_put(s, "me", "b1", "RT-22", 5, ""), 0);
	in = signins_find(s, "me", "b1");
	signin_reveal(in);
	assert_int_equal(in->len, 5);
	assert_memory_equal(in->refresh_token, "RT-22", 5);
	signin_conceal(in);
	assert_string_equal(in->account, "ada@x");
	signins_free(s);
}

static void test_require_forget(void **state)
{
	struct signins *s = NULL;

	(void)state;
	assert_int_equal(signins_new(&s), 0);
	assert_int_equal(signins_put(s, "a", "b", "RT", 2, "x"), 0);
	assert_int_equal(signins_put(s, "c", "b", "RT", 2, "y"), 0);
	signins_require(s, "a", "invalid_grant");
	assert_null(signins_find(s, "a", "b"));
	assert_string_equal(signins_peek(s, "a")->why, "invalid_grant");
	assert_true(signins_forget(s, "a"));
	assert_false(signins_forget(s, "a"));
	assert_null(signins_peek(s, "a"));
	assert_int_equal(signins_forget_all(s), 1);
	assert_null(signins_peek(s, "c"));
	signins_free(s);
	assert_null(signins_free(NULL));
}

static bool keep_a(const char *profile, const char *binding, void *data)
{
	(void)binding;
	(void)data;
	return strcmp(profile, "a") == 0;
}

static void count_call(void *data)
{
	(*(int *)data)++;
}

/* The store's hook: called for changes of persisted sign-ins only, never by a lock. */
static void test_persist_hook(void **state)
{
	struct signins *s = NULL;
	int calls = 0;

	(void)state;
	assert_int_equal(signins_new(&s), 0);
	signins_set_hook(s, count_call, &calls);
	assert_int_equal(signins_put(s, "me", "b1", "RT-1", 4, "ada@x"), 0);
	assert_int_equal(calls, 0); /* not persisted */
	assert_int_equal(signins_persist(s, "nobody", true), -ENOENT);
	assert_int_equal(signins_persist(s, "me", true), 0);
	assert_int_equal(calls, 1);
	assert_true(signins_peek(s, "me")->persisted);
	assert_int_equal(signins_put(s, "me", "b1", "RT-2", 4, ""), 0); /* rotation */
	assert_int_equal(calls, 2);
	assert_true(signins_peek(s, "me")->persisted);
	assert_int_equal(signins_forget_all(s), 1); /* lock: the store keeps it */
	assert_int_equal(calls, 2);
	assert_int_equal(signins_put(s, "me", "b1", "RT-3", 4, ""), 0);
	assert_int_equal(signins_persist(s, "me", true), 0);
	signins_require(s, "me", "invalid_grant");
	assert_int_equal(calls, 4);
	assert_false(signins_peek(s, "me")->persisted);
	assert_int_equal(signins_put(s, "me", "b1", "RT-4", 4, ""), 0);
	assert_int_equal(signins_persist(s, "me", true), 0);
	assert_true(signins_forget(s, "me")); /* logout */
	assert_int_equal(calls, 6);
	signins_free(s);
}

static void test_prune(void **state)
{
	struct signins *s = NULL;

	(void)state;
	assert_int_equal(signins_new(&s), 0);
	assert_int_equal(signins_put(s, "a", "b", "RT", 2, ""), 0);
	assert_int_equal(signins_put(s, "c", "b", "RT", 2, ""), 0);
	assert_int_equal(signins_prune(s, keep_a, NULL), 1);
	assert_non_null(signins_find(s, "a", "b"));
	assert_null(signins_peek(s, "c"));
	signins_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_find_rotate),
		cmocka_unit_test(test_require_forget),
		cmocka_unit_test(test_prune),
		cmocka_unit_test(test_persist_hook),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
