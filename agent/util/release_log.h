/* SPDX-License-Identifier: MIT */
/*
 * The audit record of one credential release, as journal fields and as a
 * log line.  The
 * event holds names, the host, the peer and the outcome: it has no member
 * that could carry a secret, so no field can.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

struct release_event {
	const char *profile; /* NULL: "?" */
	const char *host;    /* NULL for a token release */
	int port;
	const char *scope; /* token releases, else NULL */
	pid_t peer_pid;
	uid_t peer_uid;
	const char *peer_exe;
	const char *result; /* "ok" or the protocol error name */
};

#define RELEASE_FIELDS_MAX 7

/*
 * Formats @e as "KEY=value" journal fields into @out (AOAI_PROFILE,
 * AOAI_HOST when there is one, AOAI_SCOPE when there is one, AOAI_PEER_PID,
 * AOAI_PEER_UID, AOAI_PEER_EXE, AOAI_RESULT).  Returns the number of fields
 * or -ENOMEM; free them with release_fields_free().
 */
int release_fields(const struct release_event *e, char *out[RELEASE_FIELDS_MAX]);
void release_fields_free(char *f[], int n);
/*
 * The log line of @e: "release profile=P host=H:PORT pid= uid= exe= result=",
 * or "release profile=P token scope=S …" for a token release.  Returns what
 * snprintf returns.
 */
int release_text(const struct release_event *e, char *buf, size_t len);
