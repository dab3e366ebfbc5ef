/* SPDX-License-Identifier: MIT */
/*
 * Who is on the other end of a connection: SO_PEERCRED at accept time, the
 * executable and systemd unit looked up when a credential is released.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "config.h"

struct peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool exe_known;
	char exe[PATH_MAX]; /* "?" when it cannot be read */
};

/* Reads the credentials of the peer of socket @fd.  Returns 0 or -errno. */
int peer_from_socket(int fd, struct peer *ret);
/* True when @peer may talk to an agent run by @agent_uid: same uid or root. */
bool peer_uid_allowed(const struct peer *peer, uid_t agent_uid);
/* The peer's executable (resolved once, then cached). */
const char *peer_exe(struct peer *peer);
/* True when @allow admits @peer (empty lists admit everyone). */
bool peer_allowed(struct peer *peer, const struct allow *allow);
