/* SPDX-License-Identifier: MIT */
/* When tokens are refreshed, and how failed fetches back off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>

#include "token_schedule.h"

#define SEC 1000000ULL

static void refresh_in_wins(void **state)
{
	(void)state;
	assert_int_equal(token_refresh_delay(86400, 3600), 3600 * SEC);
	assert_int_equal(token_refresh_delay(3600, 60), 60 * SEC);
	/* A refresh_in at or past expiry is ignored. */
	assert_int_equal(token_refresh_delay(86400, 86400), 43200 * SEC);
	assert_int_equal(token_refresh_delay(86400, 0), 43200 * SEC);
}

static void half_life_over_two_hours(void **state)
{
	(void)state;
	/* Managed identity tokens live ~24 h: refreshed after 12 h. */
	assert_int_equal(token_refresh_delay(86399, -1), 43199 * SEC);
	assert_int_equal(token_refresh_delay(7201, -1), 3600 * SEC);
	/* Exactly two hours is not "over": five minutes before expiry. */
	assert_int_equal(token_refresh_delay(7200, -1), (7200 - 300) * SEC);
}

static void five_minutes_before_expiry(void **state)
{
	(void)state;
	/* Entra's one-hour tokens (expires_in 3599). */
	assert_int_equal(token_refresh_delay(3599, -1), (3599 - 300) * SEC);
	assert_int_equal(token_refresh_delay(600, -1), 300 * SEC);
}

static void short_tokens_refreshed_while_served(void **state)
{
	(void)state;
	/* Served for 10 s (until 30 s before expiry): refreshed after 5. */
	assert_int_equal(token_refresh_delay(40, -1), 5 * SEC);
	/* Under five minutes: halfway through the served window. */
	assert_int_equal(token_refresh_delay(200, -1), 85 * SEC);
	assert_int_equal(token_refresh_delay(310, -1), 10 * SEC);
	/* A refresh_in beyond the served window is pulled in as well. */
	assert_int_equal(token_refresh_delay(100, 90), 35 * SEC);
	assert_int_equal(token_refresh_delay(31, -1), 1 * SEC);
	/* Too short to serve at all, or already expired: only on demand. */
	assert_int_equal(token_refresh_delay(30, -1), 0);
	assert_int_equal(token_refresh_delay(-5, 10), 0);
}

/* Every draw of the jittered delay lies within ±25% of @base. */
static void assert_jitter(unsigned attempts, uint64_t base)
{
	for (int i = 0; i < 200; i++) {
		uint64_t d = token_backoff(attempts, -1);

		assert_true(d >= base * 3 / 4);
		assert_true(d < base * 5 / 4);
	}
}

static void backoff_doubles_to_a_minute(void **state)
{
	(void)state;
	assert_jitter(1, 1 * SEC);
	assert_jitter(2, 2 * SEC);
	assert_jitter(3, 4 * SEC);
	assert_jitter(6, 32 * SEC);
	assert_jitter(7, 60 * SEC);
	assert_jitter(1000, 60 * SEC);
	assert_jitter(0, 1 * SEC); /* no underflow */
}

static void retry_after_is_a_floor(void **state)
{
	(void)state;
	assert_int_equal(token_backoff(1, 10), 10 * SEC);
	assert_int_equal(token_backoff(7, 120), 120 * SEC);
	/* Capped: a broken server cannot park the profile for a day. */
	assert_int_equal(token_backoff(1, 86400), TOKEN_RETRY_AFTER_MAX_SEC * SEC);
	/* Shorter than the backoff: the backoff stands. */
	assert_true(token_backoff(7, 1) >= 45 * SEC);
	assert_true(token_backoff(1, 0) >= SEC * 3 / 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(refresh_in_wins),
		cmocka_unit_test(half_life_over_two_hours),
		cmocka_unit_test(five_minutes_before_expiry),
		cmocka_unit_test(short_tokens_refreshed_while_served),
		cmocka_unit_test(backoff_doubles_to_a_minute),
		cmocka_unit_test(retry_after_is_a_floor),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("token_schedule", tests, NULL, NULL);
}
