/* SPDX-License-Identifier: MIT */
/* Starting from a shell, as ssh-agent does: the environment for eval,
 * detaching, running a command under the agent, and -k. */
#pragma once

#include <stdio.h>
#include <sys/types.h>

#include "shellenv.h"

#define ENV_SOCK "AOAI_AUTH_SOCK"
#define ENV_PID  "AOAI_AGENT_PID"

/* Prints the statements that set AOAI_AUTH_SOCK and AOAI_AGENT_PID.
 * Returns 0 or -EINVAL when the path cannot be quoted safely. */
int daemon_print_env(FILE *out, enum shell_kind kind, const char *socket, pid_t pid);

/* Kills the agent named by $AOAI_AGENT_PID and prints the statements that
 * unset the variables.  Returns the process exit status. */
int daemon_kill(enum shell_kind kind);

/*
 * Forks.  In the child, which becomes the agent: a new session, / as the
 * working directory, /dev/null as standard streams; returns 0.  In the
 * parent returns the child's pid; -errno on failure.
 */
pid_t daemon_detach(void);

/* Replaces the process with @argv, the agent's variables set.  Returns only
 * on failure (with the exit status to use). */
int daemon_exec_command(char **argv, const char *socket, pid_t agent_pid);

/* A descriptor that becomes readable when process @pid exits (a pidfd), or
 * -errno. */
int daemon_watch_pid(pid_t pid);
