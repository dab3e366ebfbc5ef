/* SPDX-License-Identifier: MIT */
/*
 * Who is on the other end of a connection: SO_PEERCRED and the executable
 * at accept time, the process held by a pidfd, the systemd unit looked up
 * when a credential is released.
 *
 * The pidfd pins the process that called connect(): its pid may be reused
 * once that process has exited, the pidfd never is.  Every lookup by pid
 * (/proc/PID/exe, the unit from /proc/PID/cgroup) is therefore confirmed
 * afterwards by asking the pidfd whether the process still runs; if it has
 * exited, what was read may describe another process: the executable is
 * unknown ("?") and every allow list refuses the connection.
 *
 * The executable allow.exe decides on is the program that connected, read
 * from /proc/PID/exe once, at accept: a program that makes itself
 * non-dumpable afterwards (aoai-exec does) stays identified, though an
 * agent of an ordinary user can no longer read its exe.  A release to a
 * profile with allow.exe reads it again: when it is readable and names
 * another program, the process has exec'd since it connected (say after a
 * fork, handing the connection to its other half) and is refused.  What
 * cannot be seen: an exec between connect() and the agent's accept (the
 * agent then reads the new program), and an exec after it into a program
 * that makes itself non-dumpable before asking (its exe cannot be read
 * again, and the one read at accept stands).
 *
 * Limits (see docs/SECURITY.md): an allow.exe entry matches a path,
 * not a program's integrity — another process of the same uid can ptrace or
 * inject code into an allowed program, start it with LD_PRELOAD, or be
 * handed its connected socket while it runs; a binary replaced or deleted
 * after it started reads as "PATH (deleted)" and is not admitted.
 * allow.unit trusts the peer's cgroup, which the peer's own systemd user
 * manager (same uid) lets it choose.  allow.uid is as strong as
 * SO_PEERCRED.  Without SO_PEERPIDFD (Linux < 6.5) the pidfd is opened from
 * the pid at accept time, which leaves a window between connect() and
 * accept(); without pidfds at all (Linux < 5.3) the bare pid is trusted.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"

/* Descriptors a connection may hold: its socket and the peer's pidfd.
 * Size the connection cap with it. */
#define PEER_FDS_PER_CONN 2

/* How the process behind a connection is held. */
enum peer_hold {
	PEER_HOLD_SOCKET, /* SO_PEERPIDFD: pinned since connect(), pidfd taken when needed */
	PEER_HOLD_OPEN,   /* a pidfd from pidfd_open(pid) at accept time, held */
	PEER_HOLD_PID,    /* no pidfd on this kernel: the bare pid */
	PEER_HOLD_GONE,   /* the process had exited before it could be held */
};

struct peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int sock;  /* the connection's socket (not owned): asked for SO_PEERPIDFD */
	int pidfd; /* -1 until held; closed by peer_done() */
	enum peer_hold hold;
	bool exe_read; /* exe[] was read at accept; else it is "?" */
	bool watched;  /* the event loop watches pidfd: peer_exited() will be called */
	bool exited;   /* the pidfd turned readable: the process has exited */
	char *exe_now; /* what it exec'd since accept, once seen (owned; freed by peer_done()) */
	char exe[PATH_MAX]; /* at accept; "?" when it cannot be read or the process has exited */
};

/*
 * Reads the credentials and the executable of the peer of socket @fd and
 * holds the process (see enum peer_hold); @fd must stay open as long as the
 * peer is used.  Returns 0 or -errno; on success release it with
 * peer_done().
 */
int peer_from_socket(int fd, struct peer *ret);
/*
 * Once the event loop watches @peer's pidfd (readable when the process
 * exits) and calls peer_exited() then, releases need not ask the kernel
 * each time whether the process still runs: what they see is the state as
 * of the loop's last wait, which is as current as a check made just before
 * the release could be (the process can exit right after either).
 */
void peer_watched(struct peer *peer);
void peer_exited(struct peer *peer);
/* Closes the peer's pidfd and frees what it holds (safe to call twice). */
void peer_done(struct peer *peer);
/* True when @peer may talk to an agent run by @agent_uid: same uid or root. */
bool peer_uid_allowed(const struct peer *peer, uid_t agent_uid);
/* The executable of the process that connected, as read at accept, or "?"
 * when it could not be read or that process has exited. */
const char *peer_exe(struct peer *peer);
/* True when @allow admits @peer (empty lists admit everyone). */
bool peer_allowed(struct peer *peer, const struct allow *allow);
/* Room for peer_describe() in a refusal (whose message is cut at 512 bytes
 * anyway, long paths then truncated). */
#define PEER_DESCRIBE_MAX 512
/*
 * Who @peer is, for a refusal: its executable, or, when that cannot serve,
 * "pid N, which exec'd NEW since it connected as OLD", "pid N, which has
 * exited" or "pid N, whose executable could not be read …".  Written to
 * @buf (@len bytes, truncated); returns @buf.
 */
const char *peer_describe(struct peer *peer, char *buf, size_t len);
/* True when one of the @n_units names (NULL entries skipped) is in
 * @allow's unit list: the matching half of allow.unit. */
bool peer_units_match(const char *const units[], size_t n_units, const struct allow *allow);
/* "SO_PEERPIDFD", "pidfd_open", "pid" or "gone": for the debug log. */
const char *peer_hold_name(enum peer_hold hold);
