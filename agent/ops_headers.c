/* SPDX-License-Identifier: MIT */
/* "headers": the credential release path. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "lock.h"
#include "log.h"
#include "profiles.h"
#include "release.h"

/* Finds the profile for the URL and checks it may be released.  Returns a
 * status; *ret is the matched profile (or NULL). */
static int choose_profile(struct conn *c, const char *url, const struct profile **ret,
			  struct url_target *t, char *msg, size_t len)
{
	struct agent *a = c->agent;

	if (url_target_parse(url, t, msg, len) < 0)
		return PROTO_E_BAD_REQUEST;
	if (!url_target_secure(t)) {
		snprintf(msg, len, "plain http to %s:%d: headers go only over https or to loopback",
			 t->host, t->port);
		return PROTO_E_INSECURE_URL;
	}
	const struct profile *p = profiles_match(a, t);

	*ret = p;
	if (!p) {
		snprintf(msg, len, "no profile covers host %s:%d", t->host, t->port);
		return PROTO_E_NO_MATCH;
	}
	if (!peer_allowed(&c->peer, &p->allow)) {
		snprintf(msg, len, "profile \"%s\" does not allow %s", p->name, peer_exe(&c->peer));
		return PROTO_E_DENIED;
	}
	if (lock_is_locked(a->lock)) {
		snprintf(msg, len, "the agent is locked (aoai unlock)");
		return PROTO_E_LOCKED;
	}
	if (cred_type_is_token(p->cred.type)) {
		snprintf(msg, len,
			 "profile \"%s\": %s credentials are not available in this version",
			 p->name, cred_type_name(p->cred.type));
		return PROTO_E_UNAVAILABLE;
	}
	return PROTO_OK;
}

/* Every release and refusal of a matched profile is logged: who, what,
 * where, outcome — never the value. */
static void audit(struct conn *c, const struct profile *p, const struct url_target *t, int status)
{
	void (*log_fn)(const char *, ...) = status == PROTO_OK ? log_info : log_warn;

	if (!p) {
		log_debug("pid %d: no credential for %s:%d (%s)", (int)c->peer.pid, t->host,
			  t->port, proto_status_name(status));
		return;
	}
	log_fn("release profile=%s host=%s:%d pid=%d uid=%u exe=%s result=%s", p->name, t->host,
	       t->port, (int)c->peer.pid, (unsigned)c->peer.uid, peer_exe(&c->peer),
	       status == PROTO_OK ? "ok" : proto_status_name(status));
}

void op_headers(struct conn *c, const struct proto_request *req)
{
	const struct profile *p = NULL;
	struct url_target t = { 0 };
	json_t *reply = NULL, *list = json_array();
	char msg[512];
	int status;

	status = choose_profile(c, req->headers.url, &p, &t, msg, sizeof(msg));
	if (status == PROTO_OK)
		status =
		    list ? release_expand(c->agent, p, agent_now(c->agent), list, msg, sizeof(msg))
			 : PROTO_E_INTERNAL;
	if (status == PROTO_OK) {
		reply = proto_ok_reply();
		if (reply && (json_object_set_new(reply, "profile", json_string(p->name)) ||
			      json_object_set(reply, "headers", list)))
			reply = (json_decref(reply), NULL);
	}
	audit(c, p, &t, status);
	json_decref(list);
	if (status == PROTO_OK)
		conn_reply(c, reply);
	else
		conn_reply_error(c, status, msg);
}
