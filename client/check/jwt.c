/* SPDX-License-Identifier: MIT */
/*
 * Decoding a compact JWS (RFC 7515 §7.1) strictly: three base64url parts,
 * a JSON object header naming a real algorithm, a JSON object payload, a
 * non-empty signature.  JSON goes through the protocol's strict reader, so a
 * duplicated claim is refused rather than silently resolved one way here and
 * another way in API Management.  The claim checks are in jwt_check.c.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <sodium.h>

#include "errmsg.h"
#include "jwt.h"
#include "proto.h"

static const char *const part_names[] = { "header", "payload", "signature" };

static bool base64url_alphabet(const char *text, size_t len)
{
	static const char alphabet[64] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

	for (size_t i = 0; i < len; i++)
		if (!memchr(alphabet, text[i], sizeof(alphabet)))
			return false;
	return true;
}

int jwt_base64url_decode(const char *text, size_t len, uint8_t **ret, size_t *ret_len)
{
	uint8_t *out = malloc(len / 4 * 3 + 3);
	size_t n = 0;

	if (!out)
		return -ENOMEM;
	/*
	 * libsodium refuses padding, a lone sextet and non-zero spare bits, as
	 * RFC 7515 asks, but 1.0.18 takes bytes >= 0x80 for digits (the fuzz
	 * harness found it): the alphabet is checked here first.
	 */
	if (!base64url_alphabet(text, len) ||
	    sodium_base642bin(out, len / 4 * 3 + 2, text, len, NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) < 0) {
		OPENSSL_cleanse(out, len / 4 * 3 + 3);
		free(out);
		return -EINVAL;
	}
	out[n] = 0;
	*ret = out;
	*ret_len = n;
	return 0;
}

/* Splits at the dots; the counts tell a JWE (five parts) from garbage. */
static int split_parts(const char *token, size_t len, size_t start[3], size_t plen[3], char *err,
		       size_t errlen)
{
	size_t dots = 0, pos[4];

	for (size_t i = 0; i < len; i++)
		if (token[i] == '.' && dots++ < 4)
			pos[dots - 1] = i;
	if (dots == 4)
		return errmsg(err, errlen, -EOPNOTSUPP,
			      "token: 5 parts, an encrypted token (JWE), not a signed one (JWS)");
	if (dots != 2)
		return errmsg(err, errlen, -EINVAL,
			      "token: %zu parts, a JWS has 3 separated by '.'", dots + 1);
	start[0] = 0, plen[0] = pos[0];
	start[1] = pos[0] + 1, plen[1] = pos[1] - pos[0] - 1;
	start[2] = pos[1] + 1, plen[2] = len - pos[1] - 1;
	return 0;
}

static json_t *decode_object(const char *text, size_t len, int part, char *err, size_t errlen)
{
	enum proto_json_error jerr = PROTO_JSON_OK;
	uint8_t *raw;
	size_t rawlen;
	json_t *obj;
	int r;

	if (!len) {
		errmsg(err, errlen, 0, "%s: empty", part_names[part]);
		return NULL;
	}
	r = jwt_base64url_decode(text, len, &raw, &rawlen);
	if (r < 0) {
		errmsg(err, errlen, 0, "%s: %s", part_names[part],
		       r == -ENOMEM ? "out of memory"
				    : "not valid base64url (unpadded, [A-Za-z0-9_-])");
		return NULL;
	}
	obj = proto_json_parse(raw, rawlen, &jerr, NULL);
	OPENSSL_cleanse(raw, rawlen);
	free(raw);
	if (obj && !json_is_object(obj)) {
		json_decref(obj);
		obj = NULL;
		errmsg(err, errlen, 0, "%s: JSON, but not an object", part_names[part]);
	} else if (!obj) {
		errmsg(err, errlen, 0, "%s: not JSON: %s", part_names[part],
		       proto_json_error_what(jerr));
	}
	return obj;
}

/* An optional string member: absent is fine, another type is not. */
static int header_string(json_t *header, const char *key, const char **ret, char *err,
			 size_t errlen)
{
	json_t *v = json_object_get(header, key);

	*ret = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return errmsg(err, errlen, -EINVAL, "header: \"%s\" is not a string", key);
	*ret = json_string_value(v);
	return 0;
}

