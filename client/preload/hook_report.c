/* SPDX-License-Identifier: MIT */
/*
 * The hook's only output: one line per process and kind of trouble, so a
 * program that makes a thousand requests while the agent is down says so
 * once instead of a thousand times, and says nothing when all is well.
 * Callers never pass secrets; agent messages carry none (PROTOCOL.md).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hook.h"

#define REPORT_MAX 512

/* The pid that printed each kind: a child after fork() reports afresh. */
static _Atomic pid_t reported[_REPORT_MAX];
/* -1 unknown, else 0/1: read once, the environment does not change under us. */
static atomic_int strict = -1;

bool hook_strict(void)
{
	int s = atomic_load_explicit(&strict, memory_order_relaxed);
	const char *v;

	if (s < 0) {
		v = secure_getenv("AOAI_PRELOAD_STRICT");
		s = v && strcmp(v, "1") == 0;
		atomic_store_explicit(&strict, s, memory_order_relaxed);
	}
	return s == 1;
}

/* Terminals must not get control characters from an agent message or URL. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void report_once(enum report_kind kind, const char *fmt, ...)
{
	char line[REPORT_MAX];
	pid_t pid = getpid(), prev;
	size_t len;
	va_list ap;
	int n;

	if ((unsigned)kind >= _REPORT_MAX)
		return;
	prev = atomic_load(&reported[kind]);
	if (prev == pid || !atomic_compare_exchange_strong(&reported[kind], &prev, pid))
		return;
	n = snprintf(line, sizeof(line), "aoai-preload: ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	sanitize(line);
	len = strlen(line);
	line[len++] = '\n';
	/* One write(2): the line cannot interleave with the program's own output. */
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}
