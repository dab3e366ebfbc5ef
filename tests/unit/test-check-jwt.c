/* SPDX-License-Identifier: MIT */
/*
 * Decoding compact JWS tokens and the validate-jwt claim checks.  Signatures
 * here are arbitrary bytes: decoding never verifies (test-jwk.c does).
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

#include "jwt.h"

#define NOW      1700000000             /* 2023-11-14T22:13:20Z */
#define SIG_TEXT "c2lnbmF0dXJlLWJ5dGVz" /* base64url of "signature-bytes" */

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

/* "b64(header).b64(payload).SIG" in a static buffer. */
static const char *token3(const char *header, const char *payload, const char *sig)
{
	static char buf[3 * JWT_MAX_TOKEN];

	buf[0] = 0;
	append_b64url(buf, header, strlen(header));
	append_text(buf, ".");
	append_b64url(buf, payload, strlen(payload));
	append_text(buf, ".");
	append_text(buf, sig);
	return buf;
}

static const char *token(const char *payload)
{
	return token3("{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JWT\",\"x5t\":\"t1\"}", payload,
		      SIG_TEXT);
}

static int decode(const char *tok, struct jwt *jwt, char *err, size_t errlen)
{
	return jwt_decode(tok, strlen(tok), jwt, err, errlen);
}

/* Decoding @tok fails with @want, a message naming @part, and *jwt zeroed. */
static void refused(const char *tok, int want, const char *part)
{
	struct jwt jwt, zero = { 0 };
	char err[256];

	memset(&jwt, 0xa5, sizeof(jwt));
	assert_int_equal(decode(tok, &jwt, err, sizeof(err)), want);
	assert_memory_equal(&jwt, &zero, sizeof(jwt));
	assert_non_null(strstr(err, part));
	assert_null(strstr(err, "SECRET-"));
	assert_null(strstr(err, SIG_TEXT));
}

