/* SPDX-License-Identifier: MIT */
/*
 * JWKS → OpenSSL keys, and the signature check.  Keys are built from their
 * modulus and exponent (OpenSSL 3's EVP_PKEY_fromdata); an "x5c" chain,
 * when present, is not needed for that and is not read: API Management
 * itself trusts the set it fetched from the issuer's jwks_uri, not the
 * certificates' issuers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "errmsg.h"
#include "jwk.h"
#include "proto.h"

#define RSA_MAX_EXPONENT_BYTES 8  /* 65537 in practice; a huge one only slows checks */
#define KID_SHOWN_MAX          64 /* longer kids are not quoted in messages */

struct jwk {
	char *kid; /* NULL when absent */
	char *x5t; /* NULL when absent */
	EVP_PKEY *pkey;
};

struct jwk_set {
	struct jwk keys[JWK_MAX_KEYS];
	size_t count;
	size_t skipped;
};

static BIGNUM *decode_uint(json_t *key, const char *name, size_t max_bytes)
{
	json_t *v = json_object_get(key, name);
	uint8_t *raw;
	size_t len;
	BIGNUM *bn;

	if (!json_is_string(v) ||
	    jwt_base64url_decode(json_string_value(v), json_string_length(v), &raw, &len) < 0)
		return NULL;
	bn = len && len <= max_bytes ? BN_bin2bn(raw, (int)len, NULL) : NULL;
	free(raw);
	return bn;
}

static EVP_PKEY *rsa_from_params(const BIGNUM *n, const BIGNUM *e)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
out:
	ERR_clear_error(); /* a refused key leaves its reasons queued */
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

/* n and e as RFC 7518 §6.3.1 gives them: unsigned big-endian, base64url. */
static int rsa_key(json_t *key, size_t index, EVP_PKEY **ret, char *err, size_t errlen)
{
	BIGNUM *n = decode_uint(key, "n", JWK_MAX_RSA_BITS / 8);
	BIGNUM *e = decode_uint(key, "e", RSA_MAX_EXPONENT_BYTES);
	int r = -EINVAL;

	if (!n || !e) {
		errmsg(err, errlen, 0, "keys[%zu]: \"%s\" is missing, not base64url or too long",
		       index, n ? "e" : "n");
	} else if (BN_num_bits(n) < JWK_MIN_RSA_BITS) {
		errmsg(err, errlen, 0, "keys[%zu]: RSA modulus of %d bits, less than %d", index,
		       BN_num_bits(n), JWK_MIN_RSA_BITS);
	} else if (!BN_is_odd(e) || BN_is_one(e)) {
		errmsg(err, errlen, 0, "keys[%zu]: RSA exponent is not an odd number above 1",
		       index);
	} else {
		*ret = rsa_from_params(n, e);
		r = *ret ? 0 : -ENOMEM;
		if (r < 0)
			errmsg(err, errlen, 0, "keys[%zu]: OpenSSL refused the RSA key", index);
	}
	BN_free(n);
	BN_free(e);
	return r;
}

static int optional_string(json_t *key, const char *name, size_t index, char **ret, char *err,
			   size_t errlen)
{
	json_t *v = json_object_get(key, name);

	*ret = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return errmsg(err, errlen, -EINVAL, "keys[%zu]: \"%s\" is not a string", index,
			      name);
	*ret = strdup(json_string_value(v));
	if (!*ret)
		return errmsg(err, errlen, -ENOMEM, "keys[%zu]: out of memory", index);
	return 0;
}

/* Only RSA signing keys can check RS256/PS256; the rest is left out, not refused. */
static bool wanted(json_t *key)
{
	const char *kty = json_string_value(json_object_get(key, "kty"));
	json_t *use = json_object_get(key, "use");

	return kty && !strcmp(kty, "RSA") &&
	       (!use || (json_is_string(use) && !strcmp(json_string_value(use), "sig")));
}

static int add_key(struct jwk_set *set, json_t *key, size_t index, char *err, size_t errlen)
{
	struct jwk *k = &set->keys[set->count];
	int r;

	if (!json_is_object(key) || !json_is_string(json_object_get(key, "kty")))
		return errmsg(err, errlen, -EINVAL, "keys[%zu]: not an object with a \"kty\"",
			      index);
	if (!wanted(key)) {
		set->skipped++;
		return 0;
	}
	r = optional_string(key, "kid", index, &k->kid, err, errlen);
	if (r >= 0)
		r = optional_string(key, "x5t", index, &k->x5t, err, errlen);
	if (r >= 0)
		r = rsa_key(key, index, &k->pkey, err, errlen);
	if (r < 0) {
		free(k->kid);
		free(k->x5t);
		memset(k, 0, sizeof(*k));
		return r;
	}
	set->count++;
	return 0;
}

static int add_keys(struct jwk_set *set, const json_t *doc, char *err, size_t errlen)
{
	json_t *keys = json_object_get(doc, "keys");
	size_t i;
	json_t *key;

	if (!json_is_object(doc) || !json_is_array(keys))
		return errmsg(err, errlen, -EINVAL, "JWKS: not an object with a \"keys\" array");
	if (json_array_size(keys) > JWK_MAX_KEYS)
		return errmsg(err, errlen, -E2BIG, "JWKS: %zu keys, more than %d",
			      json_array_size(keys), JWK_MAX_KEYS);
	json_array_foreach(keys, i, key)
	{
		int r = add_key(set, key, i, err, errlen);

		if (r < 0)
			return r;
	}
	return 0;
}

