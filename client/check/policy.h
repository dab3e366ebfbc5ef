/* SPDX-License-Identifier: MIT */
/*
 * The rules of an Azure API Management <validate-jwt> or
 * <validate-azure-ad-token> policy, read from a policy document or snippet
 * (libxml2) with {{NAME}} named values filled in, for `aoai check --policy`.
 * What the policy says and `aoai check` cannot apply (policy expressions,
 * issuer-signing-keys, decryption-keys) is an error naming it, never ignored.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "jwt.h"

#define POLICY_MAX_SIZE (1024 * 1024)

/* A --named-value NAME=VALUE. */
struct policy_named_value {
	const char *name;
	const char *value;
};

/* <required-claims><claim name= match= separator=><value>… */
struct policy_claim {
	char *name;
	char **values;
	size_t n_values;
	enum jwt_match match; /* APIM's default: all */
	char *separator;      /* NULL when absent */
};

struct policy {
	char *element;     /* "validate-jwt" or "validate-azure-ad-token" */
	char *header_name; /* header-name; NULL when the policy reads a query parameter or a value
			    * (validate-azure-ad-token defaults to "Authorization") */
	long clock_skew;   /* seconds; APIM's default 0 */
	bool require_expiration_time; /* validate-jwt; default true */
	bool require_signed_tokens;   /* validate-jwt; default true */
	char *tenant_id; /* validate-azure-ad-token tenant-id (a GUID, a domain, a URL such as
			  * https://contoso.onmicrosoft.com, or "organizations"/"common", as
			  * given); NULL for validate-jwt */
	char *authentication_endpoint; /* validate-azure-ad-token authentication-endpoint (a
					* sovereign cloud's login host, "https://" optional);
					* NULL for the default login.microsoftonline.com */
	char **openid_configs;         /* <openid-config url=>, in order */
	size_t n_openid_configs;
	char **issuers;
	size_t n_issuers;
	char **audiences;
	size_t n_audiences;
	char **client_app_ids; /* validate-azure-ad-token <client-application-ids> */
	size_t n_client_app_ids;
	struct policy_claim *claims;
	size_t n_claims;
};

/*
 * Parses the policy in @text (@len bytes, at most POLICY_MAX_SIZE): a whole
 * <policies> document or any fragment holding exactly one <validate-jwt> or
 * <validate-azure-ad-token> element.  {{NAME}} in attribute values and
 * element text is replaced from @nv (@n_nv entries).  Returns 0 and fills
 * *ret, or -EINVAL / -EMSGSIZE / -EOPNOTSUPP / -ENOENT (a named value not
 * given) / -ENOMEM with a message in @err naming the line and the element or
 * attribute; *ret is then zeroed.
 */
int policy_parse(const char *text, size_t len, const struct policy_named_value *nv, size_t n_nv,
		 struct policy *ret, char *err, size_t errlen);
/* Frees what policy_parse() filled and zeroes @p; accepts a zeroed one. */
void policy_done(struct policy *p);
