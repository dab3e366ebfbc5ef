/* SPDX-License-Identifier: MIT */
/*
 * Signing a person in with a browser: the authorization code grant with
 * PKCE (RFC 7636, S256) and a state, redirected to a loopback address the
 * client listens on (RFC 8252 §7.3).  The agent makes the verifier and the
 * state, builds the authorization URL (Entra's v2.0 authorize endpoint, or
 * the discovered authorization_endpoint), and redeems the code the client
 * brings back; the verifier never leaves the agent.
 */
#pragma once

#include "device_code.h"

#define AUTH_CODE_TIMEOUT      300 /* seconds the person has to sign in */
#define AUTH_CODE_MAX_URL      8192
#define AUTH_CODE_MAX_STATE    64
#define AUTH_CODE_MAX_CODE     8192
#define AUTH_CODE_MAX_REDIRECT 256

/* The URL to open (@url, with the @state the redirect must carry), or why
 * not (@error).  After an error the callee may free the login. */
typedef void (*auth_url_fn)(void *userdata, const char *url, const char *state, const char *error);

struct auth_login;

/*
 * Starts a browser sign-in for @p, redirected to @redirect_uri (http to
 * loopback, checked).  @on_url runs once, maybe before this returns.
 * Returns 0 and sets *ret, or -errno with the reason in @why (then @on_url
 * never runs).
 */
int auth_login_start(const struct source_ctx *ctx, const struct profile *p,
		     const char *redirect_uri, auth_url_fn on_url, void *userdata,
		     struct auth_login **ret, char *why, size_t whylen);
/*
 * Redeems @code after checking @state.  @done runs once from the event loop
 * (the callee may free the login).  Returns 0, or -errno with @why filled.
 */
int auth_login_redeem(struct auth_login *l, const char *code, const char *state,
		      device_done_fn done, void *userdata, char *why, size_t whylen);
/* Stops the sign-in (no callback runs) and wipes it.  Accepts NULL; returns NULL. */
struct auth_login *auth_login_free(struct auth_login *l);
