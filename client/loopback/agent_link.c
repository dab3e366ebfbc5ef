/* SPDX-License-Identifier: MIT */
/*
 * The agent connection a local endpoint's threads share (the identity
 * endpoint's, the relay's), one request at a time.  It is the connection aoai-exec made at start, before it
 * became non-dumpable (main.c): the agent read aoai-exec's executable when
 * it accepted it, and a profile whose allow.exe lists aoai-exec admits it
 * on that connection even when the agent runs as an ordinary user, who can
 * no longer read a non-dumpable process's /proc/PID/exe.  A new connection
 * would be unidentifiable to such an agent, so there is none while this
 * one works.
 *
 * When the agent has gone away (restarted), a request reconnects once and
 * is retried: a token or headers request changes nothing, so asking twice is safe.
 * A profile with allow.exe then refuses (an agent of an ordinary user
 * reads "?"), and the message says why.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_link.h"

struct agent_link {
	pthread_mutex_t lock;   /* held across a whole request/reply exchange */
	struct aoai_conn *conn; /* NULL after a failed reconnect */
	bool reconnected;
	char socket_path[4096];
};

int agent_link_new(struct aoai_conn *conn, const char *socket_path, struct agent_link **ret)
{
	struct agent_link *l = calloc(1, sizeof(*l));
	int r;

	if (!l) {
		aoai_close(conn);
		return -ENOMEM;
	}
	r = pthread_mutex_init(&l->lock, NULL);
	if (r != 0) {
		aoai_close(conn);
		free(l);
		return -r;
	}
	l->conn = conn;
	snprintf(l->socket_path, sizeof(l->socket_path), "%s", socket_path);
	*ret = l;
	return 0;
}

struct agent_link *agent_link_free(struct agent_link *l)
{
	if (!l)
		return NULL;
	aoai_close(l->conn);
	pthread_mutex_destroy(&l->lock);
	free(l);
	return NULL;
}

/* Replaces a broken connection.  Returns 0 or an AOAI_E_* code (lock held). */
static int reconnect(struct agent_link *l)
{
	int r;

	l->conn = aoai_close(l->conn);
	r = aoai_connect(l->socket_path, &l->conn);
	if (r == 0)
		l->reconnected = true;
	return r;
}

/* The reason for @err in @msg, with what a refusal after a reconnect means
 * (lock held: the connection's message is overwritten by the next request). */
static void describe_failure(const struct agent_link *l, int err, char *msg, size_t len)
{
	const char *why = l->conn && *aoai_conn_message(l->conn) ? aoai_conn_message(l->conn)
								 : aoai_strerror(err);

	if (err == AOAI_E_DENIED && l->reconnected)
		snprintf(msg, len,
			 "%s (aoai-exec reconnected after the agent restarted; an agent of an "
			 "ordinary user identifies aoai-exec only by the connection it made at "
			 "start: restart the command)",
			 why);
	else
		snprintf(msg, len, "%s", why);
}

/* One request on the shared connection; @ask is idempotent, so a broken
 * connection is replaced and @ask repeated once. */
static int ask_agent(struct agent_link *l, int (*ask)(struct aoai_conn *conn, void *arg), void *arg,
		     char *msg, size_t len)
{
	int r;

	pthread_mutex_lock(&l->lock);
	r = l->conn ? ask(l->conn, arg) : AOAI_E_IO;
	if (r == AOAI_E_IO) {
		r = reconnect(l);
		if (r == 0)
			r = ask(l->conn, arg);
	}
	if (r < 0)
		describe_failure(l, r, msg, len);
	pthread_mutex_unlock(&l->lock);
	return r;
}

struct token_ask {
	const char *profile, *scope;
	struct aoai_token **ret;
};

static int ask_token(struct aoai_conn *conn, void *arg)
{
	struct token_ask *a = arg;

	return aoai_get_token(conn, a->profile, a->scope, a->ret);
}

int agent_link_get_token(struct agent_link *l, const char *profile, const char *scope,
			 struct aoai_token **ret_token, char *msg, size_t len)
{
	struct token_ask a = { profile, scope, ret_token };

	return ask_agent(l, ask_token, &a, msg, len);
}

struct headers_ask {
	const char *url;
	struct aoai_headers **ret;
};

static int ask_headers(struct aoai_conn *conn, void *arg)
{
	struct headers_ask *a = arg;

	return aoai_get_headers(conn, a->url, a->ret);
}

int agent_link_get_headers(struct agent_link *l, const char *url, struct aoai_headers **ret_headers,
			   char *msg, size_t len)
{
	struct headers_ask a = { url, ret_headers };

	return ask_agent(l, ask_headers, &a, msg, len);
}
