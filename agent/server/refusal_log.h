/* SPDX-License-Identifier: MIT */
/*
 * The log lines of refused connections, rate-limited (ratelimit.c): once
 * an owner has loosened the socket's modes, another uid could otherwise
 * write a line per connection as fast as it can connect.  Past the burst a
 * timer writes "suppressed K refusal lines in the last S s" when the
 * interval ends, so the count of refusals in the log stays whole.  Only
 * these lines: releases (log_release()) are the audit trail, never limited.
 */
#pragma once

#include "agent.h"

#define REFUSAL_LOG_BURST         10               /* lines per interval */
#define REFUSAL_LOG_INTERVAL_USEC (5ULL * 1000000) /* of clock_now() */

/* Sets the limit up; before the first refusal_log_warn(). */
void refusal_log_init(struct agent *a);
/* A warning about a refused connection, unless the limit is reached. */
void refusal_log_warn(struct agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes the summary still pending (at exit) and frees the timer. */
void refusal_log_done(struct agent *a);
