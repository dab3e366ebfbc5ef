/* SPDX-License-Identifier: MIT */
/*
 * JWKS parsing and RS256/PS256 verification against tokens signed here with
 * freshly generated RSA keys, as test-assertion.c signs its client assertions.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "jwk.h"
#include "jwt.h"

#define TOKEN_MAX 4096
#define JWKS_MAX  8192

struct fixture {
	EVP_PKEY *key;   /* RSA 2048, the issuer's */
	EVP_PKEY *other; /* RSA 2048, someone else's */
	EVP_PKEY *small; /* RSA 1024 */
};

/* Appends the unpadded base64url of @in to @out (which has room): libsodium's. */
static void append_b64url(char *out, const void *in, size_t len)
{
	const int v = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

	sodium_bin2base64(out + strlen(out), sodium_base64_ENCODED_LEN(len, v), in, len, v);
}

static void append_text(char *out, const char *text)
{
	memcpy(out + strlen(out), text, strlen(text) + 1);
}

static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->key = EVP_RSA_gen(2048);
	f->other = EVP_RSA_gen(2048);
	f->small = EVP_RSA_gen(1024);
	assert_non_null(f->key);
	assert_non_null(f->other);
	assert_non_null(f->small);
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	EVP_PKEY_free(f->key);
	EVP_PKEY_free(f->other);
	EVP_PKEY_free(f->small);
	free(f);
	return 0;
}

/* A key's n or e as base64url. */
static void append_param(char *out, EVP_PKEY *key, const char *name)
{
	BIGNUM *bn = NULL;
	uint8_t buf[1024];
	int len;

	assert_int_equal(EVP_PKEY_get_bn_param(key, name, &bn), 1);
	len = BN_bn2bin(bn, buf);
	assert_true(len > 0);
	append_b64url(out, buf, (size_t)len);
	BN_free(bn);
}

/* One JWK object: {"kty":"RSA","use":"sig","kid":KID,"x5t":X5T,"n":..,"e":..}. */
static void append_jwk(char *out, EVP_PKEY *key, const char *kid, const char *x5t)
{
	append_text(out, "{\"kty\":\"RSA\",\"use\":\"sig\"");
	if (kid) {
		append_text(out, ",\"kid\":\"");
		append_text(out, kid);
		append_text(out, "\"");
	}
	if (x5t) {
		append_text(out, ",\"x5t\":\"");
		append_text(out, x5t);
		append_text(out, "\"");
	}
	append_text(out, ",\"n\":\"");
	append_param(out, key, OSSL_PKEY_PARAM_RSA_N);
	append_text(out, "\",\"e\":\"");
	append_param(out, key, OSSL_PKEY_PARAM_RSA_E);
	append_text(out, "\"}");
}

/* A set shaped like Entra's: an EC key and an encryption key it must skip, then @key. */
static struct jwk_set *entra_like_set(EVP_PKEY *key, const char *kid, const char *x5t)
{
	static char doc[JWKS_MAX];
	struct jwk_set *set = NULL;
	char err[256];

	snprintf(doc, sizeof(doc),
		 "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"ec\"},"
		 "{\"kty\":\"RSA\",\"use\":\"enc\",\"kid\":\"enc\",\"n\":\"AQAB\","
		 "\"e\":\"AQAB\"},");
	append_jwk(doc, key, kid, x5t);
	append_text(doc, "]}");
	assert_int_equal(jwk_set_parse((const uint8_t *)doc, strlen(doc), &set, err, sizeof(err)),
			 0);
	assert_int_equal(jwk_set_count(set), 1);
	assert_int_equal(jwk_set_skipped(set), 2);
	return set;
}

static void sign(EVP_PKEY *key, bool pss, int saltlen, const char *data, uint8_t *sig,
		 size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestSignInit_ex(ctx, &pctx, "SHA256", NULL, NULL, key, NULL), 1);
	if (pss) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen), 1);
	}
	assert_int_equal(EVP_DigestSign(ctx, sig, siglen, (const uint8_t *)data, strlen(data)), 1);
	EVP_MD_CTX_free(ctx);
}

/* A token with header @header signed by @key ("RS256" PKCS#1, else PSS with @saltlen). */
static char *signed_token(EVP_PKEY *key, const char *header, bool pss, int saltlen)
{
	static char tok[TOKEN_MAX];
	const char *payload = "{\"aud\":\"api://x\",\"exp\":1700003600}";
	uint8_t sig[1024];
	size_t siglen = sizeof(sig);

	tok[0] = 0;
	append_b64url(tok, (const uint8_t *)header, strlen(header));
	append_text(tok, ".");
	append_b64url(tok, (const uint8_t *)payload, strlen(payload));
	sign(key, pss, saltlen, tok, sig, &siglen);
	append_text(tok, ".");
	append_b64url(tok, sig, siglen);
	return tok;
}

