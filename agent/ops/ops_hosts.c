/* SPDX-License-Identifier: MIT */
/*
 * "hosts": the host patterns of every profile, so that the preload hook can
 * let a transfer to a host no profile covers go out without asking
 * (docs/HOOK.md).  Patterns are no secret: "list" shows them too.
 *
 * A hook keeps the list only while the connection it fetched it on stays
 * open, and the agent closes every such connection as soon as the patterns
 * may have changed (a reload, an added or removed --host profile, a store
 * unlocked or locked), before it answers the request that changed them.
 * The hook checks its connection before each transfer (a non-blocking
 * peek), so no transfer after the change is decided on the old list.
 *
 * The close is immediate even for a connection with a request in flight:
 * waiting for its reply would leave a moment, between that reply and the
 * close, when another thread of the program could still find the
 * connection open.  The hook asks again on a new connection (its requests
 * are read-only), and a token wait that loses its client is cancelled as
 * when a client hangs up.
 */
#include <errno.h>

#include "added_profiles.h"
#include "dispatch.h"
#include "profiles.h"

/* Room left in a frame for the reply's other members and the JSON quoting. */
#define HOSTS_REPLY_SLACK 1024

/* Changes with every reload and every change of the added profiles. */
static uint64_t hosts_version(const struct agent *a)
{
	return (uint64_t)a->reloads << 32 ^ (uint32_t)added_profiles_generation(a->added);
}

/* Appends @p's patterns in their config spelling; adds their size to *used. */
static int append_patterns(json_t *list, const struct profile *p, size_t *used)
{
	char buf[HOSTS_MAX_NAME + 16];

	for (size_t h = 0; h < p->n_hosts; h++) {
		int n = host_pattern_format(&p->hosts[h], buf, sizeof(buf));

		if (n < 0 || json_array_append_new(list, json_string(buf)) < 0)
			return -ENOMEM;
		*used += (size_t)n + 3; /* quotes and comma */
	}
	return 0;
}

/* The reply, or NULL with *ret_status and @msg set. */
static json_t *hosts_reply(const struct agent *a, int *ret_status, const char **msg)
{
	json_t *reply = proto_ok_reply(), *list = json_array();
	size_t n = profiles_count(a), used = 0;

	*ret_status = PROTO_E_INTERNAL;
	*msg = "out of memory";
	if (!reply || !list)
		goto fail;
	/* Stops once the frame is full: a peer must not make the agent build more. */
	for (size_t i = 0; i < n && used <= PROTO_MAX_FRAME - HOSTS_REPLY_SLACK; i++)
		if (append_patterns(list, profiles_at(a, i), &used) < 0)
			goto fail;
	if (used > PROTO_MAX_FRAME - HOSTS_REPLY_SLACK) {
		*ret_status = PROTO_E_LIMIT;
		*msg = "too many host patterns for one reply: ask \"headers\" for each URL";
		goto fail;
	}
	if (json_object_set_new(reply, "hosts", list) == 0)
		return reply;
	list = NULL; /* json_object_set_new() dropped it */
fail:
	json_decref(list);
	json_decref(reply);
	return NULL;
}

void op_hosts(struct conn *c, const struct proto_request *req)
{
	const char *msg;
	json_t *reply;
	int status;

	(void)req;
	/* Changes made before this request reach the watchers before it is answered. */
	ops_hosts_check(c->agent, c);
	reply = hosts_reply(c->agent, &status, &msg);
	if (!reply) {
		conn_reply_error(c, status, msg);
		return;
	}
	c->watches_hosts = true;
	conn_reply(c, reply);
}

void ops_hosts_check(struct agent *a, struct conn *current)
{
	uint64_t now = hosts_version(a);
	struct conn *c, *next;

	if (now == a->hosts_version)
		return;
	a->hosts_version = now;
	for (c = a->conns; c; c = next) {
		next = c->next;
		if (c->watches_hosts)
			conn_close(c, c == current);
	}
}
