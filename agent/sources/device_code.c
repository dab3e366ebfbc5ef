/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "clock.h"
#include "device_code.h"
#include "fetch.h"
#include "oidc_discovery.h"
#include "person.h"

#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"

struct device_login {
	const struct source_ctx *ctx;
	struct credential cred;
	const char *name; /* source_name(), static */
	char scope[PROTO_MAX_SCOPE + 64];
	char device_url[PERSON_MAX_URL];
	char token_url[PERSON_MAX_URL];
	device_code_fn on_code;
	device_done_fn on_done;
	void *userdata;
	struct oidc_waiter waiter;
	struct source_fetch *req; /* the request under way */
	char *device_code;        /* sodium memory */
	size_t device_code_len;
	uint64_t interval; /* microseconds */
	uint64_t deadline; /* clock_now() */
	sd_event_source *timer;
};

struct device_login *device_login_free(struct device_login *d)
{
	if (!d)
		return NULL;
	oidc_waiter_cancel(&d->waiter);
	source_cancel(d->req);
	sd_event_source_disable_unref(d->timer);
	sodium_free(d->device_code); /* wipes */
	credential_done(&d->cred);
	sodium_memzero(d, sizeof(*d));
	free(d);
	return NULL;
}

static struct source_fetch *new_request(struct device_login *d, const char *url,
					struct source_error *err)
{
	struct source_fetch *f = calloc(1, sizeof(*f));

	if (!f) {
		snprintf(err->message, sizeof(err->message), "out of memory");
		return NULL;
	}
	f->ctx = d->ctx;
	f->name = d->name;
	if (fetch_set_url(f, url, err) < 0 ||
	    fetch_add_form(f, "client_id", d->cred.client_id, strlen(d->cred.client_id)) < 0) {
		if (!err->message[0])
			snprintf(err->message, sizeof(err->message), "out of memory");
		source_cancel(f);
		return NULL;
	}
	return f;
}

