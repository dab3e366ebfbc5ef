/* SPDX-License-Identifier: MIT */
/*
 * The flows that need the persistent store's key: unlocking and locking an
 * agent that has a store, and "passwd".  Each derives a key on kdf.c's
 * thread and goes on in the event loop when it is ready; the connection
 * waits meanwhile (a closed connection cancels the job) and other clients
 * are served.  A wrong passphrase counts as a failed unlock wherever it is
 * given, so the store cannot be guessed faster through lock or passwd.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent_load.h"
#include "clock.h"
#include "agent.h"
#include "dispatch.h"
#include "kdf.h"
#include "lock.h"
#include "log.h"
#include "ops_store.h"
#include "store.h"

enum step {
	STEP_UNLOCK,     /* open the locked store */
	STEP_LOCK,       /* check the passphrase, then lock */
	STEP_PASSWD_OLD, /* check the current passphrase */
	STEP_PASSWD_NEW, /* seal under the new one */
};

struct store_wait {
	struct conn *c;
	struct kdf_job *job;
	enum step step;
	char *new_passphrase; /* sodium memory; passwd only */
	size_t new_len;
	struct store_kdf new_kdf;
};

static void wait_free(struct store_wait *w)
{
	sodium_free(w->new_passphrase);
	free(w);
}

static void wait_cancel(void *data)
{
	struct store_wait *w = data;

	kdf_cancel(w->job);
	wait_free(w);
}

static void on_key(void *userdata, const unsigned char *key);

/* Queues the derivation for @w's next step; false when it could not be. */
static bool derive(struct store_wait *w, const char *passphrase, size_t len,
		   const struct store_kdf *kdf)
{
	struct conn *c = w->c;

	if (kdf_derive(c->agent->kdf, passphrase, len, kdf, on_key, w, &w->job) < 0)
		return false;
	conn_set_pending(c, wait_cancel, w);
	return true;
}

static void reply_bad_passphrase(struct conn *c, void *data)
{
	conn_reply_error(c, PROTO_E_BAD_PASSPHRASE, data ? data : "wrong passphrase");
}

static void no_free(void *data)
{
	(void)data;
}

/* A wrong passphrase: counted, and answered only when the delay is over. */
static void wrong_passphrase(struct conn *c, const char *what, const char *message)
{
	struct agent *a = c->agent;

	lock_failed(a->lock, clock_now());
	log_warn("wrong store passphrase (%s) from pid %d", what, (int)c->peer.pid);
	if (conn_defer(c, lock_next_attempt(a->lock), reply_bad_passphrase, (void *)message,
		       no_free) < 0)
		reply_bad_passphrase(c, (void *)message);
}

static void finish_unlock(struct conn *c, const unsigned char *key)
{
	struct agent *a = c->agent;
	char err[1024];
	int r;

	if (!lock_is_by_store(a->lock) || store_state(a->store) != STORE_LOCKED) {
		conn_reply_error(c, PROTO_E_NOT_LOCKED, "the agent is not locked");
		return;
	}
	r = store_open(a, key, err, sizeof(err));
	if (r == -EACCES) {
		wrong_passphrase(c, "unlock", NULL);
		return;
	}
	if (r == -ENOMEM) {
		conn_reply_error(c, PROTO_E_INTERNAL, "out of memory");
		return;
	}
	/* The passphrase was right: the agent unlocks even when a record of
	 * the file is damaged (then nothing of the file is loaded). */
	lock_clear(a->lock);
	agent_schedule_expiry(a);
	ops_hosts_check(a, c); /* the store's --host profiles are back */
	log_info("unlocked by pid %d, %zu persisted secret(s) loaded, %zu persisted sign-in(s)",
		 (int)c->peer.pid, store_count(a->store), store_signins_loaded(a->store));
	if (r < 0) {
		log_error("persistent store: %s", err);
		conn_reply_error(c, PROTO_E_STORE, err);
		return;
	}
	conn_reply(c, proto_ok_reply());
}

static void finish_lock(struct conn *c, const unsigned char *key)
{
	struct agent *a = c->agent;

	if (lock_is_locked(a->lock)) {
		conn_reply_error(c, PROTO_E_LOCKED, "the agent is already locked");
		return;
	}
	if (store_state(a->store) != STORE_UNLOCKED) {
		conn_reply_error(c, PROTO_E_STORE, "the persistent store changed meanwhile");
		return;
	}
	if (!store_key_matches(a->store, key)) {
		wrong_passphrase(c, "lock",
				 "an agent with a persistent store is locked with the store's "
				 "passphrase");
		return;
	}
	store_close(a);
	lock_lock_by_store(a->lock);
	ops_forget_signins(a);
	agent_schedule_expiry(a);
	ops_hosts_check(a, c); /* the store's --host profiles are gone */
	log_info("locked by pid %d; persisted secrets wiped from memory", (int)c->peer.pid);
	conn_reply(c, proto_ok_reply());
}

/* Passwd, once the current passphrase is known to be right (or there is
 * no store yet): derive the new key under a new salt. */
static bool passwd_new_key(struct store_wait *w)
{
	store_new_kdf(w->c->agent->config->store_kdf, &w->new_kdf);
	w->step = STEP_PASSWD_NEW;
	return derive(w, w->new_passphrase, w->new_len, &w->new_kdf);
}

