/* SPDX-License-Identifier: MIT */
#include <sodium.h>

#include "stack_scrub.h"

/* Not inlined, so the buffer lies below the caller's frame: the space the
 * caller's callees used. */
__attribute__((noinline)) void stack_scrub(void)
{
	unsigned char burn[STACK_SCRUB_BYTES];

	sodium_memzero(burn, sizeof(burn));
}
