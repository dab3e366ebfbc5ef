/* SPDX-License-Identifier: MIT */
/*
 * The audit record of one credential release, as journal fields and as a
 * log line.  The
 * event holds names, the host, the peer and the outcome: it has no member
 * that could carry a secret, so no field can.
 */
#pragma once

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "hosts.h"
#include "proto.h"

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
/* Room for every field at its longest: the exe is a path, the scope and
 * host protocol-bounded, the rest short. */
#define RELEASE_FIELDS_BUF (PATH_MAX + PROTO_MAX_SCOPE + HOSTS_MAX_NAME + 512)

/* The journal fields of one release, in one buffer. */
struct release_fields {
	struct iovec iov[RELEASE_FIELDS_MAX]; /* "KEY=value", each followed by a NUL */
	int n;
	char buf[RELEASE_FIELDS_BUF];
};

/*
 * Formats @e as "KEY=value" journal fields into @f (AOAI_PROFILE,
 * AOAI_HOST when there is one, AOAI_SCOPE when there is one, AOAI_PEER_PID,
 * AOAI_PEER_UID, AOAI_PEER_EXE, AOAI_RESULT).
 */
void release_fields(const struct release_event *e, struct release_fields *f);
/*
 * The log line of @e: "release profile=P host=H:PORT pid= uid= exe= result=",
 * or "release profile=P token scope=S …" for a token release, cut to fit
 * @len bytes with its NUL.  Returns its length.
 */
size_t release_text(const struct release_event *e, char *buf, size_t len);
