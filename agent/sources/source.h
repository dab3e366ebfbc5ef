/* SPDX-License-Identifier: MIT */
/*
 * Token sources: one asynchronous fetch of an access token for a profile
 * and scope, over HTTP (managed identity endpoints, Entra ID) or from the
 * Azure CLI.  A fetch copies everything it needs from the profile when it
 * starts, so a reload may free the configuration while it runs.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "http.h"
#include "identity_env.h"
#include "token_response.h"

#define SOURCE_MAX_MESSAGE     512
#define SOURCE_MAX_OAUTH_ERROR 63
#define SOURCE_TIMEOUT_MS      10000 /* one identity request */
#define AZ_TIMEOUT_USEC        (30ULL * 1000000)

struct secret_store;
struct oidc_cache;
struct signins;

/* Why a fetch failed, and what the retry rules make of it. */
struct source_error {
	long status;                      /* HTTP status, 0 for transport and local errors */
	int64_t retry_after;              /* seconds from Retry-After, -1 when absent */
	bool retryable;                   /* 404 408 410 429 5xx and transport errors */
	char message[SOURCE_MAX_MESSAGE]; /* "imds: HTTP 400: invalid_request: …" */
	char oauth_error[SOURCE_MAX_OAUTH_ERROR + 1]; /* RFC 6749 §5.2 "error", "" if none */
};

/* On success @tok is set (the callee may move its access_token out) and @err is NULL. */
typedef void (*source_done_fn)(void *userdata, struct token_response *tok,
			       const struct source_error *err);

/* What a fetch may use; owned by the agent, outliving every fetch. */
struct source_ctx {
	sd_event *event;
	struct http *http;
	const struct identity_env *env;
	const struct secret_store *secrets;
	struct oidc_cache *oidc; /* OpenID Connect discovery documents, per issuer */
	struct signins *signins; /* people signed in: refresh tokens (signins.h) */
};

struct source_fetch;

/* The source a profile uses ("imds", "app-service", "azure-arc", "cloud-shell",
 * "service-fabric", "workload-identity", "client-secret", "client-certificate",
 * "azure-cli", "oidc", "user"), chosen from its type, its keys and the environment. */
const char *source_name(const struct profile *p, const struct identity_env *env);

/*
 * Starts a fetch; @done runs exactly once from the event loop unless the
 * fetch is cancelled.  Returns 0 and sets *ret, or a negative errno with
 * the reason in @err (then @done never runs).
 */
int source_start(const struct source_ctx *ctx, const struct profile *p, const char *scope,
		 source_done_fn done, void *userdata, struct source_fetch **ret,
		 struct source_error *err);
/* Stops a running fetch; its callback will not run.  Accepts NULL. */
void source_cancel(struct source_fetch *f);
