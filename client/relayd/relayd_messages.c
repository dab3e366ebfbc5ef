/* SPDX-License-Identifier: MIT */
/*
 * How aoai-relay reports: one `aoai-relay: …` line on stderr, and aoai's
 * exit codes (client/shared/exitcode.c).  Never a secret in a message.
 */
#include <stdarg.h>
#include <stdio.h>

#include "relayd.h"

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	cli_vreport(RELAYD_PROG, prefix, fmt, ap);
}

int relayd_error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
	return code;
}

void relayd_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}
