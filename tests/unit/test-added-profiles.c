/* SPDX-License-Identifier: MIT */
/* Profiles added with `aoai add --host`, and the generation that tells the
 * "hosts" operation's watchers the list changed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "added_profiles.h"

static struct host_pattern pattern(const char *text)
{
	struct host_pattern p;
	char err[256];

	assert_int_equal(host_pattern_parse(text, &p, err, sizeof(err)), 0);
	return p;
}

static void set_and_remove(void **state)
{
	struct added_profiles *list = added_profiles_new();
	struct host_pattern a = pattern("a.example"), b = pattern("*.b.example:8443");

	(void)state;
	assert_non_null(list);
	assert_int_equal(added_profiles_set(list, "one", &a), 0);
	assert_int_equal(added_profiles_count(list), 1);
	assert_string_equal(added_profiles_at(list, 0)->name, "one");
	assert_true(host_pattern_equal(&added_profiles_at(list, 0)->hosts[0], &a));
	/* Setting an existing name moves it to the new host. */
	assert_int_equal(added_profiles_set(list, "one", &b), 0);
	assert_int_equal(added_profiles_count(list), 1);
	assert_true(host_pattern_equal(&added_profiles_at(list, 0)->hosts[0], &b));
	assert_int_equal(added_profiles_remove(list, "one"), 0);
	assert_int_equal(added_profiles_remove(list, "one"), -ENOENT);
	assert_int_equal(added_profiles_count(list), 0);
	added_profiles_free(list);
}

static void generation_follows_every_change(void **state)
{
	struct added_profiles *list = added_profiles_new();
	struct host_pattern a = pattern("a.example"), b = pattern("b.example");
	unsigned long g0, g1, g2, g3;

	(void)state;
	g0 = added_profiles_generation(list);
	assert_int_equal(added_profiles_set(list, "one", &a), 0);
	g1 = added_profiles_generation(list);
	assert_true(g1 != g0);
	assert_int_equal(added_profiles_set(list, "one", &b), 0);
	g2 = added_profiles_generation(list);
	assert_true(g2 != g1);
	/* Nothing removed, nothing changed. */
	assert_int_equal(added_profiles_remove(list, "none"), -ENOENT);
	assert_true(added_profiles_generation(list) == g2);
	assert_int_equal(added_profiles_remove(list, "one"), 0);
	g3 = added_profiles_generation(list);
	assert_true(g3 != g2 && g3 != g0);
	added_profiles_free(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_and_remove),
		cmocka_unit_test(generation_follows_every_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
