/* SPDX-License-Identifier: MIT */
/*
 * The agent's listening socket: path choice, private directory, stale
 * socket replacement, and removal at exit.
 */
#pragma once

#include <stddef.h>

#define LISTEN_BACKLOG SOMAXCONN /* the kernel caps it at net.core.somaxconn */

struct listener;

/*
 * Opens the listening socket at @path, or at the default path when NULL:
 * $XDG_RUNTIME_DIR/aoai/agent.sock (directory 0700, created when missing and
 * verified when present), else a new private directory in $TMPDIR as
 * ssh-agent does.  The socket is 0600.  A live agent already listening there
 * is an error (-EADDRINUSE); a stale socket file is replaced.  Returns 0 or
 * a negative errno with a message in @err.
 */
int listener_open(const char *path, struct listener **ret, char *err, size_t errlen);
/*
 * Adopts the listening socket systemd passed (socket activation): the one
 * named "agent", or a single unnamed one, which must be a listening
 * AF_UNIX stream socket.  Unsets $LISTEN_FDS & co.  The socket file is
 * systemd's: the listener never unlinks, chmods or re-creates it.  Returns
 * 1 when adopted, 0 when nothing was passed, or a negative errno with a
 * message in @err.
 */
int listener_adopt(struct listener **ret, char *err, size_t errlen);
/* Closes the socket and removes the file (and a directory it created) when
 * they are still its own.  Accepts NULL; returns NULL. */
struct listener *listener_close(struct listener *l);
/* Closes only the descriptor, leaving the file: for the forked parent. */
void listener_forget(struct listener *l);
int listener_fd(const struct listener *l);
const char *listener_path(const struct listener *l);
