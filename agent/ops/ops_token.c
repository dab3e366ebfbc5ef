/* SPDX-License-Identifier: MIT */
/* "token": an access token for `aoai token` and aoai-exec's identity endpoint. */
#include <stdio.h>

#include "dispatch.h"
#include "lock.h"
#include "log.h"
#include "profiles.h"
#include "release_log.h"
#include "token_wait.h"

/* "several token profiles are configured (a, b, …): name one", truncated to @len. */
static void list_token_profiles(struct agent *a, char *msg, size_t len)
{
	size_t n = profiles_count(a), used;
	const char *sep = "";

	used = (size_t)snprintf(msg, len, "several token profiles are configured (");
	for (size_t i = 0; i < n && used < len; i++) {
		const struct profile *p = profiles_at(a, i);

		if (!cred_type_is_token(p->cred.type))
			continue;
		used += (size_t)snprintf(msg + used, len - used, "%s%s", sep, p->name);
		sep = ", ";
	}
	if (used < len)
		snprintf(msg + used, len - used, "): name one");
}

/* The named profile, or the only token profile.  Returns a status. */
static int pick_profile(struct agent *a, const char *name, const struct profile **ret, char *msg,
			size_t len)
{
	size_t n = profiles_count(a), found = 0;

	if (name) {
		*ret = profiles_find(a, name);
		if (!*ret) {
			snprintf(msg, len, "no profile named \"%s\"", name);
			return PROTO_E_NOT_FOUND;
		}
		if (!cred_type_is_token((*ret)->cred.type)) {
			snprintf(msg, len, "profile \"%s\" is an api-key profile", name);
			return PROTO_E_BAD_REQUEST;
		}
		return PROTO_OK;
	}
	for (size_t i = 0; i < n; i++)
		if (cred_type_is_token(profiles_at(a, i)->cred.type) && found++ == 0)
			*ret = profiles_at(a, i);
	if (found == 1)
		return PROTO_OK;
	if (!found) {
		snprintf(msg, len, "no token profile is configured");
		return PROTO_E_NO_MATCH;
	}
	list_token_profiles(a, msg, len);
	return PROTO_E_BAD_REQUEST;
}

static void answer_token(struct conn *c, const struct profile *p, const struct token_view *view,
			 const char *message, const void *ctx)
{
	int status = view && p ? PROTO_OK : PROTO_E_UNAVAILABLE;
	struct release_event e = { .profile = p ? p->name : NULL,
				   .scope = view ? view->scope : NULL,
				   .result =
				       status == PROTO_OK ? "ok" : proto_status_name(status) };

	(void)ctx;
	dispatch_log_release(c, &e);
	if (status != PROTO_OK) {
		conn_reply_error(c, status, message ? message : "token unavailable");
		return;
	}
	conn_reply(c, json_pack("{s:b, s:s, s:s, s:s%, s:I, s:s, s:s}", "ok", 1, "profile", p->name,
				"scope", view->scope, "access_token", view->token, view->len,
				"expires_on", (json_int_t)view->expires_on, "token_type", "Bearer",
				"source", view->source));
}

/* A refusal of a picked token profile is logged and counted like a release;
 * one that names no token profile is counted as unmatched. */
static void refuse_token(struct conn *c, const struct profile *p, const char *scope, int status,
			 const char *msg)
{
	struct release_event e = { .profile = p ? p->name : NULL,
				   .scope = scope,
				   .result = proto_status_name(status) };

	if (p)
		dispatch_log_release(c, &e);
	else
		dispatch_count_unmatched(c);
	conn_reply_error(c, status, msg);
}

void op_token(struct conn *c, const struct proto_request *req)
{
	struct agent *a = c->agent;
	const struct profile *p = NULL;
	char msg[512];
	int status = pick_profile(a, req->token.profile, &p, msg, sizeof(msg));
	bool picked = status == PROTO_OK;

	if (picked && !peer_allowed(&c->peer, &p->allow)) {
		char who[PEER_DESCRIBE_MAX];

		snprintf(msg, sizeof(msg), "profile \"%s\" does not allow %s", p->name,
			 peer_describe(&c->peer, who, sizeof(who)));
		status = PROTO_E_DENIED;
	}
	/* A locked agent says nothing else, as for headers. */
	if (lock_is_locked(a->lock)) {
		snprintf(msg, sizeof(msg), "the agent is locked (aoai unlock)");
		status = PROTO_E_LOCKED;
	}
	if (status != PROTO_OK) {
		refuse_token(c, picked ? p : NULL, req->token.scope, status, msg);
		return;
	}
	token_wait(c, p, req->token.scope, answer_token, NULL, 0);
}
