/* SPDX-License-Identifier: MIT */
/*
 * aoai env: the shell statements that point clients at the agent, for an
 * agent the shell did not start (systemd's):  eval "$(aoai env)".  Needs no
 * running agent.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const char usage_text[] =
    "Usage: aoai env [-s | -c | --fish]\n"
    "\n"
    "Prints the statement that sets AOAI_AUTH_SOCK to the agent's socket, for\n"
    "eval \"$(aoai env)\" in a shell that did not start the agent itself (e.g. with\n"
    "the systemd user units).  The shell syntax follows $SHELL unless an option\n"
    "says otherwise.\n"
    "\n"
    "Options:\n"
    "  -s, --sh    Bourne shell syntax\n"
    "  -c, --csh   C shell syntax\n"
    "      --fish  fish syntax\n"
    "      --help  show this help\n";

static int parse_args(int argc, char *argv[], enum shell_kind *kind)
{
	static const struct option options[] = {
		{ "sh", no_argument, NULL, 's' },
		{ "csh", no_argument, NULL, 'c' },
		{ "fish", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*kind = shell_kind_from_path(secure_getenv("SHELL"));
	while ((c = getopt_long(argc, argv, "sc", options, NULL)) != -1) {
		switch (c) {
		case 's':
			*kind = SHELL_SH;
			break;
		case 'c':
			*kind = SHELL_CSH;
			break;
		case 'f':
			*kind = SHELL_FISH;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error(argv[0], NULL);
		}
	}
	if (optind != argc) {
		return cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
	}
	return -1;
}

int cmd_env(int argc, char *argv[], const struct cli *cli)
{
	enum shell_kind kind;
	char path[4096];
	int r;

	r = parse_args(argc, argv, &kind);
	if (r >= 0)
		return r;
	r = cli_socket_path(cli, path, sizeof(path));
	if (r != 0)
		return r;
	if (shell_print_set(stdout, kind, "AOAI_AUTH_SOCK", path) < 0)
		return cli_error(CLI_EXIT_ERROR, "the socket path cannot be quoted for a shell");
	return CLI_EXIT_OK;
}
