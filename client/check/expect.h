/* SPDX-License-Identifier: MIT */
/*
 * What `aoai check` expects of a token: the rules of a policy file merged
 * with those given as options, Entra's tenant rules spelt out (issuers, the
 * OpenID configuration), and where the signing keys come from.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "jwt.h"
#include "policy.h"

/* A growing list of strings, each owned by the list. */
struct strv {
	char **items;
	size_t n;
};

int strv_add(struct strv *v, const char *s);
bool strv_has(const struct strv *v, const char *s);
void strv_done(struct strv *v);

struct expect_claim {
	char *name;
	struct strv values;
	enum jwt_match match;
	char *separator; /* NULL: a string claim is one value */
};

struct expect {
	const char *policy_element; /* "validate-jwt" …, NULL without a policy */
	long clock_skew;            /* seconds */
	bool require_exp;
	struct strv openid_configs; /* given, or derived from the tenant */
	bool openid_given;          /* by the policy or --openid-config, not derived */
	struct strv audiences;
	struct strv issuers;
	struct strv client_app_ids;
	struct expect_claim *claims;
	size_t n_claims;
};

/*
 * Starts from @p (may be NULL) and the Entra @tenant (may be NULL; a
 * policy's tenant-id is used too): the tenant's two issuer spellings and
 * its v2 OpenID configuration under $AZURE_AUTHORITY_HOST (else
 * https://login.microsoftonline.com).  Returns 0 or -EINVAL / -ENOMEM with
 * @err set.
 */
int expect_init(struct expect *e, const struct policy *p, const char *tenant, char *err,
		size_t errlen);
/* Adds a --claim NAME[=V1,V2…] (any of the values). */
int expect_add_claim(struct expect *e, const char *spec, char *err, size_t errlen);
/*
 * When no configuration was named, the one of the token's own Entra issuer
 * (so its signature can still be checked).  Returns 0, or -ENOENT when the
 * issuer is not Entra's.
 */
int expect_default_openid(struct expect *e, const struct jwt *jwt);
void expect_done(struct expect *e);
