/* SPDX-License-Identifier: MIT */
/* The agent's clock, with no agent to ask: any room may tell the time. */
#pragma once

#include <stdint.h>

#define USEC_PER_SEC 1000000ULL

/* Now on CLOCK_BOOTTIME, in microseconds: lifetimes keep running while the
 * machine sleeps, as ssh-agent's do.  Never fails. */
uint64_t clock_now(void);
