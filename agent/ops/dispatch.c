/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "audit.h"
#include "dispatch.h"
#include "log.h"
#include "release_log.h"

static const op_handler handlers[_PROTO_OP_MAX] = {
	[PROTO_OP_ADD] = op_add,
	[PROTO_OP_REMOVE] = op_remove,
	[PROTO_OP_LIST] = op_list,
	[PROTO_OP_HEADERS] = op_headers,
	[PROTO_OP_LOCK] = op_lock,
	[PROTO_OP_UNLOCK] = op_unlock,
	[PROTO_OP_STATUS] = op_status,
	[PROTO_OP_RELOAD] = op_reload,
	[PROTO_OP_TOKEN] = op_token,
	[PROTO_OP_PASSWD] = op_passwd,
	[PROTO_OP_JWKS] = op_jwks,
	[PROTO_OP_LOGIN] = op_login,
	[PROTO_OP_LOGIN_WAIT] = op_login_wait,
	[PROTO_OP_LOGOUT] = op_logout,
	[PROTO_OP_LOGIN_CODE] = op_login_code,
	[PROTO_OP_HOSTS] = op_hosts,
};

void dispatch_request(struct conn *c, const struct proto_request *req)
{
	log_debug("pid %d (%s): %s", (int)c->peer.pid, peer_hold_name(c->peer.hold),
		  proto_op_name(req->op));
	if ((unsigned)req->op >= _PROTO_OP_MAX || !handlers[req->op]) {
		conn_reply_error(c, PROTO_E_UNKNOWN_OP, "operation not supported");
		return;
	}
	handlers[req->op](c, req);
	/* Whatever the request changed, the hooks hear of it before its reply goes out. */
	ops_hosts_check(c->agent, c);
}

void dispatch_log_release(struct conn *c, struct release_event *e)
{
	e->peer_pid = c->peer.pid;
	e->peer_uid = c->peer.uid;
	e->peer_exe = peer_exe(&c->peer);
	log_release(e);
	audit_count(c->agent->audit, e->profile, e->result && strcmp(e->result, "ok") == 0);
}

void dispatch_count_unmatched(struct conn *c)
{
	audit_count(c->agent->audit, NULL, false);
}
