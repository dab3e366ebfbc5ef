/* SPDX-License-Identifier: MIT */
/*
 * aoai headers URL: the one command that prints credentials, as
 * `Name: value` lines for `curl -H @-`.  The output is assembled in a
 * buffer of ours, written with write(2) and wiped: no stdio buffer or
 * jansson string is left holding a value.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
    "Usage: aoai headers URL [--json]\n"
    "\n"
    "Prints the headers the agent gives for a request to URL, one 'Name: value'\n"
    "line each, so that  aoai headers URL | curl -H @- URL  works.  They contain\n"
    "credentials: do not paste them anywhere.\n"
    "\n"
    "Options:\n"
    "      --json  print {\"profile\": …, \"headers\": [{\"name\", \"value\",\n"
    "              \"exists_action\"} …]}\n"
    "      --help  show this help\n";

static const char *const action_names[] = {
	[AOAI_EXISTS_OVERRIDE] = "override",
	[AOAI_EXISTS_SKIP] = "skip",
	[AOAI_EXISTS_APPEND] = "append",
};

static int print_lines(const struct aoai_headers *h)
{
	size_t i, n = aoai_headers_count(h), len = 0, off = 0;
	char *buf;

	for (i = 0; i < n; i++)
		len += strlen(aoai_header_name(h, i)) + 2 + strlen(aoai_header_value(h, i)) + 1;
	buf = malloc(len + 1);
	if (!buf)
		return cli_error(CLI_EXIT_ERROR, "out of memory");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, len + 1 - off, "%s: %s\n",
					aoai_header_name(h, i), aoai_header_value(h, i));
	return cli_emit_secret(buf, off, "headers");
}

/* Wipes the "value" strings of a list of header objects. */
static void wipe_values(json_t *list)
{
	json_t *item, *value;
	size_t i;

	json_array_foreach(list, i, item)
	{
		value = json_object_get(item, "value");
		explicit_bzero((char *)json_string_value(value), json_string_length(value));
	}
}

static json_t *headers_doc(const struct aoai_headers *h)
{
	json_t *list, *item;
	size_t i;

	list = json_array();
	for (i = 0; list && i < aoai_headers_count(h); i++) {
		item = json_pack("{s:s,s:s,s:s}", "name", aoai_header_name(h, i), "value",
				 aoai_header_value(h, i), "exists_action",
				 action_names[aoai_header_action(h, i)]);
		if (json_array_append_new(list, item) < 0) {
			wipe_values(list);
			json_decref(list);
			return NULL;
		}
	}
	/* "o" takes @list, even on failure (out of memory: left unwiped). */
	return json_pack("{s:s,s:o}", "profile", aoai_headers_profile(h), "headers", list);
}

/* The --json document, dumped into a buffer of ours; jansson's copies wiped. */
static int print_json(const struct aoai_headers *h)
{
	size_t len = 0;
	char *buf = NULL;
	json_t *doc;

	doc = headers_doc(h);
	if (doc)
		len = json_dumpb(doc, NULL, 0, JSON_INDENT(2));
	if (len)
		buf = malloc(len + 1);
	if (buf && json_dumpb(doc, buf, len, JSON_INDENT(2)) == len) {
		buf[len++] = '\n';
	} else if (buf) {
		explicit_bzero(buf, len);
		free(buf);
		buf = NULL;
	}
	wipe_values(json_object_get(doc, "headers"));
	json_decref(doc);
	if (!buf)
		return cli_error(CLI_EXIT_ERROR, "out of memory");
	return cli_emit_secret(buf, len, "headers");
}

int cmd_headers(int argc, char *argv[], const struct cli *cli)
{
	struct aoai_headers *h = NULL;
	struct aoai_conn *conn;
	bool json = false;
	int r;

	r = cli_open_simple(argc, argv, usage_text, &json, 1, cli, &conn);
	if (r >= 0)
		return r;
	r = aoai_get_headers(conn, argv[optind], &h);
	if (r < 0)
		return cli_fail(conn, r);
	aoai_close(conn);
	r = json ? print_json(h) : print_lines(h);
	aoai_headers_free(h);
	return r;
}
