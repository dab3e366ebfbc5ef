/* SPDX-License-Identifier: MIT */
/*
 * JSON Web Key Sets (RFC 7517) as Entra publishes them at jwks_uri: RSA
 * signing keys turned into OpenSSL public keys, picked by the token's kid
 * (or x5t), and the RS256 / PS256 signature checks API Management makes.
 * Fetching the set is the caller's business.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "jwt.h"

#define JWK_MAX_KEYS     64   /* Entra publishes about ten */
#define JWK_MIN_RSA_BITS 2048 /* RFC 7518 §3.3: 2048 or larger */
#define JWK_MAX_RSA_BITS 16384

struct jwk_set;

/*
 * Parses a JWKS document of @len bytes.  RSA keys whose "use" is absent or
 * "sig" are kept; other key types and encryption keys are skipped (counted in
 * jwk_set_skipped()).  Returns 0 and a new set, or -EINVAL / -E2BIG / -ENOMEM
 * with a message in @err naming the key by its index and kid.
 */
int jwk_set_parse(const uint8_t *text, size_t len, struct jwk_set **ret, char *err, size_t errlen);
/* jwk_set_parse() of a document already parsed (the agent's "jwks" reply). */
int jwk_set_from_json(const json_t *doc, struct jwk_set **ret, char *err, size_t errlen);
/* Frees @set; accepts NULL and returns NULL. */
struct jwk_set *jwk_set_free(struct jwk_set *set);
size_t jwk_set_count(const struct jwk_set *set);
size_t jwk_set_skipped(const struct jwk_set *set);

/*
 * The key for a token: by @kid when given, else by @x5t (Entra's v1 tokens
 * carry both, equal).  NULL when none matches.  Owned by @set.
 */
const EVP_PKEY *jwk_set_find(const struct jwk_set *set, const char *kid, const char *x5t);

/*
 * Verifies @jwt's signature over its signing input with the matching key.
 * RS256 is RSASSA-PKCS1-v1_5 with SHA-256, PS256 RSASSA-PSS with SHA-256,
 * MGF1-SHA-256 and a 32-byte salt (RFC 7518 §3.5).  Returns 0 when it
 * verifies, -EBADMSG when it does not, -ENOKEY when no key matches,
 * -EOPNOTSUPP for another algorithm, -ENOMEM; @err says which, never
 * quoting the signature.
 */
int jwk_verify(const struct jwk_set *set, const struct jwt *jwt, char *err, size_t errlen);