static const char *str_member(json_t *doc, const char *key)
{
	const json_t *v = json_object_get(doc, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t int_member(json_t *doc, const char *key, int64_t dflt)
{
	const json_t *v = json_object_get(doc, key);

	if (json_is_integer(v))
		return (int64_t)json_integer_value(v);
	if (json_is_string(v) &&
	    strspn(json_string_value(v), "0123456789") == json_string_length(v))
		return strtoll(json_string_value(v), NULL, 10);
	return dflt;
}

/* RFC 8628 §3.2 (and Google's verification_url). */
static int parse_code(struct device_login *d, json_t *doc, struct device_code_info *info, char *why,
		      size_t whylen)
{
	const char *code = str_member(doc, "device_code"), *user = str_member(doc, "user_code");
	const char *uri = str_member(doc, "verification_uri"), *msg = str_member(doc, "message");
	const char *complete = str_member(doc, "verification_uri_complete");
	int64_t interval = int_member(doc, "interval", DEVICE_CODE_DEFAULT_INTERVAL);

	if (!uri)
		uri = str_member(doc, "verification_url");
	info->expires_in = int_member(doc, "expires_in", -1);
	if (!code || !*code || strlen(code) > DEVICE_CODE_MAX_CODE || !user ||
	    strlen(user) > DEVICE_CODE_MAX_USER_CODE || !uri || strlen(uri) > DEVICE_CODE_MAX_URI ||
	    info->expires_in <= 0) {
		snprintf(why, whylen,
			 "the device authorization response lacks device_code, "
			 "user_code, verification_uri or expires_in");
		return -EINVAL;
	}
	if (info->expires_in > DEVICE_CODE_MAX_LIFETIME)
		info->expires_in = DEVICE_CODE_MAX_LIFETIME;
	interval = interval < DEVICE_CODE_MIN_INTERVAL   ? DEVICE_CODE_MIN_INTERVAL
		   : interval > DEVICE_CODE_MAX_INTERVAL ? DEVICE_CODE_MAX_INTERVAL
							 : interval;
	info->interval = interval;
	snprintf(info->user_code, sizeof(info->user_code), "%s", user);
	snprintf(info->verification_uri, sizeof(info->verification_uri), "%s", uri);
	if (complete && strlen(complete) <= DEVICE_CODE_MAX_URI)
		snprintf(info->verification_uri_complete, sizeof(info->verification_uri_complete),
			 "%s", complete);
	if (msg)
		snprintf(info->message, sizeof(info->message), "%s", msg);
	d->device_code_len = strlen(code);
	if (!(d->device_code = sodium_malloc(d->device_code_len + 1))) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	memcpy(d->device_code, code, d->device_code_len + 1);
	d->interval = (uint64_t)interval * USEC_PER_SEC;
	d->deadline = clock_now() + (uint64_t)info->expires_in * USEC_PER_SEC;
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

static int arm(struct device_login *d)
{
	uint64_t when = clock_now() + d->interval;
	int r;

	if (d->timer) {
		r = sd_event_source_set_time(d->timer, when);
		if (r >= 0)
			r = sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
		return r;
	}
	return sd_event_add_time(d->ctx->event, &d->timer, CLOCK_BOOTTIME, when, 0, on_timer, d);
}

static void on_code_response(const struct http_response *resp, void *userdata)
{
	struct device_login *d = userdata;
	struct device_code_info info = { 0 };
	char why[SOURCE_MAX_MESSAGE] = "", desc[SOURCE_MAX_MESSAGE - 64];
	json_t *doc = NULL;

	d->req->req = NULL;
	if (resp->curl_code == 0 && resp->status == 200) /* json_is_object() reads twice */
		doc = json_loadb(resp->body, resp->body_len, 0, NULL);
	if (resp->curl_code != 0) {
		snprintf(why, sizeof(why), "%s: device authorization: %s", d->name, resp->error);
	} else if (resp->status != 200) {
		fetch_describe_error(resp, d->req->secrets, d->req->n_secrets, desc, sizeof(desc));
		snprintf(why, sizeof(why), "%s: device authorization: HTTP %ld: %s", d->name,
			 resp->status, desc);
	} else if (!json_is_object(doc)) {
		snprintf(why, sizeof(why),
			 "%s: device authorization: the response is not a "
			 "JSON object",
			 d->name);
	} else if (parse_code(d, doc, &info, why, sizeof(why)) == 0 && arm(d) < 0) {
		snprintf(why, sizeof(why), "cannot arm the poll timer");
	}
	json_decref(doc);
	source_cancel(d->req);
	d->req = NULL;
	if (why[0])
		d->on_code(d->userdata, NULL, why);
	else
		d->on_code(d->userdata, &info, NULL);
	sodium_memzero(&info, sizeof(info));
}

static void finish(struct device_login *d, struct token_response *tok, const char *error)
{
	sd_event_source_set_enabled(d->timer, SD_EVENT_OFF);
	d->on_done(d->userdata, tok, error);
}

/* RFC 8628 §3.5: pending and slow_down go on, anything else ends it. */
static void on_poll(void *userdata, struct token_response *tok, const struct source_error *err)
{
	struct device_login *d = userdata;

	d->req = NULL; /* fetch_finish() frees it */
	if (tok && !tok->refresh_token) {
		finish(d, NULL, "the provider sent no refresh token (offline_access refused?)");
		return;
	}
	if (tok) {
		finish(d, tok, NULL);
		return;
	}
	if (strcmp(err->oauth_error, "slow_down") == 0)
		d->interval += DEVICE_CODE_SLOW_DOWN * USEC_PER_SEC;
	if (strcmp(err->oauth_error, "authorization_pending") == 0 ||
	    strcmp(err->oauth_error, "slow_down") == 0 ||
	    (err->retryable && !err->oauth_error[0])) {
		if (arm(d) >= 0)
			return;
	}
	finish(d, NULL, err->message);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct device_login *d = userdata;
	struct source_error err = { 0 };
	struct source_fetch *f;

	(void)s;
	(void)usec;
	if (clock_now() >= d->deadline) {
		finish(d, NULL, "the code expired before the sign-in was approved");
		return 0;
	}
	f = new_request(d, d->token_url, &err);
	if (f &&
	    (fetch_add_form(f, "grant_type", DEVICE_GRANT, strlen(DEVICE_GRANT)) < 0 ||
	     fetch_add_secret_form(f, "device_code", d->device_code, d->device_code_len) < 0)) {
		snprintf(err.message, sizeof(err.message), "out of memory");
		f = (source_cancel(f), NULL);
	}
	if (f) {
		f->done = on_poll;
		f->userdata = d;
		if (fetch_send(f, &err) == 0) {
			d->req = f;
			return 0;
		}
		source_cancel(f);
	}
	finish(d, NULL, err.message);
	return 0;
}

static int request_code(struct device_login *d, char *why, size_t whylen)
{
	struct source_error err = { 0 };
	struct source_fetch *f = new_request(d, d->device_url, &err);

	if (f && fetch_add_form(f, "scope", d->scope, strlen(d->scope)) == 0 &&
	    fetch_send_to(f, on_code_response, d, &err) == 0) {
		d->req = f;
		return 0;
	}
	source_cancel(f);
	snprintf(why, whylen, "%s", err.message[0] ? err.message : "out of memory");
	return -EINVAL;
}

static int use_provider(struct device_login *d, const struct oidc_provider *prov, char *why,
			size_t whylen)
{
	if (!prov->device_authorization_endpoint) {
		snprintf(why, whylen, "oidc: the provider %s has no device_authorization_endpoint",
			 prov->issuer);
		return -EOPNOTSUPP;
	}
	snprintf(d->device_url, sizeof(d->device_url), "%s", prov->device_authorization_endpoint);
	snprintf(d->token_url, sizeof(d->token_url), "%s", prov->token_endpoint);
	return request_code(d, why, whylen);
}

static void on_discovered(struct oidc_waiter *w, const struct oidc_outcome *o)
{
	struct device_login *d =
	    (struct device_login *)(void *)((char *)w - offsetof(struct device_login, waiter));
	char why[SOURCE_MAX_MESSAGE];
	const struct oidc_provider *prov =
	    oidc_outcome_provider(d->ctx->oidc, d->cred.issuer, o, clock_now(), why, sizeof(why));

	if (!prov || use_provider(d, prov, why, sizeof(why)) < 0)
		d->on_code(d->userdata, NULL, why);
}

static int start_oidc(struct device_login *d, char *why, size_t whylen)
{
	const struct oidc_provider *prov;

	if (!d->ctx->oidc) {
		snprintf(why, whylen, "no discovery cache");
		return -EINVAL;
	}
	prov = oidc_cache_find(d->ctx->oidc, d->cred.issuer, clock_now());
	if (prov)
		return use_provider(d, prov, why, whylen);
	d->waiter.done = on_discovered;
	return oidc_cache_wait(d->ctx->oidc, d->ctx->http, d->cred.issuer, &d->waiter, why, whylen);
}

int device_login_start(const struct source_ctx *ctx, const struct profile *p,
		       device_code_fn on_code, device_done_fn on_done, void *userdata,
		       struct device_login **ret, char *why, size_t whylen)
{
	struct device_login *d = calloc(1, sizeof(*d));
	int r;

	if (!d || credential_copy(&d->cred, &p->cred) < 0) {
		free(d);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	d->ctx = ctx;
	d->name = source_name(p, ctx->env);
	d->on_code = on_code;
	d->on_done = on_done;
	d->userdata = userdata;
	person_signin_scope(p->scope, d->scope, sizeof(d->scope));
	if (p->cred.type == CRED_USER) {
		person_entra_url(&p->cred, ctx->env, "devicecode", d->device_url,
				 sizeof(d->device_url));
		person_entra_url(&p->cred, ctx->env, "token", d->token_url, sizeof(d->token_url));
		r = request_code(d, why, whylen);
	} else {
		r = start_oidc(d, why, whylen);
	}
	if (r < 0) {
		device_login_free(d);
		return r;
	}
	*ret = d;
	return 0;
}
