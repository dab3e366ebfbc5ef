/* SPDX-License-Identifier: MIT */
/*
 * Any OpenID Connect provider's token endpoint, found by discovery
 * (oidc_discovery.c), for a client with a secret (client_secret_basic or
 * client_secret_post, RFC 6749 §2.3.1) or a certificate (private_key_jwt,
 * RFC 7523), with the client credentials grant.  The discovery document
 * comes from the agent's cache, or is fetched first on the fetch's own
 * request slot, so cancelling the fetch cancels it too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "clock.h"
#include "oidc_discovery.h"
#include "secrets.h"
#include "source_builders.h"

#define OIDC_MAX_URL 2048

/* What the fetch needs after discovery, copied at start: a reload may free
 * the profile meanwhile.  Owned by the fetch (its cancel hook frees it). */
struct oidc_call {
	struct credential cred;
	char *scope;
	source_done_fn done;
	void *userdata;
};

static void call_free(void *data)
{
	struct oidc_call *call = data;

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
	char *eid = curl_easy_escape(NULL, id, 0), *esec = curl_easy_escape(NULL, secret, (int)len);
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
	if (esec)
		sodium_memzero(esec, strlen(esec));
	curl_free(eid);
	curl_free(esec);
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

static bool status_retryable(long status)
{
	return status == 404 || status == 408 || status == 410 || status == 429 || status >= 500;
}

static int read_discovery(struct source_fetch *f, const struct http_response *resp,
			  struct source_error *err)
{
	const struct oidc_call *call = f->cancel_data;
	const struct oidc_provider *kept;
	struct oidc_provider prov;
	char why[SOURCE_MAX_MESSAGE - 128];

	if (resp->curl_code != 0) {
		fetch_error(f, err, 0, true, "discovery at %s: %s", f->url, resp->error);
		return -EIO;
	}
	if (resp->status != 200) {
		fetch_error(f, err, resp->status, status_retryable(resp->status),
			    "discovery at %s: HTTP %ld", f->url, resp->status);
		err->retry_after = http_retry_after(resp->retry_after);
		return -EIO;
	}
	if (oidc_discovery_parse(resp->body, resp->body_len, call->cred.issuer, &prov, why,
				 sizeof(why)) < 0) {
		fetch_error(f, err, 200, false, "discovery at %s: %s", f->url, why);
		return -EINVAL;
	}
	prov.fetched = clock_now();
	kept = oidc_cache_put(f->ctx->oidc, &prov);
	return send_token_request(f, kept, err);
}

static void on_discovery(const struct http_response *resp, void *userdata)
{
	struct source_fetch *f = userdata;
	struct source_error err = { 0 };

	f->req = NULL; /* http frees it after this callback */
	if (read_discovery(f, resp, &err) < 0)
		fetch_finish(f, NULL, &err);
}

static int start_discovery(struct source_fetch *f, struct source_error *err)
{
	const struct oidc_call *call = f->cancel_data;
	char url[OIDC_MAX_URL];
	struct http_options o = { .method = "GET", .timeout_ms = SOURCE_TIMEOUT_MS };
	int r;

	if (oidc_discovery_url(call->cred.issuer, url, sizeof(url)) < 0) {
		fetch_error(f, err, 0, false, "issuer too long");
		return -E2BIG;
	}
	r = fetch_set_url(f, url, err); /* for messages, and the http check */
	if (r < 0)
		return r;
	o.url = f->url;
	o.allow_http = f->allow_http; /* the issuer is https or loopback (config_credential.c) */
	r = http_start(f->ctx->http, &o, on_discovery, f, &f->req);
	if (r < 0)
		fetch_error(f, err, 0, false, "cannot start the request: %s", strerror(-r));
	return r;
}

int oidc_start(struct source_fetch *f, const struct profile *p, const char *scope,
	       struct source_error *err)
{
	struct oidc_call *call = calloc(1, sizeof(*call));
	const struct oidc_provider *prov;

	if (!call || credential_copy(&call->cred, &p->cred) < 0 || !(call->scope = strdup(scope))) {
		if (call)
			call_free(call);
		fetch_error(f, err, 0, false, "out of memory");
		return -ENOMEM;
	}
	call->done = f->done;
	call->userdata = f->userdata;
	f->done = on_done;
	f->userdata = f;
	f->cancel = call_free;
	f->cancel_data = call;
	prov = f->ctx->oidc ? oidc_cache_find(f->ctx->oidc, p->cred.issuer, clock_now()) : NULL;
	if (prov)
		return send_token_request(f, prov, err);
	if (!f->ctx->oidc) {
		fetch_error(f, err, 0, false, "no discovery cache");
		return -EINVAL;
	}
	return start_discovery(f, err);
}
