/* SPDX-License-Identifier: MIT */
/*
 * Exit codes of aoai.  They are part of its interface (scripts test them), so
 * each outcome a caller may act on has its own, and they never change:
 *
 *   0  success
 *   1  any other failure: the agent refused the request (bad_request,
 *      conflict, not_found, bad_passphrase, not_locked, bad_config, limit,
 *      internal …; its message is printed), a broken connection, a bad reply
 *   2  usage error: unknown option, missing or invalid argument, bad input
 *   3  no agent reachable (no socket path, nothing listening, or not ours)
 *   4  no profile matches the URL, or (aoai token) the agent has no token
 *      profile (no_match, insecure_url)
 *   5  the agent is locked (locked)
 *   6  the credential is unavailable (missing_secret, unavailable: e.g. a
 *      token source failed)
 *   7  the profile does not allow this client (denied)
 */
#include "cli.h"

const char exitcode_help[] = "Exit status:\n"
			     "  0  success\n"
			     "  1  other failure (the agent's reason is printed)\n"
			     "  2  usage error\n"
			     "  3  no agent reachable\n"
			     "  4  no profile matches the URL (token: no token profile)\n"
			     "  5  the agent is locked\n"
			     "  6  the credential is unavailable (token: the source failed)\n"
			     "  7  the profile does not allow this client\n";

int exitcode_from_error(int err)
{
	switch (err) {
	case AOAI_OK:
		return CLI_EXIT_OK;
	case AOAI_E_INVALID:
		return CLI_EXIT_USAGE;
	case AOAI_E_NOAGENT:
		return CLI_EXIT_NOAGENT;
	case AOAI_E_NOMATCH:
		return CLI_EXIT_NOMATCH;
	case AOAI_E_LOCKED:
		return CLI_EXIT_LOCKED;
	case AOAI_E_UNAVAILABLE:
		return CLI_EXIT_UNAVAILABLE;
	case AOAI_E_DENIED:
		return CLI_EXIT_DENIED;
	default:
		return CLI_EXIT_ERROR;
	}
}