/* Decodes @tok and verifies it against @set; returns jwk_verify's answer. */
static int verify(const struct jwk_set *set, const char *tok, char *err, size_t errlen)
{
	const char *sigpart = strrchr(tok, '.') + 1;
	struct jwt jwt;
	char derr[256];
	int r;

	assert_int_equal(jwt_decode(tok, strlen(tok), &jwt, derr, sizeof(derr)), 0);
	r = jwk_verify(set, &jwt, err, errlen);
	assert_null(strstr(err, sigpart)); /* never quoted */
	assert_true(r == 0 ? !*err : !!*err);
	jwt_done(&jwt);
	return r;
}

static void rs256_valid(void **state)
{
	struct fixture *f = *state;
	struct jwk_set *set = entra_like_set(f->key, "k1", NULL);
	char err[256];

	assert_int_equal(
	    verify(set, signed_token(f->key, "{\"alg\":\"RS256\",\"kid\":\"k1\"}", false, 0), err,
		   sizeof(err)),
	    0);
	/* Signed by a key with the same kid that is not in the set. */
	assert_int_equal(
	    verify(set, signed_token(f->other, "{\"alg\":\"RS256\",\"kid\":\"k1\"}", false, 0), err,
		   sizeof(err)),
	    -EBADMSG);
	assert_non_null(strstr(err, "does not verify"));
	jwk_set_free(set);
}

static void ps256_valid(void **state)
{
	struct fixture *f = *state;
	struct jwk_set *set = entra_like_set(f->key, "k1", NULL);
	const char *h = "{\"alg\":\"PS256\",\"kid\":\"k1\"}";
	char err[256];

	assert_int_equal(verify(set, signed_token(f->key, h, true, 32), err, sizeof(err)), 0);
	/* RFC 7518 §3.5 fixes the salt at the hash length. */
	assert_int_equal(verify(set, signed_token(f->key, h, true, 20), err, sizeof(err)),
			 -EBADMSG);
	/* PKCS#1 v1.5 bytes presented as PSS, and the other way round. */
	assert_int_equal(verify(set, signed_token(f->key, h, false, 0), err, sizeof(err)),
			 -EBADMSG);
	assert_int_equal(
	    verify(set, signed_token(f->key, "{\"alg\":\"RS256\",\"kid\":\"k1\"}", true, 32), err,
		   sizeof(err)),
	    -EBADMSG);
	jwk_set_free(set);
}

