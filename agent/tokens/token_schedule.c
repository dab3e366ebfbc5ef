/* SPDX-License-Identifier: MIT */
#include <sodium.h>

#include "token_schedule.h"

#define USEC 1000000ULL

uint64_t token_refresh_delay(int64_t lifetime, int64_t refresh_in)
{
	int64_t served = lifetime - TOKEN_MIN_VALIDITY_SEC, at;

	if (served <= 0)
		return 0;
	if (refresh_in > 0 && refresh_in < lifetime)
		at = refresh_in;
	else if (lifetime > TOKEN_HALF_LIFE_ABOVE_SEC)
		at = lifetime / 2;
	else
		at = lifetime - TOKEN_REFRESH_MARGIN_SEC;
	if (at <= 0 || at >= served)
		at = served / 2;
	return (uint64_t)(at > 0 ? at : 1) * USEC;
}

uint64_t token_backoff(unsigned attempts, int64_t retry_after)
{
	uint64_t delay = TOKEN_BACKOFF_FIRST_USEC;

	for (unsigned i = 1; i < attempts && delay < TOKEN_BACKOFF_MAX_USEC; i++)
		delay *= 2;
	if (delay > TOKEN_BACKOFF_MAX_USEC)
		delay = TOKEN_BACKOFF_MAX_USEC;
	delay = delay * 3 / 4 + randombytes_uniform((uint32_t)(delay / 2));
	if (retry_after > TOKEN_RETRY_AFTER_MAX_SEC)
		retry_after = TOKEN_RETRY_AFTER_MAX_SEC;
	if (retry_after >= 0 && (uint64_t)retry_after * USEC > delay)
		delay = (uint64_t)retry_after * USEC;
	return delay;
}
