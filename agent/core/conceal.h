/* SPDX-License-Identifier: MIT */
/*
 * Concealing secrets again after a burst of releases: mprotect() costs a
 * request more than everything else the agent does for it (it flushes the
 * TLB), so releases leave the values they read readable
 * (secret_conceal_later()) and a timer conceals them soon after.
 */
#pragma once

#include "agent.h"

/* The longest a released secret stays readable after the first release. */
#define CONCEAL_DELAY_USEC (100 * 1000)

/*
 * Arms the timer that runs secrets_conceal_idle() on @a's store
 * CONCEAL_DELAY_USEC from now, unless it is armed already (so a steady
 * stream of requests switches ten times a second, not once per request).
 * Without a loop, or when the timer cannot be armed, conceals at once.
 */
void conceal_soon(const struct agent *a);
