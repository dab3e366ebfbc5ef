/* SPDX-License-Identifier: MIT */
/*
 * The profiles in force: the configuration's and those `aoai add --host`
 * created, looked up together.
 */
#pragma once

#include <stddef.h>

#include "agent.h"

/* Number of profiles, and profile @i of them (configuration first). */
size_t profiles_count(const struct agent *a);
const struct profile *profiles_at(const struct agent *a, size_t i);
/* The profile named @name, or NULL. */
const struct profile *profiles_find(const struct agent *a, const char *name);
/* The most specific profile covering @t (aoai-agent.json(5)), or NULL. */
const struct profile *profiles_match(const struct agent *a, const struct url_target *t);
/*
 * The most specific profile that would cover @t on some other port, with
 * the pattern that would (*ret_pattern), or NULL: for the message when
 * profiles_match() finds none, as a missing ":PORT" is a common slip.
 */
const struct profile *profiles_match_any_port(const struct agent *a, const struct url_target *t,
					      const struct host_pattern **ret_pattern);
/* The profile that lists exactly @pattern, or NULL. */
const struct profile *profiles_with_pattern(const struct agent *a, const struct host_pattern *p);
/* True when @p sends the secret @name: its credential's, or a {secret:NAME} header. */
bool profile_uses_secret(const struct profile *p, const char *name);
/* True when @p was created by `aoai add --host`. */
bool profile_is_added(const struct agent *a, const struct profile *p);
