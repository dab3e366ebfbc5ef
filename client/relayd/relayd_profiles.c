/* SPDX-License-Identifier: MIT */
/*
 * The profiles with a relay: the agent's `list` (no secret in it) names
 * each one's relay address; its upstream is the profile's endpoint
 * (profile_endpoint.c, as aoai-exec's), without the trailing slash.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "profile_endpoint.h"
#include "relayd.h"

static const char *field(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* Adds @p's relay to @e, unless it has none.  0, or the exit code. */
static int add(const json_t *p, struct relayd_entries *e)
{
	const char *name = field(p, "name") ?: "", *listen = field(p, "relay");
	struct relayd_entry *x;
	size_t len;

	if (!listen)
		return 0;
	if (strlen(name) >= sizeof(x->profile) || strlen(listen) >= sizeof(x->listen))
		return relayd_error(CLI_EXIT_ERROR, "invalid reply from the agent to list");
	if (e->n == RELAYD_MAX_RELAYS)
		return relayd_error(CLI_EXIT_ERROR, "more than %d profiles have a relay",
				    RELAYD_MAX_RELAYS);
	x = &e->items[e->n];
	memset(x, 0, sizeof(*x));
	x->fd = -1;
	memcpy(x->profile, name, strlen(name) + 1);
	memcpy(x->listen, listen, strlen(listen) + 1);
	if (profile_endpoint(p, &x->upstream) < 0)
		return relayd_error(CLI_EXIT_ERROR, "out of memory");
	if (!x->upstream) {
		relayd_warn("profile \"%s\" has wildcard hosts only: no relay on %s (list an exact "
			    "host first)",
			    name, listen);
		return 0;
	}
	len = strlen(x->upstream);
	if (len > 0 && x->upstream[len - 1] == '/')
		x->upstream[len - 1] = '\0';
	e->n++;
	return 0;
}

int relayd_profiles(struct aoai_conn *conn, struct relayd_entries *ret)
{
	json_error_t jerr;
	json_t *reply, *p;
	char *text = NULL;
	size_t i;
	int r;

	r = aoai_list(conn, &text);
	if (r < 0)
		return relayd_error(exitcode_from_error(r), "cannot list the agent's profiles: %s",
				    *aoai_conn_message(conn) ? aoai_conn_message(conn)
							     : aoai_strerror(r));
	reply = json_loads(text, 0, &jerr);
	free(text);
	if (!reply || !json_is_array(json_object_get(reply, "profiles"))) {
		json_decref(reply);
		return relayd_error(CLI_EXIT_ERROR, "invalid reply from the agent to list");
	}
	r = 0;
	json_array_foreach(json_object_get(reply, "profiles"), i, p)
	{
		r = add(p, ret);
		if (r != 0)
			break;
	}
	json_decref(reply);
	return r;
}

void relayd_entries_free(struct relayd_entries *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->items[i].upstream);
		e->items[i].upstream = NULL;
		if (e->items[i].fd >= 0)
			close(e->items[i].fd);
		e->items[i].fd = -1;
	}
	e->n = 0;
}
