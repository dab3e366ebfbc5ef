/* SPDX-License-Identifier: MIT */
/* "add" and "remove": secrets handed over at runtime. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent_load.h"
#include "clock.h"
#include "added_profiles.h"
#include "dispatch.h"
#include "lock.h"
#include "log.h"
#include "profiles.h"
#include "secrets.h"
#include "ops_store.h"
#include "store.h"

/* Checks that `add NAME --host HOST` fits the configuration.  Returns a
 * status and a message. */
static int check_added_host(struct agent *a, const char *name, const struct host_pattern *host,
			    char *msg, size_t len)
{
	const struct profile *owner = profiles_with_pattern(a, host);
	const struct profile *same = profiles_find(a, name);

	if (same && !profile_is_added(a, same)) {
		snprintf(msg, len, "profile \"%s\" is defined in the configuration file", name);
		return PROTO_E_CONFLICT;
	}
	if (owner && owner != same) {
		snprintf(msg, len, "host %s already belongs to profile \"%s\"", host->host,
			 owner->name);
		return PROTO_E_CONFLICT;
	}
	return PROTO_OK;
}

/*
 * Who sends secret @name: "profiles" (credential or {secret:NAME} header)
 * and "secrets" (Key Vault secrets fetched with it).  Both empty: it serves
 * nothing yet, which `aoai add` warns about (a typo, or a missing --host).
 */
static bool put_users(const struct agent *a, const char *name, json_t *reply)
{
	json_t *profiles = json_array(), *secrets = json_array();
	size_t n = profiles_count(a);
	bool ok = profiles && secrets;
	int r;

	for (size_t i = 0; ok && i < n; i++)
		if (profile_uses_secret(profiles_at(a, i), name))
			ok = json_array_append_new(profiles,
						   json_string(profiles_at(a, i)->name)) == 0;
	for (size_t i = 0; ok && i < a->config->n_secrets; i++) {
		const struct secret_source *src = &a->config->secrets[i];

		if (src->credential && src->credential->secret &&
		    strcmp(src->credential->secret, name) == 0)
			ok = json_array_append_new(secrets, json_string(src->name)) == 0;
	}
	if (!ok) {
		json_decref(profiles);
		json_decref(secrets);
		return false;
	}
	/* json_object_set_new() takes each array, when it fails too. */
	r = json_object_set_new(reply, "profiles", profiles);
	r |= json_object_set_new(reply, "secrets", secrets);
	return r == 0;
}

/* @host: the --host pattern as the agent reads it (a URL's host:port), or "". */
static json_t *added_reply(const struct agent *a, const struct secret *s, long long lifetime,
			   const char *host)
{
	json_t *reply = proto_ok_reply();

	if (reply && put_users(a, s->name, reply) &&
	    json_object_set_new(reply, "name", json_string(s->name)) == 0 &&
	    json_object_set_new(reply, "fingerprint", json_string(s->fingerprint)) == 0 &&
	    json_object_set_new(reply, "expires_in",
				lifetime ? json_integer(lifetime) : json_null()) == 0 &&
	    (!*host || json_object_set_new(reply, "host", json_string(host)) == 0))
		return reply;
	json_decref(reply);
	return NULL;
}

static int prepare_add(struct agent *a, const struct proto_request *req, struct host_pattern *host,
		       char *msg, size_t len)
{
	int status;

	if (lock_is_locked(a->lock)) {
		snprintf(msg, len, "the agent is locked");
		return PROTO_E_LOCKED;
	}
	if (req->add.persist && (status = store_check_persist(a, msg, len)) != PROTO_OK)
		return status;
	if (config_find_secret(a->config, req->add.name)) {
		snprintf(msg, len, "secret \"%s\" comes from the configuration file",
			 req->add.name);
		return PROTO_E_CONFLICT;
	}
	if (!req->add.host)
		return PROTO_OK;
	if (host_pattern_parse(req->add.host, host, msg, len) < 0)
		return PROTO_E_BAD_REQUEST;
	return check_added_host(a, req->add.name, host, msg, len);
}

