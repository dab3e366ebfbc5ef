/* SPDX-License-Identifier: MIT */
/*
 * Who serves the agent's socket: the clients' side of the peer check the
 * agent makes of them.  libc only, as the preload hook links it.
 */
#pragma once

/*
 * Whether the process at the other end of the connected AF_UNIX socket @fd
 * runs as our user or as root: otherwise a socket planted by someone else,
 * e.g. through a stale AOAI_AUTH_SOCK in a shared directory, would collect
 * our secrets.  Returns 0, -EPERM for another user, or -errno of getsockopt().
 */
int sockpeer_trusted(int fd);
