/* SPDX-License-Identifier: MIT */
/* "list" and "status": what the agent holds, never a secret. */
#include <stdio.h>
#include <unistd.h>

#include "clock.h"
#include "audit.h"
#include "dispatch.h"
#include "lock.h"
#include "profiles.h"
#include "person.h"
#include "secrets.h"
#include "signins.h"
#include "tokens.h"
#include "release.h"
#include "keyvault.h"
#include "store.h"

/* Adds @value to @obj under @key, taking the reference; false on failure. */
static bool put(json_t *obj, const char *key, json_t *value)
{
	return value && json_object_set_new(obj, key, value) == 0;
}

static json_t *hosts_json(const struct profile *p)
{
	json_t *hosts = json_array();
	char buf[HOSTS_MAX_NAME + 16];

	for (size_t i = 0; hosts && i < p->n_hosts; i++) {
		host_pattern_format(&p->hosts[i], buf, sizeof(buf));
		if (json_array_append_new(hosts, json_string(buf)) < 0)
			hosts = (json_decref(hosts), NULL);
	}
	return hosts;
}

static bool signed_in(const struct agent *a, const struct profile *p)
{
	char binding[SIGNIN_MAX_BINDING];

	person_binding(&p->cred, &a->env, binding, sizeof(binding));
	return signins_find(a->source_ctx.signins, p->name, binding) != NULL;
}

/* A person's sign-in, for list: who (display only), never a token. */
static json_t *signin_json(const struct agent *a, const struct profile *p)
{
	const struct signin *in = signins_peek(a->source_ctx.signins, p->name);
	bool yes = signed_in(a, p);

	return json_pack("{s:s, s:o, s:b}", "state", yes ? "signed_in" : "required", "account",
			 yes && in->account[0] ? json_string(in->account) : json_null(),
			 "persisted", yes && in->persisted);
}

/* The same checks as a release, without producing anything (a token
 * profile's {secret:NAME} headers are checked with a stand-in token). */
static void profile_state(const struct agent *a, const struct profile *p, const char **state,
			  const char **detail, char *buf, size_t len)
{
	const char *token = cred_type_is_token(p->cred.type) ? "-" : NULL;

	*detail = NULL;
	*state = "ready";
	if (lock_is_locked(a->lock)) {
		*state = "locked";
	} else if (credential_is_person(&p->cred) && !signed_in(a, p)) {
		const struct signin *in = signins_peek(a->source_ctx.signins, p->name);

		*state = "unavailable";
		snprintf(buf, len, "sign-in required: run aoai login %s%s%s%s", p->name,
			 in && in->why[0] ? " (" : "", in && in->why[0] ? in->why : "",
			 in && in->why[0] ? ")" : "");
		*detail = buf;
	} else if (token && (*detail = tokens_last_error(a->tokens, p))) {
		*state = "unavailable";
	} else if (release_expand(a, p, clock_now(), token, token ? 1 : 0, NULL, buf, len) !=
		   PROTO_OK) {
		*state = "missing_secret";
		*detail = buf;
	}
}

static json_t *profile_json(const struct agent *a, const struct profile *p)
{
	json_t *o = json_object();
	const char *state, *detail;
	char buf[512];

	profile_state(a, p, &state, &detail, buf, sizeof(buf));
	if (o && put(o, "name", json_string(p->name)) && put(o, "hosts", hosts_json(p)) &&
	    put(o, "credential", json_string(cred_type_name(p->cred.type))) &&
	    put(o, "origin", json_string(profile_is_added(a, p) ? "added" : "config")) &&
	    put(o, "state", json_string(state)) &&
	    put(o, "detail", detail ? json_string(detail) : json_null()) &&
	    (!cred_type_is_token(p->cred.type) || put(o, "token", tokens_describe(a->tokens, p))) &&
	    (!p->relay_listen || put(o, "relay", json_string(p->relay_listen))) &&
	    (!credential_is_person(&p->cred) || put(o, "signin", signin_json(a, p))))
		return o;
	json_decref(o);
	return NULL;
}

