/* SPDX-License-Identifier: MIT */
/*
 * "login", "login_wait" and "logout": signing a person in for a profile.
 * "login" starts the device authorization grant and answers with what the
 * person is shown; the sign-in belongs to that connection, so a client
 * that goes away (Ctrl-C) cancels it.  "login_wait" is answered when the
 * agent's polling ends.  The refresh token stays in the agent (signins.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth_code.h"
#include "device_code.h"
#include "dispatch.h"
#include "lock.h"
#include "log.h"
#include "ops_store.h"
#include "person.h"
#include "profiles.h"
#include "signins.h"
#include "store.h"
#include "tokens.h"

#define LOGIN_ID_BYTES 16

struct login_session {
	struct conn *c;
	char id[2 * LOGIN_ID_BYTES + 1];
	char profile[PROTO_MAX_NAME + 1];
	char binding[SIGNIN_MAX_BINDING];
	struct device_login *d;
	struct auth_login *al; /* the browser flow */
	bool waiting;          /* a login_wait waits for the end */
	bool persist;          /* --persist: the store keeps the sign-in */
	bool ended;
	int status;
	char message[SOURCE_MAX_MESSAGE];
	char account[SIGNIN_MAX_ACCOUNT + 1];
	int64_t expires_on;
};

static void session_free(void *data)
{
	struct login_session *s = data;

	if (!s)
		return;
	device_login_free(s->d);
	auth_login_free(s->al);
	sodium_memzero(s, sizeof(*s));
	free(s);
}

/* Ends the connection's session (it has answered). */
static void session_end(struct login_session *s)
{
	conn_set_session(s->c, NULL, NULL);
	session_free(s);
}

static void pending_gone(void *data)
{
	struct login_session *s = data;

	s->waiting = false; /* the connection closes: session_free() follows */
}

static json_t *code_reply(const struct login_session *s, const struct device_code_info *i)
{
	json_t *o = json_pack("{s:b, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "ok", 1, "login_id",
			      s->id, "flow", "device-code", "verification_uri", i->verification_uri,
			      "user_code", i->user_code, "message", i->message, "expires_in",
			      (json_int_t)i->expires_in, "interval", (json_int_t)i->interval);

	if (o && i->verification_uri_complete[0])
		json_object_set_new(o, "verification_uri_complete",
				    json_string(i->verification_uri_complete));
	return o;
}

/* The first answer of a sign-in: how to go on (@reply), or why it cannot (@error). */
static void answer_start(struct login_session *s, const char *flow, const char *error,
			 json_t *reply)
{
	struct conn *c = s->c;

	conn_set_pending(c, NULL, NULL);
	if (error) {
		log_warn("profile \"%s\": sign-in failed: %s", s->profile, error);
		conn_reply_error(c, PROTO_E_UNAVAILABLE, error);
		session_end(s);
	} else {
		log_info("profile \"%s\": sign-in started (%s, pid %d)", s->profile, flow,
			 (int)c->peer.pid);
		conn_reply(c, reply);
	}
	conn_resume(c);
}

static void on_code(void *userdata, const struct device_code_info *info, const char *error)
{
	struct login_session *s = userdata;

	answer_start(s, "device code", error, error ? NULL : code_reply(s, info));
}

static void on_url(void *userdata, const char *url, const char *state, const char *error)
{
	struct login_session *s = userdata;

	answer_start(s, "browser", error,
		     error ? NULL
			   : json_pack("{s:b, s:s, s:s, s:s, s:s, s:i}", "ok", 1, "login_id", s->id,
				       "flow", "browser", "authorization_url", url, "state", state,
				       "expires_in", AUTH_CODE_TIMEOUT));
}

static void answer_wait(struct login_session *s)
{
	struct conn *c = s->c;

	if (s->status != PROTO_OK) {
		conn_reply_error(c, s->status, s->message);
		return;
	}
	conn_reply(c, json_pack("{s:b, s:s, s:s, s:I}", "ok", 1, "profile", s->profile, "account",
				s->account, "expires_on", (json_int_t)s->expires_on));
}

