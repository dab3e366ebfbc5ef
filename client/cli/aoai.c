/* SPDX-License-Identifier: MIT */
/*
 * aoai — the command-line client of aoai-agent (its ssh-add).  Global
 * options, then a command from the table below; each command lives in
 * cmd_NAME.c, parses its own options and returns the exit code.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*function)(int argc, char *argv[], const struct cli *cli);
	const char *description;
} commands[] = {
	{ "add", cmd_add, "Add a secret read from stdin" },
	{ "list", cmd_list, "List profiles and secrets (never a secret)" },
	{ "remove", cmd_remove, "Forget a secret, or all of them" },
	{ "headers", cmd_headers, "Print the headers for a URL" },
	{ "token", cmd_token, "Print an access token of a token profile" },
	{ "login", cmd_login, "Sign a person in for a profile" },
	{ "logout", cmd_logout, "Forget a profile's sign-in" },
	{ "lock", cmd_lock, "Lock the agent with a passphrase" },
	{ "unlock", cmd_unlock, "Unlock the agent" },
	{ "passwd", cmd_passwd, "Set the passphrase of the persistent store" },
	{ "status", cmd_status, "Show the agent's state" },
	{ "reload", cmd_reload, "Make the agent re-read its configuration" },
	{ "env", cmd_env, "Print the environment for shells" },
	{ "check", cmd_check, "Validate a JWT as API Management would" },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	size_t i;

	fputs("Usage: aoai [-S SOCKET] COMMAND [OPTIONS] [ARGS]\n"
	      "\n"
	      "Client of aoai-agent, the credential agent for Azure OpenAI.\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].description);
	fprintf(out, "  %-9s %s\n", "help", "Show this help, or a command's: aoai help COMMAND");
	fputs("\n"
	      "Options:\n"
	      "  -S, --socket PATH  talk to the agent at PATH (default: $AOAI_AUTH_SOCK,\n"
	      "                     else $XDG_RUNTIME_DIR/aoai/agent.sock)\n"
	      "  -h, --help         show this help\n"
	      "  -V, --version      show the version\n"
	      "\n"
	      "Run 'aoai COMMAND --help' for a command's options.\n"
	      "\n",
	      out);
	fputs(exitcode_help, out);
}

/* Global options, up to the command (the "+": the command's own follow). */
static int parse_globals(int argc, char *argv[], struct cli *cli)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+S:hV", options, NULL)) != -1) {
		switch (c) {
		case 'S':
			cli->socket = optarg;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		case 'V':
			printf("aoai %s\n", AOAI_VERSION);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("aoai", NULL);
		}
	}
	return -1;
}

static int run(int argc, char *argv[], const struct cli *cli)
{
	static char prog[32]; /* argv[0] for the command: getopt's messages name it */
	static char help[] = "--help";
	char *help_argv[] = { prog, help, NULL };
	size_t i;

	if (strcmp(argv[0], "help") == 0) {
		if (argc < 2) {
			usage(stdout);
			return CLI_EXIT_OK;
		}
		/* "aoai help add" is "aoai add --help". */
		argv++;
		argc = 2;
		help_argv[0] = argv[0];
		argv = help_argv;
	}
	for (i = 0; i < N_COMMANDS; i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		snprintf(prog, sizeof(prog), "aoai %s", commands[i].name);
		argv[0] = prog;
		optind = 0; /* glibc: reset getopt completely for the command */
		return commands[i].function(argc, argv, cli);
	}
	return cli_usage_error("aoai", "unknown command '%s'", argv[0]);
}

int main(int argc, char *argv[])
{
	struct cli cli = { 0 };
	static char name[] = "aoai";
	int r;

	argv[0] = name; /* for getopt's messages, whatever the path */
	r = parse_globals(argc, argv, &cli);
	if (r >= 0)
		return r;
	if (optind >= argc) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	r = run(argc - optind, argv + optind, &cli);
	/* Output that never made it (a full disk, a closed pipe) is a failure. */
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_error(CLI_EXIT_ERROR, "cannot write the output: %m");
	return r;
}
