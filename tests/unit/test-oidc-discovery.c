/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "oidc_discovery.h"

#define ISSUER "https://idp.example.com/tenant-a"
#define TOKEN  "https://tokens.example.net/oauth/token"

static void expect_parsed(const char *body, const char *issuer, enum token_auth auth)
{
	struct oidc_provider p = { 0 };
	char why[256] = "";

	if (oidc_discovery_parse(body, strlen(body), issuer, &p, why, sizeof(why)) < 0)
		fail_msg("%s: %s", body, why);
	assert_string_equal(p.issuer, issuer);
	assert_string_equal(p.token_endpoint, TOKEN);
	assert_int_equal(p.secret_auth, auth);
	oidc_provider_done(&p);
}

static void expect_refused(const char *body, const char *why_part)
{
	struct oidc_provider p = { 0 };
	char why[256] = "";

	assert_int_equal(oidc_discovery_parse(body, strlen(body), ISSUER, &p, why, sizeof(why)),
			 -EINVAL);
	assert_null(p.issuer);
	if (!strstr(why, why_part))
		fail_msg("%s: message \"%s\" lacks \"%s\"", body, why, why_part);
}

static void test_url(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(oidc_discovery_url(ISSUER, out, sizeof(out)), 0);
	assert_string_equal(out, ISSUER "/.well-known/openid-configuration");
	/* Discovery §4: a trailing '/' is removed before the path is added. */
	assert_int_equal(oidc_discovery_url("https://x.auth0.com/", out, sizeof(out)), 0);
	assert_string_equal(out, "https://x.auth0.com/.well-known/openid-configuration");
	assert_int_equal(oidc_discovery_url(ISSUER, out, 20), -E2BIG);
}

static void test_parse(void **state)
{
	(void)state;
	expect_parsed("{\"issuer\": \"" ISSUER "\", \"token_endpoint\": \"" TOKEN "\"}", ISSUER,
		      TOKEN_AUTH_BASIC);
	expect_parsed("{\"issuer\": \"" ISSUER "\", \"token_endpoint\": \"" TOKEN "\", "
		      "\"token_endpoint_auth_methods_supported\": [\"private_key_jwt\", 7, "
		      "\"client_secret_post\", \"client_secret_basic\"]}",
		      ISSUER, TOKEN_AUTH_POST);
	expect_parsed("{\"issuer\": \"" ISSUER "\", \"token_endpoint\": \"" TOKEN "\", "
		      "\"token_endpoint_auth_methods_supported\": [\"private_key_jwt\"]}",
		      ISSUER, TOKEN_AUTH_BASIC);
}

static void test_refused(void **state)
{
	(void)state;
	expect_refused("[]", "not a JSON object");
	expect_refused("{\"issuer\": ", "not a JSON object");
	expect_refused("{\"token_endpoint\": \"" TOKEN "\"}", "no \"issuer\"");
	expect_refused("{\"issuer\": \"" ISSUER "/\", \"token_endpoint\": \"" TOKEN "\"}",
		       "names issuer \"" ISSUER "/\"");
	expect_refused("{\"issuer\": \"" ISSUER "\"}", "no \"token_endpoint\"");
	expect_refused("{\"issuer\": \"" ISSUER "\", \"token_endpoint\": 1}", "not a string");
	expect_refused("{\"issuer\": \"" ISSUER "\", \"token_endpoint\": "
		       "\"http://tokens.example.net/t\"}",
		       "must be https");
	expect_refused("{\"issuer\": \"" ISSUER "\", \"issuer\": \"" ISSUER "\", "
		       "\"token_endpoint\": \"" TOKEN "\"}",
		       "not a JSON object");
}

static struct oidc_provider provider(const char *issuer, uint64_t fetched)
{
	struct oidc_provider p = { .issuer = strdup(issuer),
				   .token_endpoint = strdup(TOKEN),
				   .fetched = fetched };

	assert_non_null(p.issuer);
	assert_non_null(p.token_endpoint);
	return p;
}

static void test_cache(void **state)
{
	struct oidc_cache *c = NULL;
	struct oidc_provider p = provider(ISSUER, 1000);
	char name[64];

	(void)state;
	assert_int_equal(oidc_cache_new(&c), 0);
	assert_null(oidc_cache_find(c, ISSUER, 1000));
	assert_non_null(oidc_cache_put(c, &p));
	assert_null(p.issuer); /* moved */
	assert_non_null(oidc_cache_find(c, ISSUER, 1000 + OIDC_DISCOVERY_MAX_AGE - 1));
	assert_null(oidc_cache_find(c, ISSUER, 1000 + OIDC_DISCOVERY_MAX_AGE));
	assert_null(oidc_cache_find(c, ISSUER "/", 1000));
	oidc_cache_forget(c, ISSUER);
	assert_null(oidc_cache_find(c, ISSUER, 1000));
	/* Full: the oldest entry makes room. */
	for (int i = 0; i <= OIDC_CACHE_MAX; i++) {
		snprintf(name, sizeof(name), "https://idp%d.example.com", i);
		p = provider(name, 2000 + (uint64_t)i);
		assert_non_null(oidc_cache_put(c, &p));
	}
	assert_null(oidc_cache_find(c, "https://idp0.example.com", 3000));
	assert_non_null(oidc_cache_find(c, "https://idp1.example.com", 3000));
	assert_non_null(oidc_cache_find(c, name, 3000));
	assert_null(oidc_cache_free(c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_cache),
	};

	return cmocka_run_group_tests_name("oidc_discovery", tests, NULL, NULL);
}
