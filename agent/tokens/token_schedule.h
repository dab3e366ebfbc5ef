/* SPDX-License-Identifier: MIT */
/*
 * When the token cache acts: the Azure SDKs' refresh rule, and the backoff
 * between failed fetches.  Pure functions of their arguments (and of
 * randombytes for the jitter), kept apart so that they are unit-tested.
 */
#pragma once

#include <stdint.h>

#define TOKEN_MIN_VALIDITY_SEC        30 /* never hand out a dying token */
#define TOKEN_REFRESH_MARGIN_SEC      300
#define TOKEN_HALF_LIFE_ABOVE_SEC     7200
#define TOKEN_FOREGROUND_ATTEMPTS     3 /* a waiting client sees at most this many tries */
#define TOKEN_BACKOFF_FIRST_USEC      (1ULL * 1000000)
#define TOKEN_BACKOFF_MAX_USEC        (60ULL * 1000000)
#define TOKEN_IMDS_GONE_INTERVAL_USEC (10ULL * 1000000) /* 410: every 10 s … */
#define TOKEN_IMDS_GONE_WINDOW_USEC   (70ULL * 1000000) /* … for at least 70 s */
#define TOKEN_RETRY_AFTER_MAX_SEC     600

/*
 * How long after its arrival a token of @lifetime seconds is refreshed, in
 * µs: at @refresh_in when the response gave one (> 0), at half-life for
 * tokens living over two hours, else five minutes before expiry.  A token
 * is served only until TOKEN_MIN_VALIDITY_SEC before it expires, so a
 * short-lived one is refreshed halfway to that point instead; one too
 * short to be served at all gives 0: fetched again only when asked for.
 */
uint64_t token_refresh_delay(int64_t lifetime, int64_t refresh_in);

/*
 * The wait before retry number @attempts (1 after the first failure), in
 * µs: 1 s doubling up to 60 s, ±25% jitter, and never less than
 * @retry_after seconds (< 0: none given; capped at 10 minutes).
 */
uint64_t token_backoff(unsigned attempts, int64_t retry_after);
