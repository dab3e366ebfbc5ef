/* SPDX-License-Identifier: MIT */
/*
 * A local endpoint's per-run secret: 256 bits from the kernel's CSPRNG, new
 * for every run, and its comparison in constant time
 * (no early exit on the first differing byte, nor on a length mismatch), so
 * that timing tells a local attacker nothing about the value.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "loopback_secret.h"

#define SECRET_BYTES (LOOPBACK_SECRET_HEX / 2)

int loopback_secret_new(char buf[LOOPBACK_SECRET_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[SECRET_BYTES];
	size_t got = 0, i;
	ssize_t n;

	while (got < sizeof(raw)) {
		n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		got += (size_t)n;
	}
	for (i = 0; i < sizeof(raw); i++) {
		buf[2 * i] = hex[raw[i] >> 4];
		buf[2 * i + 1] = hex[raw[i] & 0xf];
	}
	buf[LOOPBACK_SECRET_HEX] = '\0';
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

bool loopback_secret_equal(const char *given, size_t given_len, const char *secret)
{
	volatile unsigned char diff = 0;
	size_t i;

	/* Always LOOPBACK_SECRET_HEX rounds; a short @given is read cyclically. */
	diff |= (unsigned char)(given_len != LOOPBACK_SECRET_HEX);
	for (i = 0; i < LOOPBACK_SECRET_HEX; i++) {
		unsigned char g = given_len ? (unsigned char)given[i % given_len] : 0;

		diff |= (unsigned char)(g ^ (unsigned char)secret[i]);
	}
	return diff == 0;
}
