/* SPDX-License-Identifier: MIT */
/*
 * The service manager's side of the agent (sd_notify): readiness, a status
 * line, reload and stop announcements, and watchdog pings.  Each call is a
 * no-op when $NOTIFY_SOCKET is unset.
 */
#pragma once

#include <stddef.h>

struct agent;

/* "N profiles, N secrets, N tokens[; last error: …]" into @buf. */
void notify_format_status(const struct agent *a, char *buf, size_t len);
/* READY=1 with the status line. */
void notify_ready(const struct agent *a);
/* STATUS= alone, after something it counts has changed. */
void notify_status(const struct agent *a);
/* RELOADING=1 with MONOTONIC_USEC=, before a reload starts. */
void notify_reloading(void);
void notify_stopping(void);
/* When the manager asked for a watchdog ($WATCHDOG_USEC, for our pid),
 * pings it at half the interval from a timer on the agent's event loop.
 * Returns 0 or a negative errno. */
int notify_watchdog_start(struct agent *a);
