/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "log.h"

static enum log_target log_target = LOG_TARGET_STDERR;
static bool log_debug_on;

void log_setup(enum log_target target, bool debug)
{
	log_target = target;
	log_debug_on = debug;
	if (target == LOG_TARGET_SYSLOG)
		openlog("aoai-agent", LOG_PID | LOG_NDELAY, LOG_AUTH);
}

bool log_debug_enabled(void)
{
	return log_debug_on;
}

static void log_vwrite(int priority, const char *fmt, va_list ap)
{
	static const char *const prefix[] = {
		[LOG_ERR] = "error: ",
		[LOG_WARNING] = "warning: ",
		[LOG_INFO] = "",
		[LOG_DEBUG] = "debug: ",
	};

	if (log_target == LOG_TARGET_SYSLOG) {
		vsyslog(priority, fmt, ap);
		return;
	}
	fprintf(stderr, "aoai-agent: %s", prefix[priority] ? prefix[priority] : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

#define DEFINE_LOG_FN(fn, priority, guard)     \
	void fn(const char *fmt, ...)          \
	{                                      \
		va_list ap;                    \
		if (!(guard))                  \
			return;                \
		va_start(ap, fmt);             \
		log_vwrite(priority, fmt, ap); \
		va_end(ap);                    \
	}

DEFINE_LOG_FN(log_error, LOG_ERR, true)
DEFINE_LOG_FN(log_warn, LOG_WARNING, true)
DEFINE_LOG_FN(log_info, LOG_INFO, true)
DEFINE_LOG_FN(log_debug, LOG_DEBUG, log_debug_on)
