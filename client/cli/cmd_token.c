/* SPDX-License-Identifier: MIT */
/*
 * aoai token [PROFILE] [--scope S] [--json]: an access token, for
 * `$(aoai token)` or, with --json, in the shape `az account
 * get-access-token` prints.  As in cmd_headers.c, the output is assembled in
 * a buffer of ours, written with write(2) and wiped: no stdio buffer or
 * jansson string is left holding the token.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "proto.h"

static const char usage_text[] =
    "Usage: aoai token [PROFILE] [--scope SCOPE] [--json]\n"
    "\n"
    "Prints an access token of the token profile PROFILE (default: the only\n"
    "token profile the agent has) and a newline, so that\n"
    "  curl -H \"Authorization: Bearer $(aoai token)\" URL\n"
    "works.  The agent answers from its cache, or waits for a token from the\n"
    "profile's identity source.  The token is a credential: do not paste it\n"
    "anywhere.\n"
    "\n"
    "Options:\n"
    "      --scope SCOPE  the token's scope (default: the profile's, usually\n"
    "                     https://cognitiveservices.azure.com/.default)\n"
    "      --json         print {\"accessToken\", \"expiresOn\" (local time),\n"
    "                     \"expires_on\", \"tokenType\"}, as\n"
    "                     'az account get-access-token' does\n"
    "      --help         show this help\n"
    "\n"
    "Exit status:\n"
    "  0  success\n"
    "  1  other failure: no such profile, PROFILE is an api-key profile,\n"
    "     several token profiles and no PROFILE, an agent without tokens\n"
    "  2  usage error\n"
    "  3  no agent reachable\n"
    "  4  the agent has no token profile\n"
    "  5  the agent is locked\n"
    "  6  the token source failed (its error is printed)\n"
    "  7  the profile does not allow this client\n";

/* "2026-01-01 00:00:00.000000": az's expiresOn, in local time. */
#define EXPIRES_ON_MAX 64

struct options {
	const char *profile; /* NULL: the agent picks */
	const char *scope;   /* NULL: the profile's */
	bool json;
};

/* Returns -1 to go on, or the exit code (after --help, or a usage error). */
static int parse_options(int argc, char *argv[], struct options *o)
{
	static const struct option options[] = {
		{ "scope", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return CLI_EXIT_OK;
		} else if (c == 's') {
			o->scope = optarg;
		} else if (c == 'j') {
			o->json = true;
		} else {
			return cli_usage_error(argv[0], NULL);
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind + 1]);
	if (argc - optind == 1)
		o->profile = argv[optind];
	if (o->profile && !proto_name_valid(o->profile))
		return cli_error(CLI_EXIT_USAGE,
				 "invalid profile name '%s': use 1-64 of A-Z a-z 0-9 . _ -",
				 o->profile);
	/* The scope is checked by libaoai (AOAI_E_INVALID, exit 2). */
	return -1;
}

static int print_plain(const struct aoai_token *t)
{
	const char *value = aoai_token_value(t);
	size_t len = strlen(value);
	char *buf;

	buf = malloc(len + 1);
	if (!buf)
		return cli_error(CLI_EXIT_ERROR, "out of memory");
	memcpy(buf, value, len);
	buf[len] = '\n';
	return cli_emit_secret(buf, len + 1, "token");
}

/*
 * @s as the inside of a JSON string.  libaoai hands out printable ASCII
 * only, so '"' and '\' are the characters to escape.  Returns the length
 * written, or (with @buf NULL) needed.
 */
static size_t json_escape(const char *s, char *buf)
{
	size_t n = 0;

	for (; *s; s++) {
		if (*s == '"' || *s == '\\') {
			if (buf)
				buf[n] = '\\';
			n++;
		}
		if (buf)
			buf[n] = *s;
		n++;
	}
	return n;
}

static int format_expires_on(long long expires_on, char *buf, size_t len)
{
	time_t when = (time_t)expires_on;
	struct tm tm;

	if (!localtime_r(&when, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S.000000", &tm) == 0)
		return -1;
	return 0;
}

/* @s escaped for a JSON string, in a new buffer (NULL: out of memory). */
static char *json_escape_dup(const char *s)
{
	char *buf = malloc(json_escape(s, NULL) + 1);

	if (buf)
		buf[json_escape(s, buf)] = '\0';
	return buf;
}

static char *wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
	return NULL;
}

static int print_json(const struct aoai_token *t)
{
	static const char fmt[] = "{\n  \"accessToken\": \"%s\",\n  \"expiresOn\": \"%s\",\n"
				  "  \"expires_on\": %lld,\n  \"tokenType\": \"%s\"\n}\n";
	char expires[EXPIRES_ON_MAX], *buf = NULL, *value, *type;
	size_t len = 0;
	int n = -1;

	if (format_expires_on(aoai_token_expires_on(t), expires, sizeof(expires)) < 0)
		return cli_error(CLI_EXIT_ERROR, "the token's expiry is out of range");
	value = json_escape_dup(aoai_token_value(t));
	type = json_escape_dup(aoai_token_type(t));
	if (value && type) {
		/* 32: more than the digits of a long long. */
		len = sizeof(fmt) + strlen(value) + strlen(expires) + 32 + strlen(type);
		buf = malloc(len);
	}
	if (buf)
		n = snprintf(buf, len, fmt, value, expires, aoai_token_expires_on(t), type);
	wipe_free(value);
	free(type);
	if (n < 0 || (size_t)n >= len) {
		if (buf)
			explicit_bzero(buf, len);
		free(buf);
		return cli_error(CLI_EXIT_ERROR, "out of memory");
	}
	return cli_emit_secret(buf, (size_t)n, "token");
}

int cmd_token(int argc, char *argv[], const struct cli *cli)
{
	struct options o = { 0 };
	struct aoai_token *t = NULL;
	struct aoai_conn *conn;
	int r;

	r = parse_options(argc, argv, &o);
	if (r >= 0)
		return r;
	r = cli_connect(cli, &conn);
	if (r != 0)
		return r;
	r = aoai_get_token(conn, o.profile, o.scope, &t);
	if (r < 0 && strcmp(aoai_conn_error_code(conn), "unknown_op") == 0) {
		aoai_close(conn);
		return cli_error(CLI_EXIT_ERROR, "the agent does not support tokens (an older "
						 "aoai-agent?)");
	}
	if (r < 0)
		return cli_fail(conn, r);
	aoai_close(conn);
	r = o.json ? print_json(t) : print_plain(t);
	aoai_token_free(t);
	return r;
}