static json_t *nullable_string(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* Seconds left, rounded up so a live secret never shows 0. */
static json_t *expires_in(const struct secret *s, uint64_t now)
{
	if (!s->expires_at)
		return json_null();
	return json_integer((json_int_t)((s->expires_at - now + USEC_PER_SEC - 1) / USEC_PER_SEC));
}

static json_t *secret_json(const struct agent *a, const struct secret *s, uint64_t now)
{
	json_t *o = json_object();

	if (o && put(o, "name", json_string(s->name)) &&
	    put(o, "fingerprint", s->value ? json_string(s->fingerprint) : json_null()) &&
	    put(o, "origin", json_string(secret_origin_name(s->origin))) &&
	    put(o, "persisted", json_boolean(store_has(a->store, s->name))) &&
	    put(o, "last_error", nullable_string(keyvault_last_error(a->keyvault, s->name))) &&
	    put(o, "expires_in", expires_in(s, now)))
		return o;
	json_decref(o);
	return NULL;
}

static json_t *profiles_json(const struct agent *a)
{
	json_t *list = json_array();
	size_t n = profiles_count(a);

	for (size_t i = 0; list && i < n; i++)
		if (json_array_append_new(list, profile_json(a, profiles_at(a, i))) < 0)
			list = (json_decref(list), NULL);
	return list;
}

/* While locked nothing about the secrets is shown. */
static json_t *secrets_json(const struct agent *a)
{
	json_t *list = json_array();
	uint64_t now = clock_now();
	size_t n = lock_is_locked(a->lock) ? 0 : secrets_count(a->secrets);

	for (size_t i = 0; list && i < n; i++) {
		const struct secret *s = secrets_at(a->secrets, i);

		/* A Key Vault secret not fetched yet is listed too: with its error. */
		if ((s->value || s->origin == ORIGIN_KEYVAULT) &&
		    json_array_append_new(list, secret_json(a, s, now)) < 0)
			list = (json_decref(list), NULL);
	}
	return list;
}

void op_list(struct conn *c, const struct proto_request *req)
{
	struct agent *a = c->agent;
	json_t *reply = proto_ok_reply();
	char err[1024];

	(void)req;
	if (secrets_expire(a->secrets, clock_now()) > 0)
		(void)store_sync(a, err, sizeof(err)); /* logs a failure */
	if (reply && put(reply, "locked", json_boolean(lock_is_locked(a->lock))) &&
	    put(reply, "profiles", profiles_json(a)) && put(reply, "secrets", secrets_json(a))) {
		conn_reply(c, reply);
		return;
	}
	json_decref(reply);
	conn_reply(c, NULL);
}

static size_t held_secrets(const struct agent *a)
{
	size_t n = 0;

	for (size_t i = 0; i < secrets_count(a->secrets); i++)
		n += secrets_at(a->secrets, i)->value != NULL;
	return n;
}

static json_t *store_json(const struct store *s)
{
	json_t *o = json_object();

	if (o && put(o, "path", nullable_string(store_path(s))) &&
	    put(o, "state", json_string(store_state_name(store_state(s)))) &&
	    put(o, "secrets", json_integer((json_int_t)store_count(s))) &&
	    put(o, "error", nullable_string(store_error(s))))
		return o;
	json_decref(o);
	return NULL;
}

static json_t *count_json(struct audit_count n)
{
	return json_pack("{s:I, s:I}", "released", (json_int_t)n.released, "refused",
			 (json_int_t)n.refused);
}

/* {"profiles": {NAME: {"released": N, "refused": N}, …}, "unmatched": N,
 * "other": {…}}: what was released and refused since the agent started. */
static json_t *audit_json(const struct audit *au)
{
	json_t *profiles = json_object();

	for (size_t i = 0; profiles && i < audit_size(au); i++) {
		const struct audit_entry *e = audit_at(au, i);

		if (!put(profiles, e->name, count_json(e->count)))
			profiles = (json_decref(profiles), NULL);
	}
	if (!profiles)
		return NULL;
	/* "o" takes the references, also when packing fails. */
	return json_pack("{s:o, s:I, s:o}", "profiles", profiles, "unmatched",
			 (json_int_t)audit_unmatched(au), "other", count_json(audit_other(au)));
}

void op_status(struct conn *c, const struct proto_request *req)
{
	struct agent *a = c->agent;
	json_t *r = proto_ok_reply();

	(void)req;
	if (r && put(r, "pid", json_integer(getpid())) &&
	    put(r, "version", json_string(AOAI_VERSION)) &&
	    put(r, "uptime",
		json_integer((json_int_t)((clock_now() - a->started_at) / USEC_PER_SEC))) &&
	    put(r, "socket", json_string(a->socket_path)) &&
	    put(r, "config", nullable_string(a->config->path)) &&
	    put(r, "locked", json_boolean(lock_is_locked(a->lock))) &&
	    put(r, "store", store_json(a->store)) &&
	    put(r, "profiles", json_integer((json_int_t)profiles_count(a))) &&
	    put(r, "secrets", json_integer((json_int_t)held_secrets(a))) &&
	    put(r, "tokens", json_integer(tokens_valid_count(a->tokens))) &&
	    put(r, "connections", json_integer(a->n_conns)) &&
	    put(r, "default_lifetime",
		a->default_lifetime ? json_integer(a->default_lifetime) : json_null()) &&
	    put(r, "reloads", json_integer(a->reloads)) &&
	    put(r, "last_reload_error", nullable_string(a->last_reload_error)) &&
	    put(r, "audit", audit_json(a->audit))) {
		conn_reply(c, r);
		return;
	}
	json_decref(r);
	conn_reply(c, NULL);
}