/* Keeps the refresh token and serves the access token at once. */
static int keep_signin(struct login_session *s, struct token_response *tok)
{
	struct agent *a = s->c->agent;
	const struct profile *p = profiles_find(a, s->profile);
	char binding[SIGNIN_MAX_BINDING];

	if (!p || !credential_is_person(&p->cred))
		return -ENOENT;
	if (lock_is_locked(a->lock))
		return -EPERM; /* locking forgets sign-ins, the one under way too */
	person_binding(&p->cred, &a->env, binding, sizeof(binding));
	if (strcmp(binding, s->binding) != 0)
		return -ESTALE; /* a reload changed the credential meanwhile */
	if (s->persist && store_state(a->store) != STORE_UNLOCKED)
		return -EPERM;
	if (signins_put(a->source_ctx.signins, s->profile, s->binding, tok->refresh_token,
			tok->refresh_token_len, tok->account) < 0)
		return -ENOMEM;
	/* Signed in again without --persist, the store forgets the old one. */
	(void)signins_persist(a->source_ctx.signins, s->profile, s->persist);
	if (s->persist && store_error(a->store))
		return -EIO;
	tokens_forget_profile(a->tokens, s->profile, "signed in again");
	(void)tokens_put(a->tokens, p, tok);
	snprintf(s->account, sizeof(s->account), "%s", tok->account);
	s->expires_on = tok->expires_on;
	return 0;
}

static void on_done(void *userdata, struct token_response *tok, const char *error)
{
	struct login_session *s = userdata;
	struct conn *c = s->c;
	int r;

	s->ended = true;
	s->status = PROTO_OK;
	if (!tok) {
		s->status = PROTO_E_UNAVAILABLE;
		snprintf(s->message, sizeof(s->message), "sign-in failed: %s", error);
	} else if ((r = keep_signin(s, tok)) == -EIO) {
		s->status = PROTO_E_STORE;
		snprintf(s->message, sizeof(s->message),
			 "signed in, but not kept in the persistent store: %.400s",
			 store_error(c->agent->store));
	} else if (r < 0) {
		s->status = r == -EPERM ? PROTO_E_LOCKED : PROTO_E_UNAVAILABLE;
		snprintf(s->message, sizeof(s->message), "sign-in failed: %s",
			 r == -EPERM ? "the agent was locked meanwhile"
				     : "the profile was removed or changed meanwhile");
	}
	if (s->status == PROTO_OK)
		log_info("profile \"%s\": signed in", s->profile);
	else
		log_warn("profile \"%s\": %s", s->profile, s->message);
	s->d = device_login_free(s->d);
	s->al = auth_login_free(s->al);
	if (!s->waiting)
		return; /* login_wait will find the outcome */
	conn_set_pending(c, NULL, NULL);
	answer_wait(s);
	session_end(s);
	conn_resume(c);
}

/* The profile to sign in, or a refusal (message in @msg).  Returns a status. */
static int pick(struct conn *c, const char *name, const struct profile **ret, char *msg, size_t len)
{
	const struct profile *p = profiles_find(c->agent, name);
	char who[PEER_DESCRIBE_MAX];

	if (lock_is_locked(c->agent->lock))
		return snprintf(msg, len, "the agent is locked (aoai unlock)"), PROTO_E_LOCKED;
	if (!p)
		return snprintf(msg, len, "no profile named \"%s\"", name), PROTO_E_NOT_FOUND;
	if (!credential_is_person(&p->cred))
		return snprintf(msg, len,
				"profile \"%s\" (credential type %s) does not sign a person in",
				name, cred_type_name(p->cred.type)),
		       PROTO_E_BAD_REQUEST;
	if (!peer_allowed(&c->peer, &p->allow))
		return snprintf(msg, len, "profile \"%s\" does not allow %s", name,
				peer_describe(&c->peer, who, sizeof(who))),
		       PROTO_E_DENIED;
	*ret = p;
	return PROTO_OK;
}

static struct login_session *session_new(struct conn *c, const struct profile *p)
{
	struct login_session *s = calloc(1, sizeof(*s));
	unsigned char raw[LOGIN_ID_BYTES];

	if (!s)
		return NULL;
	s->c = c;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(s->id, sizeof(s->id), raw, sizeof(raw));
	snprintf(s->profile, sizeof(s->profile), "%s", p->name);
	person_binding(&p->cred, &c->agent->env, s->binding, sizeof(s->binding));
	return s;
}

/* The request's flow, else the profile's, else a browser when the client
 * offers a redirect. */
static bool wants_browser(const struct proto_request *req, const struct profile *p)
{
	if (req->login.flow)
		return strcmp(req->login.flow, "browser") == 0;
	if (p->cred.flow != SIGNIN_FLOW_DEFAULT)
		return p->cred.flow == SIGNIN_FLOW_BROWSER;
	return req->login.redirect_uri != NULL;
}

