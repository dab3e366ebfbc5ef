/* SPDX-License-Identifier: MIT */
/*
 * A person signed in (credential type user, and oidc as a public client):
 * what the sign-in (device_code.c) and the refresh token grant share.
 */
#pragma once

#include <stddef.h>

#include "config.h"
#include "identity_env.h"

/* Asked for at sign-in besides the profile's scope: a refresh token, and
 * an ID token saying who signed in. */
#define PERSON_SIGNIN_SCOPES "offline_access openid profile"
#define PERSON_MAX_URL       2048

/* What a sign-in is bound to: type, authority or issuer, tenant, client id. */
void person_binding(const struct credential *cr, const struct identity_env *env, char *out,
		    size_t len);
/* Entra's v2.0 endpoint @what ("token", "devicecode") for @cr. */
void person_entra_url(const struct credential *cr, const struct identity_env *env, const char *what,
		      char *out, size_t len);
/* "SCOPE offline_access openid profile" (just the latter for an empty scope). */
void person_signin_scope(const char *scope, char *out, size_t len);
