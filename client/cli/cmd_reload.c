/* SPDX-License-Identifier: MIT */
/* aoai reload: the agent re-reads its configuration (as on SIGHUP). */
#include <stdio.h>

#include "cli.h"

static const char usage_text[] =
    "Usage: aoai reload [--json]\n"
    "\n"
    "Makes the agent re-read its configuration file.  Secrets added with\n"
    "'aoai add' and their profiles stay.  When the file is invalid the agent\n"
    "keeps the old configuration and its error is printed.\n"
    "\n"
    "Options:\n"
    "      --json  print {\"profiles\": N}\n"
    "      --help  show this help\n";

int cmd_reload(int argc, char *argv[], const struct cli *cli)
{
	struct aoai_conn *conn;
	bool json = false;
	int r;

	r = cli_open_simple(argc, argv, usage_text, &json, 0, cli, &conn);
	if (r >= 0)
		return r;
	r = aoai_reload(conn);
	if (r < 0)
		return cli_fail(conn, r);
	aoai_close(conn);
	if (json)
		printf("{\n  \"profiles\": %d\n}\n", r);
	else
		printf("Configuration reloaded: %d profile%s\n", r, r == 1 ? "" : "s");
	return CLI_EXIT_OK;
}
