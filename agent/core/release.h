/* SPDX-License-Identifier: MIT */
/* Turning a profile into its headers: the one place secrets are read. */
#pragma once

#include "agent.h"
#include "proto.h"

/*
 * Expands every header template of @p at @now, with @token (NULL for
 * api-key profiles) for {token}.  With @w, writes the elements of the reply's
 * "headers" array ({"name","value","exists_action"} objects, comma-separated)
 * to it; without, only checks that everything the templates need is held.
 * On an error @w holds part of them: the caller discards the frame.  Returns PROTO_OK, or
 * PROTO_E_MISSING_SECRET / PROTO_E_INTERNAL with a message (naming the
 * profile and the secret, never a value) in @msg.
 */
int release_expand(const struct agent *a, const struct profile *p, uint64_t now, const char *token,
		   size_t token_len, struct proto_writer *w, char *msg, size_t len);
