/* SPDX-License-Identifier: MIT */
/*
 * A log rate limit as journald's: at most @burst lines per @interval, the
 * rest counted, not written, and once the interval is over one summary of
 * how many were suppressed.  Pure bookkeeping: the caller passes the time
 * (a monotonic clock, microseconds) and writes the lines.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
	uint64_t interval;   /* microseconds */
	unsigned burst;      /* lines per interval */
	uint64_t begin;      /* when the current interval began; none while n is 0 */
	unsigned n;          /* lines counted in it, written or not */
	unsigned suppressed; /* of those, not written */
};

#define RATELIMIT_INIT(interval_usec, burst_lines)                  \
	{                                                           \
		.interval = (interval_usec), .burst = (burst_lines) \
	}

/*
 * Counts one line at @now; true when it may be written.  A line after the
 * interval ended opens a new one: call ratelimit_flush() first, so the
 * summary of the last one is not lost.
 */
bool ratelimit_allow(struct ratelimit *rl, uint64_t now);
/*
 * Ends the current interval when it is over at @now, or at once when
 * @force: returns how many lines it suppressed (0 when none, or while it
 * runs) and sets *@ret_usec to how long ago it began when that is not 0.
 */
unsigned ratelimit_flush(struct ratelimit *rl, uint64_t now, bool force, uint64_t *ret_usec);
/* When the current interval ends, for a timer that writes the summary; 0
 * when nothing is suppressed. */
uint64_t ratelimit_deadline(const struct ratelimit *rl);
