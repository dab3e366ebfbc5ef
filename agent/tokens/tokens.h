/* SPDX-License-Identifier: MIT */
/*
 * The token cache: one entry per (profile, scope), shared by every client.
 * While a fetch is in flight, every request for that entry waits for it
 * (single flight).  A token is refreshed in the background before it
 * expires (the Azure SDK rule: at refresh_in when given, at half-life for
 * tokens living over 2 hours, else 5 minutes before expiry); failures back
 * off with jitter, honouring Retry-After and the IMDS rules, and the cached
 * token is served until it expires (token_schedule.h has the numbers).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "source.h"

#define TOKENS_MAX 1024

struct tokens;
struct token_waiter;

/* A token as handed out; valid until the next event-loop iteration. */
struct token_view {
	const char *token;
	size_t len;
	int64_t expires_on; /* unix seconds */
	const char *source;
	const char *scope;
};

/* @view is NULL on failure, then @message says why (names profile and source). */
typedef void (*token_ready_fn)(void *userdata, const struct token_view *view, const char *message);

int tokens_new(const struct source_ctx *ctx, struct tokens **ret);
/* What messages and the log call the profile of an entry, followed by its
 * name: "profile" unless set.  @owner is a static string. */
void tokens_set_owner(struct tokens *t, const char *owner);
/* Cancels fetches and waiters (without callbacks), wipes every token. */
struct tokens *tokens_free(struct tokens *t);

/*
 * The valid cached token of @p for @scope (NULL: the profile's), if any.
 * Returns true and fills @view.  Never starts anything.
 */
bool tokens_lookup(struct tokens *t, const struct profile *p, const char *scope,
		   struct token_view *view);
/*
 * Asks for a token: if one is valid, @ready runs before this returns;
 * otherwise the caller waits for the fetch in flight (starting one if
 * needed) and @ready runs later from the event loop.  *ret_waiter is set
 * while waiting (cancel it with tokens_cancel() if the caller goes away),
 * else NULL.  Returns 0 or a negative errno.
 */
int tokens_get(struct tokens *t, const struct profile *p, const char *scope, token_ready_fn ready,
	       void *userdata, struct token_waiter **ret_waiter);
void tokens_cancel(struct token_waiter *w);

/* Drops every entry of profile @name (a sign-in or a sign-out changed who
 * its tokens are for); waiters are told @why. */
void tokens_forget_profile(struct tokens *t, const char *name, const char *why);
/* Keeps @tok (its access token copied) as @p's token for its own scope, as a
 * fetch would, and schedules its refresh.  0 or a negative errno. */
int tokens_put(struct tokens *t, const struct profile *p, struct token_response *tok);
/* After a reload: drops entries whose profile is gone or changed. */
void tokens_reconfigure(struct tokens *t, const struct config *c);
/* The "token" object `list` shows for a token profile (a new reference). */
json_t *tokens_describe(struct tokens *t, const struct profile *p);
/* The last failure of the profile's default-scope entry, when it holds no
 * valid token; NULL otherwise. */
const char *tokens_last_error(struct tokens *t, const struct profile *p);
/* Number of cached tokens that are valid now. */
unsigned tokens_valid_count(struct tokens *t);
