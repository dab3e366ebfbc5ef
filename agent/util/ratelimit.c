/* SPDX-License-Identifier: MIT */
#include <limits.h>

#include "ratelimit.h"

static bool interval_over(const struct ratelimit *rl, uint64_t now)
{
	return rl->n == 0 || now - rl->begin >= rl->interval;
}

bool ratelimit_allow(struct ratelimit *rl, uint64_t now)
{
	/* A count not flushed is kept for the next summary: never lost. */
	if (interval_over(rl, now)) {
		rl->begin = now;
		rl->n = 0;
	}
	if (rl->n < UINT_MAX)
		rl->n++;
	if (rl->n <= rl->burst)
		return true;
	if (rl->suppressed < UINT_MAX)
		rl->suppressed++;
	return false;
}

unsigned ratelimit_flush(struct ratelimit *rl, uint64_t now, bool force, uint64_t *ret_usec)
{
	unsigned suppressed = rl->suppressed;

	if (suppressed == 0 || (!force && !interval_over(rl, now)))
		return 0;
	*ret_usec = now - rl->begin;
	rl->n = 0;
	rl->suppressed = 0;
	return suppressed;
}

uint64_t ratelimit_deadline(const struct ratelimit *rl)
{
	return rl->suppressed ? rl->begin + rl->interval : 0;
}