static int check_header(struct jwt *jwt, char *err, size_t errlen)
{
	if (header_string(jwt->header, "alg", &jwt->alg, err, errlen) < 0 ||
	    header_string(jwt->header, "kid", &jwt->kid, err, errlen) < 0 ||
	    header_string(jwt->header, "typ", &jwt->typ, err, errlen) < 0 ||
	    header_string(jwt->header, "x5t", &jwt->x5t, err, errlen) < 0)
		return -EINVAL;
	if (!jwt->alg || !*jwt->alg)
		return errmsg(err, errlen, -EINVAL, "header: no \"alg\"");
	/* An unsigned token proves nothing; APIM refuses it too. */
	if (!strcasecmp(jwt->alg, "none"))
		return errmsg(err, errlen, -EOPNOTSUPP,
			      "header: \"alg\" is none, an unsigned token");
	/* RFC 7515 §4.1.11: extensions a recipient does not know must be refused. */
	if (json_object_get(jwt->header, "crit"))
		return errmsg(err, errlen, -EOPNOTSUPP,
			      "header: \"crit\" extensions are not supported");
	return 0;
}

static int decode_signature(struct jwt *jwt, const char *text, size_t len, char *err, size_t errlen)
{
	int r;

	if (!len)
		return errmsg(err, errlen, -EINVAL,
			      "signature: empty, but \"alg\" names a signing algorithm");
	r = jwt_base64url_decode(text, len, &jwt->signature, &jwt->signature_len);
	if (r < 0)
		errmsg(err, errlen, 0, "signature: %s",
		       r == -ENOMEM ? "out of memory"
				    : "not valid base64url (unpadded, [A-Za-z0-9_-])");
	return r;
}

static int copy_signing_input(struct jwt *jwt, const char *token, size_t len, char *err,
			      size_t errlen)
{
	jwt->signing_input = malloc(len + 1);
	if (!jwt->signing_input)
		return errmsg(err, errlen, -ENOMEM, "token: out of memory");
	memcpy(jwt->signing_input, token, len);
	jwt->signing_input[len] = 0;
	jwt->signing_input_len = len;
	return 0;
}

static int decode_parts(const char *token, const size_t start[3], const size_t plen[3],
			struct jwt *jwt, char *err, size_t errlen)
{
	int r;

	jwt->header = decode_object(token + start[0], plen[0], 0, err, errlen);
	if (!jwt->header)
		return -EINVAL;
	r = check_header(jwt, err, errlen);
	if (r < 0)
		return r;
	jwt->claims = decode_object(token + start[1], plen[1], 1, err, errlen);
	if (!jwt->claims)
		return -EINVAL;
	r = decode_signature(jwt, token + start[2], plen[2], err, errlen);
	if (r < 0)
		return r;
	return copy_signing_input(jwt, token, start[2] - 1, err, errlen);
}

int jwt_decode(const char *token, size_t len, struct jwt *ret, char *err, size_t errlen)
{
	size_t start[3] = { 0 }, plen[3] = { 0 }; /* set by split_parts() */
	struct jwt jwt = { 0 };
	int r;

	errmsg(err, errlen, 0, "%s", "");
	memset(ret, 0, sizeof(*ret));
	if (len > JWT_MAX_TOKEN)
		return errmsg(err, errlen, -EMSGSIZE, "token: %zu bytes, more than %d", len,
			      JWT_MAX_TOKEN);
	r = split_parts(token, len, start, plen, err, errlen);
	if (r < 0)
		return r;
	r = decode_parts(token, start, plen, &jwt, err, errlen);
	if (r < 0) {
		jwt_done(&jwt);
		return r;
	}
	*ret = jwt;
	return 0;
}

void jwt_done(struct jwt *jwt)
{
	if (jwt->signing_input) {
		OPENSSL_cleanse(jwt->signing_input, jwt->signing_input_len);
		free(jwt->signing_input);
	}
	if (jwt->signature) {
		OPENSSL_cleanse(jwt->signature, jwt->signature_len);
		free(jwt->signature);
	}
	json_decref(jwt->header);
	json_decref(jwt->claims);
	memset(jwt, 0, sizeof(*jwt));
}
