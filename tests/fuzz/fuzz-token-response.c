/* SPDX-License-Identifier: MIT */
/*
 * Token responses (agent/sources/token_response.c): the input is the body an
 * identity endpoint answered with (IMDS, App Service, Arc, Cloud Shell,
 * Service Fabric, Entra, or `az account get-access-token`).  A parsed
 * token must be within its bounds and expire in the accepted window; the
 * error describer, fed the same body, must stay within its buffer and on
 * one line.  TZ is pinned to UTC: the Azure CLI's "expiresOn" is local time.
 */
#include <errno.h>
#include <time.h>

#include "fuzz.h"
#include "token_response.h"

/* Fixed "now" (2023-11-14T22:13:20Z): seeds carry expiries just after it. */
#define TOKEN_FUZZ_NOW 1700000000LL
#define TOKEN_ERR_LEN  256

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static void check_token(const struct token_response *t)
{
	size_t i;

	FUZZ_CHECK(t->access_token && t->access_token_len >= 1);
	FUZZ_CHECK(t->access_token_len <= TOKEN_RESPONSE_MAX_TOKEN);
	FUZZ_CHECK(strlen(t->access_token) == t->access_token_len);
	/* Served as "Bearer <token>": visible ASCII only (no space, no control). */
	for (i = 0; i < t->access_token_len; i++)
		FUZZ_CHECK((unsigned char)t->access_token[i] > 0x20 &&
			   (unsigned char)t->access_token[i] < 0x7f);
	FUZZ_CHECK(t->expires_on > TOKEN_FUZZ_NOW);
	FUZZ_CHECK(t->expires_on - TOKEN_FUZZ_NOW <= TOKEN_RESPONSE_MAX_LIFETIME);
	FUZZ_CHECK(t->refresh_in >= -1);
	FUZZ_CHECK(fuzz_terminated(t->token_type, sizeof(t->token_type)));
	FUZZ_CHECK(t->token_type[0] != '\0' && !strchr(t->token_type, ' '));
}

/* The description is one terminated line of at most @outlen - 1 bytes. */
static void check_describe(const uint8_t *data, size_t size, size_t outlen)
{
	char *out = malloc(outlen);
	size_t i, n;

	FUZZ_CHECK(out);
	token_error_describe((const char *)data, size, out, outlen);
	FUZZ_CHECK(fuzz_terminated(out, outlen));
	n = strlen(out);
	FUZZ_CHECK(n < outlen);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(out[i] != '\n' && out[i] != '\r' && out[i] != '\0');
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct token_response t = { .access_token = NULL }, zero = { .access_token = NULL };
	char err[TOKEN_ERR_LEN];
	int r;

	memset(err, 'x', sizeof(err));
	r = token_response_parse((const char *)data, size, TOKEN_FUZZ_NOW, &t, err, sizeof(err));
	if (r == 0) {
		check_token(&t);
	} else {
		FUZZ_CHECK(r == -EINVAL || r == -ENOMEM);
		FUZZ_CHECK(fuzz_message_ok(err, sizeof(err)) && err[0] != '\0');
		FUZZ_CHECK(t.access_token == NULL);
	}
	token_response_done(&t);
	FUZZ_CHECK(memcmp(&t, &zero, sizeof(t)) == 0);

	check_describe(data, size, 1);
	check_describe(data, size, 16);
	check_describe(data, size, TOKEN_ERR_LEN);
	return 0;
}
