/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "log.h"
#include "release_log.h"

static enum log_target log_target = LOG_TARGET_STDERR;
static bool log_debug_on;

static bool log_journal;

/* The check systemd documents: $JOURNAL_STREAM is "DEV:INO" of stderr. */
bool log_stderr_is_journal(void)
{
	const char *js = secure_getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_setup(enum log_target target, bool debug)
{
	log_target = target;
	log_journal = target == LOG_TARGET_STDERR && log_stderr_is_journal();
	log_debug_on = debug;
	if (target == LOG_TARGET_SYSLOG)
		openlog("aoai-agent", LOG_PID | LOG_NDELAY, LOG_AUTH);
}

bool log_debug_enabled(void)
{
	return log_debug_on;
}

/*
 * One write(2) per line: stderr is unbuffered, and three stdio calls were
 * three system calls on every release.  A single write also keeps lines
 * whole when several processes share the log file.  Longer lines are cut.
 */
/* Writes @line (@len bytes, room for one more) with its newline, cut to a
 * log line's length. */
static void write_out(char *line, size_t len)
{
	static const char cut[] = "...";

	if (len > LOG_MAX_LINE - 2) {
		len = LOG_MAX_LINE - 2;
		memcpy(line + len - strlen(cut), cut, strlen(cut));
	}
	line[len++] = '\n';
	for (size_t off = 0; off < len;) {
		ssize_t w = write(STDERR_FILENO, line + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

static void write_line(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void write_line(const char *prefix, const char *fmt, va_list ap)
{
	char line[LOG_MAX_LINE];
	size_t len = (size_t)snprintf(line, sizeof(line), "aoai-agent: %s", prefix);
	int n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);

	write_out(line, len + (size_t)(n < 0 ? 0 : n));
}

static void log_vwrite(int priority, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
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
	if (log_journal) {
		sd_journal_printv(priority, fmt, ap);
		return;
	}
	write_line(prefix[priority] ? prefix[priority] : "", fmt, ap);
}

/* log_vwrite() of a finished line (a va_list cannot be built by hand). */
static void log_text(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_text(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(priority, fmt, ap);
	va_end(ap);
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

/* The journal entry of a release: its text, priority and fields. */
static void journal_release(int priority, const char *text, const struct release_event *e)
{
	struct release_fields f;
	struct iovec iov[RELEASE_FIELDS_MAX + 3];
	char msg[LOG_MAX_LINE + 16], prio[16];
	int m = 0;

	release_fields(e, &f);
	snprintf(msg, sizeof(msg), "MESSAGE=%s", text);
	snprintf(prio, sizeof(prio), "PRIORITY=%d", priority);
	iov[m++] = (struct iovec){ msg, strlen(msg) };
	iov[m++] = (struct iovec){ prio, strlen(prio) };
	iov[m++] = (struct iovec){ "SYSLOG_IDENTIFIER=aoai-agent", 28 };
	for (int i = 0; i < f.n; i++)
		iov[m++] = f.iov[i];
	sd_journal_sendv(iov, m);
}

void log_release(const struct release_event *e)
{
	static const char tag[] = "aoai-agent: ";
	int priority = e->result && strcmp(e->result, "ok") == 0 ? LOG_INFO : LOG_WARNING;
	char line[LOG_MAX_LINE];
	size_t len;

	if (log_target == LOG_TARGET_SYSLOG || log_journal) {
		release_text(e, line, sizeof(line));
		if (log_journal)
			journal_release(priority, line, e);
		else
			log_text(priority, "%s", line);
		return;
	}
	/* stderr, formatted without printf: this line is written per release. */
	memcpy(line, tag, sizeof(tag) - 1);
	if (priority == LOG_WARNING) {
		memcpy(line + sizeof(tag) - 1, "warning: ", 9);
		len = sizeof(tag) - 1 + 9;
	} else {
		len = sizeof(tag) - 1;
	}
	len += release_text(e, line + len, sizeof(line) - len);
	write_out(line, len);
}
