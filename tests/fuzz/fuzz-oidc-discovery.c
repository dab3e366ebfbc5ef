/* SPDX-License-Identifier: MIT */
/*
 * OpenID Connect discovery documents (agent/sources/oidc_discovery.c): the
 * input is "ISSUER\nDOCUMENT", the configured issuer and the body its
 * well-known URL answered with.  An accepted document names exactly that
 * issuer and a token endpoint the agent may send a client's credential to.
 */
#include <errno.h>

#include "fuzz.h"
#include "hosts.h"
#include "oidc_discovery.h"

#define DISCOVERY_WHY_LEN 256
#define DISCOVERY_URL_LEN 512

static void check_url(const char *issuer)
{
	char url[DISCOVERY_URL_LEN];
	size_t n;

	if (oidc_discovery_url(issuer, url, sizeof(url)) < 0) {
		FUZZ_CHECK(strlen(issuer) + strlen(OIDC_DISCOVERY_PATH) >= sizeof(url));
		return;
	}
	n = strlen(url);
	FUZZ_CHECK(n >= strlen(OIDC_DISCOVERY_PATH));
	FUZZ_CHECK(strcmp(url + n - strlen(OIDC_DISCOVERY_PATH), OIDC_DISCOVERY_PATH) == 0);
	FUZZ_CHECK(strncmp(url, issuer, n - strlen(OIDC_DISCOVERY_PATH)) == 0);
}

static void check_provider(const struct oidc_provider *p, const char *issuer)
{
	struct url_target t;

	FUZZ_CHECK(p->issuer && strcmp(p->issuer, issuer) == 0);
	FUZZ_CHECK(p->token_endpoint && *p->token_endpoint);
	FUZZ_CHECK(url_target_parse(p->token_endpoint, &t, NULL, 0) == 0);
	FUZZ_CHECK(t.https || t.loopback);
	FUZZ_CHECK(p->secret_auth == TOKEN_AUTH_BASIC || p->secret_auth == TOKEN_AUTH_POST);
	FUZZ_CHECK(p->fetched == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t ilen = nl ? (size_t)(nl - data) : 0;
	char *issuer = fuzz_strndup(data, ilen), why[DISCOVERY_WHY_LEN];
	const char *body = nl ? (const char *)nl + 1 : (const char *)data;
	size_t blen = nl ? size - ilen - 1 : size;
	struct oidc_provider p = { 0 };
	int r;

	check_url(issuer);
	memset(why, 'x', sizeof(why));
	r = oidc_discovery_parse(body, blen, issuer, &p, why, sizeof(why));
	if (r == 0) {
		check_provider(&p, issuer);
		oidc_provider_done(&p);
		FUZZ_CHECK(!p.issuer && !p.token_endpoint);
	} else {
		FUZZ_CHECK(r == -EINVAL || r == -ENOMEM);
		FUZZ_CHECK(memchr(why, '\0', sizeof(why)) && why[0]);
		FUZZ_CHECK(!p.issuer && !p.token_endpoint && !p.authorization_endpoint);
	}
	free(issuer);
	return 0;
}