static bool finish_passwd(struct store_wait *w, const unsigned char *key)
{
	struct conn *c = w->c;
	struct agent *a = c->agent;
	enum store_state state = store_state(a->store);
	char err[1024];

	if (lock_is_locked(a->lock)) {
		conn_reply_error(c, PROTO_E_LOCKED, "the agent is locked");
		return false;
	}
	if (state != STORE_UNLOCKED && state != STORE_NONE) {
		conn_reply_error(c, PROTO_E_STORE, "the persistent store changed meanwhile");
		return false;
	}
	if (w->step == STEP_PASSWD_OLD) {
		if (!store_key_matches(a->store, key)) {
			wrong_passphrase(c, "passwd", "the current passphrase is wrong");
			return false;
		}
		if (passwd_new_key(w))
			return true;
		conn_reply_error(c, PROTO_E_INTERNAL, "out of memory");
		return false;
	}
	if (store_rekey(a, key, &w->new_kdf, err, sizeof(err)) < 0) {
		log_error("persistent store: %s", err);
		conn_reply_error(c, PROTO_E_STORE, err);
		return false;
	}
	log_info("%s the persistent store %s for pid %d",
		 state == STORE_NONE ? "created" : "new passphrase for", store_path(a->store),
		 (int)c->peer.pid);
	conn_reply(c, proto_ok_reply());
	return false;
}

static void on_key(void *userdata, const unsigned char *key)
{
	struct store_wait *w = userdata;
	struct conn *c = w->c;
	bool again = false;

	conn_set_pending(c, NULL, NULL);
	w->job = NULL;
	if (!key)
		conn_reply_error(c, PROTO_E_INTERNAL, "cannot derive the key: out of memory");
	else if (w->step == STEP_UNLOCK)
		finish_unlock(c, key);
	else if (w->step == STEP_LOCK)
		finish_lock(c, key);
	else
		again = finish_passwd(w, key);
	if (!again)
		wait_free(w);
	conn_resume(c);
}

static struct store_wait *wait_new(struct conn *c, enum step step)
{
	struct store_wait *w = calloc(1, sizeof(*w));

	if (!w) {
		conn_reply_error(c, PROTO_E_INTERNAL, "out of memory");
		return NULL;
	}
	w->c = c;
	w->step = step;
	return w;
}

/* Starts @w with @passphrase against the store's current key. */
static void start(struct store_wait *w, const char *passphrase, size_t len)
{
	struct conn *c = w->c;

	if (!derive(w, passphrase, len, store_current_kdf(c->agent->store))) {
		wait_free(w);
		conn_reply_error(c, PROTO_E_INTERNAL, "out of memory");
	}
}

void store_unlock(struct conn *c, const char *passphrase, size_t len)
{
	struct store_wait *w = wait_new(c, STEP_UNLOCK);

	if (w)
		start(w, passphrase, len);
}

/* Refuses while failed attempts are being paid for; true when refused. */
static bool in_backoff(struct conn *c)
{
	struct agent *a = c->agent;
	uint64_t now = clock_now(), next = lock_next_attempt(a->lock);
	char msg[128];

	if (now >= next)
		return false;
	snprintf(msg, sizeof(msg), "after a wrong passphrase, the next attempt may come in %llu s",
		 (unsigned long long)((next - now + USEC_PER_SEC - 1) / USEC_PER_SEC));
	conn_reply_error(c, PROTO_E_LIMIT, msg);
	return true;
}

/* Why passwd cannot run now (a status and @msg), or PROTO_OK. */
static int passwd_refusal(const struct agent *a, const struct proto_request *req, char *msg,
			  size_t len)
{
	enum store_state state = store_state(a->store);

	if (lock_is_locked(a->lock)) {
		snprintf(msg, len, "the agent is locked (aoai unlock first)");
		return PROTO_E_LOCKED;
	}
	if (state == STORE_BROKEN) {
		snprintf(msg, len, "%s", store_error(a->store));
		return PROTO_E_STORE;
	}
	if (state == STORE_UNLOCKED && !req->passwd.passphrase) {
		snprintf(msg, len, "the current passphrase is needed");
		return PROTO_E_BAD_REQUEST;
	}
	return PROTO_OK;
}

void op_passwd(struct conn *c, const struct proto_request *req)
{
	struct agent *a = c->agent;
	struct store_wait *w;
	char msg[1024];
	int status = passwd_refusal(a, req, msg, sizeof(msg));

	if (status != PROTO_OK) {
		conn_reply_error(c, status, msg);
		return;
	}
	if (in_backoff(c) || !(w = wait_new(c, STEP_PASSWD_OLD)))
		return;
	w->new_passphrase = sodium_malloc(req->passwd.new_passphrase_len);
	if (!w->new_passphrase) {
		wait_free(w);
		conn_reply_error(c, PROTO_E_INTERNAL, "out of memory");
		return;
	}
	memcpy(w->new_passphrase, req->passwd.new_passphrase, req->passwd.new_passphrase_len);
	w->new_len = req->passwd.new_passphrase_len;
	if (store_state(a->store) == STORE_NONE) {
		if (!passwd_new_key(w)) {
			wait_free(w);
			conn_reply_error(c, PROTO_E_INTERNAL, "out of memory");
		}
		return;
	}
	start(w, req->passwd.passphrase, req->passwd.passphrase_len);
}

void store_lock(struct conn *c, const char *passphrase, size_t len)
{
	struct store_wait *w;

	if (!in_backoff(c) && (w = wait_new(c, STEP_LOCK)))
		start(w, passphrase, len);
}

/* --persist needs an unlocked store. */
int store_check_persist(const struct agent *a, char *msg, size_t len)
{
	switch (store_state(a->store)) {
	case STORE_UNLOCKED:
		return PROTO_OK;
	case STORE_NONE:
		snprintf(msg, len,
			 "there is no persistent store yet: create one with `aoai passwd`");
		return PROTO_E_STORE;
	case STORE_LOCKED:
		snprintf(msg, len, "the agent is locked");
		return PROTO_E_LOCKED;
	default:
		snprintf(msg, len, "%s", store_error(a->store));
		return PROTO_E_STORE;
	}
}
