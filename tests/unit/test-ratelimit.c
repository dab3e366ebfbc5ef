/* SPDX-License-Identifier: MIT */
/* The log rate limit: a burst per interval, the rest counted for one summary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ratelimit.h"

#define SEC      1000000ULL
#define INTERVAL (5 * SEC)
#define BURST    3
#define T0       (1000 * SEC) /* a monotonic clock's arbitrary start */

static unsigned allowed(struct ratelimit *rl, uint64_t now, unsigned lines)
{
	unsigned n = 0;

	for (unsigned i = 0; i < lines; i++)
		n += ratelimit_allow(rl, now);
	return n;
}

static void burst_then_summary(void **state)
{
	struct ratelimit rl = RATELIMIT_INIT(INTERVAL, BURST);
	uint64_t span = 0;

	(void)state;
	assert_int_equal(ratelimit_deadline(&rl), 0);
	assert_int_equal(allowed(&rl, T0, BURST), BURST);
	assert_int_equal(ratelimit_deadline(&rl), 0); /* nothing suppressed: no summary due */
	assert_int_equal(allowed(&rl, T0 + SEC, 100), 0);
	assert_int_equal(ratelimit_deadline(&rl), T0 + INTERVAL);
	/* Not before the interval ends. */
	assert_int_equal(ratelimit_flush(&rl, T0 + INTERVAL - 1, false, &span), 0);
	assert_int_equal(ratelimit_allow(&rl, T0 + INTERVAL - 1), false);
	assert_int_equal(ratelimit_flush(&rl, T0 + INTERVAL, false, &span), 101);
	assert_int_equal(span, INTERVAL);
	assert_int_equal(ratelimit_flush(&rl, T0 + INTERVAL, false, &span), 0); /* once */
	assert_int_equal(ratelimit_deadline(&rl), 0);
	/* A new interval: a new burst. */
	assert_int_equal(allowed(&rl, T0 + INTERVAL, BURST + 2), BURST);
	assert_int_equal(ratelimit_deadline(&rl), T0 + 2 * INTERVAL);
}

/* Every line is either allowed or in a summary, whatever the timing. */
static void counts_add_up(void **state)
{
	struct ratelimit rl = RATELIMIT_INIT(INTERVAL, BURST);
	unsigned shown = 0, summarised = 0, total = 0;
	uint64_t now = T0, span;

	(void)state;
	for (unsigned i = 0; i < 1000; i++) {
		now += (i % 7) * SEC / 3;
		summarised += ratelimit_flush(&rl, now, false, &span);
		shown += ratelimit_allow(&rl, now);
		total++;
	}
	summarised += ratelimit_flush(&rl, now, true, &span);
	assert_int_equal(shown + summarised, total);
	assert_true(shown > 0 && summarised > 0);
}

static void forced_flush_at_exit(void **state)
{
	struct ratelimit rl = RATELIMIT_INIT(INTERVAL, BURST);
	uint64_t span = 0;

	(void)state;
	assert_int_equal(ratelimit_flush(&rl, T0, true, &span), 0); /* nothing to say */
	assert_int_equal(allowed(&rl, T0, BURST + 4), BURST);
	assert_int_equal(ratelimit_flush(&rl, T0 + 2 * SEC, true, &span), 4);
	assert_int_equal(span, 2 * SEC);
}

/* A count not flushed before the next interval is kept, not lost. */
static void unflushed_count_kept(void **state)
{
	struct ratelimit rl = RATELIMIT_INIT(INTERVAL, BURST);
	uint64_t span = 0;

	(void)state;
	assert_int_equal(allowed(&rl, T0, BURST + 2), BURST);
	assert_true(ratelimit_allow(&rl, T0 + 2 * INTERVAL));
	assert_int_equal(ratelimit_flush(&rl, T0 + 2 * INTERVAL, true, &span), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_summary),
		cmocka_unit_test(counts_add_up),
		cmocka_unit_test(forced_flush_at_exit),
		cmocka_unit_test(unflushed_count_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
