/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "agent.h"
#include "clock.h"
#include "http.h"
#include "keyvault.h"
#include "log.h"
#include "profiles.h"
#include "secrets.h"
#include "fetch.h"
#include "token_schedule.h"
#include "tokens.h"

#define KEYVAULT_SCOPE       "https://vault.azure.net/.default"
#define KEYVAULT_API_VERSION "7.4"
#define KEYVAULT_MAX_ERROR   512

static const char prefix[] = "Authorization: Bearer ";

/*
 * A secret with an inline "credential" gets its Key Vault token from a
 * token cache of its own (tokens.c, so refresh, backoff and outage rules
 * are those of every token) holding one hidden profile built from that
 * credential.  Neither is known to the profile list or to a->tokens, which
 * is all that ops (token, headers, the exec identity endpoint) can reach:
 * a vault token is worth more than any client needs, so no name a client
 * can send leads to it.  (A hidden profile in a->tokens would have been
 * one name check away from a client; a cache of its own is not reachable
 * at all, and dies with the entry when a reload changes the credential.)
 */
struct vault_identity {
	struct profile profile; /* name, scope and cred only */
	struct tokens *tokens;
};

struct kv_entry {
	struct keyvault *kv;
	char *name, *url, *via; /* via: NULL with @own */
	struct vault_identity *own;
	long refresh; /* seconds */
	bool held;    /* a value was fetched (it stays served) */
	bool mark;    /* still in the configuration (reconfigure) */
	unsigned failures;
	char *last_error;
	char *auth; /* "Authorization: Bearer TOKEN" in sodium memory while a request
		     * carries it: the token is masked in error messages */
	sd_event_source *timer;
	struct token_waiter *waiter;
	struct http_request *req;
};

struct keyvault {
	struct agent *a;
	struct kv_entry **entries;
	size_t n;
};

int keyvault_new(struct agent *a, struct keyvault **ret)
{
	struct keyvault *kv = calloc(1, sizeof(*kv));

	if (!kv)
		return -ENOMEM;
	kv->a = a;
	*ret = kv;
	return 0;
}

/* Stops whatever the entry waits on: its timer, token or request. */
static void entry_stop(struct kv_entry *e)
{
	e->timer = sd_event_source_disable_unref(e->timer);
	if (e->waiter)
		tokens_cancel(e->waiter);
	e->waiter = NULL;
	if (e->req)
		http_cancel(e->req);
	e->req = NULL;
	sodium_free(e->auth);
	e->auth = NULL;
}

static void identity_free(struct vault_identity *id)
{
	if (!id)
		return;
	tokens_free(id->tokens); /* wipes the token */
	credential_done(&id->profile.cred);
	free(id->profile.name);
	free(id->profile.scope);
	free(id);
}

static struct vault_identity *identity_new(struct agent *a, const struct secret_source *src)
{
	struct vault_identity *id = calloc(1, sizeof(*id));

	if (!id)
		return NULL;
	if (!(id->profile.name = strdup(src->name)) ||
	    !(id->profile.scope = strdup(KEYVAULT_SCOPE)) ||
	    credential_copy(&id->profile.cred, src->credential) < 0 ||
	    tokens_new(&a->source_ctx, &id->tokens) < 0)
		goto fail;
	/* Its messages ("no token for Key Vault: …", the log) name the secret. */
	tokens_set_owner(id->tokens, "the credential of secret");
	return id;
fail:
	identity_free(id);
	return NULL;
}

static void entry_free(struct kv_entry *e)
{
	entry_stop(e); /* before the token cache its waiter is in */
	identity_free(e->own);
	free(e->name);
	free(e->url);
	free(e->via);
	free(e->last_error);
	free(e);
}

struct keyvault *keyvault_free(struct keyvault *kv)
{
	if (!kv)
		return NULL;
	for (size_t i = 0; i < kv->n; i++)
		entry_free(kv->entries[i]);
	free(kv->entries);
	free(kv);
	return NULL;
}

static void fetch(struct kv_entry *e);

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct kv_entry *e = userdata;

	(void)s;
	(void)usec;
	fetch(e);
	return 0;
}

static void schedule(struct kv_entry *e, uint64_t delay)
{
	sd_event *event = e->kv->a->event;
	int r;

	if (!e->timer)
		r = sd_event_add_time_relative(event, &e->timer, CLOCK_BOOTTIME, delay, 0, on_timer,
					       e);
	else
		r = sd_event_source_set_time_relative(e->timer, delay);
	if (r >= 0)
		r = sd_event_source_set_enabled(e->timer, SD_EVENT_ONESHOT);
	if (r < 0)
		log_error("keyvault: secret \"%s\": cannot schedule the next fetch: %s", e->name,
			  strerror(-r));
}

