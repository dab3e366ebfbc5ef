/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "clock.h"
#include "log.h"
#include "proto.h"
#include "token_schedule.h"
#include "tokens.h"

#define USEC 1000000ULL

struct token_entry;

struct token_waiter {
	struct token_entry *e;
	struct token_waiter *next, *prev;
	token_ready_fn ready;
	void *userdata;
};

struct token_entry {
	struct tokens *t;
	struct token_entry *next, *prev;
	const struct profile *profile; /* re-pointed by tokens_reconfigure() */
	char name[PROTO_MAX_NAME + 1];
	char *scope;
	const char *source;
	char *token; /* sodium memory */
	size_t len;
	int64_t expires_on;  /* unix seconds */
	uint64_t expires_at; /* agent clock */
	uint64_t refresh_at;
	struct source_fetch *fetch;
	struct token_waiter *waiters;
	sd_event_source *timer;  /* the next refresh or retry */
	sd_event_source *expiry; /* wipes the token when it may no longer be served */
	unsigned attempts;       /* failures since the last success */
	uint64_t gone_since;     /* first IMDS 410 of this run of failures */
	bool failed;
	char last_error[SOURCE_MAX_MESSAGE + PROTO_MAX_NAME + 16];
};

struct tokens {
	const struct source_ctx *ctx;
	const char *owner; /* what messages call an entry's profile */
	struct token_entry *entries;
	unsigned n;
};

static int64_t wall_now(void)
{
	return (int64_t)time(NULL);
}

int tokens_new(const struct source_ctx *ctx, struct tokens **ret)
{
	struct tokens *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->ctx = ctx;
	t->owner = "profile";
	*ret = t;
	return 0;
}

void tokens_set_owner(struct tokens *t, const char *owner)
{
	t->owner = owner;
}

static void forget_token(struct token_entry *e)
{
	sodium_free(e->token); /* wipes */
	e->token = NULL;
	e->len = 0;
}

static void waiter_unlink(struct token_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		w->e->waiters = w->next;
	if (w->next)
		w->next->prev = w->prev;
}

void tokens_cancel(struct token_waiter *w)
{
	if (w) {
		waiter_unlink(w);
		free(w);
	}
}

static void entry_free(struct token_entry *e)
{
	struct tokens *t = e->t;

	while (e->waiters)
		tokens_cancel(e->waiters);
	source_cancel(e->fetch);
	sd_event_source_disable_unref(e->timer);
	sd_event_source_disable_unref(e->expiry);
	forget_token(e);
	free(e->scope);
	if (e->prev)
		e->prev->next = e->next;
	else
		t->entries = e->next;
	if (e->next)
		e->next->prev = e->prev;
	t->n--;
	free(e);
}

struct tokens *tokens_free(struct tokens *t)
{
	if (!t)
		return NULL;
	while (t->entries)
		entry_free(t->entries);
	free(t);
	return NULL;
}

static bool entry_valid(struct token_entry *e, uint64_t now)
{
	if (e->token && now + TOKEN_MIN_VALIDITY_SEC * USEC >= e->expires_at)
		forget_token(e);
	return e->token != NULL;
}

/* For messages: an oidc profile may have no scope. */
static const char *scope_text(const struct token_entry *e)
{
	return *e->scope ? e->scope : "no scope";
}

static struct token_entry *find(struct tokens *t, const char *name, const char *scope)
{
	for (struct token_entry *e = t->entries; e; e = e->next)
		if (strcmp(e->name, name) == 0 && strcmp(e->scope, scope) == 0)
			return e;
	return NULL;
}

static struct token_entry *find_or_add(struct tokens *t, const struct profile *p, const char *scope)
{
	struct token_entry *e = find(t, p->name, scope);

	if (e || t->n >= TOKENS_MAX)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e || !(e->scope = strdup(scope))) {
		free(e);
		return NULL;
	}
	e->t = t;
	e->profile = p;
	snprintf(e->name, sizeof(e->name), "%s", p->name);
	e->source = source_name(p, t->ctx->env);
	e->next = t->entries;
	if (t->entries)
		t->entries->prev = e;
	t->entries = e;
	t->n++;
	return e;
}

