/* SPDX-License-Identifier: MIT */
/*
 * client/check/policy.c: an APIM policy document or snippet, read with a
 * fixed set of named values.  Checked besides memory safety: a known status,
 * a terminated message that is empty exactly on success and never quotes a
 * named value's value (those hold SECRET-); a refusal leaves the struct
 * zeroed; a success holds exactly one policy's worth of non-empty values,
 * none of them a policy expression, a clock skew within 0..86400 and the
 * element's own fields only; the same verdict and values with a message
 * buffer of 8 bytes or none.
 */
#include <errno.h>
#include <string.h>

#include <libxml/parser.h>

#include "fuzz.h"
#include "policy.h"

#define ERR_LEN 256

static const struct policy_named_value named_values[] = {
	{ "aad-tenant-id", "SECRET-tenant" },
	{ "aad-client-application-id", "SECRET-app" },
	{ "a", "A" },
	{ "nested", "{{a}}" }, /* never expanded a second time */
	{ "expr", "@(SECRET-expression)" },
	{ "empty", "" },
};

#define N_NAMED_VALUES (sizeof(named_values) / sizeof(named_values[0]))

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmlInitParser(); /* once: policy_parse() must not depend on it, nor clean it up */
	return 0;
}

static void check_value(const char *v)
{
	FUZZ_CHECK(v && *v);
	v += strspn(v, " \t\r\n");
	FUZZ_CHECK(!(v[0] == '@' && (v[1] == '(' || v[1] == '{')));
}

static void check_list(char *const *items, size_t n)
{
	FUZZ_CHECK((n == 0) == (items == NULL));
	for (size_t i = 0; i < n; i++)
		check_value(items[i]);
}

static void check_policy(const struct policy *p, bool reads_elsewhere)
{
	bool aad;

	FUZZ_CHECK(p->element);
	aad = !strcmp(p->element, "validate-azure-ad-token");
	FUZZ_CHECK(aad || !strcmp(p->element, "validate-jwt"));
	FUZZ_CHECK(aad == (p->tenant_id != NULL));
	/* "Default: Authorization" unless the token comes from a query parameter or a value. */
	FUZZ_CHECK(!aad || p->header_name || reads_elsewhere);
	FUZZ_CHECK(aad || (!p->authentication_endpoint && !p->n_client_app_ids));
	FUZZ_CHECK(!aad || (p->require_expiration_time && p->require_signed_tokens &&
			    !p->clock_skew && !p->n_issuers && !p->n_openid_configs));
	FUZZ_CHECK(p->clock_skew >= 0 && p->clock_skew <= 86400);
	if (p->header_name)
		check_value(p->header_name);
	if (p->tenant_id)
		check_value(p->tenant_id);
	if (p->authentication_endpoint)
		check_value(p->authentication_endpoint);
	check_list(p->openid_configs, p->n_openid_configs);
	check_list(p->issuers, p->n_issuers);
	check_list(p->audiences, p->n_audiences);
	check_list(p->client_app_ids, p->n_client_app_ids);
	FUZZ_CHECK((p->n_claims == 0) == (p->claims == NULL));
	for (size_t i = 0; i < p->n_claims; i++) {
		const struct policy_claim *c = &p->claims[i];

		check_value(c->name);
		if (c->separator)
			check_value(c->separator);
		FUZZ_CHECK(c->match == JWT_MATCH_ALL || c->match == JWT_MATCH_ANY);
		check_list(c->values, c->n_values);
	}
}

static bool same_string(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool same_list(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

static void check_same(const struct policy *a, const struct policy *b)
{
	FUZZ_CHECK(same_string(a->element, b->element) &&
		   same_string(a->header_name, b->header_name) &&
		   same_string(a->tenant_id, b->tenant_id) &&
		   same_string(a->authentication_endpoint, b->authentication_endpoint));
	FUZZ_CHECK(a->clock_skew == b->clock_skew &&
		   a->require_expiration_time == b->require_expiration_time &&
		   a->require_signed_tokens == b->require_signed_tokens);
	FUZZ_CHECK(same_list(a->openid_configs, a->n_openid_configs, b->openid_configs,
			     b->n_openid_configs) &&
		   same_list(a->issuers, a->n_issuers, b->issuers, b->n_issuers) &&
		   same_list(a->audiences, a->n_audiences, b->audiences, b->n_audiences) &&
		   same_list(a->client_app_ids, a->n_client_app_ids, b->client_app_ids,
			     b->n_client_app_ids));
	FUZZ_CHECK(a->n_claims == b->n_claims);
	for (size_t i = 0; i < a->n_claims; i++)
		FUZZ_CHECK(same_string(a->claims[i].name, b->claims[i].name) &&
			   same_string(a->claims[i].separator, b->claims[i].separator) &&
			   a->claims[i].match == b->claims[i].match &&
			   same_list(a->claims[i].values, a->claims[i].n_values,
				     b->claims[i].values, b->claims[i].n_values));
}

static bool is_zero(const struct policy *p)
{
	static const struct policy zero;

	return !memcmp(p, &zero, sizeof(*p));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[ERR_LEN], small[8];
	struct policy p, again;
	/* The document may itself spell the marker (in a name libxml2 quotes); then anything goes. */
	bool marked = memmem(data, size, FUZZ_SECRET_MARK, strlen(FUZZ_SECRET_MARK)) != NULL;
	int r = policy_parse((const char *)data, size, named_values, N_NAMED_VALUES, &p, err,
			     sizeof(err));

	FUZZ_CHECK(fuzz_terminated(err, sizeof(err)));
	FUZZ_CHECK(marked || !strstr(err, FUZZ_SECRET_MARK));
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -EMSGSIZE || r == -EOPNOTSUPP || r == -ENOENT ||
		   r == -ENOMEM);
	FUZZ_CHECK((r == 0) == !*err);
	if (r == 0)
		check_policy(&p, memmem(data, size, "query-parameter-name", 20) ||
				     memmem(data, size, "token-value", 11));
	else
		FUZZ_CHECK(is_zero(&p));
	/* The verdict and the values do not depend on the room for the message. */
	FUZZ_CHECK(policy_parse((const char *)data, size, named_values, N_NAMED_VALUES, &again,
				small, sizeof(small)) == r);
	FUZZ_CHECK(fuzz_terminated(small, sizeof(small)));
	check_same(&p, &again);
	policy_done(&again);
	FUZZ_CHECK(policy_parse((const char *)data, size, named_values, N_NAMED_VALUES, &again,
				NULL, 0) == r);
	policy_done(&again);
	policy_done(&p);
	FUZZ_CHECK(is_zero(&p));
	policy_done(&p);
	return 0;
}
