/* SPDX-License-Identifier: MIT */
/* Shared output: durations for people, replies as JSON for programs. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

void format_duration(long long seconds, char *buf, size_t len)
{
	static const struct {
		long long seconds;
		char unit;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t i;
	long long big, small;

	if (seconds < 0)
		seconds = 0;
	for (i = 0; i < 3 && seconds < units[i].seconds; i++)
		;
	big = seconds / units[i].seconds;
	/* Seconds only below a minute: "59m" reads better than "59m 2s". */
	small = i < 2 ? seconds % units[i].seconds / units[i + 1].seconds : 0;
	if (small)
		snprintf(buf, len, "%lld%c %lld%c", big, units[i].unit, small, units[i + 1].unit);
	else
		snprintf(buf, len, "%lld%c", big, units[i].unit);
}

void format_expiry(const json_t *expires_in, char *buf, size_t len)
{
	char d[32];

	if (!json_is_integer(expires_in)) {
		snprintf(buf, len, "no expiry");
		return;
	}
	format_duration(json_integer_value(expires_in), d, sizeof(d));
	snprintf(buf, len, "expires in %s", d);
}

json_t *format_parse(const char *json)
{
	json_t *doc;

	doc = json_loads(json, 0, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		cli_error(0, "the agent sent an invalid reply");
		return NULL;
	}
	return doc;
}

int format_print_json(const char *json)
{
	json_t *doc;
	int r;

	doc = format_parse(json);
	if (!doc)
		return CLI_EXIT_ERROR;
	json_object_del(doc, "v");
	json_object_del(doc, "ok");
	r = json_dumpf(doc, stdout, JSON_INDENT(2));
	json_decref(doc);
	if (r < 0)
		return cli_error(CLI_EXIT_ERROR, "cannot write the output");
	putchar('\n');
	return CLI_EXIT_OK;
}

int format_report(int argc, char *argv[], const char *usage, const struct cli *cli,
		  int (*request)(struct aoai_conn *conn, char **ret_json),
		  int (*print)(const char *json))
{
	struct aoai_conn *conn;
	bool json = false;
	char *text = NULL;
	int r;

	r = cli_open_simple(argc, argv, usage, &json, 0, cli, &conn);
	if (r >= 0)
		return r;
	r = request(conn, &text);
	if (r < 0)
		return cli_fail(conn, r);
	aoai_close(conn);
	r = json ? format_print_json(text) : print(text);
	free(text);
	return r;
}
