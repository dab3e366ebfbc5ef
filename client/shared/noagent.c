/* SPDX-License-Identifier: MIT */
/*
 * What to do when no agent answers: the same advice from aoai, aoai-exec and
 * aoai-check, since a new shell without AOAI_AUTH_SOCK, or one left with the
 * socket of an agent that has since stopped, is the first failure most users
 * meet.
 */
#include <errno.h>
#include <string.h>

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

int cli_find_socket(char *buf, size_t len, int (*report)(int code, const char *fmt, ...))
{
	int r = aoai_socket_path(buf, len);

	if (r == AOAI_E_NOAGENT)
		return report(
		    CLI_EXIT_NOAGENT,
		    "no agent socket: AOAI_AUTH_SOCK and XDG_RUNTIME_DIR are both unset: %s",
		    CLI_START_HINT);
	if (r < 0)
		return report(CLI_EXIT_NOAGENT, "the agent socket path is too long");
	return 0;
}

int cli_connect_failed(const char *path, int r, int err,
		       int (*report)(int code, const char *fmt, ...))
{
	if (r == AOAI_E_NOAGENT && err == EPERM)
		return report(CLI_EXIT_NOAGENT,
			      "the agent at %s runs as another user: not using it", path);
	if (r == AOAI_E_NOAGENT)
		return report(CLI_EXIT_NOAGENT, "cannot reach the agent at %s: %s%s", path,
			      strerror(err), cli_noagent_hint(err));
	return report(exitcode_from_error(r), "cannot connect to the agent: %s", aoai_strerror(r));
}
