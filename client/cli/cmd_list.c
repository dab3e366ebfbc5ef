/* SPDX-License-Identifier: MIT */
/*
 * aoai list: profiles and secrets the agent holds.  The agent never sends a
 * secret for "list"; this prints names, fingerprints and states only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] = "Usage: aoai list [--json]\n"
				 "\n"
				 "Lists the agent's profiles (credential type, hosts, state) and\n"
				 "secrets (fingerprint, origin, lifetime left).  Never a secret.\n"
				 "\n"
				 "Options:\n"
				 "      --json  print the agent's reply as JSON\n"
				 "      --help  show this help\n";

static const char *field(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* "a.example.com,b.example.com" in a new string (NULL: out of memory). */
static char *join_hosts(const json_t *hosts)
{
	const json_t *host;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f;

	f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	json_array_foreach(hosts, i, host)
	    fprintf(f, "%s%s", i ? "," : "", json_string_value(host) ?: "?");
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* "valid": "token expires in 52m, refresh in 22m"; else "no token yet" … */
static void format_token(const json_t *token, char *buf, size_t len)
{
	const char *state = field(token, "state") ?: "";
	const json_t *refresh_in = json_object_get(token, "refresh_in");
	const char *error = field(token, "last_error");
	char expiry[64], refresh[32];

	if (strcmp(state, "valid") != 0) {
		snprintf(buf, len, "%s",
			 strcmp(state, "fetching") == 0  ? "fetching a token"
			 : strcmp(state, "expired") == 0 ? "token expired"
							 : "no token yet");
		return;
	}
	format_expiry(json_object_get(token, "expires_in"), expiry, sizeof(expiry));
	format_duration(json_integer_value(refresh_in), refresh, sizeof(refresh));
	/* Past its refresh time: a refresh is under way, or failing and retried. */
	if (json_is_integer(refresh_in))
		snprintf(buf, len, "token %s, refresh in %s", expiry, refresh);
	else if (error)
		snprintf(buf, len, "token %s, refresh failing: %s", expiry, error);
	else
		snprintf(buf, len, "token %s, refreshing", expiry);
}

/*
 * "ready", "missing secret", "unavailable: <last error>"; a ready token
 * profile says what its token is doing: "ready (token expires in 52m,
 * refresh in 22m)", "ready (no token yet)".
 */
static void format_state(const json_t *profile, char *buf, size_t len)
{
	const char *state = field(profile, "state") ?: "unknown";
	const char *detail = field(profile, "detail");
	const json_t *token = json_object_get(profile, "token");
	const json_t *signin = json_object_get(profile, "signin");
	const char *account = field(signin, "account");
	bool persisted = json_is_true(json_object_get(signin, "persisted"));
	char about[512];
	size_t i;

	if (json_is_object(token) && strcmp(state, "ready") == 0) {
		format_token(token, about, sizeof(about));
		snprintf(buf, len, "%s (%s%s%s%s%s)", state, account ? "signed in as " : "",
			 account ? account : "", account && persisted ? " (persisted)" : "",
			 account ? ", " : "", about);
		return;
	}
	snprintf(buf, len, "%s%s%s", state, detail ? ": " : "", detail ? detail : "");
	for (i = 0; buf[i] && buf[i] != ':'; i++)
		if (buf[i] == '_')
			buf[i] = ' ';
}

/* "managed-identity (app-service)": the credential type, and the token
 * source the agent chose when the type alone does not say it. */
static void format_credential(const json_t *profile, char *buf, size_t len)
{
	const char *type = field(profile, "credential") ?: "?";
	const char *source = field(json_object_get(profile, "token"), "source");

	if (source && strcmp(source, type) != 0)
		snprintf(buf, len, "%s (%s)", type, source);
	else
		snprintf(buf, len, "%s", type);
}

static int print_profiles(const json_t *profiles)
{
	static const char *const header[] = { "PROFILE", "CREDENTIAL", "HOSTS", "STATE" };
	const json_t *p;
	char state[1024], credential[128];
	json_t *table;
	char *hosts;
	size_t i;
	int r = 0;

	if (json_array_size(profiles) == 0) {
		puts("No profiles.");
		return 0;
	}
	table = table_new(header, 4);
	json_array_foreach(profiles, i, p)
	{
		hosts = join_hosts(json_object_get(p, "hosts"));
		format_state(p, state, sizeof(state));
		format_credential(p, credential, sizeof(credential));
		r = table && hosts
			? table_add(table, (const char *const[]){ field(p, "name"), credential,
								  hosts, state })
			: -1;
		free(hosts);
		if (r < 0)
			break;
	}
	if (r == 0)
		table_print(table);
	json_decref(table);
	return r;
}

/* "added", "file" …, or "persisted" for an added secret kept on disk. */
static const char *origin(const json_t *secret)
{
	return json_is_true(json_object_get(secret, "persisted")) ? "persisted"
								  : field(secret, "origin");
}

static int print_secrets(const json_t *secrets)
{
	static const char *const header[] = { "SECRET", "FINGERPRINT", "ORIGIN", "LIFETIME" };
	const json_t *s;
	char expiry[64];
	json_t *table;
	size_t i;
	int r = 0;

	if (json_array_size(secrets) == 0) {
		puts("No secrets.");
		return 0;
	}
	table = table_new(header, 4);
	json_array_foreach(secrets, i, s)
	{
		format_expiry(json_object_get(s, "expires_in"), expiry, sizeof(expiry));
		r = table ? table_add(table, (const char *const[]){ field(s, "name"),
								    field(s, "fingerprint") ?: "-",
								    origin(s), expiry })
			  : -1;
		if (r < 0)
			break;
	}
	if (r == 0)
		table_print(table);
	json_decref(table);
	/* A Key Vault secret whose last fetch failed: served from cache, or not at all. */
	json_array_foreach(secrets, i, s)
	{
		const char *error = field(s, "last_error");

		if (error)
			printf("secret %s: %s: %s\n", field(s, "name"),
			       field(s, "fingerprint")
				   ? "last refresh failed (the cached value is served)"
				   : "not available",
			       error);
	}
	return r;
}

static int print_list(const char *json)
{
	json_t *reply;
	bool locked;
	int r;

	reply = format_parse(json);
	if (!reply)
		return CLI_EXIT_ERROR;
	locked = json_is_true(json_object_get(reply, "locked"));
	if (locked)
		puts("The agent is locked.");
	r = print_profiles(json_object_get(reply, "profiles"));
	/* While locked the agent lists no secrets: nothing to say about them. */
	if (r == 0 && !locked) {
		putchar('\n');
		r = print_secrets(json_object_get(reply, "secrets"));
	}
	json_decref(reply);
	return r < 0 ? cli_error(CLI_EXIT_ERROR, "out of memory") : CLI_EXIT_OK;
}

int cmd_list(int argc, char *argv[], const struct cli *cli)
{
	return format_report(argc, argv, usage_text, cli, aoai_list, print_list);
}
