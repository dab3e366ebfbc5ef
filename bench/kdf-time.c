/* SPDX-License-Identifier: MIT */
/*
 * The baseline of the "unlock" rows of `make bench`: one Argon2id
 * derivation (crypto_pwhash) with OPSLIMIT and MEMLIMIT, as the agent's
 * unlock does it, with nothing else around it.  Prints the milliseconds of
 * each of ROUNDS runs on one line.
 *
 *   kdf-time OPSLIMIT MEMLIMIT ROUNDS
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>

/* A positive decimal number, or 0 when @s is not one. */
static unsigned long long number(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	return errno || end == s || *end || s[0] == '-' ? 0 : v;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	unsigned char key[32], salt[crypto_pwhash_SALTBYTES] = { 0 };
	static const char passphrase[] = "bench passphrase";
	unsigned long long ops, mem, rounds;

	if (argc != 4 || !(ops = number(argv[1])) || !(mem = number(argv[2])) ||
	    !(rounds = number(argv[3])) || sodium_init() < 0) {
		fprintf(stderr, "usage: kdf-time OPSLIMIT MEMLIMIT ROUNDS\n");
		return 2;
	}
	for (unsigned long long i = 0; i < rounds; i++) {
		double t0 = now_ms();

		if (crypto_pwhash(key, sizeof(key), passphrase, sizeof(passphrase) - 1, salt, ops,
				  (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
			fprintf(stderr, "kdf-time: out of memory\n");
			return 1;
		}
		printf("%s%.2f", i ? " " : "", now_ms() - t0);
	}
	printf("\n");
	return 0;
}
