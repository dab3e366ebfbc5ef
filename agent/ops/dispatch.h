/* SPDX-License-Identifier: MIT */
/* Routes a decoded request to its handler (opcode → handler table). */
#pragma once

#include "conn.h"
#include "proto.h"

/*
 * A handler answers with conn_reply() exactly once, before returning or
 * later (conn_defer()).  @req is valid only until the handler returns.
 */
typedef void (*op_handler)(struct conn *c, const struct proto_request *req);

void dispatch_request(struct conn *c, const struct proto_request *req);

struct release_event;
/* Logs the release (or refusal) @e to the peer of @c, filling in the peer,
 * and counts it for status (a NULL profile as unmatched). */
void dispatch_log_release(struct conn *c, struct release_event *e);
/* Counts a refusal that names no profile without logging it above debug:
 * the preload hook asks about every host a program talks to. */
void dispatch_count_unmatched(struct conn *c);

/* The handlers, one file per concept. */
void op_add(struct conn *c, const struct proto_request *req);
void op_remove(struct conn *c, const struct proto_request *req);
void op_list(struct conn *c, const struct proto_request *req);
void op_status(struct conn *c, const struct proto_request *req);
void op_headers(struct conn *c, const struct proto_request *req);
void op_lock(struct conn *c, const struct proto_request *req);
void op_unlock(struct conn *c, const struct proto_request *req);
void op_reload(struct conn *c, const struct proto_request *req);
void op_token(struct conn *c, const struct proto_request *req);
void op_passwd(struct conn *c, const struct proto_request *req);
void op_jwks(struct conn *c, const struct proto_request *req);
void op_login(struct conn *c, const struct proto_request *req);
void op_login_wait(struct conn *c, const struct proto_request *req);
void op_logout(struct conn *c, const struct proto_request *req);
void op_login_code(struct conn *c, const struct proto_request *req);
void op_hosts(struct conn *c, const struct proto_request *req);
/*
 * Closes the connections that fetched the host list when the profiles' host
 * patterns may have changed since it was handed out: at once, dropping what
 * they had in flight (the hook asks again on a new connection), except
 * @current (the connection whose request is being handled, or NULL), which
 * closes after its reply.  Call it after anything that sets, removes or
 * reloads profiles.  Cheap when nothing changed.
 */
void ops_hosts_check(struct agent *a, struct conn *current);
/* Locking forgets every sign-in (refresh tokens wiped, their tokens dropped). */
void ops_forget_signins(struct agent *a);
