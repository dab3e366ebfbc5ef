/* SPDX-License-Identifier: MIT */
/*
 * JWTs as `aoai check` will see them (client/check/jwt.c, client/check/jwt_check.c,
 * client/check/jwk.c): the input is a token, optionally followed by "\n" and a
 * JWKS document.  The token is decoded, every claim check runs with fixed
 * expectations, the JWKS is parsed and the signature verified.  Messages
 * must be terminated and never quote the signature or a marked secret; a
 * decoded token must re-encode to its own parts; the checks must agree with
 * each other (more skew never hurts, a longer "any of" list never hurts,
 * "all of" implies "any of"); a signature that verifies must stop verifying
 * when one bit of it flips.
 */
#include <errno.h>

#include <sodium.h>

#include "fuzz.h"
/* The CLI's headers, by path: the harness build adds no -Iclient. */
#include "jwk.h"
#include "jwt.h"

#define FUZZ_NOW     1700000000 /* 2023-11-14T22:13:20Z, as the seeds expect */
#define ERR_LEN      256
#define SIG_QUOTABLE 16 /* shorter signature parts can occur in any text by chance */

/* A fresh base64url (unpadded) spelling of @len bytes, by libsodium's encoder. */
static char *encode(const uint8_t *in, size_t len)
{
	const int v = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
	char *out = malloc(sodium_base64_ENCODED_LEN(len, v));

	FUZZ_CHECK(out);
	return sodium_bin2base64(out, sodium_base64_ENCODED_LEN(len, v), in, len, v);
}

/* Strict base64url has one spelling per byte string: decode, encode, compare. */
static void check_part(const char *text, size_t len)
{
	uint8_t *raw;
	size_t rawlen;
	char *again;

	FUZZ_CHECK(jwt_base64url_decode(text, len, &raw, &rawlen) == 0);
	again = encode(raw, rawlen);
	FUZZ_CHECK(strlen(again) == len && !memcmp(again, text, len));
	free(again);
	free(raw);
}

struct input {
	const char *token;
	size_t len;
	const char *sigpart; /* after the last '.', or NULL */
};

/* A message is terminated, free of marked secrets, and never quotes the signature. */
static void check_message(const struct input *in, const char *msg, const char *kid)
{
	FUZZ_CHECK(fuzz_terminated(msg, ERR_LEN));
	/* jwk_verify() quotes a plain kid by design; a kid is no secret. */
	if (!kid || !strstr(kid, FUZZ_SECRET_MARK))
		FUZZ_CHECK(!strstr(msg, FUZZ_SECRET_MARK));
	if (in->sigpart && strlen(in->sigpart) >= SIG_QUOTABLE &&
	    !(kid && strstr(kid, in->sigpart)))
		FUZZ_CHECK(!strstr(msg, in->sigpart));
}

static void check_decoded(const struct input *in, const struct jwt *jwt)
{
	const char *dot1 = memchr(in->token, '.', in->len);
	size_t siglen = strlen(in->sigpart);
	char *sig;

	FUZZ_CHECK(json_is_object(jwt->header) && json_is_object(jwt->claims));
	FUZZ_CHECK(jwt->alg && *jwt->alg && strcmp(jwt->alg, "none"));
	FUZZ_CHECK(jwt->signature_len > 0);
	FUZZ_CHECK(jwt->signing_input_len == in->len - siglen - 1);
	FUZZ_CHECK(!memcmp(jwt->signing_input, in->token, jwt->signing_input_len));
	check_part(in->token, (size_t)(dot1 - in->token));
	check_part(dot1 + 1, jwt->signing_input_len - (size_t)(dot1 - in->token) - 1);
	sig = encode(jwt->signature, jwt->signature_len);
	FUZZ_CHECK(!strcmp(sig, in->sigpart));
	free(sig);
}

static void check_result(const struct jwt_check *c)
{
	FUZZ_CHECK(c->name && *c->name);
	FUZZ_CHECK(strlen(c->expected) < JWT_CHECK_TEXT && strlen(c->actual) < JWT_CHECK_TEXT);
	FUZZ_CHECK(!strstr(c->expected, FUZZ_SECRET_MARK)); /* only the fixed inputs */
}

static void check_lifetime(const struct jwt *jwt)
{
	struct jwt_check strict, loose;

	jwt_check_exp(jwt, FUZZ_NOW, 0, &strict);
	jwt_check_exp(jwt, FUZZ_NOW, 300, &loose);
	check_result(&strict);
	check_result(&loose);
	FUZZ_CHECK(!strict.ok || loose.ok);
	FUZZ_CHECK(!strict.ok || json_object_get(jwt->claims, "exp"));
	jwt_check_nbf(jwt, FUZZ_NOW, 0, &strict);
	jwt_check_nbf(jwt, FUZZ_NOW, 300, &loose);
	check_result(&strict);
	check_result(&loose);
	FUZZ_CHECK(!strict.ok || loose.ok);
	FUZZ_CHECK(strict.ok || json_object_get(jwt->claims, "nbf"));
}

typedef void (*one_of_check)(const struct jwt *, const char *const *, size_t, struct jwt_check *);

/* Passing with one candidate implies passing with a list holding it. */
static void check_one_of(const struct jwt *jwt, one_of_check fn, const char *const *list)
{
	struct jwt_check first, second, both;

	fn(jwt, list, 1, &first);
	fn(jwt, list + 1, 1, &second);
	fn(jwt, list, 2, &both);
	check_result(&first);
	check_result(&second);
	check_result(&both);
	FUZZ_CHECK(both.ok == (first.ok || second.ok));
}

