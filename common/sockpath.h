/* SPDX-License-Identifier: MIT */
/*
 * Where the agent's socket is: one rule for the agent, libaoai and the
 * preload hook.  libc only, as the hook is loaded into other programs.
 */
#pragma once

#include <stddef.h>

#define SOCKPATH_ENV  "AOAI_AUTH_SOCK"
#define SOCKPATH_DIR  "/aoai"       /* under $XDG_RUNTIME_DIR */
#define SOCKPATH_NAME "/agent.sock" /* in that directory */

/*
 * The agent's own directory, $XDG_RUNTIME_DIR/aoai, in @buf.  A relative
 * XDG_RUNTIME_DIR is ignored (XDG Base Directory rules).  Returns 0, -ENOENT
 * when XDG_RUNTIME_DIR is unset, empty or relative, -ENAMETOOLONG.
 */
int sockpath_runtime_dir(char *buf, size_t len);

/*
 * The socket a client connects to, in @buf: $AOAI_AUTH_SOCK when set and not
 * empty (as an empty SSH_AUTH_SOCK counts as unset), else
 * $XDG_RUNTIME_DIR/aoai/agent.sock.  Returns 0, -EINVAL for no buffer,
 * -ENOENT when neither variable gives a path, -ENAMETOOLONG.
 */
int sockpath_client(char *buf, size_t len);
