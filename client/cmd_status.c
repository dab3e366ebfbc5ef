/* SPDX-License-Identifier: MIT */
/* aoai status: the agent's pid, version, uptime, socket, configuration, counts. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const char usage_text[] = "Usage: aoai status [--json]\n"
				 "\n"
				 "Shows the agent's pid, version, uptime, socket, configuration\n"
				 "file, lock state and counts.\n"
				 "\n"
				 "Options:\n"
				 "      --json  print the agent's reply as JSON\n"
				 "      --help  show this help\n";

#define LABEL_WIDTH 20

static void line(const char *label, const char *value)
{
	printf("%-*s%s\n", LABEL_WIDTH, label, value);
}

/* An integer field as text; "-" when the agent did not send one. */
static void line_int(const json_t *reply, const char *label, const char *key)
{
	const json_t *v = json_object_get(reply, key);
	char buf[32];

	if (json_is_integer(v))
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		snprintf(buf, sizeof(buf), "-");
	line(label, buf);
}

/* A duration field: "13m", or @none when null. */
static void line_duration(const json_t *reply, const char *label, const char *key, const char *none)
{
	const json_t *v = json_object_get(reply, key);
	char buf[64];

	if (json_is_integer(v))
		format_duration(json_integer_value(v), buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "%s", none);
	line(label, buf);
}

static int print_status(const char *json)
{
	const char *error;
	json_t *r;

	r = format_parse(json);
	if (!r)
		return CLI_EXIT_ERROR;
	line_int(r, "Agent pid:", "pid");
	line("Version:", json_string_value(json_object_get(r, "version")) ?: "-");
	line_duration(r, "Uptime:", "uptime", "-");
	line("Socket:", json_string_value(json_object_get(r, "socket")) ?: "-");
	line("Configuration:", json_string_value(json_object_get(r, "config")) ?: "none");
	line("Locked:", json_is_true(json_object_get(r, "locked")) ? "yes" : "no");
	line_int(r, "Profiles:", "profiles");
	line_int(r, "Secrets:", "secrets");
	/* Agents with token support count their valid cached tokens. */
	if (json_object_get(r, "tokens"))
		line_int(r, "Tokens:", "tokens");
	line_int(r, "Connections:", "connections");
	line_duration(r, "Default lifetime:", "default_lifetime", "no expiry");
	line_int(r, "Reloads:", "reloads");
	error = json_string_value(json_object_get(r, "last_reload_error"));
	if (error)
		line("Last reload error:", error);
	json_decref(r);
	return CLI_EXIT_OK;
}

int cmd_status(int argc, char *argv[], const struct cli *cli)
{
	struct aoai_conn *conn;
	bool json = false;
	char *text = NULL;
	int r;

	r = cli_parse_simple(argc, argv, usage_text, &json, 0);
	if (r >= 0)
		return r;
	r = cli_connect(cli, &conn);
	if (r != 0)
		return r;
	r = aoai_status(conn, &text);
	if (r < 0)
		return cli_fail(conn, r);
	aoai_close(conn);
	r = json ? format_print_json(text) : print_status(text);
	free(text);
	return r;
}
