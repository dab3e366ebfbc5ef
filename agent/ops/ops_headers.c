/* SPDX-License-Identifier: MIT */
/* "headers": the credential release path. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "dispatch.h"
#include "errmsg.h"
#include "lock.h"
#include "log.h"
#include "profiles.h"
#include "release.h"
#include "release_log.h"
#include "token_wait.h"

/* "no profile covers host H:P", and which profile covers H on another port
 * when one does, with the pattern that would cover this one. */
static void explain_no_match(const struct agent *a, const struct url_target *t, char *msg,
			     size_t len)
{
	const struct host_pattern *covers = NULL;
	const struct profile *p = profiles_match_any_port(a, t, &covers);
	char has[HOSTS_MAX_NAME + 16], want[HOSTS_MAX_NAME + 16];
	struct host_pattern wanted;
	int n = snprintf(msg, len, "no profile covers host %s:%d", t->host, t->port);

	if (!p || n < 0 || (size_t)n >= len)
		return;
	wanted = *covers;
	wanted.port = t->default_port ? 0 : t->port;
	host_pattern_format(covers, has, sizeof(has));
	host_pattern_format(&wanted, want, sizeof(want));
	/* Cut rather than overflow: the host is named already. */
	if (profile_is_added(a, p))
		errmsg(msg + n, len - (size_t)n, 0,
		       " (profile \"%s\" covers %s%s: aoai add %s --host %s to serve this one "
		       "instead)",
		       p->name, has, covers->port ? "" : " on the default port only", p->name,
		       want);
	else
		errmsg(msg + n, len - (size_t)n, 0,
		       " (profile \"%s\" covers %s%s: add \"%s\" to its hosts)", p->name, has,
		       covers->port ? "" : " on the default port only", want);
}

/* Finds the profile for the URL and checks it may be released.  Returns a
 * status; *ret is the matched profile (or NULL). */
static int choose_profile(struct conn *c, const char *url, const struct profile **ret,
			  struct url_target *t, char *msg, size_t len)
{
	struct agent *a = c->agent;
	const struct profile *p;
	int r = url_target_parse(url, t, msg, len);

	/* A URL other programs would send elsewhere is refused as unsafe. */
	if (r == -EILSEQ)
		return PROTO_E_INSECURE_URL;
	if (r < 0)
		return PROTO_E_BAD_REQUEST;
	if (!url_target_secure(t)) {
		snprintf(msg, len, "plain http to %s:%d: headers go only over https or to loopback",
			 t->host, t->port);
		return PROTO_E_INSECURE_URL;
	}
	p = profiles_match(a, t);
	*ret = p;
	if (!p) {
		explain_no_match(a, t, msg, len);
		return PROTO_E_NO_MATCH;
	}
	if (!peer_allowed(&c->peer, &p->allow)) {
		char who[PEER_DESCRIBE_MAX];

		snprintf(msg, len, "profile \"%s\" does not allow %s", p->name,
			 peer_describe(&c->peer, who, sizeof(who)));
		return PROTO_E_DENIED;
	}
	if (lock_is_locked(a->lock)) {
		snprintf(msg, len, "the agent is locked (aoai unlock)");
		return PROTO_E_LOCKED;
	}
	return PROTO_OK;
}

/* Every release and refusal of a matched profile is logged: who, what,
 * where, outcome — never the value. */
static void audit(struct conn *c, const struct profile *p, const struct url_target *t, int status)
{
	struct release_event e = { .host = t->host, .port = t->port };

	if (!p) {
		log_debug("pid %d: no credential for %s:%d (%s)", (int)c->peer.pid, t->host,
			  t->port, proto_status_name(status));
		dispatch_count_unmatched(c);
		return;
	}
	e.profile = p->name;
	e.result = status == PROTO_OK ? "ok" : proto_status_name(status);
	dispatch_log_release(c, &e);
}

/* {"ok":true,"profile":…,"headers":[…]}, written straight into the
 * connection's output: the values go nowhere else.  @token is NULL for
 * api-key. */
static void answer(struct conn *c, const struct profile *p, const struct url_target *t,
		   const char *token, size_t token_len)
{
	static const char ok[] = ",\"ok\":true,\"profile\":";
	static const char headers[] = ",\"headers\":[";
	struct proto_writer *w = conn_reply_begin(c);
	char msg[512];
	int status;

	proto_writer_raw(w, ok, sizeof(ok) - 1);
	proto_writer_string(w, p->name, strlen(p->name));
	proto_writer_raw(w, headers, sizeof(headers) - 1);
	status = release_expand(c->agent, p, clock_now(), token, token_len, w, msg, sizeof(msg));
	proto_writer_raw(w, "]", 1);
	if (status != PROTO_OK) {
		conn_reply_discard(c);
	} else if (conn_reply_end(c) < 0) {
		status = PROTO_E_INTERNAL;
		snprintf(msg, sizeof(msg), "profile \"%s\": the headers do not fit a reply",
			 p->name);
	}
	/* Logged before the queued reply is sent, which happens once the handler returns. */
	audit(c, p, t, status);
	if (status != PROTO_OK)
		conn_reply_error(c, status, msg);
}

static void answer_with_token(struct conn *c, const struct profile *p,
			      const struct token_view *view, const char *message, const void *ctx)
{
	const struct url_target *t = ctx;

	if (view && p) {
		answer(c, p, t, view->token, view->len);
		return;
	}
	audit(c, p, t, PROTO_E_UNAVAILABLE);
	conn_reply_error(c, PROTO_E_UNAVAILABLE, message ? message : "token unavailable");
}

void op_headers(struct conn *c, const struct proto_request *req)
{
	const struct profile *p = NULL;
	struct url_target t = { 0 };
	char msg[512];
	int status = choose_profile(c, req->headers.url, &p, &t, msg, sizeof(msg));

	if (status != PROTO_OK) {
		audit(c, p, &t, status);
		conn_reply_error(c, status, msg);
	} else if (cred_type_is_token(p->cred.type)) {
		token_wait(c, p, NULL, answer_with_token, &t, sizeof(t));
	} else {
		answer(c, p, &t, NULL, 0);
	}
}