void op_add(struct conn *c, const struct proto_request *req)
{
	struct agent *a = c->agent;
	long long lifetime = req->add.lifetime >= 0 ? req->add.lifetime : a->default_lifetime;
	uint64_t expires = lifetime ? clock_now() + (uint64_t)lifetime * USEC_PER_SEC : 0;
	struct host_pattern host;
	const struct secret *s;
	char msg[1024], host_text[HOSTS_MAX_NAME + 16] = "";
	int status, r;

	status = prepare_add(a, req, &host, msg, sizeof(msg));
	if (status != PROTO_OK) {
		conn_reply_error(c, status, msg);
		return;
	}
	r = secrets_put(a->secrets, req->add.name, req->add.secret, req->add.secret_len,
			ORIGIN_ADDED, expires);
	if (r == 0 && req->add.host)
		r = added_profiles_set(a->added, req->add.name, &host);
	if (r < 0) {
		conn_reply_error(c, r == -ENOSPC ? PROTO_E_LIMIT : PROTO_E_INTERNAL,
				 r == -ENOSPC ? "too many secrets or profiles" : "out of memory");
		return;
	}
	agent_schedule_expiry(a);
	s = secrets_find(a->secrets, req->add.name, clock_now());
	if (req->add.host)
		host_pattern_format(&host, host_text, sizeof(host_text));
	log_info("added secret \"%s\" (%s) from pid %d, lifetime %llds%s%s%s", s->name,
		 s->fingerprint, (int)c->peer.pid, lifetime, req->add.host ? ", host " : "",
		 host_text, req->add.persist ? ", persisted" : "");
	/* Added without --persist, a name leaves the store: the file must not
	 * bring back an older value at the next start. */
	if (store_state(a->store) == STORE_UNLOCKED &&
	    store_keep(a, s->name, req->add.persist, msg, sizeof(msg)) < 0) {
		log_error("persistent store: %s", msg);
		conn_reply_error(c, PROTO_E_STORE, msg);
		return;
	}
	conn_reply(c, added_reply(a, s, lifetime, host_text));
}

static json_t *removed_reply(size_t n)
{
	json_t *reply = proto_ok_reply();

	if (reply && json_object_set_new(reply, "removed", json_integer((json_int_t)n)) == 0)
		return reply;
	json_decref(reply);
	return NULL;
}

/* Removed from memory; the store must follow, or the reply says it did not. */
static void reply_removed(struct conn *c, size_t n)
{
	char err[1024], msg[1200];

	if (store_sync(c->agent, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "removed from memory, but %s", err);
		conn_reply_error(c, PROTO_E_STORE, msg);
		return;
	}
	conn_reply(c, removed_reply(n));
}

static size_t remove_all(struct agent *a)
{
	size_t n = secrets_remove_origin(a->secrets, ORIGIN_ADDED);

	while (added_profiles_count(a->added) > 0)
		added_profiles_remove(a->added, added_profiles_at(a->added, 0)->name);
	return n;
}

void op_remove(struct conn *c, const struct proto_request *req)
{
	struct agent *a = c->agent;
	const char *name = req->remove.name;
	const struct secret *s;
	char msg[256];

	if (lock_is_locked(a->lock)) {
		conn_reply_error(c, PROTO_E_LOCKED, "the agent is locked");
		return;
	}
	if (req->remove.all) {
		size_t n = remove_all(a);

		log_info("removed all %zu added secrets for pid %d", n, (int)c->peer.pid);
		reply_removed(c, n);
		return;
	}
	s = secrets_find(a->secrets, name, clock_now());
	if (s && s->origin != ORIGIN_ADDED) {
		snprintf(msg, sizeof(msg), "secret \"%s\" comes from the configuration file", name);
		conn_reply_error(c, PROTO_E_CONFLICT, msg);
		return;
	}
	if (!s && added_profiles_remove(a->added, name) < 0) {
		snprintf(msg, sizeof(msg), "no secret named \"%s\"", name);
		conn_reply_error(c, PROTO_E_NOT_FOUND, msg);
		return;
	}
	secrets_remove(a->secrets, name);
	added_profiles_remove(a->added, name);
	agent_schedule_expiry(a);
	log_info("removed secret \"%s\" for pid %d", name, (int)c->peer.pid);
	reply_removed(c, 1);
}
