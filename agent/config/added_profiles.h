/* SPDX-License-Identifier: MIT */
/*
 * Profiles created on the fly by `aoai add NAME --host HOST`: an api-key
 * profile named after the secret, serving one host pattern.  They live until
 * the secret is removed and survive configuration reloads.
 */
#pragma once

#include <stddef.h>

#include "config.h"

#define ADDED_PROFILES_MAX 1024

struct added_profiles;

struct added_profiles *added_profiles_new(void);
struct added_profiles *added_profiles_free(struct added_profiles *list);

/* Creates profile @name for @host, or moves it to @host.  Returns 0,
 * -ENOSPC or -ENOMEM. */
int added_profiles_set(struct added_profiles *list, const char *name,
		       const struct host_pattern *host);
/* Forgets profile @name.  Returns 0 or -ENOENT. */
int added_profiles_remove(struct added_profiles *list, const char *name);
/* A number that changes whenever a profile is set or removed (the
 * "hosts" operation's watchers are told of changes by it). */
unsigned long added_profiles_generation(const struct added_profiles *list);
size_t added_profiles_count(const struct added_profiles *list);
const struct profile *added_profiles_at(const struct added_profiles *list, size_t i);
