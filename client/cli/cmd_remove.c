/* SPDX-License-Identifier: MIT */
/* aoai remove NAME | --all: make the agent forget secrets (it wipes them). */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "proto.h"

static const char usage_text[] =
    "Usage: aoai remove NAME\n"
    "       aoai remove --all\n"
    "\n"
    "Makes the agent forget the secret NAME (and the profile 'aoai add --host'\n"
    "created for it), or every secret added with 'aoai add'.  Secrets from the\n"
    "configuration file stay.\n"
    "\n"
    "Options:\n"
    "  -a, --all   forget every added secret\n"
    "      --help  show this help\n";

/* Returns -1 to go on, or the exit code; *ret_name is NULL for --all. */
static int parse_args(int argc, char *argv[], const char **ret_name)
{
	static const struct option options[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false;
	int c;

	while ((c = getopt_long(argc, argv, "a", options, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return CLI_EXIT_OK;
		}
		if (c != 'a')
			return cli_usage_error(argv[0], NULL);
		all = true;
	}
	if (argc - optind != (all ? 0 : 1)) {
		return cli_usage_error(argv[0], "%s",
				       all ? "NAME and --all exclude each other"
					   : "expected one NAME, or --all");
	}
	*ret_name = all ? NULL : argv[optind];
	if (*ret_name && !proto_name_valid(*ret_name))
		return cli_error(CLI_EXIT_USAGE, "invalid name '%s'", *ret_name);
	return -1;
}

int cmd_remove(int argc, char *argv[], const struct cli *cli)
{
	struct aoai_conn *conn;
	const char *name = NULL;
	int r;

	r = parse_args(argc, argv, &name);
	if (r >= 0)
		return r;
	r = cli_connect(cli, &conn);
	if (r != 0)
		return r;
	r = name ? aoai_remove(conn, name) : aoai_remove_all(conn);
	if (r < 0)
		return cli_fail(conn, r);
	aoai_close(conn);
	if (name)
		printf("Secret \"%s\" removed\n", name);
	else
		printf("All secrets removed (%d)\n", r);
	return CLI_EXIT_OK;
}
