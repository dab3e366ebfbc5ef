/* SPDX-License-Identifier: MIT */
/*
 * "lock" and "unlock".  A wrong passphrase is answered only after a delay
 * that doubles with each failure, and every unlock attempt waits until the
 * delay has passed, so guessing through the socket is slow even with many
 * connections.  Waiting is a timer on the connection: other clients are
 * served meanwhile.  An agent with a persistent store is locked and
 * unlocked with the store's passphrase (ops_store.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent_load.h"
#include "clock.h"
#include "dispatch.h"
#include "lock.h"
#include "log.h"
#include "ops_store.h"
#include "store.h"

void op_lock(struct conn *c, const struct proto_request *req)
{
	struct agent *a = c->agent;
	int r;

	if (!lock_is_locked(a->lock) && store_state(a->store) == STORE_UNLOCKED) {
		store_lock(c, req->lock.passphrase, req->lock.passphrase_len);
		return;
	}
	r = lock_lock(a->lock, req->lock.passphrase, req->lock.passphrase_len);
	if (r == -EBUSY) {
		conn_reply_error(c, PROTO_E_LOCKED, "the agent is already locked");
		return;
	}
	if (r < 0) {
		conn_reply_error(c, PROTO_E_INTERNAL, "cannot lock: out of memory");
		return;
	}
	log_info("locked by pid %d", (int)c->peer.pid);
	ops_forget_signins(a);
	conn_reply(c, proto_ok_reply());
}

/* A copy of the passphrase for an attempt that has to wait its turn. */
struct pending_unlock {
	char *passphrase; /* sodium memory */
	size_t len;
};

static void pending_free(void *data)
{
	struct pending_unlock *p = data;

	if (p) {
		sodium_free(p->passphrase);
		free(p);
	}
}

static void reply_bad_passphrase(struct conn *c, void *data)
{
	(void)data;
	conn_reply_error(c, PROTO_E_BAD_PASSPHRASE, "wrong passphrase");
}

static void try_unlock(struct conn *c, void *data);

/* Runs @p now if the delay has passed, else when it has. */
static void attempt(struct conn *c, struct pending_unlock *p)
{
	struct agent *a = c->agent;
	uint64_t now = clock_now(), next = lock_next_attempt(a->lock);
	int r;

	if (now < next) {
		if (conn_defer(c, next, try_unlock, p, pending_free) < 0)
			conn_reply_error(c, PROTO_E_INTERNAL, "cannot schedule the unlock");
		return;
	}
	if (lock_is_by_store(a->lock)) {
		store_unlock(c, p->passphrase, p->len);
		pending_free(p);
		return;
	}
	r = lock_unlock(a->lock, p->passphrase, p->len, now);
	pending_free(p);
	if (r == -EALREADY) {
		conn_reply_error(c, PROTO_E_NOT_LOCKED, "the agent is not locked");
	} else if (r == -EACCES) {
		log_warn("failed unlock attempt by pid %d", (int)c->peer.pid);
		if (conn_defer(c, lock_next_attempt(a->lock), reply_bad_passphrase, NULL,
			       pending_free) < 0)
			conn_reply_error(c, PROTO_E_BAD_PASSPHRASE, "wrong passphrase");
	} else {
		log_info("unlocked by pid %d", (int)c->peer.pid);
		agent_schedule_expiry(a);
		conn_reply(c, proto_ok_reply());
	}
}

/* Deferred attempts own their copy until they run; conn.c frees it after. */
static void try_unlock(struct conn *c, void *data)
{
	struct pending_unlock *p = data, *copy = malloc(sizeof(*copy));

	if (!copy) {
		conn_reply_error(c, PROTO_E_INTERNAL, "out of memory");
		return;
	}
	copy->passphrase = sodium_malloc(p->len + 1);
	if (!copy->passphrase) {
		free(copy);
		conn_reply_error(c, PROTO_E_INTERNAL, "out of memory");
		return;
	}
	memcpy(copy->passphrase, p->passphrase, p->len);
	copy->len = p->len;
	attempt(c, copy);
}

void op_unlock(struct conn *c, const struct proto_request *req)
{
	struct pending_unlock p = {
		.passphrase = (char *)req->lock.passphrase,
		.len = req->lock.passphrase_len,
	};

	try_unlock(c, &p);
}
