/* SPDX-License-Identifier: MIT */
/*
 * The agent's log.  Only handlers and main log; everything below them
 * returns codes.  Nothing logged here may contain a secret: callers pass
 * names, hosts and fingerprints, never values.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#define LOG_MAX_LINE 4096 /* bytes of one stderr line; longer ones end in "..." */

enum log_target {
	LOG_TARGET_STDERR, /* -D / -d */
	LOG_TARGET_SYSLOG, /* daemonised from a shell */
};

/* Chooses where lines go; @debug enables log_debug(). */
void log_setup(enum log_target target, bool debug);
bool log_debug_enabled(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct release_event;
/* A credential release (LOG_INFO when e->result is "ok", else LOG_WARNING):
 * the line release_text() makes, in the journal also release_fields(). */
void log_release(const struct release_event *e);
/* True when stderr is connected to the journal ($JOURNAL_STREAM matches). */
bool log_stderr_is_journal(void);
