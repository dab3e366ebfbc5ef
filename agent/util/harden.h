/* SPDX-License-Identifier: MIT */
/* Process hardening at start, as ssh-agent does. */
#pragma once

/* harden_process() raises the soft descriptor limit up to this. */
#define HARDEN_NOFILE_MAX 65536

/*
 * Makes the process non-dumpable (no core, no ptrace by the same uid, its
 * /proc files root-owned), sets RLIMIT_CORE to 0, ignores SIGPIPE, raises
 * the soft descriptor limit to the hard one (at most HARDEN_NOFILE_MAX),
 * and initialises libsodium with a wiping allocator for jansson.  Returns 0
 * or a negative errno.
 */
int harden_process(void);
/* The descriptor limit in force after harden_process(). */
unsigned harden_fd_limit(void);