static void fill_view(const struct token_entry *e, struct token_view *view)
{
	view->token = e->token;
	view->len = e->len;
	view->expires_on = e->expires_on;
	view->source = e->source;
	view->scope = e->scope;
}

bool tokens_lookup(struct tokens *t, const struct profile *p, const char *scope,
		   struct token_view *view)
{
	struct token_entry *e = find(t, p->name, scope ? scope : p->scope);

	if (!e || !entry_valid(e, clock_now()))
		return false;
	fill_view(e, view);
	return true;
}

static void start_fetch(struct token_entry *e);

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct token_entry *e = userdata;

	(void)s;
	(void)usec;
	if (!e->fetch)
		start_fetch(e);
	return 0;
}

static void arm_timer(struct token_entry *e, uint64_t when)
{
	sd_event *event = e->t->ctx->event;
	int r;

	if (!e->timer)
		r = sd_event_add_time(event, &e->timer, CLOCK_BOOTTIME, when, 0, on_timer, e);
	else
		r = sd_event_source_set_time(e->timer, when);
	if (r >= 0)
		r = sd_event_source_set_enabled(e->timer, SD_EVENT_ONESHOT);
	if (r < 0)
		log_error("%s \"%s\": cannot arm the token timer: %s", e->t->owner, e->name,
			  strerror(-r));
}

static int on_expiry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct token_entry *e = userdata;

	(void)s;
	(void)usec;
	if (!entry_valid(e, clock_now()))
		log_debug("%s \"%s\": token for %s expired and wiped", e->t->owner, e->name,
			  scope_text(e));
	return 0;
}

/* A token nobody refreshes is wiped when it stops being served, not when
 * somebody next asks for it. */
static void arm_expiry(struct token_entry *e)
{
	uint64_t when = e->expires_at > TOKEN_MIN_VALIDITY_SEC * USEC
			    ? e->expires_at - TOKEN_MIN_VALIDITY_SEC * USEC
			    : 0;
	int r;

	if (!e->expiry)
		r = sd_event_add_time(e->t->ctx->event, &e->expiry, CLOCK_BOOTTIME, when, 0,
				      on_expiry, e);
	else
		r = sd_event_source_set_time(e->expiry, when);
	if (r >= 0)
		r = sd_event_source_set_enabled(e->expiry, SD_EVENT_ONESHOT);
	if (r < 0)
		log_error("%s \"%s\": cannot arm the expiry timer: %s", e->t->owner, e->name,
			  strerror(-r));
}

static bool timer_pending(struct token_entry *e)
{
	int enabled = SD_EVENT_OFF;

	return e->timer && sd_event_source_get_enabled(e->timer, &enabled) >= 0 &&
	       enabled != SD_EVENT_OFF;
}

/* Hands the outcome to every waiter; they may not touch the entry. */
static void notify(struct token_entry *e, bool ok)
{
	struct token_view view;

	if (ok)
		fill_view(e, &view);
	while (e->waiters) {
		struct token_waiter *w = e->waiters;
		token_ready_fn ready = w->ready;
		void *userdata = w->userdata;

		tokens_cancel(w);
		ready(userdata, ok ? &view : NULL, e->last_error);
	}
}

static int store_token(struct token_entry *e, struct token_response *tok)
{
	uint64_t now = clock_now(), delay;
	int64_t lifetime = tok->expires_on - wall_now();
	char *copy = sodium_malloc(tok->access_token_len + 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, tok->access_token, tok->access_token_len);
	copy[tok->access_token_len] = '\0';
	forget_token(e);
	e->token = copy;
	e->len = tok->access_token_len;
	e->expires_on = tok->expires_on;
	e->expires_at = now + (uint64_t)(lifetime > 0 ? lifetime : 0) * USEC;
	delay = token_refresh_delay(lifetime, tok->refresh_in);
	e->refresh_at = delay ? now + delay : 0;
	arm_expiry(e);
	return 0;
}

