/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "release_log.h"

static const char *or_unknown(const char *s)
{
	return s ? s : "?";
}

/* Appends one field; a failed one is stored as NULL and makes *ok false. */
static void add(char *out[], int *n, bool *ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(char *out[], int *n, bool *ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&out[*n], fmt, ap) < 0) {
		out[*n] = NULL;
		*ok = false;
	}
	va_end(ap);
	(*n)++;
}

int release_fields(const struct release_event *e, char *out[RELEASE_FIELDS_MAX])
{
	bool ok = true;
	int n = 0;

	add(out, &n, &ok, "AOAI_PROFILE=%s", or_unknown(e->profile));
	if (e->host)
		add(out, &n, &ok, "AOAI_HOST=%s:%d", e->host, e->port);
	if (e->scope)
		add(out, &n, &ok, "AOAI_SCOPE=%s", e->scope);
	add(out, &n, &ok, "AOAI_PEER_PID=%d", (int)e->peer_pid);
	add(out, &n, &ok, "AOAI_PEER_UID=%u", (unsigned)e->peer_uid);
	add(out, &n, &ok, "AOAI_PEER_EXE=%s", or_unknown(e->peer_exe));
	add(out, &n, &ok, "AOAI_RESULT=%s", or_unknown(e->result));
	if (!ok) {
		release_fields_free(out, n);
		return -ENOMEM;
	}
	return n;
}

int release_text(const struct release_event *e, char *buf, size_t len)
{
	if (e->host)
		return snprintf(
		    buf, len, "release profile=%s host=%s:%d pid=%d uid=%u exe=%s result=%s",
		    or_unknown(e->profile), e->host, e->port, (int)e->peer_pid,
		    (unsigned)e->peer_uid, or_unknown(e->peer_exe), or_unknown(e->result));
	return snprintf(buf, len,
			"release profile=%s token scope=%s pid=%d uid=%u exe=%s result=%s",
			or_unknown(e->profile), or_unknown(e->scope), (int)e->peer_pid,
			(unsigned)e->peer_uid, or_unknown(e->peer_exe), or_unknown(e->result));
}

void release_fields_free(char *f[], int n)
{
	for (int i = 0; i < n; i++) {
		free(f[i]);
		f[i] = NULL;
	}
}
