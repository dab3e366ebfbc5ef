/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiles.h"
#include "proto.h"
#include "token_wait.h"

struct token_wait {
	struct conn *c;
	char profile[PROTO_MAX_NAME + 1];
	token_answer_fn answer;
	struct token_waiter *waiter;
	size_t ctx_len;
	unsigned char ctx[];
};

static void wait_cancel(void *data)
{
	struct token_wait *w = data;

	tokens_cancel(w->waiter);
	free(w);
}

static void on_token(void *userdata, const struct token_view *view, const char *message)
{
	struct token_wait *w = userdata;
	struct conn *c = w->c;

	conn_set_pending(c, NULL, NULL);
	w->answer(c, profiles_find(c->agent, w->profile), view, message, w->ctx);
	conn_resume(c);
	free(w);
}

void token_wait(struct conn *c, const struct profile *p, const char *scope, token_answer_fn answer,
		const void *ctx, size_t ctx_len)
{
	struct token_wait *w = calloc(1, sizeof(*w) + ctx_len);
	struct token_waiter *waiter = NULL;

	if (!w) {
		conn_reply_error(c, PROTO_E_INTERNAL, "out of memory");
		return;
	}
	w->c = c;
	w->answer = answer;
	w->ctx_len = ctx_len;
	if (ctx_len)
		memcpy(w->ctx, ctx, ctx_len);
	snprintf(w->profile, sizeof(w->profile), "%s", p->name);
	conn_set_pending(c, wait_cancel, w);
	/* On a cache hit on_token() runs (and frees w) before this returns. */
	if (tokens_get(c->agent->tokens, p, scope, on_token, w, &waiter) < 0) {
		conn_set_pending(c, NULL, NULL);
		free(w);
		conn_reply_error(c, PROTO_E_LIMIT, "too many cached tokens");
		return;
	}
	if (waiter)
		w->waiter = waiter;
}
