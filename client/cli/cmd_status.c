/* SPDX-License-Identifier: MIT */
/* aoai status: the agent's pid, version, uptime, socket, configuration, counts,
 * and the releases and refusals of credentials per profile. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] = "Usage: aoai status [--json]\n"
				 "\n"
				 "Shows the agent's pid, version, uptime, socket, configuration\n"
				 "file, lock state and counts, then how many credentials\n"
				 "each profile released and refused since the agent started\n"
				 "(\"(unmatched)\": refusals that named no profile).\n"
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

static void count_cell(const json_t *count, const char *key, char *buf, size_t len)
{
	const json_t *v = json_object_get(count, key);

	if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		snprintf(buf, len, "-");
}

/* One table row; zero counts are skipped for the pseudo-profiles. */
static void audit_row(json_t *table, const char *name, const json_t *count, bool skip_zero)
{
	char released[32], refused[32];
	const char *cells[3] = { name, released, refused };

	count_cell(count, "released", released, sizeof(released));
	count_cell(count, "refused", refused, sizeof(refused));
	if (skip_zero && strcmp(released, "0") == 0 && strcmp(refused, "0") == 0)
		return;
	(void)table_add(table, cells);
}

/* Releases and refusals per profile (agents from before the audit send none). */
static void print_audit(const json_t *audit)
{
	static const char *const header[] = { "PROFILE", "RELEASED", "REFUSED" };
	const json_t *profiles = json_object_get(audit, "profiles"), *count;
	json_t *table, *unmatched;
	const char *name;

	if (!json_is_object(audit))
		return;
	table = table_new(header, 3);
	if (!table)
		return;
	json_object_foreach((json_t *)profiles, name, count) audit_row(table, name, count, false);
	unmatched = json_pack("{s:i, s:I}", "released", 0, "refused",
			      json_integer_value(json_object_get(audit, "unmatched")));
	audit_row(table, "(unmatched)", unmatched, true);
	audit_row(table, "(other)", json_object_get(audit, "other"), true);
	if (json_array_size(table) > 1) {
		printf("\n");
		table_print(table);
	} else {
		line("Releases:", "none since start");
	}
	json_decref(unmatched);
	json_decref(table);
}

/* "Store: unlocked, 3 secrets (PATH)", or its error. */
static void print_store(const json_t *store)
{
	const char *state = json_string_value(json_object_get(store, "state"));
	const char *path = json_string_value(json_object_get(store, "path"));
	const char *error = json_string_value(json_object_get(store, "error"));
	char buf[PATH_MAX + 64];

	if (!state)
		return;
	if (strcmp(state, "none") == 0)
		snprintf(buf, sizeof(buf), "none (aoai passwd creates %s)", path ? path : "one");
	else if (strcmp(state, "unlocked") == 0)
		snprintf(buf, sizeof(buf), "unlocked, %lld persisted secret(s) (%s)",
			 (long long)json_integer_value(json_object_get(store, "secrets")),
			 path ? path : "-");
	else
		snprintf(buf, sizeof(buf), "%s (%s)", state, path ? path : "-");
	line("Persistent store:", buf);
	if (error)
		line("Store error:", error);
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
	print_store(json_object_get(r, "store"));
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
	print_audit(json_object_get(r, "audit"));
	json_decref(r);
	return CLI_EXIT_OK;
}

int cmd_status(int argc, char *argv[], const struct cli *cli)
{
	return format_report(argc, argv, usage_text, cli, aoai_status, print_status);
}
