/* SPDX-License-Identifier: MIT */
/*
 * "jwks": a token issuer's signing keys, for `aoai check`.  Public keys
 * only, so it is answered while the agent is locked too.
 */
#include <errno.h>
#include <stdlib.h>

#include "dispatch.h"
#include "http.h"
#include "jwks.h"

/* A connection waiting for a fetch; freed by whichever comes first. */
struct jwks_wait {
	struct conn *c;
	struct jwks_waiter *waiter;
};

static json_t *keys_reply(const struct jwks_view *v)
{
	json_t *reply = proto_ok_reply();

	if (reply &&
	    json_object_set_new(reply, "issuer",
				v->issuer ? json_string(v->issuer) : json_null()) == 0 &&
	    json_object_set_new(reply, "jwks_uri", json_string(v->jwks_uri)) == 0 &&
	    json_object_set(reply, "keys", (json_t *)v->keys) == 0 &&
	    json_object_set_new(reply, "fetched_at", json_integer(v->fetched_at)) == 0 &&
	    json_object_set_new(reply, "cached", json_boolean(v->cached)) == 0)
		return reply;
	json_decref(reply);
	return NULL; /* conn_reply() drops the connection */
}

static void on_keys(void *userdata, const struct jwks_view *v, const char *message)
{
	struct jwks_wait *w = userdata;
	struct conn *c = w->c;

	conn_set_pending(c, NULL, NULL);
	free(w);
	if (v)
		conn_reply(c, keys_reply(v));
	else
		conn_reply_error(c, PROTO_E_UNAVAILABLE, message);
	conn_resume(c);
}

static void wait_cancel(void *data)
{
	struct jwks_wait *w = data;

	jwks_cancel(w->waiter);
	free(w);
}

void op_jwks(struct conn *c, const struct proto_request *req)
{
	struct jwks_wait *w = calloc(1, sizeof(*w));
	struct jwks_waiter *waiter = NULL;
	char err[256];
	int r;

	if (!w) {
		conn_reply_error(c, PROTO_E_INTERNAL, "out of memory");
		return;
	}
	w->c = c;
	conn_set_pending(c, wait_cancel, w);
	/* From the cache, on_keys() runs (and frees w) before this returns. */
	r = jwks_get(c->agent->jwks, req->jwks.openid_config, req->jwks.refresh, on_keys, w,
		     &waiter, err, sizeof(err));
	if (r == 0) {
		if (waiter)
			w->waiter = waiter;
		return;
	}
	conn_set_pending(c, NULL, NULL);
	free(w);
	if (r == -EINVAL)
		conn_reply_error(c, PROTO_E_INSECURE_URL, err);
	else if (r == -EBUSY)
		conn_reply_error(c, PROTO_E_LIMIT, "too many key sets are being fetched");
	else if (r == -ELIBACC)
		conn_reply_error(c, PROTO_E_UNAVAILABLE, http_strerror(r));
	else
		conn_reply_error(c, PROTO_E_INTERNAL, "out of memory");
}
