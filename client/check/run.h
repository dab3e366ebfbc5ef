/* SPDX-License-Identifier: MIT */
/*
 * The checks themselves, in the order API Management makes them: the
 * signature against the issuer's keys, the lifetime, then audience,
 * issuer, client application and required claims.
 */
#pragma once

#include <stddef.h>
#include <time.h>

#include "expect.h"
#include "jwt.h"
#include "keys.h"

struct check_run {
	struct jwt_check *checks;
	size_t n;
	struct check_keys *keys; /* what was fetched, per configuration */
	size_t n_keys;
};

/* Runs every check @e asks for at @now.  Returns 0 or -ENOMEM. */
int check_run(const struct jwt *jwt, const struct expect *e, const char *socket, time_t now,
	      struct check_run *ret);
bool check_run_ok(const struct check_run *run);
void check_run_done(struct check_run *run);