/* A failed fetch: kept for list, logged, retried with a growing delay.  A
 * value fetched before keeps being served. */
__attribute__((format(printf, 3, 4))) static void failed(struct kv_entry *e, int64_t retry_after,
							 const char *fmt, ...)
{
	char msg[KEYVAULT_MAX_ERROR];
	uint64_t delay;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(e->last_error);
	e->last_error = strdup(msg);
	if (!e->held)
		secrets_put_missing(e->kv->a->secrets, e->name, ORIGIN_KEYVAULT, msg);
	if (e->failures < 64)
		e->failures++;
	delay = token_backoff(e->failures, retry_after);
	log_warn("keyvault: secret \"%s\": %s; retrying in %llus", e->name, msg,
		 (unsigned long long)((delay + USEC_PER_SEC / 2) / USEC_PER_SEC));
	schedule(e, delay);
}

/* The version of a secret id ".../secrets/NAME/VERSION", for the log. */
static const char *version_of(const char *id)
{
	const char *slash = id ? strrchr(id, '/') : NULL;

	return slash && slash[1] ? slash + 1 : "?";
}

static void stored(struct kv_entry *e, const char *value, size_t len, const char *id)
{
	struct agent *a = e->kv->a;
	int r = secrets_put(a->secrets, e->name, value, len, ORIGIN_KEYVAULT, 0);

	if (r < 0) {
		failed(e, -1, "cannot hold the value: %s",
		       r == -EINVAL ? "empty or longer than 16384 bytes" : strerror(-r));
		return;
	}
	e->held = true;
	e->failures = 0;
	free(e->last_error);
	e->last_error = NULL;
	log_info("keyvault: secret \"%s\" fetched (version %s)", e->name, version_of(id));
	schedule(e, (uint64_t)e->refresh * USEC_PER_SEC);
}

/* The description of an error body, without the token the request carried
 * (a proxy or a misbehaving endpoint may echo the request). */
static void describe_error(struct kv_entry *e, const struct http_response *resp, char *desc,
			   size_t len)
{
	char *token = e->auth ? e->auth + sizeof(prefix) - 1 : NULL;

	fetch_describe_error(resp, &token, token ? 1 : 0, desc, len);
	sodium_free(e->auth);
	e->auth = NULL;
}

static void on_response(const struct http_response *resp, void *userdata)
{
	struct kv_entry *e = userdata;
	char desc[KEYVAULT_MAX_ERROR - 32];
	json_t *doc, *value;

	e->req = NULL;
	describe_error(e, resp, desc, sizeof(desc));
	if (resp->curl_code != 0) {
		failed(e, -1, "GET %s: %s", e->url, resp->error);
		return;
	}
	if (resp->status != 200) {
		failed(e, http_retry_after(resp->retry_after), "HTTP %ld: %s", resp->status, desc);
		return;
	}
	doc = json_loadb(resp->body, resp->body_len, 0, NULL);
	value = json_object_get(doc, "value");
	if (!json_is_string(value))
		failed(e, -1, "HTTP 200 without a string \"value\"");
	else
		stored(e, json_string_value(value), json_string_length(value),
		       json_string_value(json_object_get(doc, "id")));
	json_decref(doc); /* the agent's jansson allocator wipes */
}

/* The request, with the token: the header is built in sodium memory. */
static void on_token(void *userdata, const struct token_view *view, const char *message)
{
	struct kv_entry *e = userdata;
	struct http_options o = { .method = "GET",
				  .timeout_ms = SOURCE_TIMEOUT_MS, /* as token requests */
				  .allow_http = strncmp(e->url, "http:", 5) == 0 };
	char *url = NULL, *auth;
	int r = -ENOMEM;

	e->waiter = NULL;
	if (!view) {
		failed(e, -1, "no token for Key Vault: %s", message);
		return;
	}
	auth = sodium_malloc(sizeof(prefix) + view->len);
	if (auth && asprintf(&url, "%s?api-version=" KEYVAULT_API_VERSION, e->url) >= 0) {
		memcpy(auth, prefix, sizeof(prefix) - 1);
		memcpy(auth + sizeof(prefix) - 1, view->token, view->len);
		auth[sizeof(prefix) - 1 + view->len] = '\0';
		o.url = url;
		o.headers[0] = auth;
		o.headers[1] = "Accept: application/json";
		r = http_start(e->kv->a->http, &o, on_response, e, &e->req);
	}
	free(url);
	if (r == 0)
		e->auth = auth; /* libcurl has its own (wiped) copy; this one is for masking */
	else
		sodium_free(auth);
	if (r < 0)
		failed(e, -1, "cannot start the request: %s", http_strerror(r));
}

