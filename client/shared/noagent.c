/* SPDX-License-Identifier: MIT */
/*
 * What to do when no agent answers: the same advice from aoai, aoai-exec and
 * aoai-check, since a new shell without AOAI_AUTH_SOCK, or one left with the
 * socket of an agent that has since stopped, is the first failure most users
 * meet.
 */
#include <errno.h>

#include "cli.h"

const char *cli_noagent_hint(int err)
{
	switch (err) {
	case ENOENT:
		return ": " CLI_START_HINT;
	case ECONNREFUSED:
		/* The file is there but nobody listens: an agent killed without
		 * the chance to remove it, or a socket path from another session. */
		return " (a stale socket: its agent has stopped): " CLI_START_HINT;
	default:
		return "";
	}
}
