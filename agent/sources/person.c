/* SPDX-License-Identifier: MIT */
/*
 * A person's tokens from the refresh token `aoai login` left in the agent
 * (RFC 6749 §6): for any scope (Entra refresh tokens are multi-resource),
 * keeping the new refresh token a response brings (rotation), and turning
 * a refresh token the provider no longer accepts into "sign-in required".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fetch.h"
#include "person.h"
#include "source_builders.h"

#define ENTRA_DEFAULT_AUTHORITY "https://login.microsoftonline.com"

static const char *authority_of(const struct credential *cr, const struct identity_env *env)
{
	return cr->authority_host    ? cr->authority_host
	       : env->authority_host ? env->authority_host
				     : ENTRA_DEFAULT_AUTHORITY;
}

void person_entra_url(const struct credential *cr, const struct identity_env *env, const char *what,
		      char *out, size_t len)
{
	const char *authority = authority_of(cr, env);
	size_t n = strlen(authority);

	while (n > 0 && authority[n - 1] == '/')
		n--;
	snprintf(out, len, "%.*s/%s/oauth2/v2.0/%s", (int)n, authority,
		 cr->tenant_id ? cr->tenant_id : CONFIG_USER_TENANT, what);
}

void person_binding(const struct credential *cr, const struct identity_env *env, char *out,
		    size_t len)
{
	if (cr->type == CRED_USER)
		snprintf(out, len, "user\n%s\n%s\n%s", authority_of(cr, env),
			 cr->tenant_id ? cr->tenant_id : "", cr->client_id ? cr->client_id : "");
	else
		snprintf(out, len, "oidc\n%s\n%s", cr->issuer ? cr->issuer : "",
			 cr->client_id ? cr->client_id : "");
}

void person_signin_scope(const char *scope, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s", scope ? scope : "", scope && *scope ? " " : "",
		 PERSON_SIGNIN_SCOPES);
}

/* What the provider says when a refresh token is no longer any good. */
static bool signin_lost(const struct source_error *err)
{
	static const char *const codes[] = { "invalid_grant", "interaction_required",
					     "login_required", "consent_required" };

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(err->oauth_error, codes[i]) == 0)
			return true;
	return false;
}

static void person_filter(struct source_fetch *f, struct token_response *tok,
			  struct source_error *err)
{
	struct signins *s = f->ctx->signins;
	char why[SOURCE_MAX_MESSAGE];

	if (tok && tok->refresh_token) /* rotation: the new one replaces the old */
		(void)signins_put(s, f->signin_profile, f->signin_binding, tok->refresh_token,
				  tok->refresh_token_len, tok->account);
	if (!err || !signin_lost(err))
		return;
	snprintf(why, sizeof(why), "%s", err->message);
	signins_require(s, f->signin_profile, why);
	snprintf(err->message, sizeof(err->message),
		 "%.24s: sign-in required: run aoai login %s (%.300s)", f->name, f->signin_profile,
		 why);
	err->retryable = false;
}

int person_begin(struct source_fetch *f, const struct profile *p, struct source_error *err)
{
	snprintf(f->signin_profile, sizeof(f->signin_profile), "%s", p->name);
	person_binding(&p->cred, f->ctx->env, f->signin_binding, sizeof(f->signin_binding));
	f->filter = person_filter;
	if (!f->ctx->signins ||
	    !signins_find(f->ctx->signins, f->signin_profile, f->signin_binding)) {
		fetch_error(f, err, 0, false, "sign-in required: run aoai login %s", p->name);
		return -ENOKEY;
	}
	return 0;
}

int person_add_refresh_grant(struct source_fetch *f, const char *client_id, const char *scope,
			     struct source_error *err)
{
	const struct signin *in =
	    f->ctx->signins ? signins_find(f->ctx->signins, f->signin_profile, f->signin_binding)
			    : NULL;
	int r;

	if (!in) {
		fetch_error(f, err, 0, false, "sign-in required: run aoai login %s",
			    f->signin_profile);
		return -ENOKEY;
	}
	r = fetch_add_form(f, "grant_type", "refresh_token", 13);
	if (r == 0)
		r = fetch_add_form(f, "client_id", client_id, strlen(client_id));
	if (r == 0 && scope && *scope)
		r = fetch_add_form(f, "scope", scope, strlen(scope));
	if (r == 0) {
		signin_reveal(in);
		r = fetch_add_secret_form(f, "refresh_token", in->refresh_token, in->len);
		signin_conceal(in);
	}
	if (r < 0)
		fetch_error(f, err, 0, false, "cannot build the request: %s", strerror(-r));
	return r;
}

int person_entra_prepare(struct source_fetch *f, const struct profile *p, const char *scope,
			 struct source_error *err)
{
	char url[PERSON_MAX_URL], scopes[PROTO_MAX_SCOPE + 64];
	int r = person_begin(f, p, err);

	if (r < 0)
		return r;
	person_entra_url(&p->cred, f->ctx->env, "token", url, sizeof(url));
	/* offline_access: Entra rotates the refresh token with every use. */
	snprintf(scopes, sizeof(scopes), "%s offline_access", scope);
	r = fetch_set_url(f, url, err);
	return r < 0 ? r : person_add_refresh_grant(f, p->cred.client_id, scopes, err);
}