static void fetch(struct kv_entry *e)
{
	struct agent *a = e->kv->a;
	const struct profile *p = e->own ? &e->own->profile : profiles_find(a, e->via);
	struct tokens *cache = e->own ? e->own->tokens : a->tokens;
	struct token_waiter *waiter = NULL;

	entry_stop(e);
	if (!p || !cred_type_is_token(p->cred.type)) {
		failed(e, -1, "\"via\" names no token profile \"%s\"", e->via);
		return;
	}
	/* On a cache hit on_token() runs (and may start the request) at once. */
	if (tokens_get(cache, p, KEYVAULT_SCOPE, on_token, e, &waiter) < 0) {
		failed(e, -1, "too many cached tokens");
		return;
	}
	e->waiter = waiter;
}

static struct kv_entry *find(const struct keyvault *kv, const struct secret_source *src)
{
	for (size_t i = 0; i < kv->n; i++) {
		struct kv_entry *e = kv->entries[i];

		if (strcmp(e->name, src->name) != 0 || strcmp(e->url, src->url) != 0)
			continue;
		/* A changed credential is a new entry: the old identity's token goes. */
		if (src->via && e->via && strcmp(e->via, src->via) == 0)
			return e;
		if (src->credential && e->own &&
		    credential_equal(src->credential, &e->own->profile.cred))
			return e;
	}
	return NULL;
}

static struct kv_entry *add(struct keyvault *kv, const struct secret_source *src)
{
	struct kv_entry *e = calloc(1, sizeof(*e)), **grown;

	grown = e ? reallocarray(kv->entries, kv->n + 1, sizeof(*grown)) : NULL;
	if (grown)
		kv->entries = grown;
	if (!grown || !(e->name = strdup(src->name)) || !(e->url = strdup(src->url)) ||
	    (src->via && !(e->via = strdup(src->via))) ||
	    (src->credential && !(e->own = identity_new(kv->a, src)))) {
		if (e)
			entry_free(e);
		return NULL;
	}
	e->kv = kv;
	kv->entries[kv->n++] = e;
	secrets_put_missing(kv->a->secrets, e->name, ORIGIN_KEYVAULT,
			    "not fetched from Key Vault yet");
	return e;
}

/* True when the configuration still has Key Vault secret @name (changed: a
 * new entry fetches it now). */
static bool still_configured(const struct keyvault *kv, const char *name)
{
	const struct secret_source *src = config_find_secret(kv->a->config, name);

	return src && src->kind == SOURCE_KEYVAULT;
}

/* Drops entries the configuration no longer names, and their values. */
static void sweep(struct keyvault *kv)
{
	size_t kept = 0;

	for (size_t i = 0; i < kv->n; i++) {
		struct kv_entry *e = kv->entries[i];
		const struct secret *s;

		if (e->mark) {
			kv->entries[kept++] = e;
			continue;
		}
		s = secrets_find(kv->a->secrets, e->name, 0);
		if (s && s->origin == ORIGIN_KEYVAULT && !still_configured(kv, e->name))
			secrets_remove(kv->a->secrets, e->name);
		entry_free(e);
	}
	kv->n = kept;
}

void keyvault_reconfigure(struct keyvault *kv)
{
	const struct config *c = kv->a->config;

	for (size_t i = 0; i < kv->n; i++)
		kv->entries[i]->mark = false;
	for (size_t i = 0; i < c->n_secrets; i++) {
		const struct secret_source *src = &c->secrets[i];
		struct kv_entry *e;

		if (src->kind != SOURCE_KEYVAULT)
			continue;
		e = find(kv, src);
		if (!e && !(e = add(kv, src))) {
			log_error("keyvault: secret \"%s\": out of memory", src->name);
			continue;
		}
		e->mark = true;
		e->refresh = src->refresh;
		e->failures = 0;
	}
	sweep(kv);
	/* A reload fetches again: the way to pick up a new value at once. */
	for (size_t i = 0; i < kv->n; i++)
		fetch(kv->entries[i]);
}

const char *keyvault_last_error(const struct keyvault *kv, const char *name)
{
	for (size_t i = 0; kv && i < kv->n; i++)
		if (strcmp(kv->entries[i]->name, name) == 0)
			return kv->entries[i]->last_error;
	return NULL;
}