static int start(struct conn *c, struct login_session *s, const struct profile *p,
		 const struct proto_request *req, char *msg, size_t len)
{
	if (!wants_browser(req, p))
		return device_login_start(&c->agent->source_ctx, p, on_code, on_done, s, &s->d, msg,
					  len);
	if (!req->login.redirect_uri) {
		snprintf(msg, len,
			 "profile \"%s\" signs in with a browser: run aoai login %s --browser "
			 "(it prints the URL when it cannot open one), or --device-code",
			 p->name, p->name);
		return -EINVAL;
	}
	return auth_login_start(&c->agent->source_ctx, p, req->login.redirect_uri, on_url, s,
				&s->al, msg, len);
}

void op_login(struct conn *c, const struct proto_request *req)
{
	const struct profile *p = NULL;
	struct login_session *s;
	char msg[SOURCE_MAX_MESSAGE];
	int status = pick(c, req->login.profile, &p, msg, sizeof(msg));

	if (status == PROTO_OK && req->login.persist)
		status = store_check_persist(c->agent, msg, sizeof(msg));
	if (status != PROTO_OK) {
		conn_reply_error(c, status, msg);
		return;
	}
	if (!(s = session_new(c, p))) {
		conn_reply_error(c, PROTO_E_INTERNAL, "out of memory");
		return;
	}
	s->persist = req->login.persist;
	if (c->session_free == session_free) { /* one sign-in per connection: the last one */
		struct login_session *old = c->session;

		conn_set_session(c, NULL, NULL);
		session_free(old);
	}
	conn_set_session(c, session_free, s);
	conn_set_pending(c, pending_gone, s);
	/* on_url() may have answered already (a browser sign-in at Entra). */
	if (start(c, s, p, req, msg, sizeof(msg)) < 0) {
		conn_set_pending(c, NULL, NULL);
		session_end(s);
		conn_reply_error(c, PROTO_E_UNAVAILABLE, msg);
	}
}

static struct login_session *find_session(struct conn *c, const char *id)
{
	struct login_session *s = c->session_free == session_free ? c->session : NULL;

	if (!s || strcmp(s->id, id) != 0) {
		conn_reply_error(c, PROTO_E_NOT_FOUND,
				 "no sign-in with this login_id on this connection");
		return NULL;
	}
	return s;
}

void op_login_code(struct conn *c, const struct proto_request *req)
{
	struct login_session *s = find_session(c, req->login_code.login_id);
	char msg[SOURCE_MAX_MESSAGE];

	if (!s)
		return;
	if (!s->al || s->ended) {
		conn_reply_error(c, PROTO_E_BAD_REQUEST, "this sign-in takes no code");
		return;
	}
	s->waiting = true;
	conn_set_pending(c, pending_gone, s);
	if (auth_login_redeem(s->al, req->login_code.code, req->login_code.state, on_done, s, msg,
			      sizeof(msg)) < 0) {
		s->waiting = false;
		conn_set_pending(c, NULL, NULL);
		conn_reply_error(c, PROTO_E_BAD_REQUEST, msg);
	}
}

void op_login_wait(struct conn *c, const struct proto_request *req)
{
	struct login_session *s = find_session(c, req->login_wait.login_id);

	if (!s)
		return;
	if (s->ended) {
		answer_wait(s);
		session_end(s);
		return;
	}
	s->waiting = true;
	conn_set_pending(c, pending_gone, s);
}

void op_logout(struct conn *c, const struct proto_request *req)
{
	struct agent *a = c->agent;
	const struct profile *p = profiles_find(a, req->logout.profile);
	bool was;

	if (!p || !credential_is_person(&p->cred)) {
		conn_reply_error(c, p ? PROTO_E_BAD_REQUEST : PROTO_E_NOT_FOUND,
				 p ? "this profile does not sign a person in" : "no such profile");
		return;
	}
	/* Locked, the store's sign-in cannot be removed: unlock first. */
	if (store_state(a->store) == STORE_LOCKED) {
		conn_reply_error(c, PROTO_E_LOCKED,
				 "the agent is locked: unlock it (aoai unlock) so that logout also "
				 "removes a sign-in kept in the persistent store");
		return;
	}
	was = signins_forget(a->source_ctx.signins, p->name); /* the store follows */
	tokens_forget_profile(a->tokens, p->name, "signed out");
	log_info("profile \"%s\": signed out by pid %d", p->name, (int)c->peer.pid);
	conn_reply(c, json_pack("{s:b, s:b}", "ok", 1, "signed_out", was));
}

void ops_forget_signins(struct agent *a)
{
	size_t n = profiles_count(a);

	if (signins_forget_all(a->source_ctx.signins) == 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (credential_is_person(&profiles_at(a, i)->cred))
			tokens_forget_profile(a->tokens, profiles_at(a, i)->name,
					      "signed out: the agent was locked");
	log_info("locked: every sign-in forgotten");
}
