/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"

#define DEFAULT_AUTHORITY "https://login.microsoftonline.com"

int strv_add(struct strv *v, const char *s)
{
	char **grown, *copy;

	if (strv_has(v, s))
		return 0;
	copy = strdup(s);
	grown = copy ? reallocarray(v->items, v->n + 1, sizeof(*grown)) : NULL;
	if (!grown) {
		free(copy);
		return -ENOMEM;
	}
	v->items = grown;
	v->items[v->n++] = copy;
	return 0;
}

bool strv_has(const struct strv *v, const char *s)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->items[i], s))
			return true;
	return false;
}

void strv_done(struct strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->items[i]);
	free(v->items);
	*v = (struct strv){ 0 };
}

static int add_all(struct strv *v, char *const *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strv_add(v, items[i]) < 0)
			return -ENOMEM;
	return 0;
}

/*
 * The Entra authority: a policy's authentication-endpoint ("https://"
 * optional), else $AZURE_AUTHORITY_HOST as the Azure SDKs read it, else the
 * public cloud's; without a trailing '/'.
 */
static void authority(const char *endpoint, char *buf, size_t len)
{
	const char *env = getenv("AZURE_AUTHORITY_HOST");
	size_t n;

	if (endpoint)
		snprintf(buf, len, "%s%s", strstr(endpoint, "://") ? "" : "https://", endpoint);
	else
		snprintf(buf, len, "%s", env && *env ? env : DEFAULT_AUTHORITY);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '/')
		buf[--n] = '\0';
}

static int openid_for_tenant(struct expect *e, const char *tid, const char *endpoint)
{
	char base[512], url[1024];

	authority(endpoint, base, sizeof(base));
	snprintf(url, sizeof(url), "%s/%s/v2.0/.well-known/openid-configuration", base, tid);
	return strv_add(&e->openid_configs, url);
}

/* A tenant written as a URL (tenant-id="https://contoso.onmicrosoft.com") is its name. */
static void tenant_name(const char *given, char *buf, size_t len)
{
	const char *s = strncmp(given, "https://", 8) ? given : given + 8;
	size_t n;

	snprintf(buf, len, "%s", s);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '/')
		buf[--n] = '\0';
}

/* validate-azure-ad-token accepts both of the tenant's issuer spellings. */
static int add_tenant(struct expect *e, const char *given, const char *endpoint, char *err,
		      size_t errlen)
{
	char tid[256], v1[512], v2[512];

	tenant_name(given, tid, sizeof(tid));
	if (jwt_entra_issuers(tid, v1, sizeof(v1), v2, sizeof(v2)) < 0) {
		snprintf(err, errlen, "tenant \"%.64s\": not a tenant id or domain name", given);
		return -EINVAL;
	}
	if (strv_add(&e->issuers, v1) < 0 || strv_add(&e->issuers, v2) < 0)
		return -ENOMEM;
	return e->openid_configs.n ? 0 : openid_for_tenant(e, tid, endpoint);
}

static int add_policy_claims(struct expect *e, const struct policy *p)
{
	e->claims = calloc(p->n_claims ? p->n_claims : 1, sizeof(*e->claims));
	if (!e->claims)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_claims; i++) {
		const struct policy_claim *pc = &p->claims[i];
		struct expect_claim *c = &e->claims[e->n_claims++];

		c->match = pc->match;
		if (!(c->name = strdup(pc->name)) ||
		    (pc->separator && !(c->separator = strdup(pc->separator))) ||
		    add_all(&c->values, pc->values, pc->n_values) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int from_policy(struct expect *e, const struct policy *p)
{
	e->policy_element = p->element;
	e->clock_skew = p->clock_skew;
	e->require_exp = p->require_expiration_time;
	e->openid_given = p->n_openid_configs > 0;
	if (add_all(&e->openid_configs, p->openid_configs, p->n_openid_configs) < 0 ||
	    add_all(&e->issuers, p->issuers, p->n_issuers) < 0 ||
	    add_all(&e->audiences, p->audiences, p->n_audiences) < 0 ||
	    add_all(&e->client_app_ids, p->client_app_ids, p->n_client_app_ids) < 0)
		return -ENOMEM;
	return add_policy_claims(e, p);
}

int expect_init(struct expect *e, const struct policy *p, const char *tenant, char *err,
		size_t errlen)
{
	int r = 0;

	*e = (struct expect){ .require_exp = true };
	if (p)
		r = from_policy(e, p);
	if (r == 0 && p && p->tenant_id)
		r = add_tenant(e, p->tenant_id, p->authentication_endpoint, err, errlen);
	if (r == 0 && tenant)
		r = add_tenant(e, tenant, NULL, err, errlen);
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return r;
}

static int split_values(struct strv *v, const char *list)
{
	char *copy = strdup(list), *save = NULL;
	int r = copy ? 0 : -ENOMEM;

	for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && r == 0;
	     tok = strtok_r(NULL, ",", &save))
		r = strv_add(v, tok);
	free(copy);
	return r;
}

int expect_add_claim(struct expect *e, const char *spec, char *err, size_t errlen)
{
	const char *eq = strchr(spec, '=');
	size_t name_len = eq ? (size_t)(eq - spec) : strlen(spec);
	struct expect_claim *grown, *c;

	if (name_len == 0 || (eq && !eq[1])) {
		snprintf(err, errlen, "--claim wants NAME or NAME=VALUE[,VALUE...]");
		return -EINVAL;
	}
	grown = reallocarray(e->claims, e->n_claims + 1, sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	e->claims = grown;
	c = &e->claims[e->n_claims++];
	/* Options mean any-of; scp is Entra's space-separated scope list. */
	*c = (struct expect_claim){ .match = JWT_MATCH_ANY };
	if (!(c->name = strndup(spec, name_len)) ||
	    (!strcmp(c->name, "scp") && !(c->separator = strdup(" "))) ||
	    (eq && split_values(&c->values, eq + 1) < 0))
		return -ENOMEM;
	return 0;
}

int expect_default_openid(struct expect *e, const struct jwt *jwt)
{
	const char *iss = json_string_value(json_object_get(jwt->claims, "iss"));
	char tid[256];

	if (e->openid_configs.n)
		return 0;
	if (!iss || jwt_entra_tenant(iss, tid, sizeof(tid)) < 0)
		return -ENOENT;
	return openid_for_tenant(e, tid, NULL);
}

void expect_done(struct expect *e)
{
	strv_done(&e->openid_configs);
	strv_done(&e->audiences);
	strv_done(&e->issuers);
	strv_done(&e->client_app_ids);
	for (size_t i = 0; i < e->n_claims; i++) {
		free(e->claims[i].name);
		free(e->claims[i].separator);
		strv_done(&e->claims[i].values);
	}
	free(e->claims);
	*e = (struct expect){ 0 };
}
