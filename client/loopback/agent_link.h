/* SPDX-License-Identifier: MIT */
/*
 * The agent connection made at start, shared by a local endpoint's threads
 * one request at a time, reconnected to @socket_path when the agent has
 * restarted (agent_link.c says why it is kept).
 */
#pragma once

#include <stddef.h>

#include "aoai.h"

struct agent_link;
/* Takes @conn, also on failure.  Returns 0 or -errno. */
int agent_link_new(struct aoai_conn *conn, const char *socket_path, struct agent_link **ret);
/* Closes the connection.  Accepts NULL; returns NULL. */
struct agent_link *agent_link_free(struct agent_link *l);
/*
 * aoai_get_token() on the shared connection.  Returns 0, or an AOAI_E_*
 * code with the reason (the agent's message, if any) in @msg (@len bytes).
 */
int agent_link_get_token(struct agent_link *l, const char *profile, const char *scope,
			 struct aoai_token **ret_token, char *msg, size_t len);
/* aoai_get_headers() on the shared connection, as agent_link_get_token(). */
int agent_link_get_headers(struct agent_link *l, const char *url, struct aoai_headers **ret_headers,
			   char *msg, size_t len);
