/* SPDX-License-Identifier: MIT */
/*
 * JSON Web Tokens as Azure API Management's validate-jwt and
 * validate-azure-ad-token policies see them: a compact JWS decoded strictly,
 * then one check per rule, each a line of `aoai check` output.  Nothing here
 * fetches keys (jwk.h verifies signatures) or prints; error messages name the
 * part and the problem and never quote the token.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

/* Longer than any Entra token (a few KiB, more with groups) with room to spare. */
#define JWT_MAX_TOKEN  16384
#define JWT_CHECK_TEXT 256 /* expected/actual texts are cut to this, with "..." */

/* A decoded compact JWS.  Strings point into header; jwt_done() frees all. */
struct jwt {
	json_t *header;
	json_t *claims;         /* the payload, always an object */
	const char *alg;        /* never NULL after a successful decode, never "none" */
	const char *kid;        /* NULL when absent */
	const char *typ;        /* NULL when absent */
	const char *x5t;        /* NULL when absent */
	uint8_t *signing_input; /* "HEADER.PAYLOAD" as sent, what the signature covers */
	size_t signing_input_len;
	uint8_t *signature; /* decoded; never printed or copied into a message */
	size_t signature_len;
};

/*
 * Decodes the compact JWS @token of @len bytes (no surrounding space).
 * Returns 0 and fills *ret, or -EINVAL / -EMSGSIZE / -EOPNOTSUPP / -ENOMEM
 * with a message in @err and *ret zeroed.
 */
int jwt_decode(const char *token, size_t len, struct jwt *ret, char *err, size_t errlen);
/* Frees what jwt_decode() filled and zeroes @jwt; accepts a zeroed one. */
void jwt_done(struct jwt *jwt);

/*
 * Strict base64url (RFC 7515 §2): [A-Za-z0-9_-], no padding, the unused low
 * bits zero, so each text decodes from exactly one spelling.  Returns 0 and a
 * new buffer (NUL-terminated, not counted in *ret_len) or -EINVAL / -ENOMEM.
 */
int jwt_base64url_decode(const char *text, size_t len, uint8_t **ret, size_t *ret_len);

/* The outcome of one check: one line of output, `ok` or `FAIL`. */
struct jwt_check {
	const char *name; /* the claim checked: "exp", "aud", "roles" ... */
	bool ok;
	char expected[JWT_CHECK_TEXT];
	char actual[JWT_CHECK_TEXT];
};

enum jwt_match {
	JWT_MATCH_ANY, /* APIM's match="any": one required value present is enough */
	JWT_MATCH_ALL, /* match="all", APIM's default: every required value present */
};

/*
 * The lifetime checks, at @now with @skew seconds of tolerance (APIM's
 * clock-skew).  exp is required (APIM's require-expiration-time defaults to
 * true), nbf is optional.  Numeric dates may be fractional (RFC 7519 §2).
 */
void jwt_check_exp(const struct jwt *jwt, time_t now, long skew, struct jwt_check *ret);
void jwt_check_nbf(const struct jwt *jwt, time_t now, long skew, struct jwt_check *ret);

/* aud (a string or an array of strings, RFC 7519 §4.1.3) holds one of @auds. */
void jwt_check_audience(const struct jwt *jwt, const char *const *auds, size_t n,
			struct jwt_check *ret);
/* iss is one of @issuers, compared exactly as APIM does. */
void jwt_check_issuer(const struct jwt *jwt, const char *const *issuers, size_t n,
		      struct jwt_check *ret);
/* The client application: appid (v1 tokens) or else azp (v2) is one of @ids. */
void jwt_check_client_app(const struct jwt *jwt, const char *const *ids, size_t n,
			  struct jwt_check *ret);
/*
 * A required claim as in <required-claims><claim name= match= separator=>:
 * the claim's values (a string, an array of strings, or a string split at
 * each @separator when one is given, as APIM does) hold any or all of
 * @values.  With n == 0 the claim must only be present.
 */
void jwt_check_claim(const struct jwt *jwt, const char *name, const char *const *values, size_t n,
		     enum jwt_match match, const char *separator, struct jwt_check *ret);

/*
 * Entra's two issuer spellings for tenant @tid (a GUID or a domain name):
 * v1 "https://sts.windows.net/TID/", v2 "https://login.microsoftonline.com/TID/v2.0".
 * Returns 0, or -EINVAL for a tenant that is not [A-Za-z0-9.-]{1,253},
 * or -ENOBUFS when a buffer is too small.
 */
int jwt_entra_issuers(const char *tid, char *v1, size_t v1len, char *v2, size_t v2len);
/* The inverse: the tenant of @iss, one of those two spellings exactly, into
 * @tid.  Returns 0, or -EINVAL for any other issuer (or a @len too small). */
int jwt_entra_tenant(const char *iss, char *tid, size_t len);
