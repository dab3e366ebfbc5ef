/* SPDX-License-Identifier: MIT */
/* "reload": the same as SIGHUP, with the outcome told to the caller. */
#include "agent_load.h"
#include "dispatch.h"
#include "log.h"
#include "notify.h"
#include "profiles.h"

void op_reload(struct conn *c, const struct proto_request *req)
{
	struct agent *a = c->agent;
	char err[1024];
	json_t *reply;

	(void)req;
	notify_reloading();
	if (agent_load_config(a, err, sizeof(err)) < 0) {
		notify_ready(a);
		log_error("reload requested by pid %d failed: %s", (int)c->peer.pid, err);
		conn_reply_error(c, PROTO_E_BAD_CONFIG, err);
		return;
	}
	log_info("configuration reloaded by pid %d: %zu profiles", (int)c->peer.pid,
		 profiles_count(a));
	notify_ready(a);
	reply = proto_ok_reply();
	if (reply &&
	    json_object_set_new(reply, "profiles", json_integer((json_int_t)profiles_count(a))) < 0)
		reply = (json_decref(reply), NULL);
	conn_reply(c, reply);
}
