/* SPDX-License-Identifier: MIT */
/* aoai logout PROFILE: the agent forgets a person's sign-in. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "proto.h"

static const char usage_text[] =
    "Usage: aoai logout PROFILE\n"
    "\n"
    "Makes the agent forget the sign-in of PROFILE ('aoai login'): its refresh\n"
    "token is wiped and the profile's cached access tokens are dropped, so\n"
    "every request for it fails until the next 'aoai login'.  A sign-in kept\n"
    "with 'aoai login --persist' is removed from the persistent store too (the\n"
    "agent must be unlocked for that).\n"
    "\n"
    "Options:\n"
    "      --help  show this help\n";

int cmd_logout(int argc, char *argv[], const struct cli *cli)
{
	struct aoai_conn *conn;
	char request[128 + PROTO_MAX_NAME], *reply = NULL;
	const char *profile;
	json_t *doc;
	int r;

	r = cli_open_simple(argc, argv, usage_text, NULL, 1, cli, &conn);
	if (r >= 0)
		return r;
	profile = argv[argc - 1];
	if (!proto_name_valid(profile)) {
		aoai_close(conn);
		return cli_error(CLI_EXIT_USAGE,
				 "invalid profile name '%s': use 1-64 of A-Z a-z 0-9 . _ -",
				 profile);
	}
	snprintf(request, sizeof(request), "{\"op\":\"logout\",\"profile\":\"%s\"}", profile);
	r = aoai_request(conn, request, &reply);
	if (r < 0)
		return cli_fail(conn, r);
	aoai_close(conn);
	doc = format_parse(reply);
	free(reply);
	if (!doc)
		return CLI_EXIT_ERROR;
	printf("%s %s\n",
	       json_is_true(json_object_get(doc, "signed_out")) ? "Signed out of"
								: "Nobody was signed in for",
	       profile);
	json_decref(doc);
	return CLI_EXIT_OK;
}
