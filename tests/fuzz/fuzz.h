/* SPDX-License-Identifier: MIT */
/*
 * Shared by the fuzz harnesses (tests/fuzz/fuzz-*.c).  Each harness is a
 * libFuzzer target; the same file also links against replay.c, a plain
 * main() that feeds it the committed corpus, so `make check` replays every
 * seed without clang.  Invariants abort() with the failed condition, which
 * both libFuzzer and the replay report as a crash.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The libFuzzer entry points (LLVMFuzzerInitialize is optional). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Marker that seeds and dictionaries put in secret values: no message may ever echo it. */
#define FUZZ_SECRET_MARK "SECRET-"

#define FUZZ_CHECK(cond)                                                                     \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

/* A NUL-terminated heap copy of @data (C-string parsers stop at the first NUL anyway). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	FUZZ_CHECK(s);
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* True when a message buffer of @size bytes holds a terminated string. */
static inline bool fuzz_terminated(const char *buf, size_t size)
{
	return memchr(buf, '\0', size) != NULL;
}

/* True when @msg is a terminated, bounded message that does not echo a marked secret. */
static inline bool fuzz_message_ok(const char *msg, size_t size)
{
	return fuzz_terminated(msg, size) && !strstr(msg, FUZZ_SECRET_MARK);
}