static void fetched_ok(struct token_entry *e, struct token_response *tok)
{
	if (store_token(e, tok) < 0) {
		snprintf(e->last_error, sizeof(e->last_error), "%s \"%s\": out of memory",
			 e->t->owner, e->name);
		notify(e, false);
		return;
	}
	e->attempts = 0;
	e->gone_since = 0;
	e->failed = false;
	e->last_error[0] = '\0';
	log_info("%s \"%s\": token from %s for %s, expires in %llds, refresh in %llds", e->t->owner,
		 e->name, e->source, scope_text(e), (long long)(e->expires_on - wall_now()),
		 e->refresh_at ? (long long)((e->refresh_at - clock_now()) / USEC) : -1LL);
	if (e->refresh_at)
		arm_timer(e, e->refresh_at);
	else if (e->timer)
		sd_event_source_set_enabled(e->timer, SD_EVENT_OFF);
	notify(e, true);
}

/*
 * Decides what a failure means: when to try again (0: not until a client
 * asks) and whether waiting clients should be told now.  IMDS's 410 means
 * "updating": retried every 10 s for at least 70 s before giving up.
 */
static uint64_t retry_delay(struct token_entry *e, const struct source_error *err, uint64_t now,
			    bool *give_up)
{
	bool valid = entry_valid(e, now);

	if (err->status == 410 && strcmp(e->source, "imds") == 0) {
		if (!e->gone_since)
			e->gone_since = now;
		*give_up = now - e->gone_since >= TOKEN_IMDS_GONE_WINDOW_USEC;
		return TOKEN_IMDS_GONE_INTERVAL_USEC;
	}
	if (!err->retryable) {
		*give_up = true; /* configuration or permission: no point in waiting */
		return valid ? TOKEN_BACKOFF_MAX_USEC : 0;
	}
	*give_up = e->attempts >= TOKEN_FOREGROUND_ATTEMPTS;
	return token_backoff(e->attempts, err->retry_after);
}

static void fetched_error(struct token_entry *e, const struct source_error *err)
{
	uint64_t now = clock_now(), delay;
	bool give_up = false, valid;

	e->attempts++;
	e->failed = true;
	snprintf(e->last_error, sizeof(e->last_error), "%s \"%s\": %s", e->t->owner, e->name,
		 err->message[0] ? err->message : "token request failed");
	delay = retry_delay(e, err, now, &give_up);
	valid = entry_valid(e, now);
	log_warn("%s (attempt %u%s)", e->last_error, e->attempts,
		 valid ? ", cached token still served" : "");
	if (give_up)
		notify(e, false);
	/* Keep trying while someone waits or a cached token needs replacing;
	 * never past the cached token's expiry without a client asking. */
	if (delay && (e->waiters || valid))
		arm_timer(e, now + delay);
	else if (e->timer)
		sd_event_source_set_enabled(e->timer, SD_EVENT_OFF);
}

static void on_fetched(void *userdata, struct token_response *tok, const struct source_error *err)
{
	struct token_entry *e = userdata;

	e->fetch = NULL;
	if (tok)
		fetched_ok(e, tok);
	else
		fetched_error(e, err);
}

static void start_fetch(struct token_entry *e)
{
	struct source_error err = { .retry_after = -1 };
	int r;

	log_debug("%s \"%s\": requesting a token from %s", e->t->owner, e->name, e->source);
	r = source_start(e->t->ctx, e->profile, e->scope, on_fetched, e, &e->fetch, &err);
	if (r < 0) {
		e->fetch = NULL;
		err.retryable = false;
		fetched_error(e, &err);
	}
}

