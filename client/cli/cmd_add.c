/* SPDX-License-Identifier: MIT */
/* aoai add NAME: hand a secret read from stdin (never argv) to the agent. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "proto.h"

static const char usage_text[] =
    "Usage: aoai add NAME [-t LIFE] [--host HOST] [--persist] [--json]\n"
    "\n"
    "Reads a secret from stdin and hands it to the agent under NAME.  On a\n"
    "terminal it prompts without echo; otherwise it reads all of stdin and\n"
    "drops one trailing newline.  The secret is never taken from the command line.\n"
    "\n"
    "Options:\n"
    "  -t, --lifetime LIFE  forget the secret after LIFE: seconds, or a number\n"
    "                       with s, m, h, d or w (90m, 8h); 0 = never.\n"
    "                       Default: the agent's (aoai-agent -t)\n"
    "      --host HOST      also create (or update) an api-key profile NAME\n"
    "                       serving HOST or HOST:PORT\n"
    "      --persist        also keep it (and its host and lifetime) in the\n"
    "                       encrypted persistent store, so that it survives the\n"
    "                       agent (create the store first: aoai passwd)\n"
    "      --json           print the agent's reply as JSON\n"
    "      --help           show this help\n";

struct add_args {
	const char *name;
	const char *host;
	long long lifetime; /* -1: the agent's default */
	bool persist;
	bool json;
};

static int parse_args(int argc, char *argv[], struct add_args *a)
{
	static const struct option options[] = {
		{ "lifetime", required_argument, NULL, 't' },
		{ "host", required_argument, NULL, 'H' },
		{ "json", no_argument, NULL, 'j' },
		{ "persist", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "t:", options, NULL)) != -1) {
		switch (c) {
		case 't':
			if (lifetime_parse(optarg, &a->lifetime) < 0) {
				return cli_usage_error(argv[0],
						       "invalid lifetime '%s': seconds, or a "
						       "number with s, m, h, d or w",
						       optarg);
			}
			break;
		case 'H':
			a->host = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 'P':
			a->persist = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error(argv[0], NULL);
		}
	}
	if (argc - optind != 1) {
		return cli_usage_error(argv[0], "expected one NAME");
	}
	a->name = argv[optind];
	if (!proto_name_valid(a->name))
		return cli_error(CLI_EXIT_USAGE, "invalid name '%s': use 1-64 of A-Z a-z 0-9 . _ -",
				 a->name);
	return -1;
}

/* True when the reply says no profile (nor Key Vault secret) sends the
 * secret; an older agent says nothing about it: false. */
static bool serves_nothing(json_t *reply)
{
	json_t *profiles = json_object_get(reply, "profiles");
	json_t *secrets = json_object_get(reply, "secrets");

	return json_is_array(profiles) && json_array_size(profiles) == 0 &&
	       json_is_array(secrets) && json_array_size(secrets) == 0;
}

/* A name no profile uses is a typo or a missing --host: the add succeeded,
 * but nothing will ever be sent with it, so say how to change that. */
static void warn_unused(json_t *reply, const char *name)
{
	if (!serves_nothing(reply))
		return;
	fflush(stdout);
	fprintf(stderr,
		"aoai: warning: no profile uses secret \"%s\", so it serves nothing yet: run "
		"aoai add %s --host HOST to make a profile for it, or name it in a profile of the "
		"configuration (a profile \"%s\" of type api-key, or \"secret\": \"%s\" in a "
		"credential)\n",
		name, name, name, name);
}

static int print_added(const char *json, const struct add_args *a)
{
	char expiry[64];
	json_t *reply = format_parse(json);
	int r;

	if (!reply)
		return CLI_EXIT_ERROR;
	if (a->json) {
		r = format_print_json(json);
		warn_unused(reply, a->name);
		json_decref(reply);
		return r;
	}
	format_expiry(json_object_get(reply, "expires_in"), expiry, sizeof(expiry));
	printf("Secret \"%s\" added (%s, %s)\n", a->name,
	       json_string_value(json_object_get(reply, "fingerprint")) ?: "no fingerprint",
	       expiry);
	/* The agent's reading of --host: a URL given there stands for its host. */
	if (a->host)
		printf("Profile \"%s\" serves %s\n", a->name,
		       json_string_value(json_object_get(reply, "host")) ?: a->host);
	if (a->persist)
		printf("Kept in the persistent store\n");
	warn_unused(reply, a->name);
	json_decref(reply);
	return CLI_EXIT_OK;
}

int cmd_add(int argc, char *argv[], const struct cli *cli)
{
	struct add_args a = { .lifetime = -1 };
	char secret[TTY_BUF(PROTO_MAX_SECRET)];
	char prompt[PROTO_MAX_NAME + 32];
	struct aoai_conn *conn = NULL;
	char *json = NULL;
	long n;
	int r;

	r = parse_args(argc, argv, &a);
	if (r >= 0)
		return r;
	/* Fail before prompting when there is no agent to give the secret to. */
	r = cli_connect(cli, &conn);
	if (r != 0)
		return r;
	snprintf(prompt, sizeof(prompt), "Secret for %s: ", a.name);
	n = tty_read_secret("secret", prompt, true, secret, PROTO_MAX_SECRET);
	if (n > 0)
		r = (a.persist ? aoai_add_persistent_json : aoai_add_json)(
		    conn, a.name, secret, (size_t)n, a.lifetime, a.host, &json);
	explicit_bzero(secret, sizeof(secret));
	r = cli_finish(conn, n, r, NULL);
	if (r != CLI_EXIT_OK)
		return r;
	r = print_added(json, &a);
	free(json);
	return r;
}