static void check_claims(const struct jwt *jwt)
{
	static const char *const auds[] = { "api://aoai", "https://cognitiveservices.azure.com" };
	static const char *const iss[] = { "https://sts.windows.net/t/",
					   "https://login.microsoftonline.com/t/v2.0" };
	static const char *const apps[] = { "11111111-1111-1111-1111-111111111111", "app" };
	static const char *const values[] = { "Reader", "User.Read" };
	static const char *const names[] = { "roles", "scp", "groups", "aud" };
	struct jwt_check any, all, present;

	check_lifetime(jwt);
	check_one_of(jwt, jwt_check_audience, auds);
	check_one_of(jwt, jwt_check_issuer, iss);
	check_one_of(jwt, jwt_check_client_app, apps);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		jwt_check_claim(jwt, names[i], values, 2, JWT_MATCH_ANY, " ", &any);
		jwt_check_claim(jwt, names[i], values, 2, JWT_MATCH_ALL, ",", &all);
		jwt_check_claim(jwt, names[i], NULL, 0, JWT_MATCH_ALL, NULL, &present);
		check_result(&any);
		check_result(&all);
		check_result(&present);
		FUZZ_CHECK(!all.ok || any.ok);
		FUZZ_CHECK(!any.ok || present.ok);
		FUZZ_CHECK(present.ok == (json_object_get(jwt->claims, names[i]) != NULL));
	}
}

/* A tenant id from the token itself: accepted ones give exactly the two forms. */
static void check_entra_issuers(const struct jwt *jwt)
{
	const char *tid = json_string_value(json_object_get(jwt->claims, "tid"));
	char v1[300], v2[300], got[300];

	if (!tid || jwt_entra_issuers(tid, v1, sizeof(v1), v2, sizeof(v2)) < 0)
		return;
	FUZZ_CHECK(!strncmp(v1, "https://sts.windows.net/", 24) &&
		   !strcmp(v1 + 24 + strlen(tid), "/"));
	FUZZ_CHECK(!strncmp(v2, "https://login.microsoftonline.com/", 34));
	FUZZ_CHECK(!strchr(tid, '/') && !strchr(tid, '?') && !strchr(tid, '#'));
	/* And back: each spelling gives the tenant it was made of. */
	FUZZ_CHECK(jwt_entra_tenant(v1, got, sizeof(got)) == 0 && !strcmp(got, tid));
	FUZZ_CHECK(jwt_entra_tenant(v2, got, sizeof(got)) == 0 && !strcmp(got, tid));
}

/* The token's own issuer: a tenant read from it spells that issuer exactly. */
static void check_entra_tenant(const struct jwt *jwt)
{
	const char *iss = json_string_value(json_object_get(jwt->claims, "iss"));
	char tid[300], v1[400], v2[400];

	if (!iss || jwt_entra_tenant(iss, tid, sizeof(tid)) < 0)
		return;
	FUZZ_CHECK(jwt_entra_issuers(tid, v1, sizeof(v1), v2, sizeof(v2)) == 0);
	FUZZ_CHECK(!strcmp(iss, v1) || !strcmp(iss, v2));
}

static void check_verify(const struct input *in, const struct jwk_set *set, struct jwt *jwt)
{
	char err[ERR_LEN];
	int r = jwk_verify(set, jwt, err, sizeof(err));

	check_message(in, err, jwt->kid);
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -ENOKEY || r == -EOPNOTSUPP || r == -ENOMEM);
	FUZZ_CHECK((r == 0) == !*err);
	if (r != 0)
		return;
	/* Every bit of an RSA signature counts. */
	jwt->signature[jwt->signature_len / 2] ^= 0x10;
	FUZZ_CHECK(jwk_verify(set, jwt, err, sizeof(err)) == -EBADMSG);
	jwt->signature[jwt->signature_len / 2] ^= 0x10;
}

static struct jwk_set *parse_jwks(const struct input *in, const uint8_t *doc, size_t len)
{
	struct jwk_set *set = NULL;
	char err[ERR_LEN];
	int r = jwk_set_parse(doc, len, &set, err, sizeof(err));

	check_message(in, err, NULL);
	FUZZ_CHECK((r == 0) == (set != NULL));
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -E2BIG || r == -ENOMEM);
	FUZZ_CHECK(r != 0 || jwk_set_count(set) + jwk_set_skipped(set) <= JWK_MAX_KEYS);
	return set;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t toklen = nl ? (size_t)(nl - data) : size;
	char *token = fuzz_strndup(data, toklen), err[ERR_LEN], small[8];
	struct input in = { token, toklen, NULL };
	struct jwk_set *set = NULL;
	struct jwt jwt, again;
	int r;

	in.sigpart = memrchr(token, '.', toklen);
	in.sigpart = in.sigpart ? in.sigpart + 1 : NULL;
	r = jwt_decode(token, toklen, &jwt, err, sizeof(err));
	check_message(&in, err, NULL);
	FUZZ_CHECK((r == 0) == !*err);
	/* The verdict does not depend on the room for the message. */
	FUZZ_CHECK(jwt_decode(token, toklen, &again, small, sizeof(small)) == r);
	FUZZ_CHECK(fuzz_terminated(small, sizeof(small)));
	jwt_done(&again);
	if (nl)
		set = parse_jwks(&in, nl + 1, size - toklen - 1);
	if (r == 0) {
		check_decoded(&in, &jwt);
		check_claims(&jwt);
		check_entra_issuers(&jwt);
		check_entra_tenant(&jwt);
		if (set)
			check_verify(&in, set, &jwt);
		jwt_done(&jwt);
	}
	jwk_set_free(set);
	free(token);
	return 0;
}
