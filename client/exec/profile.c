/* SPDX-License-Identifier: MIT */
/*
 * Which profile the command runs with, from the agent's `list` (which never
 * carries a secret): -p NAME; else the profile covering the host of the
 * caller's AZURE_OPENAI_ENDPOINT, matched as the agent matches URLs (exact
 * host over *.suffix, longer suffix over shorter, explicit port over the
 * scheme's default); else the agent's only profile.  Anything else is an
 * error that lists the candidates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "exec.h"
#include "profile_endpoint.h"

#define SCORE_EXACT     (1 << 20)
#define ENDPOINT_VAR    "AZURE_OPENAI_ENDPOINT"
#define CANDIDATES_SHOW 512 /* bytes of "a, b, c" in messages */

/* The host (lower case, IPv6 without brackets) and port of an http(s) URL. */
struct target {
	char host[ENDPOINT_HOST_MAX];
	unsigned port;
	unsigned default_port;
};

static const char *field(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* Parses an absolute http(s) URL.  0 or -1. */
static int parse_target(const char *url, struct target *t)
{
	const char *rest, *end;

	if (strncasecmp(url, "https://", 8) == 0) {
		rest = url + 8;
		t->default_port = 443;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		rest = url + 7;
		t->default_port = 80;
	} else {
		return -1;
	}
	end = rest + strcspn(rest, "/?#");
	if (memchr(rest, '@', (size_t)(end - rest)))
		return -1; /* userinfo: not an endpoint the SDKs build */
	if (endpoint_split_host(rest, (size_t)(end - rest), t->host, &t->port) < 0)
		return -1;
	if (t->port == 0)
		t->port = t->default_port;
	return 0;
}

/* How specifically @pattern covers @t: 0 not at all, higher is more specific. */
static int pattern_score(const char *pattern, const struct target *t)
{
	char host[ENDPOINT_HOST_MAX];
	unsigned port;
	size_t hl, tl;

	if (endpoint_split_host(pattern, strlen(pattern), host, &port) < 0)
		return 0;
	if ((port ? port : t->default_port) != t->port)
		return 0;
	if (strncmp(host, "*.", 2) != 0)
		return strcmp(host, t->host) == 0 ? SCORE_EXACT + (port != 0) : 0;
	hl = strlen(host + 1); /* ".suffix" */
	tl = strlen(t->host);
	if (tl <= hl || strcmp(t->host + tl - hl, host + 1) != 0)
		return 0;
	return (int)hl * 2 + (port != 0);
}

static int profile_score(const json_t *profile, const struct target *t)
{
	const json_t *host;
	size_t i;
	int best = 0, s;

	json_array_foreach(json_object_get(profile, "hosts"), i, host)
	{
		s = json_is_string(host) ? pattern_score(json_string_value(host), t) : 0;
		if (s > best)
			best = s;
	}
	return best;
}

/* "a, b, c" (cut short when long). */
static void join_names(const json_t *profiles, char *buf, size_t len)
{
	const json_t *p;
	size_t i, used = 0;
	int n;

	buf[0] = '\0';
	json_array_foreach(profiles, i, p)
	{
		n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
			     field(p, "name") ?: "?");
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
}

static const json_t *by_name(const json_t *profiles, const char *name)
{
	const json_t *p;
	size_t i;

	json_array_foreach(profiles, i, p)
	{
		if (strcmp(field(p, "name") ?: "", name) == 0)
			return p;
	}
	return NULL;
}

/* The profile covering @t most specifically, or NULL. */
static const json_t *by_target(const json_t *profiles, const struct target *t)
{
	const json_t *p, *best = NULL;
	int best_score = 0, s;
	size_t i;

	json_array_foreach(profiles, i, p)
	{
		s = profile_score(p, t);
		if (s > best_score) {
			best_score = s;
			best = p;
		}
	}
	return best;
}

/* Fills @ret from the chosen @p (the caller's endpoint @given kept when @p covers it). */
static int fill(const json_t *p, const char *given, struct profile *ret)
{
	struct target t;
	const char *cred = field(p, "credential") ?: "";

	snprintf(ret->name, sizeof(ret->name), "%s", field(p, "name") ?: "");
	ret->token = strcmp(cred, "api-key") != 0;
	if (given && parse_target(given, &t) == 0 && profile_score(p, &t) > 0) {
		ret->endpoint_given = true;
		ret->endpoint = strdup(given);
		return ret->endpoint ? 0 : exec_error(CLI_EXIT_ERROR, "out of memory");
	}
	if (profile_endpoint(p, &ret->endpoint) < 0)
		return exec_error(CLI_EXIT_ERROR, "out of memory");
	if (given && !ret->endpoint)
		exec_warn("%s (%s) is not a host of profile \"%s\": removed", ENDPOINT_VAR, given,
			  ret->name);
	return 0;
}

static int choose(const json_t *profiles, const char *name, const char *given, struct profile *ret)
{
	char names[CANDIDATES_SHOW];
	const json_t *p = NULL;
	struct target t;

	join_names(profiles, names, sizeof(names));
	if (json_array_size(profiles) == 0)
		return exec_error(CLI_EXIT_NOMATCH, "the agent has no profile");
	if (name) {
		p = by_name(profiles, name);
		if (!p)
			return exec_error(CLI_EXIT_ERROR, "no profile \"%s\"; the agent has: %s",
					  name, names);
	} else if (given) {
		if (parse_target(given, &t) < 0)
			return exec_error(CLI_EXIT_USAGE,
					  "%s is not an http(s) URL; choose a profile with -p (%s)",
					  ENDPOINT_VAR, names);
		p = by_target(profiles, &t);
		if (!p)
			return exec_error(CLI_EXIT_NOMATCH,
					  "no profile covers %s:%u (%s); profiles: %s", t.host,
					  t.port, ENDPOINT_VAR, names);
	} else if (json_array_size(profiles) == 1) {
		p = json_array_get(profiles, 0);
	} else {
		return exec_error(
		    CLI_EXIT_USAGE,
		    "the agent has several profiles (%s): choose one with -p, or set %s", names,
		    ENDPOINT_VAR);
	}
	return fill(p, given, ret);
}

int profile_select(struct aoai_conn *conn, const char *name, struct profile *ret)
{
	const char *given = getenv(ENDPOINT_VAR);
	json_error_t jerr;
	json_t *reply;
	char *text = NULL;
	int r;

	r = aoai_list(conn, &text);
	if (r < 0)
		return exec_error(exitcode_from_error(r), "cannot list the agent's profiles: %s",
				  *aoai_conn_message(conn) ? aoai_conn_message(conn)
							   : aoai_strerror(r));
	reply = json_loads(text, 0, &jerr);
	free(text);
	if (!reply || !json_is_array(json_object_get(reply, "profiles"))) {
		json_decref(reply);
		return exec_error(CLI_EXIT_ERROR, "invalid reply from the agent to list");
	}
	if (given && !*given)
		given = NULL;
	r = choose(json_object_get(reply, "profiles"), name, given, ret);
	json_decref(reply);
	return r;
}

void profile_clear(struct profile *p)
{
	free(p->endpoint);
	p->endpoint = NULL;
}
