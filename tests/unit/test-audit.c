/* SPDX-License-Identifier: MIT */
/* The per-profile release/refusal counters behind `aoai status`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "audit.h"

static const struct audit_entry *entry(const struct audit *a, const char *name)
{
	for (size_t i = 0; i < audit_size(a); i++)
		if (strcmp(audit_at(a, i)->name, name) == 0)
			return audit_at(a, i);
	return NULL;
}

static void counts_per_name(void **state)
{
	struct audit *a = audit_new();

	(void)state;
	assert_non_null(a);
	audit_count(a, "contoso", true);
	audit_count(a, "contoso", true);
	audit_count(a, "contoso", false);
	audit_count(a, "vm", false);
	assert_int_equal(audit_size(a), 2);
	assert_int_equal(entry(a, "contoso")->count.released, 2);
	assert_int_equal(entry(a, "contoso")->count.refused, 1);
	assert_int_equal(entry(a, "vm")->count.released, 0);
	assert_int_equal(entry(a, "vm")->count.refused, 1);
	assert_int_equal(audit_unmatched(a), 0);
	assert_null(audit_at(a, 2));
	a = audit_free(a);
	assert_null(a);
}

static void unmatched_refusals(void **state)
{
	struct audit *a = audit_new();

	(void)state;
	audit_count(a, NULL, false);
	audit_count(a, NULL, false);
	assert_int_equal(audit_unmatched(a), 2);
	assert_int_equal(audit_size(a), 0);
	audit_free(a);
}

/* Listed in name order whatever the order of first use. */
static void sorted_by_name(void **state)
{
	static const char *const names[] = { "m", "b", "z", "a", "k", "b", "a" };
	struct audit *a = audit_new();

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		audit_count(a, names[i], true);
	assert_int_equal(audit_size(a), 5);
	for (size_t i = 1; i < audit_size(a); i++)
		assert_true(strcmp(audit_at(a, i - 1)->name, audit_at(a, i)->name) < 0);
	assert_int_equal(entry(a, "a")->count.released, 2);
	audit_free(a);
}

/* Past AUDIT_MAX_PROFILES names, and for a name too long to be a profile's,
 * counts go to "other": nothing is lost, nothing grows without bound. */
static void bounded(void **state)
{
	struct audit *a = audit_new();
	char name[32], longname[PROTO_MAX_NAME + 2];
	struct audit_count other;

	(void)state;
	for (unsigned i = 0; i < AUDIT_MAX_PROFILES + 10; i++) {
		snprintf(name, sizeof(name), "p%05u", i);
		audit_count(a, name, i % 2 == 0);
	}
	assert_int_equal(audit_size(a), AUDIT_MAX_PROFILES);
	other = audit_other(a);
	assert_int_equal(other.released + other.refused, 10);
	/* Names already in the table still count as themselves. */
	audit_count(a, "p00000", true);
	assert_int_equal(entry(a, "p00000")->count.released, 2);

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	audit_count(a, longname, false);
	assert_int_equal(audit_other(a).refused, other.refused + 1);
	audit_free(a);
}

static void null_table(void **state)
{
	(void)state;
	audit_count(NULL, "x", true); /* no table (out of memory at start): ignored */
	assert_int_equal(audit_size(NULL), 0);
	assert_int_equal(audit_unmatched(NULL), 0);
	assert_null(audit_at(NULL, 0));
	assert_null(audit_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counts_per_name), cmocka_unit_test(unmatched_refusals),
		cmocka_unit_test(sorted_by_name),  cmocka_unit_test(bounded),
		cmocka_unit_test(null_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