static void decode_valid(void **state)
{
	const char *tok = token("{\"aud\":\"api://x\",\"n\":1}");
	const char *dot2 = strrchr(tok, '.');
	struct jwt jwt;
	char err[256];

	(void)state;
	assert_int_equal(decode(tok, &jwt, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(jwt.alg, "RS256");
	assert_string_equal(jwt.kid, "k1");
	assert_string_equal(jwt.typ, "JWT");
	assert_string_equal(jwt.x5t, "t1");
	assert_string_equal(json_string_value(json_object_get(jwt.claims, "aud")), "api://x");
	assert_int_equal(jwt.signing_input_len, (size_t)(dot2 - tok));
	assert_memory_equal(jwt.signing_input, tok, jwt.signing_input_len);
	assert_int_equal(jwt.signature_len, strlen("signature-bytes"));
	assert_memory_equal(jwt.signature, "signature-bytes", jwt.signature_len);
	jwt_done(&jwt);
	assert_null(jwt.claims);
	jwt_done(&jwt); /* a zeroed one is fine */
}

static void decode_optional_header_fields(void **state)
{
	struct jwt jwt;
	char err[256];

	(void)state;
	assert_int_equal(decode(token3("{\"alg\":\"PS256\"}", "{}", SIG_TEXT), &jwt, err, 256), 0);
	assert_string_equal(jwt.alg, "PS256");
	assert_null(jwt.kid);
	assert_null(jwt.typ);
	assert_null(jwt.x5t);
	jwt_done(&jwt);
}

static void alg_none_refused(void **state)
{
	(void)state;
	refused(token3("{\"alg\":\"none\"}", "{}", SIG_TEXT), -EOPNOTSUPP, "none");
	refused(token3("{\"alg\":\"None\"}", "{}", ""), -EOPNOTSUPP, "none");
	refused(token3("{\"typ\":\"JWT\"}", "{}", SIG_TEXT), -EINVAL, "header: no \"alg\"");
	refused(token3("{\"alg\":\"\"}", "{}", SIG_TEXT), -EINVAL, "header: no \"alg\"");
	refused(token3("{\"alg\":256}", "{}", SIG_TEXT), -EINVAL, "\"alg\" is not a string");
	refused(token3("{\"alg\":\"RS256\",\"kid\":1}", "{}", SIG_TEXT), -EINVAL, "\"kid\"");
	refused(token3("{\"alg\":\"RS256\",\"crit\":[\"b64\"]}", "{}", SIG_TEXT), -EOPNOTSUPP,
		"crit");
}

static void empty_signature_refused(void **state)
{
	(void)state;
	refused(token3("{\"alg\":\"RS256\"}", "{}", ""), -EINVAL, "signature: empty");
}

static void part_counts(void **state)
{
	(void)state;
	refused("", -EINVAL, "1 parts");
	refused("eyJhbGciOiJSUzI1NiJ9", -EINVAL, "1 parts");
	refused("eyJhbGciOiJSUzI1NiJ9.e30", -EINVAL, "2 parts");
	refused("eyJhbGciOiJSUzI1NiJ9.e30.c2ln.c2ln", -EINVAL, "4 parts");
	refused("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", -EOPNOTSUPP, "JWE");
	refused("a.b.c.d.e.f", -EINVAL, "6 parts");
	refused(".e30.c2ln", -EINVAL, "header: empty");
	refused("eyJhbGciOiJSUzI1NiJ9..c2ln", -EINVAL, "payload: empty");
}

static void malformed_base64url(void **state)
{
	char buf[256];

	(void)state;
	/* Padding, the standard alphabet, a lone 6-bit character, spare bits set. */
	snprintf(buf, sizeof(buf), "%s=", token("{}"));
	refused(buf, -EINVAL, "signature: not valid base64url");
	refused("eyJhbGciOiJSUzI1NiJ9.e30=.c2ln", -EINVAL, "payload: not valid base64url");
	refused("eyJhbGciOiJSUzI1NiJ9.e30.c2l+", -EINVAL, "signature: not valid");
	refused("eyJhbGciOiJSUzI1NiJ9.e30.c2l/", -EINVAL, "signature: not valid");
	refused("eyJhbGciOiJSUzI1NiJ9.e30.c2lnA", -EINVAL, "signature: not valid");
	refused("eyJhbGciOiJSUzI1NiJ9.e31.c2ln", -EINVAL, "payload: not valid");
	refused("eyJhbGciOiJSUzI1NiJ9 .e30.c2ln", -EINVAL, "header: not valid");
}

static void base64url_decoder(void **state)
{
	uint8_t *out;
	size_t len;

	(void)state;
	assert_int_equal(jwt_base64url_decode("", 0, &out, &len), 0);
	assert_int_equal(len, 0);
	free(out);
	assert_int_equal(jwt_base64url_decode("_-8", 3, &out, &len), 0);
	assert_int_equal(len, 2);
	assert_int_equal(out[0], 0xff);
	assert_int_equal(out[1], 0xef);
	assert_int_equal(out[2], 0);
	free(out);
	assert_int_equal(jwt_base64url_decode("_-9", 3, &out, &len), -EINVAL);
	/* Only the alphabet: no byte >= 0x80 (libsodium 1.0.18 alone takes them), no NUL,
	 * no padding, no standard-alphabet '+' or '/'. */
	for (unsigned c = 0; c < 256; c++) {
		char text[5] = { 'Q', 'Q', 'Q', (char)c, 0 };
		bool valid = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '_';
		int r = jwt_base64url_decode(text, 4, &out, &len);

		assert_int_equal(r, valid ? 0 : -EINVAL);
		if (r == 0)
			free(out);
	}
	assert_int_equal(jwt_base64url_decode("QQ==", 4, &out, &len), -EINVAL);
	assert_int_equal(jwt_base64url_decode("Q", 1, &out, &len), -EINVAL);
}

static void bad_json(void **state)
{
	(void)state;
	refused(token3("{\"alg\":\"RS256\"", "{}", SIG_TEXT), -EINVAL, "header: not JSON");
	refused(token3("{\"alg\":\"RS256\"}", "{\"a\":SECRET-1}", SIG_TEXT), -EINVAL,
		"payload: not JSON");
	refused(token3("[\"RS256\"]", "{}", SIG_TEXT), -EINVAL, "header: JSON, but not an object");
	refused(token3("{\"alg\":\"RS256\"}", "[1]", SIG_TEXT), -EINVAL,
		"payload: JSON, but not an object");
	refused(token3("{\"alg\":\"RS256\"}", "\"SECRET-x\"", SIG_TEXT), -EINVAL,
		"payload: not JSON");
	refused(token3("{\"alg\":\"RS256\"}", "{} x", SIG_TEXT), -EINVAL, "payload: not JSON");
}

static void duplicate_keys(void **state)
{
	(void)state;
	refused(token3("{\"alg\":\"RS256\",\"alg\":\"none\"}", "{}", SIG_TEXT), -EINVAL, "header");
	refused(token3("{\"alg\":\"RS256\"}", "{\"aud\":\"a\",\"aud\":\"SECRET-b\"}", SIG_TEXT),
		-EINVAL, "payload: not JSON");
}

/* A token of exactly @size bytes, padded with a claim. */
static const char *token_of_size(size_t size)
{
	static char payload[JWT_MAX_TOKEN * 2];
	const char *tok;
	size_t pad = 0, len;

	do {
		snprintf(payload, sizeof(payload), "{\"p\":\"%0*d\"}", (int)pad, 0);
		tok = token(payload);
		len = strlen(tok);
		pad++;
	} while (len < size);
	return tok;
}

static void oversize(void **state)
{
	const char *tok;
	struct jwt jwt;
	char err[256];

	(void)state;
	/* Base64 grows in steps of 4 characters per 3 bytes: find sizes around the limit. */
	tok = token_of_size(JWT_MAX_TOKEN - 3);
	assert_true(strlen(tok) <= JWT_MAX_TOKEN);
	assert_int_equal(decode(tok, &jwt, err, sizeof(err)), 0);
	jwt_done(&jwt);
	tok = token_of_size(JWT_MAX_TOKEN + 1);
	assert_true(strlen(tok) > JWT_MAX_TOKEN);
	refused(tok, -EMSGSIZE, "more than 16384");
}

static void short_error_buffer(void **state)
{
	struct jwt jwt;
	char err[8];

	(void)state;
	assert_int_equal(decode(token3("{\"alg\":\"none\"}", "{}", SIG_TEXT), &jwt, err, 8),
			 -EOPNOTSUPP);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(decode(token3("{\"alg\":\"none\"}", "{}", SIG_TEXT), &jwt, NULL, 0),
			 -EOPNOTSUPP);
}

/* Decodes a token carrying @payload for a claim check; the caller calls jwt_done(). */
static struct jwt claims(const char *payload)
{
	struct jwt jwt;
	char err[256];

	assert_int_equal(decode(token(payload), &jwt, err, sizeof(err)), 0);
	return jwt;
}

static void lifetime_exp(void **state)
{
	struct jwt jwt = claims("{\"exp\":1700000060}");
	struct jwt_check c;

	(void)state;
	jwt_check_exp(&jwt, NOW, 0, &c);
	assert_true(c.ok);
	assert_string_equal(c.name, "exp");
	assert_string_equal(c.actual, "2023-11-14T22:14:20Z (1700000060)");
	assert_non_null(strstr(c.expected, "2023-11-14T22:13:20Z"));
	jwt_check_exp(&jwt, NOW + 60, 0, &c); /* refused at exp itself */
	assert_false(c.ok);
	jwt_check_exp(&jwt, NOW + 90, 0, &c);
	assert_false(c.ok);
	jwt_check_exp(&jwt, NOW + 90, 31, &c); /* skew honoured */
	assert_true(c.ok);
	jwt_check_exp(&jwt, NOW + 90, 30, &c);
	assert_false(c.ok);
	jwt_done(&jwt);
}

static void lifetime_exp_shapes(void **state)
{
	struct jwt_check c;
	struct jwt jwt;

	(void)state;
	jwt = claims("{}");
	jwt_check_exp(&jwt, NOW, 300, &c);
	assert_false(c.ok);
	assert_string_equal(c.actual, "absent");
	jwt_done(&jwt);
	jwt = claims("{\"exp\":\"1700000060\"}");
	jwt_check_exp(&jwt, NOW, 0, &c);
	assert_false(c.ok);
	assert_string_equal(c.actual, "not a date in seconds since 1970");
	jwt_done(&jwt);
	jwt = claims("{\"exp\":1700000000.5}");
	jwt_check_exp(&jwt, NOW, 0, &c);
	assert_true(c.ok);
	jwt_done(&jwt);
	jwt = claims("{\"exp\":1e300}");
	jwt_check_exp(&jwt, NOW, 0, &c);
	assert_false(c.ok);
	jwt_done(&jwt);
}

static void lifetime_nbf(void **state)
{
	struct jwt_check c;
	struct jwt jwt;

	(void)state;
	jwt = claims("{\"exp\":1700003600}");
	jwt_check_nbf(&jwt, NOW, 0, &c);
	assert_true(c.ok);
	assert_string_equal(c.actual, "absent");
	jwt_done(&jwt);
	jwt = claims("{\"nbf\":1700000100}");
	jwt_check_nbf(&jwt, NOW, 0, &c);
	assert_false(c.ok); /* not yet valid */
	jwt_check_nbf(&jwt, NOW, 99, &c);
	assert_false(c.ok);
	jwt_check_nbf(&jwt, NOW, 100, &c); /* skew honoured */
	assert_true(c.ok);
	jwt_check_nbf(&jwt, NOW + 100, 0, &c);
	assert_true(c.ok);
	jwt_done(&jwt);
	jwt = claims("{\"nbf\":null}");
	jwt_check_nbf(&jwt, NOW, 0, &c);
	assert_false(c.ok);
	jwt_done(&jwt);
}

static void audience(void **state)
{
	const char *const auds[] = { "api://one", "https://cognitiveservices.azure.com" };
	struct jwt_check c;
	struct jwt jwt;

	(void)state;
	jwt = claims("{\"aud\":\"https://cognitiveservices.azure.com\"}");
	jwt_check_audience(&jwt, auds, 2, &c);
	assert_true(c.ok);
	assert_string_equal(c.name, "aud");
	assert_string_equal(c.expected, "one of api://one, https://cognitiveservices.azure.com");
	jwt_check_audience(&jwt, auds, 1, &c);
	assert_false(c.ok); /* wrong audience */
	assert_string_equal(c.expected, "api://one");
	assert_string_equal(c.actual, "https://cognitiveservices.azure.com");
	jwt_done(&jwt);
	jwt = claims("{\"aud\":[\"api://other\",\"api://one\"]}"); /* RFC 7519: an array */
	jwt_check_audience(&jwt, auds, 2, &c);
	assert_true(c.ok);
	assert_string_equal(c.actual, "[\"api://other\",\"api://one\"]");
	jwt_check_audience(&jwt, auds + 1, 1, &c);
	assert_false(c.ok);
	jwt_done(&jwt);
	jwt = claims("{\"sub\":\"x\"}");
	jwt_check_audience(&jwt, auds, 2, &c);
	assert_false(c.ok);
	assert_string_equal(c.actual, "absent");
	jwt_done(&jwt);
	jwt = claims("{\"aud\":[1,{\"a\":\"api://one\"}]}");
	jwt_check_audience(&jwt, auds, 2, &c);
	assert_false(c.ok);
	jwt_done(&jwt);
}

static void issuer(void **state)
{
	const char *tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
	char v1[128], v2[128];
	const char *const iss[] = { v1, v2 };
	struct jwt_check c;
	struct jwt jwt;

	(void)state;
	assert_int_equal(jwt_entra_issuers(tid, v1, sizeof(v1), v2, sizeof(v2)), 0);
	assert_string_equal(v1, "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/");
	assert_string_equal(
	    v2, "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0");
	jwt = claims("{\"iss\":\"https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/\"}");
	jwt_check_issuer(&jwt, iss, 2, &c);
	assert_true(c.ok); /* v1 */
	jwt_check_issuer(&jwt, iss + 1, 1, &c);
	assert_false(c.ok);
	jwt_done(&jwt);
	jwt = claims("{\"iss\":\"https://login.microsoftonline.com/"
		     "72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0\"}");
	jwt_check_issuer(&jwt, iss, 2, &c);
	assert_true(c.ok); /* v2 */
	jwt_done(&jwt);
	jwt = claims("{\"iss\":\"https://sts.windows.net/00000000-0000-0000-0000-000000000000/\"}");
	jwt_check_issuer(&jwt, iss, 2, &c);
	assert_false(c.ok); /* another tenant */
	jwt_done(&jwt);
	jwt =
	    claims("{\"iss\":[\"https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/\"]}");
	jwt_check_issuer(&jwt, iss, 2, &c);
	assert_false(c.ok); /* iss is never an array */
	jwt_done(&jwt);
}

static void entra_issuers_refused(void **state)
{
	char v1[128], v2[128], small[16];

	(void)state;
	assert_int_equal(jwt_entra_issuers("", v1, sizeof(v1), v2, sizeof(v2)), -EINVAL);
	assert_int_equal(jwt_entra_issuers("a/b", v1, sizeof(v1), v2, sizeof(v2)), -EINVAL);
	assert_int_equal(jwt_entra_issuers("a?b", v1, sizeof(v1), v2, sizeof(v2)), -EINVAL);
	assert_int_equal(
	    jwt_entra_issuers("contoso.onmicrosoft.com", v1, sizeof(v1), v2, sizeof(v2)), 0);
	assert_int_equal(jwt_entra_issuers("contoso", v1, sizeof(v1), small, sizeof(small)),
			 -ENOBUFS);
}

static void entra_tenant_of_issuer(void **state)
{
	const char *tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
	char got[64], small[8];

	(void)state;
	assert_int_equal(jwt_entra_tenant("https://sts.windows.net/72f988bf-86f1-41af-91ab-"
					  "2d7cd011db47/",
					  got, sizeof(got)),
			 0);
	assert_string_equal(got, tid);
	assert_int_equal(jwt_entra_tenant("https://login.microsoftonline.com/contoso.com/v2.0", got,
					  sizeof(got)),
			 0);
	assert_string_equal(got, "contoso.com");
	/* Only the two exact spellings. */
	assert_int_equal(
	    jwt_entra_tenant("https://login.microsoftonline.com/t/v2.0/x", got, sizeof(got)),
	    -EINVAL);
	assert_int_equal(jwt_entra_tenant("https://sts.windows.net/t", got, sizeof(got)), -EINVAL);
	assert_int_equal(jwt_entra_tenant("https://sts.windows.net//", got, sizeof(got)), -EINVAL);
	assert_int_equal(jwt_entra_tenant("https://sts.windows.net/a?b/", got, sizeof(got)),
			 -EINVAL);
	assert_int_equal(jwt_entra_tenant("https://issuer.example/t/", got, sizeof(got)), -EINVAL);
	assert_int_equal(
	    jwt_entra_tenant("https://sts.windows.net/contoso.com/", small, sizeof(small)),
	    -EINVAL);
}

static void client_app(void **state)
{
	const char *const ids[] = { "11111111-1111-1111-1111-111111111111" };
	struct jwt_check c;
	struct jwt jwt;

	(void)state;
	jwt = claims("{\"appid\":\"11111111-1111-1111-1111-111111111111\",\"ver\":\"1.0\"}");
	jwt_check_client_app(&jwt, ids, 1, &c);
	assert_true(c.ok);
	assert_string_equal(c.name, "appid");
	jwt_done(&jwt);
	jwt = claims("{\"azp\":\"11111111-1111-1111-1111-111111111111\",\"ver\":\"2.0\"}");
	jwt_check_client_app(&jwt, ids, 1, &c);
	assert_true(c.ok);
	assert_string_equal(c.name, "azp");
	jwt_done(&jwt);
	jwt = claims("{\"azp\":\"22222222-2222-2222-2222-222222222222\"}");
	jwt_check_client_app(&jwt, ids, 1, &c);
	assert_false(c.ok);
	assert_string_equal(c.actual, "22222222-2222-2222-2222-222222222222");
	jwt_done(&jwt);
	jwt = claims("{}");
	jwt_check_client_app(&jwt, ids, 1, &c);
	assert_false(c.ok);
	assert_string_equal(c.actual, "absent");
	jwt_done(&jwt);
	jwt = claims("{\"appid\":[\"11111111-1111-1111-1111-111111111111\"]}");
	jwt_check_client_app(&jwt, ids, 1, &c);
	assert_false(c.ok);
	jwt_done(&jwt);
}

static void required_roles(void **state)
{
	const char *const want[] = { "Reader", "Writer" };
	struct jwt jwt = claims("{\"roles\":[\"Reader\",\"Admin\"]}");
	struct jwt_check c;

	(void)state;
	jwt_check_claim(&jwt, "roles", want, 2, JWT_MATCH_ANY, NULL, &c);
	assert_true(c.ok);
	assert_string_equal(c.name, "roles");
	assert_string_equal(c.expected, "any of Reader, Writer");
	jwt_check_claim(&jwt, "roles", want, 2, JWT_MATCH_ALL, NULL, &c);
	assert_false(c.ok);
	assert_string_equal(c.expected, "all of Reader, Writer");
	assert_string_equal(c.actual, "[\"Reader\",\"Admin\"]");
	jwt_check_claim(&jwt, "roles", want, 1, JWT_MATCH_ALL, NULL, &c);
	assert_true(c.ok);
	jwt_check_claim(&jwt, "roles", want + 1, 1, JWT_MATCH_ANY, NULL, &c);
	assert_false(c.ok);
	jwt_check_claim(&jwt, "roles", NULL, 0, JWT_MATCH_ALL, NULL, &c);
	assert_true(c.ok);
	assert_string_equal(c.expected, "present");
	jwt_check_claim(&jwt, "groups", NULL, 0, JWT_MATCH_ALL, NULL, &c);
	assert_false(c.ok);
	assert_string_equal(c.actual, "absent");
	jwt_done(&jwt);
	jwt = claims("{\"roles\":\"Reader Writer\"}"); /* only scp is space-separated */
	jwt_check_claim(&jwt, "roles", want, 1, JWT_MATCH_ANY, NULL, &c);
	assert_false(c.ok);
	jwt_done(&jwt);
}

static void required_scp(void **state)
{
	const char *const want[] = { "User.Read", "Mail.Send" };
	const char *const partial[] = { "User.Re", "Mail" };
	struct jwt jwt = claims("{\"scp\":\"User.ReadWrite  Mail.Send User.Read\"}");
	struct jwt_check c;

	(void)state;
	jwt_check_claim(&jwt, "scp", want, 2, JWT_MATCH_ALL, " ", &c);
	assert_true(c.ok);
	jwt_check_claim(&jwt, "scp", partial, 2, JWT_MATCH_ANY, " ", &c);
	assert_false(c.ok); /* words, not prefixes */
	jwt_done(&jwt);
	jwt = claims("{\"scp\":\"Mail.Send\"}");
	jwt_check_claim(&jwt, "scp", want, 2, JWT_MATCH_ALL, " ", &c);
	assert_false(c.ok);
	jwt_check_claim(&jwt, "scp", want, 2, JWT_MATCH_ANY, " ", &c);
	assert_true(c.ok);
	jwt_done(&jwt);
	jwt = claims("{\"scp\":\"\"}");
	jwt_check_claim(&jwt, "scp", partial, 2, JWT_MATCH_ANY, " ", &c);
	assert_false(c.ok);
	jwt_done(&jwt);
	/* Without a separator a string is one value, as APIM compares it. */
	jwt = claims("{\"scp\":\"User.Read Mail.Send\",\"grp\":\"a,,b\"}");
	jwt_check_claim(&jwt, "scp", want, 1, JWT_MATCH_ANY, NULL, &c);
	assert_false(c.ok);
	jwt_check_claim(&jwt, "grp", (const char *const[]){ "a", "b" }, 2, JWT_MATCH_ALL, ",", &c);
	assert_true(c.ok);
	jwt_check_claim(&jwt, "grp", (const char *const[]){ "a,," }, 1, JWT_MATCH_ANY, ",", &c);
	assert_false(c.ok);
	jwt_done(&jwt);
}

static void long_texts_cut(void **state)
{
	static char value[1000];
	const char *const want[] = { value, value };
	struct jwt jwt;
	struct jwt_check c;
	char payload[1200];

	(void)state;
	memset(value, 'v', sizeof(value) - 1);
	snprintf(payload, sizeof(payload), "{\"aud\":\"%s\"}", value);
	jwt = claims(payload);
	jwt_check_audience(&jwt, want, 2, &c);
	assert_true(c.ok);
	assert_int_equal(strlen(c.expected), JWT_CHECK_TEXT - 1);
	assert_int_equal(strlen(c.actual), JWT_CHECK_TEXT - 1);
	assert_string_equal(c.actual + JWT_CHECK_TEXT - 4, "...");
	jwt_done(&jwt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_valid),
		cmocka_unit_test(decode_optional_header_fields),
		cmocka_unit_test(alg_none_refused),
		cmocka_unit_test(empty_signature_refused),
		cmocka_unit_test(part_counts),
		cmocka_unit_test(malformed_base64url),
		cmocka_unit_test(base64url_decoder),
		cmocka_unit_test(bad_json),
		cmocka_unit_test(duplicate_keys),
		cmocka_unit_test(oversize),
		cmocka_unit_test(short_error_buffer),
		cmocka_unit_test(lifetime_exp),
		cmocka_unit_test(lifetime_exp_shapes),
		cmocka_unit_test(lifetime_nbf),
		cmocka_unit_test(audience),
		cmocka_unit_test(issuer),
		cmocka_unit_test(entra_issuers_refused),
		cmocka_unit_test(entra_tenant_of_issuer),
		cmocka_unit_test(client_app),
		cmocka_unit_test(required_roles),
		cmocka_unit_test(required_scp),
		cmocka_unit_test(long_texts_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
