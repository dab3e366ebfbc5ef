/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "refusal_log.h"

void refusal_log_init(struct agent *a)
{
	a->refusals =
	    (struct ratelimit)RATELIMIT_INIT(REFUSAL_LOG_INTERVAL_USEC, REFUSAL_LOG_BURST);
}

/* The summary of an interval that is over (or of the last one, @force).
 * The span is rounded to the nearest second: the timer fires a little
 * after the interval's end, and "6 s" for a 5 s interval would mislead. */
static void summarize(struct agent *a, uint64_t now, bool force)
{
	uint64_t span = 0, seconds;
	unsigned n = ratelimit_flush(&a->refusals, now, force, &span);

	if (n == 0)
		return;
	seconds = (span + USEC_PER_SEC / 2) / USEC_PER_SEC;
	log_warn("suppressed %u refusal lines in the last %llu s", n,
		 (unsigned long long)(seconds ? seconds : 1));
}

static int on_interval_end(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	summarize(userdata, clock_now(), false);
	return 0;
}

/* Once lines are suppressed, the summary must come even if no other
 * refusal does.  Without a timer it comes with the next refusal line. */
static void arm_summary(struct agent *a)
{
	uint64_t when = ratelimit_deadline(&a->refusals);
	int r;

	if (!when || !a->event)
		return;
	if (!a->refusals_timer)
		r = sd_event_add_time(a->event, &a->refusals_timer, CLOCK_BOOTTIME, when, 0,
				      on_interval_end, a);
	else
		r = sd_event_source_set_time(a->refusals_timer, when);
	if (r >= 0)
		r = sd_event_source_set_enabled(a->refusals_timer, SD_EVENT_ONESHOT);
	if (r < 0)
		log_error("cannot arm the refusal summary timer: %s", strerror(-r));
}

void refusal_log_warn(struct agent *a, const char *fmt, ...)
{
	uint64_t now = clock_now();
	char line[LOG_MAX_LINE];
	va_list ap;

	summarize(a, now, false);
	if (!ratelimit_allow(&a->refusals, now)) {
		arm_summary(a);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_warn("%s", line);
}

void refusal_log_done(struct agent *a)
{
	summarize(a, clock_now(), true);
	a->refusals_timer = sd_event_source_disable_unref(a->refusals_timer);
}
