/* SPDX-License-Identifier: MIT */
/* The inside of a fetch, shared by the source files. */
#pragma once

#include <stdio.h>

#include "proto.h"
#include "signins.h"
#include "source.h"

#define FETCH_MAX_SECRETS 4 /* two values, each raw and form-encoded */

struct source_fetch {
	const struct source_ctx *ctx;
	const char *name; /* source_name() */
	source_done_fn done;
	void *userdata;
	/* HTTP sources: the request as built at start, owned (wiped: it may
	 * carry a client secret, an assertion or an identity header). */
	char *url;
	char *body;
	size_t body_len;
	char *headers[HTTP_MAX_HEADERS];
	size_t n_headers;
	bool allow_http;
	char pinned_sha1[41];
	bool arc; /* answer Azure Arc's 401 challenge once */
	char arc_dir[256];
	struct http_request *req;
	/* Sources that run something other than the request above (the Azure
	 * CLI) set these: freeing the fetch calls cancel(cancel_data) once,
	 * which stops it and frees cancel_data. */
	void (*cancel)(void *cancel_data);
	void *cancel_data;
	/* What the request carries that is secret, raw and form-encoded
	 * (sodium memory), masked in every error message: an endpoint or a
	 * proxy that echoes the request must not put it into the log. */
	char *secrets[FETCH_MAX_SECRETS];
	size_t n_secrets;
	/* Set by a source that looks at the outcome before the callback (a
	 * person's refresh token: rotation, sign-in required); exactly one of
	 * @tok and @err is given, and @err may be rewritten. */
	void (*filter)(struct source_fetch *f, struct token_response *tok,
		       struct source_error *err);
	/* A person's sign-in (person.c): whose, and made with what credential. */
	char signin_profile[PROTO_MAX_NAME + 1];
	char signin_binding[SIGNIN_MAX_BINDING];
};

/*
 * The one-line description of an error body (token_error_describe()), each
 * of @secrets replaced by "[redacted]" in the whole body first: an endpoint
 * or a proxy may echo the request, and the description cuts long bodies, so
 * masking only what it kept could leave part of a secret behind.
 */
void fetch_describe_error(const struct http_response *resp, char *const *secrets, size_t n,
			  char *out, size_t outlen);
/* Masks @value (and its form-encoding) in every error message of @f.  0 or -ENOMEM. */
int fetch_note_secret(struct source_fetch *f, const char *value, size_t len);
/* Adds "Name: value" to the request, @value being a secret (masked in errors). */
int fetch_add_secret_header(struct source_fetch *f, const char *name, const char *value);
/* fetch_add_form() for a secret value (masked in errors). */
int fetch_add_secret_form(struct source_fetch *f, const char *key, const char *value, size_t len);
/* Adds "Name: value" to the request.  Returns 0 or -ENOMEM / -E2BIG. */
int fetch_add_header(struct source_fetch *f, const char *name, const char *value);
/* Appends "&key=escaped(value)" (or "?…" for the first) to f->url. */
int fetch_add_query(struct source_fetch *f, const char *key, const char *value);
/* Appends "key=escaped(value)" to the form body, with '&' between fields. */
int fetch_add_form(struct source_fetch *f, const char *key, const char *value, size_t len);
/* Sets f->url after checking it: https, or http to loopback / the IMDS address. */
int fetch_set_url(struct source_fetch *f, const char *url, struct source_error *err);
/* Sends the request built in @f.  Returns 0 or -errno with @err filled. */
int fetch_send(struct source_fetch *f, struct source_error *err);

/* Sends the request built in @f to @done instead of the token response
 * parser (a request that is not for a token).  @done sets f->req to NULL. */
int fetch_send_to(struct source_fetch *f, http_done_fn done, void *userdata,
		  struct source_error *err);

/* Finishes the fetch: calls the callback once, then frees @f. */
void fetch_finish(struct source_fetch *f, struct token_response *tok,
		  const struct source_error *err);
/* Fills @err: "name: " + the formatted text, with retry classification. */
void fetch_error(struct source_fetch *f, struct source_error *err, long status, bool retryable,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
