/* SPDX-License-Identifier: MIT */
/*
 * Counts of credential releases and refusals per profile name, since the
 * agent started, for `aoai status`.  Keyed by name, so the counts survive
 * configuration reloads and a profile removed and added again; bounded:
 * names past AUDIT_MAX_PROFILES are counted together as "other".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define AUDIT_MAX_PROFILES 4096

struct audit_count {
	uint64_t released;
	uint64_t refused;
};

struct audit_entry {
	char name[PROTO_MAX_NAME + 1];
	struct audit_count count;
};

struct audit;

/* Returns a new, empty table or NULL. */
struct audit *audit_new(void);
/* Frees @a (NULL is fine); returns NULL. */
struct audit *audit_free(struct audit *a);

/*
 * Counts one release (@released) or refusal of profile @name.  NULL: a
 * refusal no profile can be named for (no profile covers the host, plain
 * http, an unknown profile), counted as unmatched.  Never fails: a name
 * that does not fit (too long, table full, out of memory) is counted as
 * "other".
 */
void audit_count(struct audit *a, const char *name, bool released);

/* The profiles counted so far, sorted by name. */
size_t audit_size(const struct audit *a);
const struct audit_entry *audit_at(const struct audit *a, size_t i);
/* Refusals without a profile. */
uint64_t audit_unmatched(const struct audit *a);
/* What was counted under names that did not fit in the table. */
struct audit_count audit_other(const struct audit *a);
