/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth_code.h"
#include "clock.h"
#include "fetch.h"
#include "url_escape.h"
#include "hosts.h"
#include "oidc_discovery.h"
#include "person.h"

#define VERIFIER_BYTES 32 /* 43 characters of base64url, RFC 7636 §4.1 */
#define STATE_BYTES    16

struct auth_login {
	const struct source_ctx *ctx;
	struct credential cred;
	const char *name;
	char scope[PROTO_MAX_SCOPE + 64];
	char redirect_uri[AUTH_CODE_MAX_REDIRECT + 1];
	char authorize_url[PERSON_MAX_URL];
	char token_url[PERSON_MAX_URL];
	char verifier[64];
	char state[2 * STATE_BYTES + 1];
	auth_url_fn on_url;
	void *userdata;
	struct oidc_waiter waiter;
	struct source_fetch *req;
	device_done_fn done;
	void *done_data;
};

struct auth_login *auth_login_free(struct auth_login *l)
{
	if (!l)
		return NULL;
	oidc_waiter_cancel(&l->waiter);
	source_cancel(l->req);
	credential_done(&l->cred);
	sodium_memzero(l, sizeof(*l));
	free(l);
	return NULL;
}

/* Appends "&key=escaped" (or "?" first) to @url. */
static int add_param(char *url, size_t len, const char *key, const char *value)
{
	char *esc = url_escape(value, 0);
	size_t used = strlen(url);
	int n;

	if (!esc)
		return -ENOMEM;
	n = snprintf(url + used, len - used, "%s%s=%s", strchr(url, '?') ? "&" : "?", key, esc);
	url_escape_free(esc);
	return n < 0 || (size_t)n >= len - used ? -E2BIG : 0;
}

