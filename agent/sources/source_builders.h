/* SPDX-License-Identifier: MIT */
/*
 * The request builders, one per family of sources, called by source.c.
 * Each fills the fetch through fetch.h; fetch.c knows none of them.
 * Return 0 or -errno with @err filled.
 */
#pragma once

#include "fetch.h"

#define SOURCE_ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

struct secret;

int managed_identity_prepare(struct source_fetch *f, const struct profile *p, const char *resource,
			     struct source_error *err);
int entra_prepare(struct source_fetch *f, const struct profile *p, const char *scope,
		  struct source_error *err);
/* Runs az at once; sets f->cancel, which fetch_finish() and source_cancel() call. */
int azure_cli_start(struct source_fetch *f, const struct profile *p, const char *resource,
		    struct source_error *err);
/* Starts discovery (or uses the cached document), then the token request itself. */
int oidc_start(struct source_fetch *f, const struct profile *p, const char *scope,
	       struct source_error *err);

/* A person's refresh token grant (person.c).  person_begin() names the
 * sign-in the fetch uses and fails with "sign-in required" without one;
 * person_add_refresh_grant() adds the grant once the URL is set. */
int person_begin(struct source_fetch *f, const struct profile *p, struct source_error *err);
int person_add_refresh_grant(struct source_fetch *f, const char *client_id, const char *scope,
			     struct source_error *err);
int person_entra_prepare(struct source_fetch *f, const struct profile *p, const char *scope,
			 struct source_error *err);

/* What the builders share (entra.c). */
/* The secret named @name, or NULL with @err filled.  Reveal it around each use. */
const struct secret *source_find_secret(struct source_fetch *f, const char *name,
					struct source_error *err);
/* Adds client_assertion_type and a client_assertion signed with @cr's certificate
 * (iss and sub @client_id, aud the token endpoint f->url, set first). */
int source_add_certificate_assertion(struct source_fetch *f, const struct credential *cr,
				     const char *client_id, struct source_error *err);
