/* SPDX-License-Identifier: MIT */
/*
 * aoai env: the shell statements that point clients at the agent, for an
 * agent the shell did not start (systemd's):  eval "$(aoai env)".  Needs no
 * running agent.  When one answers, a comment per profile with a relay
 * (aoai-relay(1)) says what to paste into a tool that cannot be wrapped:
 * comments, so that eval sets nothing more.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "relay_key.h"

static const char usage_text[] =
    "Usage: aoai env [-s | -c | --fish]\n"
    "\n"
    "Prints the statement that sets AOAI_AUTH_SOCK to the agent's socket, for\n"
    "eval \"$(aoai env)\" in a shell that did not start the agent itself (e.g. with\n"
    "the systemd user units).  The shell syntax follows $SHELL unless an option\n"
    "says otherwise.  For each profile with a relay (aoai-relay), a comment shows\n"
    "the endpoint and placeholder key to give a program aoai-exec cannot wrap\n"
    "(not in C shell syntax, where eval does not take comments).\n"
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

/* What the placeholder part of a relay's comment says: the key, or why there is none. */
static void placeholder_note(char *buf, size_t len)
{
	char path[RELAY_KEY_PATH], key[RELAY_KEY_LEN + 1];
	int r = relay_key_path(path, sizeof(path));

	if (r == 0)
		r = relay_key_read(path, key);
	if (r == 0)
		snprintf(buf, len, "AZURE_OPENAI_API_KEY=%s", key);
	else if (r == -ENOENT)
		snprintf(buf, len, "run aoai-relay once for the AZURE_OPENAI_API_KEY to use");
	else if (r == -EPERM)
		snprintf(buf, len, "%s is not a file of yours readable by you alone", path);
	else
		snprintf(buf, len, "%s holds no placeholder", path);
}

/* A comment per profile of the agent at @path with a relay; nothing when none answers. */
static void print_relays(FILE *out, const char *path)
{
	struct aoai_conn *conn = NULL;
	char *text = NULL, note[RELAY_KEY_PATH + 80] = "";
	json_t *reply, *p;
	size_t i;

	if (aoai_connect(path, &conn) < 0)
		return;
	if (aoai_list(conn, &text) < 0)
		text = NULL;
	aoai_close(conn);
	reply = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	json_array_foreach(json_object_get(reply, "profiles"), i, p)
	{
		const char *name = json_string_value(json_object_get(p, "name"));
		const char *listen = json_string_value(json_object_get(p, "relay"));

		if (!name || !listen)
			continue;
		if (!note[0])
			placeholder_note(note, sizeof(note));
		fprintf(out, "# relay of profile \"%s\": AZURE_OPENAI_ENDPOINT=http://%s/ %s\n",
			name, listen, note);
	}
	json_decref(reply);
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
	if (kind != SHELL_CSH)
		print_relays(stdout, path);
	return CLI_EXIT_OK;
}