/* RFC 7636 §4.2: BASE64URL(SHA256(verifier)). */
static void challenge_of(const char *verifier, char *out, size_t len)
{
	unsigned char hash[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(hash, (const unsigned char *)verifier, strlen(verifier));
	sodium_bin2base64(out, len, hash, sizeof(hash), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static int build_url(struct auth_login *l, char *url, size_t len)
{
	char challenge[64];
	int r = 0;

	challenge_of(l->verifier, challenge, sizeof(challenge));
	snprintf(url, len, "%s", l->authorize_url);
	r = add_param(url, len, "client_id", l->cred.client_id);
	if (r == 0)
		r = add_param(url, len, "response_type", "code");
	if (r == 0)
		r = add_param(url, len, "redirect_uri", l->redirect_uri);
	if (r == 0)
		r = add_param(url, len, "scope", l->scope);
	if (r == 0)
		r = add_param(url, len, "state", l->state);
	if (r == 0)
		r = add_param(url, len, "code_challenge", challenge);
	if (r == 0)
		r = add_param(url, len, "code_challenge_method", "S256");
	return r;
}

/* Tells the client where to go. */
static void announce(struct auth_login *l)
{
	char *url = malloc(AUTH_CODE_MAX_URL);

	if (!url || build_url(l, url, AUTH_CODE_MAX_URL) < 0)
		l->on_url(l->userdata, NULL, NULL, "cannot build the authorization URL");
	else
		l->on_url(l->userdata, url, l->state, NULL);
	free(url);
}

static int use_provider(struct auth_login *l, const struct oidc_provider *prov, char *why,
			size_t whylen)
{
	if (!prov->authorization_endpoint) {
		snprintf(why, whylen, "oidc: the provider %s has no authorization_endpoint",
			 prov->issuer);
		return -EOPNOTSUPP;
	}
	snprintf(l->authorize_url, sizeof(l->authorize_url), "%s", prov->authorization_endpoint);
	snprintf(l->token_url, sizeof(l->token_url), "%s", prov->token_endpoint);
	return 0;
}

static void on_discovered(struct oidc_waiter *w, const struct oidc_outcome *o)
{
	struct auth_login *l =
	    (struct auth_login *)(void *)((char *)w - offsetof(struct auth_login, waiter));
	char why[SOURCE_MAX_MESSAGE];
	const struct oidc_provider *prov =
	    oidc_outcome_provider(l->ctx->oidc, l->cred.issuer, o, clock_now(), why, sizeof(why));

	if (!prov || use_provider(l, prov, why, sizeof(why)) < 0)
		l->on_url(l->userdata, NULL, NULL, why);
	else
		announce(l);
}

/* RFC 8252 §7.3: the redirect goes to a loopback address the client listens on. */
static int check_redirect(const char *uri, char *why, size_t whylen)
{
	struct url_target t;

	if (strlen(uri) > AUTH_CODE_MAX_REDIRECT || url_target_parse(uri, &t, why, whylen) < 0 ||
	    t.https || !t.loopback) {
		snprintf(why, whylen, "the redirect_uri must be http to a loopback address");
		return -EINVAL;
	}
	return 0;
}

static int endpoints(struct auth_login *l, const struct profile *p, char *why, size_t whylen)
{
	const struct oidc_provider *prov;

	if (p->cred.type == CRED_USER) {
		person_entra_url(&p->cred, l->ctx->env, "authorize", l->authorize_url,
				 sizeof(l->authorize_url));
		person_entra_url(&p->cred, l->ctx->env, "token", l->token_url,
				 sizeof(l->token_url));
		return 1;
	}
	if (!l->ctx->oidc) {
		snprintf(why, whylen, "no discovery cache");
		return -EINVAL;
	}
	prov = oidc_cache_find(l->ctx->oidc, l->cred.issuer, clock_now());
	if (prov)
		return use_provider(l, prov, why, whylen) < 0 ? -EOPNOTSUPP : 1;
	l->waiter.done = on_discovered;
	return oidc_cache_wait(l->ctx->oidc, l->ctx->http, l->cred.issuer, &l->waiter, why, whylen);
}

int auth_login_start(const struct source_ctx *ctx, const struct profile *p,
		     const char *redirect_uri, auth_url_fn on_url, void *userdata,
		     struct auth_login **ret, char *why, size_t whylen)
{
	unsigned char raw[VERIFIER_BYTES];
	struct auth_login *l;
	int r = check_redirect(redirect_uri, why, whylen);

	if (r < 0)
		return r;
	if (!(l = calloc(1, sizeof(*l))) || credential_copy(&l->cred, &p->cred) < 0) {
		free(l);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	l->ctx = ctx;
	l->name = source_name(p, ctx->env);
	l->on_url = on_url;
	l->userdata = userdata;
	snprintf(l->redirect_uri, sizeof(l->redirect_uri), "%s", redirect_uri);
	person_signin_scope(p->scope, l->scope, sizeof(l->scope));
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(l->verifier, sizeof(l->verifier), raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	randombytes_buf(raw, STATE_BYTES);
	sodium_bin2hex(l->state, sizeof(l->state), raw, STATE_BYTES);
	sodium_memzero(raw, sizeof(raw));
	r = endpoints(l, p, why, whylen);
	if (r < 0) {
		auth_login_free(l);
		return r;
	}
	*ret = l;
	if (r == 1)
		announce(l);
	return 0;
}

static void on_redeemed(void *userdata, struct token_response *tok, const struct source_error *err)
{
	struct auth_login *l = userdata;

	l->req = NULL; /* fetch_finish() frees it */
	if (tok && !tok->refresh_token)
		l->done(l->done_data, NULL,
			"the provider sent no refresh token (offline_access refused?)");
	else
		l->done(l->done_data, tok, tok ? NULL : err->message);
}

static int redeem_request(struct auth_login *l, const char *code, struct source_fetch *f,
			  struct source_error *err)
{
	int r = fetch_set_url(f, l->token_url, err);

	if (r == 0)
		r = fetch_add_form(f, "grant_type", "authorization_code", 18);
	if (r == 0)
		r = fetch_add_form(f, "client_id", l->cred.client_id, strlen(l->cred.client_id));
	if (r == 0)
		r = fetch_add_form(f, "scope", l->scope, strlen(l->scope));
	if (r == 0)
		r = fetch_add_form(f, "redirect_uri", l->redirect_uri, strlen(l->redirect_uri));
	if (r == 0)
		r = fetch_add_secret_form(f, "code", code, strlen(code));
	if (r == 0)
		r = fetch_add_secret_form(f, "code_verifier", l->verifier, strlen(l->verifier));
	return r < 0 ? r : fetch_send(f, err);
}

int auth_login_redeem(struct auth_login *l, const char *code, const char *state,
		      device_done_fn done, void *userdata, char *why, size_t whylen)
{
	struct source_error err = { 0 };
	struct source_fetch *f;

	if (l->req || strlen(state) != strlen(l->state) ||
	    sodium_memcmp(state, l->state, strlen(l->state)) != 0) {
		snprintf(why, whylen, "the state does not match this sign-in");
		return -EINVAL;
	}
	if (!(f = calloc(1, sizeof(*f)))) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	f->ctx = l->ctx;
	f->name = l->name;
	f->done = on_redeemed;
	f->userdata = l;
	l->done = done;
	l->done_data = userdata;
	if (redeem_request(l, code, f, &err) < 0) {
		snprintf(why, whylen, "%s", err.message[0] ? err.message : "out of memory");
		source_cancel(f);
		return -EINVAL;
	}
	l->req = f;
	return 0;
}
