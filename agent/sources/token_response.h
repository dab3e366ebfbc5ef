/* SPDX-License-Identifier: MIT */
/*
 * The body of an identity endpoint's answer: a token from any source
 * (IMDS, App Service, Azure Arc, Cloud Shell, Service Fabric, the Entra
 * v2.0 token endpoint, `az account get-access-token`), or a one-line
 * description of its error.  Pure functions: no I/O, no logging.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define TOKEN_RESPONSE_MAX_TOKEN 16384 /* bytes of an access token */
#define TOKEN_RESPONSE_MAX_LIFETIME \
	(366 * 24 * 3600) /* seconds; beyond is a broken clock or peer */
#define TOKEN_RESPONSE_TYPE_MAX    15
#define TOKEN_RESPONSE_ACCOUNT_MAX 255
#define TOKEN_RESPONSE_MAX_REFRESH 16384 /* bytes of a refresh token */
#define TOKEN_RESPONSE_MAX_ID      16384 /* bytes of an ID token */

struct token_response {
	char *access_token; /* malloc'ed; token_response_done() wipes and frees it */
	size_t access_token_len;
	int64_t expires_on;                           /* unix seconds */
	int64_t refresh_in;                           /* seconds from now, -1 when absent */
	char token_type[TOKEN_RESPONSE_TYPE_MAX + 1]; /* "Bearer" when absent */
	/* Signing a person in (RFC 6749 §6): the refresh token when the
	 * response has one (sodium memory, freed by token_response_done()),
	 * and who signed in, read without verification from the ID token's
	 * (else the access token's) preferred_username, upn or email: for
	 * display only, "" when none. */
	char *refresh_token;
	size_t refresh_token_len;
	char account[TOKEN_RESPONSE_ACCOUNT_MAX + 1];
};

/*
 * Parses the body of a 200 response.  The expiry is read from "expires_on"
 * (epoch seconds as a number or a string of digits, or App Service
 * 2017-09-01's "06/20/2019 02:57:58 +00:00"), else the Azure CLI's
 * "expiresOn" (local time "2019-06-20 04:57:58.000000"), else "expires_in"
 * seconds from @now.  Returns 0 and fills @ret, or -EINVAL / -ENOMEM with
 * a message in @err that never holds the token; @ret is untouched then.
 */
int token_response_parse(const char *body, size_t len, int64_t now, struct token_response *ret,
			 char *err, size_t errlen);
/*
 * Checks that the @n bytes of @s can go out as "Authorization: Bearer
 * <token>", as the agent serves every token: RFC 6750's b64token, 1*(ALPHA
 * / DIGIT / "-" / "." / "_" / "~" / "+" / "/") *"=" (printable ASCII, no
 * space).  token_response_parse() applies it to every source's token.
 * Returns 0, or -EINVAL with a message in @err that gives the byte offset
 * and kind of the first bad byte, never the token.
 */
int token_response_check_token(const char *s, size_t n, char *err, size_t errlen);
/* Wipes and frees the token.  Safe on a zeroed struct; leaves @r zeroed. */
void token_response_done(struct token_response *r);

/*
 * Writes a one-line description of an identity error body into @out:
 * "error: error_description" (Entra, IMDS), "code: message" (App Service,
 * Arc, Service Fabric: {"error":{"code","message"}}), "message"
 * ({"statusCode","message"}, {"Message"}), else the first bytes of the
 * body.  Line breaks become spaces and other control bytes '?'.  Always
 * NUL-terminates when @outlen > 0; never writes more than @outlen bytes.
 */
void token_error_describe(const char *body, size_t len, char *out, size_t outlen);