int jwk_set_from_json(const json_t *doc, struct jwk_set **ret, char *err, size_t errlen)
{
	struct jwk_set *set = calloc(1, sizeof(*set));
	int r;

	errmsg(err, errlen, 0, "%s", "");
	if (!set)
		return errmsg(err, errlen, -ENOMEM, "JWKS: out of memory");
	r = add_keys(set, doc, err, errlen);
	if (r < 0) {
		jwk_set_free(set);
		return r;
	}
	*ret = set;
	return 0;
}

int jwk_set_parse(const uint8_t *text, size_t len, struct jwk_set **ret, char *err, size_t errlen)
{
	enum proto_json_error jerr = PROTO_JSON_OK;
	json_t *doc = proto_json_parse(text, len, &jerr, NULL);
	int r;

	if (!doc) {
		errmsg(err, errlen, 0, "JWKS: not JSON: %s", proto_json_error_what(jerr));
		return jerr == PROTO_JSON_NOMEM ? -ENOMEM : -EINVAL;
	}
	r = jwk_set_from_json(doc, ret, err, errlen);
	json_decref(doc);
	return r;
}

struct jwk_set *jwk_set_free(struct jwk_set *set)
{
	if (!set)
		return NULL;
	for (size_t i = 0; i < set->count; i++) {
		free(set->keys[i].kid);
		free(set->keys[i].x5t);
		EVP_PKEY_free(set->keys[i].pkey);
	}
	free(set);
	return NULL;
}

size_t jwk_set_count(const struct jwk_set *set)
{
	return set->count;
}

size_t jwk_set_skipped(const struct jwk_set *set)
{
	return set->skipped;
}

static bool same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

const EVP_PKEY *jwk_set_find(const struct jwk_set *set, const char *kid, const char *x5t)
{
	for (size_t i = 0; kid && i < set->count; i++)
		if (same(set->keys[i].kid, kid))
			return set->keys[i].pkey;
	/* Entra's v1 tokens and keys spell the thumbprint as both kid and x5t. */
	for (size_t i = 0; x5t && i < set->count; i++)
		if (same(set->keys[i].x5t, x5t) || same(set->keys[i].kid, x5t))
			return set->keys[i].pkey;
	return NULL;
}

/* Quoting a kid helps the reader; only short, plain ones are quoted. */
static bool kid_showable(const char *kid)
{
	size_t len = strlen(kid);

	return len && len <= KID_SHOWN_MAX &&
	       strspn(kid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
		   len;
}

static void say_no_key(const struct jwt *jwt, size_t count, char *err, size_t errlen)
{
	if (jwt->kid && kid_showable(jwt->kid))
		errmsg(err, errlen, 0, "no key with kid \"%s\" in the JWKS (%zu RSA signing keys)",
		       jwt->kid, count);
	else if (jwt->kid || jwt->x5t)
		errmsg(err, errlen, 0,
		       "no key with the token's %s in the JWKS (%zu RSA signing keys)",
		       jwt->kid ? "kid" : "x5t", count);
	else
		errmsg(err, errlen, 0,
		       "the token names no key (no \"kid\" or \"x5t\" in its header)");
}

static int set_padding(EVP_PKEY_CTX *pctx, bool pss)
{
	if (!pss)
		return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0 ? 0 : -ENOMEM;
	/* RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash. */
	if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256", NULL) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0)
		return -ENOMEM;
	return 0;
}

static int verify_rsa(const EVP_PKEY *pkey, bool pss, const struct jwt *jwt)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int r = -ENOMEM;

	/* OpenSSL takes a non-const key but only reads it for verifying. */
	if (ctx &&
	    EVP_DigestVerifyInit_ex(ctx, &pctx, "SHA256", NULL, NULL, (EVP_PKEY *)pkey, NULL) > 0 &&
	    set_padding(pctx, pss) == 0)
		r = EVP_DigestVerify(ctx, jwt->signature, jwt->signature_len, jwt->signing_input,
				     jwt->signing_input_len) == 1
			? 0
			: -EBADMSG;
	ERR_clear_error(); /* a failed check leaves its reasons queued */
	EVP_MD_CTX_free(ctx);
	return r;
}

int jwk_verify(const struct jwk_set *set, const struct jwt *jwt, char *err, size_t errlen)
{
	bool pss = !strcmp(jwt->alg, "PS256");
	const EVP_PKEY *pkey;
	int r;

	errmsg(err, errlen, 0, "%s", "");
	if (!pss && strcmp(jwt->alg, "RS256"))
		return errmsg(err, errlen, -EOPNOTSUPP,
			      "alg: only RS256 and PS256 are supported (API Management's RSA "
			      "algorithms for Entra tokens)");
	pkey = jwk_set_find(set, jwt->kid, jwt->x5t);
	if (!pkey) {
		say_no_key(jwt, set->count, err, errlen);
		return -ENOKEY;
	}
	r = verify_rsa(pkey, pss, jwt);
	if (r == -EBADMSG)
		errmsg(err, errlen, 0, "signature: does not verify with the JWKS key (%s)",
		       jwt->alg);
	else if (r < 0)
		errmsg(err, errlen, 0, "signature: OpenSSL could not set up %s", jwt->alg);
	return r;
}
