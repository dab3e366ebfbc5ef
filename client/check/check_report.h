/* SPDX-License-Identifier: MIT */
/*
 * What `aoai check` prints: the token's header and claims (never its
 * signature), where the keys came from, and one line per check, as text
 * for people or JSON for scripts.
 */
#pragma once

#include <stdio.h>

#include "jwt.h"
#include "run.h"

/* @source says where the token came from: "stdin", "profile vm" … */
void report_text(FILE *out, const struct jwt *jwt, const char *source, const char *policy,
		 const struct check_run *run, time_t now);
/* Returns 0, or -ENOMEM / -EIO. */
int report_json(FILE *out, const struct jwt *jwt, const char *source, const char *policy,
		const struct check_run *run);
