/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "agent.h"
#include "notify.h"
#include "profiles.h"
#include "secrets.h"
#include "tokens.h"

static size_t held_secrets(const struct agent *a)
{
	size_t n = 0;

	for (size_t i = 0; i < secrets_count(a->secrets); i++)
		n += secrets_at(a->secrets, i)->value != NULL;
	return n;
}

void notify_format_status(const struct agent *a, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%zu profiles, %zu secrets, %u tokens",
			 a->config ? profiles_count(a) : 0, a->secrets ? held_secrets(a) : 0,
			 a->tokens ? tokens_valid_count(a->tokens) : 0);

	/* The error names file, profile and key, never a value. */
	if (a->last_reload_error && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "; last error: %s", a->last_reload_error);
}

static void notify_with_status(const struct agent *a, const char *what)
{
	char status[1024];

	notify_format_status(a, status, sizeof(status));
	sd_notifyf(0, "%sSTATUS=%s", what, status);
}

void notify_ready(const struct agent *a)
{
	notify_with_status(a, "READY=1\n");
}

void notify_status(const struct agent *a)
{
	notify_with_status(a, "");
}

void notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
		   (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
}

void notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

static uint64_t watchdog_usec;

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct agent *a = userdata;
	char status[1024];
	int r;

	notify_format_status(a, status, sizeof(status));
	sd_notifyf(0, "WATCHDOG=1\nSTATUS=%s", status);
	r = sd_event_source_set_time(s, usec + watchdog_usec / 2);
	return r < 0 ? r : sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

int notify_watchdog_start(struct agent *a)
{
	uint64_t now;
	int r = sd_watchdog_enabled(1, &watchdog_usec);

	if (r <= 0)
		return r;
	r = sd_event_now(a->event, CLOCK_MONOTONIC, &now);
	if (r >= 0)
		r = sd_event_add_time(a->event, NULL, CLOCK_MONOTONIC, now + watchdog_usec / 2, 0,
				      on_watchdog, a);
	return r < 0 ? r : 0;
}
