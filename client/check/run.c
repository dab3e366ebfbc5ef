/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "run.h"

#define MAX_ISSUERS 32

static struct jwt_check *next_check(struct check_run *run)
{
	struct jwt_check *grown = reallocarray(run->checks, run->n + 1, sizeof(*grown));

	if (!grown)
		return NULL;
	run->checks = grown;
	grown = &run->checks[run->n++];
	memset(grown, 0, sizeof(*grown));
	return grown;
}

static struct check_keys *next_keys(struct check_run *run)
{
	struct check_keys *grown = reallocarray(run->keys, run->n_keys + 1, sizeof(*grown));

	if (!grown)
		return NULL;
	run->keys = grown;
	return &run->keys[run->n_keys++];
}

/* The keys of @url, fetched again once when a cached set lacks the token's key. */
static void fetch_keys(const struct jwt *jwt, const char *url, const char *socket,
		       struct check_keys *k)
{
	keys_get(url, socket, false, k);
	if (k->set && k->cached && !jwk_set_find(k->set, jwt->kid, jwt->x5t)) {
		keys_done(k);
		keys_get(url, socket, true, k);
	}
}

static void describe_key(const struct jwt *jwt, char *buf, size_t len)
{
	if (jwt->kid)
		snprintf(buf, len, "%s, kid \"%.64s\"", jwt->alg, jwt->kid);
	else if (jwt->x5t)
		snprintf(buf, len, "%s, x5t \"%.64s\"", jwt->alg, jwt->x5t);
	else
		snprintf(buf, len, "%s, no kid or x5t", jwt->alg);
}

static int check_signature(const struct jwt *jwt, const struct expect *e, const char *socket,
			   struct check_run *run)
{
	struct jwt_check *c = next_check(run);
	char key[160], why[JWT_CHECK_TEXT] = "";
	size_t searched = 0;

	if (!c)
		return -ENOMEM;
	c->name = "signature";
	describe_key(jwt, key, sizeof(key));
	if (!e->openid_configs.n) {
		errmsg(c->expected, sizeof(c->expected), 0,
		       "keys from --openid-config, --tenant or a policy");
		errmsg(c->actual, sizeof(c->actual), 0, "%s; the issuer is not Entra's", key);
		return 0;
	}
	errmsg(c->expected, sizeof(c->expected), 0, "a key of %s", e->openid_configs.items[0]);
	for (size_t i = 0; i < e->openid_configs.n; i++) {
		struct check_keys *k = next_keys(run);
		int r;

		if (!k)
			return -ENOMEM;
		fetch_keys(jwt, e->openid_configs.items[i], socket, k);
		if (!k->set) {
			errmsg(why, sizeof(why), 0, "%s", k->error);
			continue;
		}
		searched += jwk_set_count(k->set);
		r = jwk_verify(k->set, jwt, why, sizeof(why));
		if (r == -ENOKEY)
			continue;
		c->ok = r == 0;
		errmsg(c->expected, sizeof(c->expected), 0, "a key of %s", k->openid_config);
		errmsg(c->actual, sizeof(c->actual), 0, "%s: %s", key, r == 0 ? "verified" : why);
		return 0;
	}
	if (searched)
		errmsg(c->actual, sizeof(c->actual), 0, "%s: no such key among the %zu published",
		       key, searched);
	else
		errmsg(c->actual, sizeof(c->actual), 0, "no keys: %s", why);
	return 0;
}

/*
 * A policy that names an OpenID configuration and no issuers accepts the
 * configuration's issuer; Entra's multi-tenant ones say "{tenantid}", which
 * stands for the token's tid.
 */
static size_t config_issuers(const struct jwt *jwt, const struct check_run *run, char list[][512],
			     size_t max)
{
	const char *tid = json_string_value(json_object_get(jwt->claims, "tid"));
	size_t n = 0;

	for (size_t i = 0; i < run->n_keys && n < max; i++) {
		const char *iss = run->keys[i].issuer, *ph;

		if (!iss)
			continue;
		ph = strstr(iss, "{tenantid}");
		if (ph && tid)
			snprintf(list[n++], 512, "%.*s%s%s", (int)(ph - iss), iss, tid,
				 ph + strlen("{tenantid}"));
		else if (!ph)
			snprintf(list[n++], 512, "%s", iss);
	}
	return n;
}

static int check_issuer(const struct jwt *jwt, const struct expect *e, struct check_run *run)
{
	char derived[MAX_ISSUERS][512];
	const char *ptrs[MAX_ISSUERS];
	struct jwt_check *c;
	size_t n;

	if (e->issuers.n) {
		c = next_check(run);
		if (c)
			jwt_check_issuer(jwt, (const char *const *)e->issuers.items, e->issuers.n,
					 c);
		return c ? 0 : -ENOMEM;
	}
	if (!e->openid_given)
		return 0;
	n = config_issuers(jwt, run, derived, MAX_ISSUERS);
	for (size_t i = 0; i < n; i++)
		ptrs[i] = derived[i];
	if (!n)
		return 0;
	c = next_check(run);
	if (c)
		jwt_check_issuer(jwt, ptrs, n, c);
	return c ? 0 : -ENOMEM;
}

static int check_lifetime(const struct jwt *jwt, const struct expect *e, time_t now,
			  struct check_run *run)
{
	struct jwt_check *c;

	if (e->require_exp || json_object_get(jwt->claims, "exp")) {
		if (!(c = next_check(run)))
			return -ENOMEM;
		jwt_check_exp(jwt, now, e->clock_skew, c);
	}
	if (json_object_get(jwt->claims, "nbf")) {
		if (!(c = next_check(run)))
			return -ENOMEM;
		jwt_check_nbf(jwt, now, e->clock_skew, c);
	}
	return 0;
}

static int check_lists(const struct jwt *jwt, const struct expect *e, struct check_run *run)
{
	struct jwt_check *c;

	if (e->audiences.n) {
		if (!(c = next_check(run)))
			return -ENOMEM;
		jwt_check_audience(jwt, (const char *const *)e->audiences.items, e->audiences.n, c);
	}
	if (check_issuer(jwt, e, run) < 0)
		return -ENOMEM;
	if (e->client_app_ids.n) {
		if (!(c = next_check(run)))
			return -ENOMEM;
		jwt_check_client_app(jwt, (const char *const *)e->client_app_ids.items,
				     e->client_app_ids.n, c);
	}
	for (size_t i = 0; i < e->n_claims; i++) {
		const struct expect_claim *ec = &e->claims[i];

		if (!(c = next_check(run)))
			return -ENOMEM;
		jwt_check_claim(jwt, ec->name, (const char *const *)ec->values.items, ec->values.n,
				ec->match, ec->separator, c);
	}
	return 0;
}

int check_run(const struct jwt *jwt, const struct expect *e, const char *socket, time_t now,
	      struct check_run *ret)
{
	int r;

	*ret = (struct check_run){ 0 };
	r = check_signature(jwt, e, socket, ret);
	if (r == 0)
		r = check_lifetime(jwt, e, now, ret);
	if (r == 0)
		r = check_lists(jwt, e, ret);
	return r;
}

bool check_run_ok(const struct check_run *run)
{
	for (size_t i = 0; i < run->n; i++)
		if (!run->checks[i].ok)
			return false;
	return run->n > 0;
}

void check_run_done(struct check_run *run)
{
	for (size_t i = 0; i < run->n_keys; i++)
		keys_done(&run->keys[i]);
	free(run->keys);
	free(run->checks);
	*run = (struct check_run){ 0 };
}
