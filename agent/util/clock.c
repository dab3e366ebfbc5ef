/* SPDX-License-Identifier: MIT */
#include <time.h>

#include "clock.h"

uint64_t clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}
