/* SPDX-License-Identifier: MIT */
/*
 * Any OpenID Connect provider's token endpoint, found by discovery
 * (oidc_discovery.c), for a client with a secret (client_secret_basic or
 * client_secret_post, RFC 6749 §2.3.1) or a certificate (private_key_jwt,
 * RFC 7523), with the client credentials grant.  The discovery document
 * comes from the agent's cache, or the fetch waits for it there first.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "oidc_discovery.h"
#include "secrets.h"
#include "source_builders.h"
#include "url_escape.h"

/* What the fetch needs after discovery, copied at start: a reload may free
 * the profile meanwhile.  Owned by the fetch (its cancel hook frees it). */
struct oidc_call {
	struct credential cred;
	char *scope;
	source_done_fn done;
	void *userdata;
	struct source_fetch *fetch;
	struct oidc_waiter waiter; /* while the discovery document is fetched */
};

static void call_free(void *data)
{
	struct oidc_call *call = data;

	oidc_waiter_cancel(&call->waiter);
	credential_done(&call->cred);
	free(call->scope);
	free(call);
}

/* A failed token request may mean the endpoint moved: discover it again next time. */
static void on_done(void *userdata, struct token_response *tok, const struct source_error *err)
{
	struct source_fetch *f = userdata;
	struct oidc_call *call = f->cancel_data;

	if (err && err->retryable && f->ctx->oidc)
		oidc_cache_forget(f->ctx->oidc, call->cred.issuer);
	call->done(call->userdata, tok, err);
}

/* Authorization: Basic base64(urlencode(id):urlencode(secret)), RFC 6749 §2.3.1. */
static int add_basic(struct source_fetch *f, const char *id, const char *secret, size_t len)
{
	char *eid = url_escape(id, 0), *esec = url_escape(secret, len);
	size_t plain_len = (eid ? strlen(eid) : 0) + 1 + (esec ? strlen(esec) : 0);
	size_t b64_len = sodium_base64_ENCODED_LEN(plain_len, sodium_base64_VARIANT_ORIGINAL);
	char *plain = sodium_malloc(plain_len + 1), *header = sodium_malloc(b64_len + 8);
	int r = eid && esec && plain && header ? 0 : -ENOMEM;

	if (r == 0) {
		snprintf(plain, plain_len + 1, "%s:%s", eid, esec);
		memcpy(header, "Basic ", 6);
		sodium_bin2base64(header + 6, b64_len, (const unsigned char *)plain, plain_len,
				  sodium_base64_VARIANT_ORIGINAL);
		r = fetch_note_secret(f, secret, len);
	}
	if (r == 0)
		r = fetch_note_secret(f, header + 6, strlen(header + 6));
	if (r == 0)
		r = fetch_add_header(f, "Authorization", header);
	url_escape_free(eid);
	url_escape_free(esec);
	sodium_free(plain);
	sodium_free(header);
	return r;
}

static int add_secret(struct source_fetch *f, const struct credential *cr,
		      const struct oidc_provider *prov, struct source_error *err)
{
	enum token_auth how = cr->token_endpoint_auth ? cr->token_endpoint_auth : prov->secret_auth;
	const struct secret *s = source_find_secret(f, cr->secret, err);
	int r;

	if (!s)
		return -ENOENT;
	secret_reveal(s);
	if (how == TOKEN_AUTH_POST) {
		r = fetch_add_form(f, "client_id", cr->client_id, strlen(cr->client_id));
		if (r == 0)
			r = fetch_add_secret_form(f, "client_secret", (const char *)s->value,
						  s->len);
	} else {
		r = add_basic(f, cr->client_id, (const char *)s->value, s->len);
	}
	secret_conceal(s);
	return r;
}

/* The token request, to the discovered token endpoint. */
static int prepare_token(struct source_fetch *f, const struct oidc_provider *prov,
			 struct source_error *err)
{
	const struct oidc_call *call = f->cancel_data;
	const struct credential *cr = &call->cred;
	int r = fetch_set_url(f, prov->token_endpoint, err);

	if (r == 0 && credential_is_person(cr))
		return person_add_refresh_grant(f, cr->client_id, call->scope, err);
	if (r == 0)
		r = fetch_add_form(f, "grant_type", "client_credentials", 18);
	if (r == 0 && *call->scope)
		r = fetch_add_form(f, "scope", call->scope, strlen(call->scope));
	for (size_t i = 0; r == 0 && i < cr->n_params; i++)
		r = fetch_add_form(f, cr->params[2 * i], cr->params[2 * i + 1],
				   strlen(cr->params[2 * i + 1]));
	if (r == 0 && cr->certificate) {
		r = fetch_add_form(f, "client_id", cr->client_id, strlen(cr->client_id));
		if (r == 0)
			r = source_add_certificate_assertion(f, cr, cr->client_id, err);
	} else if (r == 0) {
		r = add_secret(f, cr, prov, err);
	}
	if (r == -ENOMEM || r == -E2BIG)
		fetch_error(f, err, 0, false, "cannot build the request: %s", strerror(-r));
	return r;
}

static int send_token_request(struct source_fetch *f, const struct oidc_provider *prov,
			      struct source_error *err)
{
	int r = prepare_token(f, prov, err);

	return r < 0 ? r : fetch_send(f, err);
}

/* The discovery this fetch waited for has ended. */
static void on_discovered(struct oidc_waiter *w, const struct oidc_outcome *o)
{
	struct oidc_call *call =
	    (struct oidc_call *)(void *)((char *)w - offsetof(struct oidc_call, waiter));
	struct source_fetch *f = call->fetch;
	const struct oidc_provider *prov = NULL;
	struct source_error err = { 0 };

	if (!o->ok) {
		fetch_error(f, &err, o->status, o->retryable, "%s", o->message);
		err.retry_after = o->retry_after;
	} else if (!(prov = oidc_cache_find(f->ctx->oidc, call->cred.issuer, clock_now()))) {
		fetch_error(f, &err, 0, true, "discovery: the document is gone");
	}
	if (!prov || send_token_request(f, prov, &err) < 0)
		fetch_finish(f, NULL, &err);
}

int oidc_start(struct source_fetch *f, const struct profile *p, const char *scope,
	       struct source_error *err)
{
	struct oidc_call *call = calloc(1, sizeof(*call));
	const struct oidc_provider *prov;
	char why[SOURCE_MAX_MESSAGE - 64];
	int r;

	if (!call || credential_copy(&call->cred, &p->cred) < 0 || !(call->scope = strdup(scope))) {
		if (call)
			call_free(call);
		fetch_error(f, err, 0, false, "out of memory");
		return -ENOMEM;
	}
	if (credential_is_person(&p->cred) && person_begin(f, p, err) < 0) {
		call_free(call);
		return -ENOKEY;
	}
	call->done = f->done;
	call->userdata = f->userdata;
	f->done = on_done;
	f->userdata = f;
	f->cancel = call_free;
	f->cancel_data = call;
	if (!f->ctx->oidc) {
		fetch_error(f, err, 0, false, "no discovery cache");
		return -EINVAL;
	}
	prov = oidc_cache_find(f->ctx->oidc, p->cred.issuer, clock_now());
	if (prov)
		return send_token_request(f, prov, err);
	call->fetch = f;
	call->waiter.done = on_discovered;
	r = oidc_cache_wait(f->ctx->oidc, f->ctx->http, p->cred.issuer, &call->waiter, why,
			    sizeof(why));
	if (r < 0)
		fetch_error(f, err, 0, false, "discovery: %s", why);
	return r;
}