static void tampered(void **state)
{
	struct fixture *f = *state;
	struct jwk_set *set = entra_like_set(f->key, "k1", NULL);
	char *tok = signed_token(f->key, "{\"alg\":\"RS256\",\"kid\":\"k1\"}", false, 0);
	char *sig = strrchr(tok, '.') + 1, first = sig[0];
	char err[256];

	assert_int_equal(verify(set, tok, err, sizeof(err)), 0);
	/* A signature character flipped (the first six bits are always used). */
	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	assert_int_equal(verify(set, tok, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "signature: does not verify with the JWKS key (RS256)");
	sig[0] = first;
	assert_int_equal(verify(set, tok, err, sizeof(err)), 0);
	jwk_set_free(set);
}

static void tampered_payload(void **state)
{
	struct fixture *f = *state;
	struct jwk_set *set = entra_like_set(f->key, "k1", NULL);
	char *tok = signed_token(f->key, "{\"alg\":\"RS256\",\"kid\":\"k1\"}", false, 0);
	char forged[TOKEN_MAX] = "";
	char *dot1 = strchr(tok, '.'), *dot2 = strrchr(tok, '.');
	const char *payload = "{\"aud\":\"api://y\",\"exp\":1700003600}";
	char err[256];

	/* The same header and signature around another payload. */
	memcpy(forged, tok, (size_t)(dot1 - tok) + 1);
	append_b64url(forged, (const uint8_t *)payload, strlen(payload));
	append_text(forged, dot2);
	assert_int_equal(verify(set, forged, err, sizeof(err)), -EBADMSG);
	assert_int_equal(verify(set, tok, err, sizeof(err)), 0);
	jwk_set_free(set);
}

static void key_selection(void **state)
{
	struct fixture *f = *state;
	struct jwk_set *set = entra_like_set(f->key, "k1", "t1");
	char err[256];

	/* Wrong kid: named in the message. */
	assert_int_equal(
	    verify(set, signed_token(f->key, "{\"alg\":\"RS256\",\"kid\":\"k2\"}", false, 0), err,
		   sizeof(err)),
	    -ENOKEY);
	assert_string_equal(err, "no key with kid \"k2\" in the JWKS (1 RSA signing keys)");
	/* A kid not fit to quote is described, not echoed. */
	assert_int_equal(
	    verify(set,
		   signed_token(f->key, "{\"alg\":\"RS256\",\"kid\":\"SECRET-a b\"}", false, 0),
		   err, sizeof(err)),
	    -ENOKEY);
	assert_null(strstr(err, "SECRET-"));
	/* No kid: the x5t picks the key, matching either spelling. */
	assert_int_equal(
	    verify(set, signed_token(f->key, "{\"alg\":\"RS256\",\"x5t\":\"t1\"}", false, 0), err,
		   sizeof(err)),
	    0);
	assert_int_equal(
	    verify(set, signed_token(f->key, "{\"alg\":\"RS256\",\"x5t\":\"k1\"}", false, 0), err,
		   sizeof(err)),
	    0);
	assert_int_equal(
	    verify(set, signed_token(f->key, "{\"alg\":\"RS256\"}", false, 0), err, sizeof(err)),
	    -ENOKEY);
	assert_non_null(strstr(err, "names no key"));
	assert_non_null(jwk_set_find(set, "k1", NULL));
	assert_null(jwk_set_find(set, NULL, NULL));
	jwk_set_free(set);
}

static void unsupported_alg(void **state)
{
	struct fixture *f = *state;
	struct jwk_set *set = entra_like_set(f->key, "k1", NULL);
	char err[256];

	assert_int_equal(
	    verify(set, signed_token(f->key, "{\"alg\":\"HS256\",\"kid\":\"k1\"}", false, 0), err,
		   sizeof(err)),
	    -EOPNOTSUPP);
	assert_non_null(strstr(err, "only RS256 and PS256"));
	assert_int_equal(
	    verify(set, signed_token(f->key, "{\"alg\":\"rs256\",\"kid\":\"k1\"}", false, 0), err,
		   sizeof(err)),
	    -EOPNOTSUPP);
	jwk_set_free(set);
}

/* jwk_set_parse() refuses @doc with @want and a message containing @what. */
static void set_refused(const char *doc, int want, const char *what)
{
	struct jwk_set *set = (struct jwk_set *)&set;
	char err[256];

	assert_int_equal(jwk_set_parse((const uint8_t *)doc, strlen(doc), &set, err, sizeof(err)),
			 want);
	assert_ptr_equal(set, (struct jwk_set *)&set); /* untouched */
	assert_non_null(strstr(err, what));
}

static void jwks_refused(void **state)
{
	struct fixture *f = *state;
	char doc[JWKS_MAX];

	set_refused("", -EINVAL, "JWKS: not JSON");
	set_refused("[]", -EINVAL, "\"keys\" array");
	set_refused("{\"keys\":{}}", -EINVAL, "\"keys\" array");
	set_refused("{\"keys\":[],\"keys\":[]}", -EINVAL, "not JSON");
	set_refused("{\"keys\":[1]}", -EINVAL, "keys[0]: not an object");
	set_refused("{\"keys\":[{\"n\":\"AQAB\"}]}", -EINVAL, "keys[0]: not an object with");
	set_refused("{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\"}]}", -EINVAL, "keys[0]: \"n\"");
	set_refused("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQA=\"}]}", -EINVAL,
		    "keys[0]: \"e\"");
	set_refused("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}", -EINVAL,
		    "keys[0]: RSA modulus of 17 bits");

	doc[0] = 0;
	append_text(doc, "{\"keys\":[");
	append_jwk(doc, f->key, "k1", NULL);
	append_text(doc, ",");
	append_jwk(doc, f->small, "small", NULL);
	append_text(doc, "]}");
	set_refused(doc, -EINVAL, "keys[1]: RSA modulus of 1024 bits, less than 2048");

	doc[0] = 0;
	append_text(doc, "{\"keys\":[");
	append_jwk(doc, f->key, "k1", NULL);
	append_text(doc, "]}");
	memcpy(strstr(doc, "\"kid\""), "\"kid\":7   ", 10);
	set_refused(doc, -EINVAL, "keys[0]: \"kid\" is not a string");

	doc[0] = 0;
	append_text(doc, "{\"keys\":[");
	for (int i = 0; i <= JWK_MAX_KEYS; i++)
		append_text(doc, i ? ",{}" : "{}");
	append_text(doc, "]}");
	set_refused(doc, -E2BIG, "65 keys, more than 64");
}

static void jwks_even_exponent_refused(void **state)
{
	struct fixture *f = *state;
	char doc[JWKS_MAX] = "{\"keys\":[";

	append_jwk(doc, f->key, "k1", NULL);
	append_text(doc, "]}");
	memcpy(strstr(doc, "\"e\":\"AQAB\""), "\"e\":\"AQAC\"", 10);
	set_refused(doc, -EINVAL, "keys[0]: RSA exponent");
}

static void jwks_empty_and_skipped(void **state)
{
	const char *doc = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"SECRET-AAAA\"}],\"x\":1}";
	struct jwk_set *set = NULL;
	char err[256];

	(void)state;
	assert_int_equal(jwk_set_parse((const uint8_t *)doc, strlen(doc), &set, err, sizeof(err)),
			 0);
	assert_int_equal(jwk_set_count(set), 0);
	assert_int_equal(jwk_set_skipped(set), 1);
	assert_null(jwk_set_find(set, "k1", "t1"));
	assert_null(jwk_set_free(set));
	assert_null(jwk_set_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rs256_valid),
		cmocka_unit_test(ps256_valid),
		cmocka_unit_test(tampered),
		cmocka_unit_test(tampered_payload),
		cmocka_unit_test(key_selection),
		cmocka_unit_test(unsupported_alg),
		cmocka_unit_test(jwks_refused),
		cmocka_unit_test(jwks_even_exponent_refused),
		cmocka_unit_test(jwks_empty_and_skipped),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
