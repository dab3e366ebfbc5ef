/* SPDX-License-Identifier: MIT */
/*
 * How aoai-exec reports its own failures: one `aoai-exec: …` line on
 * stderr, and aoai's exit codes (client/shared/exitcode.c), so that scripts test
 * both programs the same way.  Never a secret in a message.
 */
#include <stdarg.h>
#include <stdio.h>

#include "exec.h"

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	cli_vreport(EXEC_PROG, prefix, fmt, ap);
}

int exec_error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
	return code;
}

void exec_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

int exec_usage_error(const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vreport("", fmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "Try '%s --help' for more information.\n", EXEC_PROG);
	return CLI_EXIT_USAGE;
}
