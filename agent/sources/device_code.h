/* SPDX-License-Identifier: MIT */
/*
 * Signing a person in with the device authorization grant (RFC 8628): the
 * device authorization request (Entra's v2.0 devicecode endpoint, or the
 * discovered device_authorization_endpoint), then polling the token
 * endpoint at the provider's interval from the event loop, honouring
 * slow_down, until the person approves, refuses or the code expires.  The
 * device code never leaves the agent.
 */
#pragma once

#include <stdint.h>

#include "source.h"

#define DEVICE_CODE_MIN_INTERVAL     1  /* seconds between polls, at least */
#define DEVICE_CODE_DEFAULT_INTERVAL 5  /* seconds, when the provider gives none */
#define DEVICE_CODE_SLOW_DOWN        5  /* seconds added by each slow_down */
#define DEVICE_CODE_MAX_INTERVAL     60 /* seconds */
#define DEVICE_CODE_MAX_LIFETIME     3600
#define DEVICE_CODE_MAX_URI          2048
#define DEVICE_CODE_MAX_USER_CODE    64
#define DEVICE_CODE_MAX_MESSAGE      1024
#define DEVICE_CODE_MAX_CODE         4096

/* What the person is shown. */
struct device_code_info {
	char verification_uri[DEVICE_CODE_MAX_URI + 1];
	char verification_uri_complete[DEVICE_CODE_MAX_URI + 1]; /* "" when none */
	char user_code[DEVICE_CODE_MAX_USER_CODE + 1];
	char message[DEVICE_CODE_MAX_MESSAGE + 1]; /* the provider's, "" when none */
	int64_t expires_in;                        /* seconds */
	int64_t interval;                          /* seconds */
};

/* The code arrived (@info), or the request for it failed (@error).  After
 * an error nothing more runs; the callee may free the login. */
typedef void (*device_code_fn)(void *userdata, const struct device_code_info *info,
			       const char *error);
/* The sign-in ended: @tok (with a refresh token), or @error.  The callee may
 * free the login. */
typedef void (*device_done_fn)(void *userdata, struct token_response *tok, const char *error);

struct device_login;

/*
 * Starts signing @p's person in (copies what it needs from @p).  Returns 0
 * and sets *ret, or -errno with the reason in @why (then nothing runs).
 */
int device_login_start(const struct source_ctx *ctx, const struct profile *p,
		       device_code_fn on_code, device_done_fn on_done, void *userdata,
		       struct device_login **ret, char *why, size_t whylen);
/* Stops the sign-in (no callback runs) and wipes it.  Accepts NULL; returns NULL. */
struct device_login *device_login_free(struct device_login *d);