int tokens_get(struct tokens *t, const struct profile *p, const char *scope, token_ready_fn ready,
	       void *userdata, struct token_waiter **ret_waiter)
{
	struct token_entry *e = find_or_add(t, p, scope ? scope : p->scope);
	struct token_waiter *w;
	struct token_view view;

	*ret_waiter = NULL;
	if (!e)
		return -ENOSPC;
	if (entry_valid(e, clock_now())) {
		fill_view(e, &view);
		ready(userdata, &view, NULL);
		return 0;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->e = e;
	w->ready = ready;
	w->userdata = userdata;
	w->next = e->waiters;
	if (e->waiters)
		e->waiters->prev = w;
	e->waiters = w;
	/* A retry already scheduled is honoured (backoff, Retry-After). */
	if (!e->fetch && !timer_pending(e)) {
		e->attempts = 0;
		e->gone_since = 0;
		start_fetch(e); /* may answer (and free) the waiter at once */
	}
	for (struct token_waiter *it = e->waiters; it; it = it->next)
		if (it == w)
			*ret_waiter = w;
	return 0;
}

void tokens_forget_profile(struct tokens *t, const char *name, const char *why)
{
	struct token_entry *e = t->entries, *next;

	for (; e; e = next) {
		next = e->next;
		if (strcmp(e->name, name) != 0)
			continue;
		snprintf(e->last_error, sizeof(e->last_error), "%s \"%s\": %s", e->t->owner,
			 e->name, why);
		notify(e, false);
		entry_free(e);
	}
}

int tokens_put(struct tokens *t, const struct profile *p, struct token_response *tok)
{
	struct token_entry *e = find_or_add(t, p, p->scope);

	if (!e)
		return -ENOSPC;
	source_cancel(e->fetch);
	e->fetch = NULL;
	fetched_ok(e, tok);
	return 0;
}

/* Called with the old configuration still alive: entries move to the new
 * profiles, or go when their profile is gone or now asks for another
 * identity (a still-valid token of the old identity must not be served). */
void tokens_reconfigure(struct tokens *t, const struct config *c)
{
	struct token_entry *e = t->entries, *next;

	for (; e; e = next) {
		const struct profile *p = config_find_profile(c, e->name);

		next = e->next;
		if (p && cred_type_is_token(p->cred.type) &&
		    credential_equal(&p->cred, &e->profile->cred)) {
			e->profile = p;
			continue;
		}
		snprintf(e->last_error, sizeof(e->last_error),
			 "%s \"%s\" was removed or changed by a reload", e->t->owner, e->name);
		notify(e, false);
		entry_free(e);
	}
}

static json_t *seconds_until(uint64_t when, uint64_t now)
{
	return when > now ? json_integer((json_int_t)((when - now) / USEC)) : json_null();
}

static const char *entry_state(struct token_entry *e, uint64_t now)
{
	if (entry_valid(e, now))
		return "valid";
	if (e->fetch)
		return "fetching";
	return e->expires_on ? "expired" : "none";
}

json_t *tokens_describe(struct tokens *t, const struct profile *p)
{
	struct token_entry *e = find(t, p->name, p->scope);
	uint64_t now = clock_now();
	bool valid = e && entry_valid(e, now);

	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "source",
			 e ? e->source : source_name(p, t->ctx->env), "scope", p->scope, "state",
			 e ? entry_state(e, now) : "none", "expires_in",
			 valid ? seconds_until(e->expires_at, now) : json_null(), "refresh_in",
			 valid ? seconds_until(e->refresh_at, now) : json_null(), "last_error",
			 e && e->failed ? json_string(e->last_error) : json_null());
}

const char *tokens_last_error(struct tokens *t, const struct profile *p)
{
	struct token_entry *e = find(t, p->name, p->scope);

	return e && e->failed && !entry_valid(e, clock_now()) ? e->last_error : NULL;
}

unsigned tokens_valid_count(struct tokens *t)
{
	unsigned n = 0;
	uint64_t now = clock_now();

	for (struct token_entry *e = t->entries; e; e = e->next)
		n += entry_valid(e, now);
	return n;
}
