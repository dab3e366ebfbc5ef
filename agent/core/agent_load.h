/* SPDX-License-Identifier: MIT */
/* Loading the configuration into the agent, and the expiry of its secrets. */
#pragma once

#include <stddef.h>

#include "agent.h"

/* Re-arms the timer that wipes secrets when they expire.  Call after any
 * change to the store. */
void agent_schedule_expiry(struct agent *a);

/*
 * Loads (or reloads) the configuration and the secrets it names.  On failure
 * the running configuration stays and a message naming file, profile and key
 * is written to @err.  Returns 0 or a negative errno.
 */
int agent_load_config(struct agent *a, char *err, size_t errlen);
/* Forgets the sign-ins that @c's profiles no longer make with the same
 * credential (a reload; an unlock, for persisted ones).  Returns how many. */
unsigned agent_prune_signins(struct agent *a, const struct config *c);
