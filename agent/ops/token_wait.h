/* SPDX-License-Identifier: MIT */
/* A request that needs a profile's token: answered from the cache, or when
 * the fetch in flight ends, or never if the client leaves first. */
#pragma once

#include <stddef.h>

#include "conn.h"
#include "tokens.h"

/*
 * Answers the request.  @p is the profile as it is now (NULL if a reload
 * removed it), @view the token or NULL on failure with @message saying why,
 * @ctx the caller's context as copied by token_wait().
 */
typedef void (*token_answer_fn)(struct conn *c, const struct profile *p,
				const struct token_view *view, const char *message,
				const void *ctx);

/* Gets @p's token for @scope (NULL: the profile's) and calls @answer with
 * it, now or later; copies @ctx_len bytes of @ctx for it. */
void token_wait(struct conn *c, const struct profile *p, const char *scope, token_answer_fn answer,
		const void *ctx, size_t ctx_len);
