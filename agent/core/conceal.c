/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>

#include "conceal.h"
#include "secrets.h"

#define CONCEAL_ACCURACY_USEC (10 * 1000)

/* One timer for the process, as there is one loop and one store.  It is
 * floating (the loop frees it): this is a borrowed handle to re-arm it,
 * valid while the loop it came from is the agent's. */
static sd_event_source *timer;
static sd_event *timer_loop;

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	const struct agent *a = userdata;

	(void)s;
	(void)usec;
	if (a->secrets)
		secrets_conceal_idle(a->secrets);
	return 0;
}

static int rearm(void)
{
	int state = SD_EVENT_OFF;
	int r = sd_event_source_get_enabled(timer, &state);

	if (r >= 0 && state == SD_EVENT_ONESHOT)
		return 0; /* armed: the burst's first release set the deadline */
	r = sd_event_source_set_time_relative(timer, CONCEAL_DELAY_USEC);
	return r < 0 ? r : sd_event_source_set_enabled(timer, SD_EVENT_ONESHOT);
}

static int create(const struct agent *a)
{
	int r = sd_event_add_time_relative(a->event, &timer, CLOCK_MONOTONIC, CONCEAL_DELAY_USEC,
					   CONCEAL_ACCURACY_USEC, on_timer, (void *)a);

	if (r < 0) {
		timer = NULL;
		return r;
	}
	r = sd_event_source_set_floating(timer, true);
	if (r < 0) {
		timer = sd_event_source_disable_unref(timer);
		return r;
	}
	timer_loop = a->event;
	return 0;
}

void conceal_soon(const struct agent *a)
{
	int r = -EINVAL;

	if (a->event)
		r = timer && timer_loop == a->event ? rearm() : create(a);
	if (r < 0)
		secrets_conceal_idle(a->secrets);
}
