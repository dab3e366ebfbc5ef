/* SPDX-License-Identifier: MIT */
/*
 * A per-run secret a local HTTP endpoint of ours expects from its callers
 * (the identity endpoint's X-IDENTITY-HEADER, the relay's placeholder key),
 * and its comparison in constant time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* 256 random bits as 64 hex digits. */
#define LOOPBACK_SECRET_HEX 64
int loopback_secret_new(char buf[LOOPBACK_SECRET_HEX + 1]);
/* Whether @given (@given_len bytes) equals @secret, in time independent of both. */
bool loopback_secret_equal(const char *given, size_t given_len, const char *secret);
