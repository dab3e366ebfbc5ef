/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "token_response.h"

#define NOW      INT64_C(1700000000) /* 2023-11-14 22:13:20 UTC */
#define HOUR     (NOW + 3600)
#define SENTINEL "eyJ0eXAiOiJKV1Qi.SENTINEL-TOKEN-7c1d.c2ln"

static void expect_ok(const char *body, int64_t expires_on, int64_t refresh_in, const char *type)
{
	struct token_response t = { .refresh_in = 12345 };
	char err[256] = "";

	if (token_response_parse(body, strlen(body), NOW, &t, err, sizeof(err)) < 0)
		fail_msg("%s: %s", body, err);
	assert_string_equal(t.access_token, SENTINEL);
	assert_int_equal(t.access_token_len, strlen(SENTINEL));
	assert_int_equal(t.expires_on, expires_on);
	assert_int_equal(t.refresh_in, refresh_in);
	assert_string_equal(t.token_type, type);
	token_response_done(&t);
	assert_null(t.access_token);
	assert_int_equal(t.access_token_len, 0);
}

/* Fails with @why in the message, which never holds the token; @ret is left alone. */
static void expect_fail_len(const char *body, size_t len, int want, const char *why)
{
	struct token_response t = { .access_token = (char *)"untouched", .expires_on = 7 };
	char err[256] = "";

	assert_int_equal(token_response_parse(body, len, NOW, &t, err, sizeof(err)), want);
	if (!strstr(err, why))
		fail_msg("%s: message \"%s\" lacks \"%s\"", body ? body : "(null)", err, why);
	assert_null(strstr(err, "SENTINEL"));
	assert_string_equal(t.access_token, "untouched");
	assert_int_equal(t.expires_on, 7);
}

static void expect_fail(const char *body, const char *why)
{
	expect_fail_len(body, strlen(body), -EINVAL, why);
}

static void test_imds(void **state)
{
	(void)state;
	/* IMDS, Azure Arc and Cloud Shell: every number a string; expires_on wins */
	expect_ok(
	    "{\"access_token\":\"" SENTINEL "\",\"client_id\":\"c\",\"expires_in\":\"86399\","
	    "\"expires_on\":\"1700003600\",\"ext_expires_in\":\"86399\","
	    "\"not_before\":\"1699999700\",\"resource\":\"https://cognitiveservices.azure.com/\","
	    "\"token_type\":\"Bearer\"}",
	    HOUR, -1, "Bearer");
	expect_ok("{\"access_token\":\"" SENTINEL "\",\"expires_in\":\"3599\"}", NOW + 3599, -1,
		  "Bearer");
	/* Cloud Shell carries an empty refresh_token too */
	expect_ok(
	    "{\"access_token\":\"" SENTINEL "\",\"refresh_token\":\"\",\"expires_in\":\"3600\","
	    "\"expires_on\":\"1700003600\",\"not_before\":\"1699999700\","
	    "\"resource\":\"https://management.core.windows.net/\",\"token_type\":\"Bearer\"}",
	    HOUR, -1, "Bearer");
}

static void test_app_service_and_fabric(void **state)
{
	(void)state;
	/* App Service 2019-08-01: expires_on a string of epoch seconds */
	expect_ok("{\"access_token\":\"" SENTINEL "\",\"expires_on\":\"1700003600\","
		  "\"resource\":\"https://cognitiveservices.azure.com\",\"token_type\":\"Bearer\","
		  "\"client_id\":\"00000000-0000-0000-0000-000000000000\"}",
		  HOUR, -1, "Bearer");
	/* Service Fabric: a number */
	expect_ok("{\"token_type\":\"Bearer\",\"access_token\":\"" SENTINEL "\","
		  "\"expires_on\":1700003600,\"resource\":\"r\"}",
		  HOUR, -1, "Bearer");
	/* a JSON null counts as absent */
	expect_ok("{\"access_token\":\"" SENTINEL "\",\"expires_on\":null,\"expires_in\":60,"
		  "\"token_type\":null,\"refresh_in\":null}",
		  NOW + 60, -1, "Bearer");
}

static void test_entra(void **state)
{
	(void)state;
	expect_ok("{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,"
		  "\"access_token\":\"" SENTINEL "\"}",
		  NOW + 3599, -1, "Bearer");
	expect_ok("{\"token_type\":\"bearer\",\"expires_in\":86399,\"refresh_in\":43199,"
		  "\"access_token\":\"" SENTINEL "\"}",
		  NOW + 86399, 43199, "Bearer");
	expect_ok("{\"token_type\":\"BEARER\",\"expires_in\":\"86399\",\"refresh_in\":\"43199\","
		  "\"access_token\":\"" SENTINEL "\"}",
		  NOW + 86399, 43199, "Bearer");
	expect_ok("{\"token_type\":\"pop\",\"expires_in\":10,\"refresh_in\":0,"
		  "\"access_token\":\"" SENTINEL "\"}",
		  NOW + 10, 0, "pop");
	expect_ok("{\"token_type\":\"ExactlyFifteen.\",\"expires_in\":10,"
		  "\"access_token\":\"" SENTINEL "\"}",
		  NOW + 10, -1, "ExactlyFifteen.");
}

static void expect_date(const char *date, int64_t want)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"access_token\":\"%s\",\"expires_on\":\"%s\"}", SENTINEL,
		 date);
	expect_ok(body, want, -1, "Bearer");
}

static void expect_bad_date(const char *date)
{
	char body[256];

	snprintf(body, sizeof(body),
		 "{\"access_token\":\"%s\",\"expires_on\":\"%s\",\"expires_in\":3600}", SENTINEL,
		 date);
	expect_fail(body, "expires_on is neither");
}

static void test_app_service_2017(void **state)
{
	(void)state;
	expect_date("11/14/2023 23:13:20 +00:00", HOUR);    /* Linux */
	expect_date("11/14/2023 11:13:20 PM +00:00", HOUR); /* Windows */
	expect_date("11/15/2023 12:13:20 AM +01:00", HOUR); /* 12 AM is midnight */
	expect_date("11/15/2023 00:43:20 +01:30", HOUR);    /* the offset is applied */
	expect_date("11/14/2023 18:13:20 -05:00", HOUR);
	expect_date("2/29/2024 11:00:00 PM +00:00", 1709247600); /* a leap day */
	expect_bad_date("02/29/2023 23:00:00 +00:00");           /* not a leap year */
	expect_bad_date("13/14/2023 23:13:20 +00:00");
	expect_bad_date("11/31/2023 23:13:20 +00:00");
	expect_bad_date("11/14/2023 24:13:20 +00:00");
	expect_bad_date("11/14/2023 13:13:20 PM +00:00");
	expect_bad_date("11/14/2023 23:13:20");
	expect_bad_date("11/14/2023 23:13:20 +00:00 ");
	expect_bad_date("11/14/2023 23:13:20 UTC");
	expect_bad_date("11/14/2023 23:13:20 +24:00");
	expect_bad_date("11/14/23 23:13:20 +00:00");
	expect_bad_date("2023-11-14T23:13:20Z");
}

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static void test_azure_cli(void **state)
{
	(void)state;
	/* expires_on (Azure CLI 2.54+) wins over the local expiresOn */
	expect_ok("{\"accessToken\":\"" SENTINEL "\",\"expiresOn\":\"2000-01-01 00:00:00.000000\","
		  "\"expires_on\":1700003600,\"subscription\":\"s\",\"tenant\":\"t\","
		  "\"tokenType\":\"Bearer\"}",
		  HOUR, -1, "Bearer");
	/* only expiresOn: local time, here two hours east of UTC */
	set_tz("XST-2");
	expect_ok("{\"accessToken\":\"" SENTINEL "\",\"expiresOn\":\"2023-11-15 01:13:20.123456\","
		  "\"tokenType\":\"Bearer\"}",
		  HOUR, -1, "Bearer");
	expect_ok("{\"accessToken\":\"" SENTINEL "\",\"expiresOn\":\"2023-11-15 01:13:20\"}", HOUR,
		  -1, "Bearer");
	/* daylight saving time is looked up for the date itself (CEST in July) */
	set_tz("CET-1CEST,M3.5.0,M10.5.0/3");
	expect_ok("{\"accessToken\":\"" SENTINEL "\",\"expiresOn\":\"2024-07-01 12:00:00.000000\"}",
		  1719828000, -1, "Bearer");
}

static void test_azure_cli_bad(void **state)
{
	(void)state;
	set_tz("UTC0");
	expect_fail("{\"accessToken\":\"" SENTINEL "\",\"expiresOn\":\"2023-11-14 24:13:20\"}",
		    "expiresOn is not a date");
	expect_fail("{\"accessToken\":\"" SENTINEL "\",\"expiresOn\":\"2023-11-14T23:13:20\"}",
		    "expiresOn is not a date");
	expect_fail("{\"accessToken\":\"" SENTINEL "\",\"expiresOn\":\"2023-11-14 23:13:20.\"}",
		    "expiresOn is not a date");
	expect_fail("{\"accessToken\":\"" SENTINEL "\",\"expiresOn\":1700003600}",
		    "expiresOn is not a date");
	expect_fail("{\"accessToken\":\"" SENTINEL "\",\"expiresOn\":\"2023-11-14 22:13:20\"}",
		    "already expired");
	expect_fail("{\"accessToken\":\"" SENTINEL "\",\"tokenType\":42,\"expires_on\":1700003600}",
		    "token_type is not a string");
}

static void test_not_a_token(void **state)
{
	(void)state;
	expect_fail("<html><body>" SENTINEL "</body></html>", "response is not JSON");
	expect_fail("{\"access_token\":\"" SENTINEL "\",\"expires_in\":3600",
		    "response is not JSON");
	expect_fail("[{\"access_token\":\"" SENTINEL "\",\"expires_in\":3600}]",
		    "not a JSON object");
	expect_fail("\"" SENTINEL "\"", "not JSON"); /* jansson wants an object or array */
	expect_fail("{}", "no access_token");
	expect_fail("{\"expires_in\":3600}", "no access_token");
	expect_fail("{\"access_token\":null,\"expires_in\":3600}", "no access_token");
	expect_fail("{\"access_token\":\"\",\"expires_in\":3600}", "access_token is empty");
	expect_fail("{\"access_token\":42,\"expires_in\":3600}", "access_token is not a string");
	expect_fail("{\"access_token\":[\"" SENTINEL "\"],\"expires_in\":3600}",
		    "access_token is not a string");
	expect_fail("{\"access_token\":\"" SENTINEL "\\nX-Evil: 1\",\"expires_in\":3600}",
		    "control character");
	expect_fail("{\"access_token\":\"" SENTINEL "\\u007f\",\"expires_in\":3600}",
		    "control character");
	/* jansson refuses \u0000 and raw NUL bytes */
	expect_fail("{\"access_token\":\"" SENTINEL "\\u0000\",\"expires_in\":3600}", "not JSON");
	expect_fail_len("{\"access_token\":\"a\0b\",\"expires_in\":3600}", 36, -EINVAL, "not JSON");
	expect_fail_len("", 0, -EINVAL, "empty response");
	expect_fail_len(NULL, 10, -EINVAL, "empty response");
}

/* Every source's token goes out as "Authorization: Bearer …": RFC 6750's
 * b64token, refused at the source with the offset and kind of byte. */
static void test_token_alphabet(void **state)
{
	struct token_response t = { 0 };
	const char *body;
	char err[256];

	(void)state;
	expect_fail("{\"access_token\":\"" SENTINEL "\u00e9\",\"expires_in\":3600}",
		    "byte 41 is a non-ASCII byte");
	expect_fail("{\"access_token\":\"eyJ0\u00e9" SENTINEL "\",\"expires_in\":3600}",
		    "byte 4 is a non-ASCII byte");
	expect_fail("{\"accessToken\":\"" SENTINEL "\u00e9\",\"expiresOn\":\"2099-01-01 "
		    "00:00:00\"}",
		    "not a bearer token"); /* Azure CLI */
	expect_fail("{\"access_token\":\"eyJ0 " SENTINEL "\",\"expires_in\":3600}",
		    "byte 4 is a space");
	expect_fail("{\"access_token\":\"" SENTINEL "\\t\",\"expires_in\":3600}",
		    "byte 41 is a control character");
	expect_fail("{\"access_token\":\"" SENTINEL ",x\",\"expires_in\":3600}",
		    "byte 41 is punctuation outside the bearer token alphabet");
	expect_fail("{\"access_token\":\"ab\\\"c\",\"expires_in\":3600}", "byte 2 is punctuation");
	expect_fail("{\"access_token\":\"ab=c\",\"expires_in\":3600}",
		    "byte 2 is \"=\" padding before the end");
	expect_fail("{\"access_token\":\"==\",\"expires_in\":3600}", "only \"=\" padding");
	/* The whole alphabet, then padding, is a token. */
	body = "{\"access_token\":\"AZaz09-._~+/==\",\"expires_in\":3600}";
	assert_int_equal(token_response_parse(body, strlen(body), NOW, &t, err, sizeof(err)), 0);
	assert_string_equal(t.access_token, "AZaz09-._~+/==");
	token_response_done(&t);
}

/* The check alone: messages give offsets and kinds, never the bytes. */
static void test_check_token(void **state)
{
	static const char bad[] = "SENTINEL\x01\xc3\xa9 ";
	char err[256] = "";

	(void)state;
	assert_int_equal(token_response_check_token("a", 1, err, sizeof(err)), 0);
	assert_int_equal(token_response_check_token("a==", 3, err, sizeof(err)), 0);
	assert_int_equal(token_response_check_token("", 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty"));
	for (size_t n = 9; n < sizeof(bad) - 1; n++) {
		assert_int_equal(token_response_check_token(bad, n + 1, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "byte 8 is a control character"));
		assert_null(strstr(err, "SENTINEL"));
	}
	assert_int_equal(token_response_check_token(bad + 9, 2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "byte 0 is a non-ASCII byte"));
	assert_null(strstr(err, "\xc3"));
}

static void test_duplicates(void **state)
{
	(void)state;
	expect_fail("{\"access_token\":\"" SENTINEL "\",\"access_token\":\"" SENTINEL "x\","
		    "\"expires_in\":3600}",
		    "duplicate key");
	expect_fail("{\"access_token\":\"" SENTINEL "\",\"expires_in\":3600,\"expires_in\":7}",
		    "duplicate key");
}

static void test_token_bound(void **state)
{
	char *body, *tok;
	struct token_response t = { 0 };
	char err[256];
	size_t n;

	(void)state;
	body = malloc(TOKEN_RESPONSE_MAX_TOKEN + 100);
	tok = malloc(TOKEN_RESPONSE_MAX_TOKEN + 2);
	assert_non_null(body);
	assert_non_null(tok);
	memset(tok, 'A', TOKEN_RESPONSE_MAX_TOKEN + 1);
	tok[TOKEN_RESPONSE_MAX_TOKEN] = '\0';
	n = (size_t)snprintf(body, TOKEN_RESPONSE_MAX_TOKEN + 100,
			     "{\"access_token\":\"%s\",\"expires_in\":60}", tok);
	assert_int_equal(token_response_parse(body, n, NOW, &t, err, sizeof(err)), 0);
	assert_int_equal(t.access_token_len, TOKEN_RESPONSE_MAX_TOKEN);
	token_response_done(&t);
	tok[TOKEN_RESPONSE_MAX_TOKEN] = 'A';
	tok[TOKEN_RESPONSE_MAX_TOKEN + 1] = '\0';
	n = (size_t)snprintf(body, TOKEN_RESPONSE_MAX_TOKEN + 100,
			     "{\"access_token\":\"%s\",\"expires_in\":60}", tok);
	expect_fail_len(body, n, -EINVAL, "longer than 16384");
	free(body);
	free(tok);
}

static void expect_bad_field(const char *field, const char *value, const char *why)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"access_token\":\"%s\",\"%s\":%s}", SENTINEL, field, value);
	expect_fail(body, why);
}

static void test_expiry_bad(void **state)
{
	(void)state;
	expect_fail("{\"access_token\":\"" SENTINEL "\"}", "no expires_on or expires_in");
	expect_fail("{\"access_token\":\"" SENTINEL "\",\"expires_on\":null}",
		    "no expires_on or expires_in");
	expect_bad_field("expires_on", "\"12abc\"", "expires_on is neither");
	expect_bad_field("expires_on", "\"-5\"", "expires_on is neither");
	expect_bad_field("expires_on", "\" 1700003600\"", "expires_on is neither");
	expect_bad_field("expires_on", "\"1700003600.0\"", "expires_on is neither");
	expect_bad_field("expires_on", "\"\"", "expires_on is not a non-negative whole number");
	expect_bad_field("expires_on", "-5", "expires_on is not a non-negative whole number");
	expect_bad_field("expires_on", "true", "expires_on is neither");
	expect_bad_field("expires_on", "{}", "expires_on is neither");
	expect_bad_field("expires_on", "[]", "expires_on is neither");
	expect_bad_field("expires_on", "1700003600.5", "expires_on is neither");
	expect_bad_field("expires_on", "\"99999999999999999999\"", "not a non-negative");
	expect_bad_field("expires_on", "\"9223372036854775808\"", "not a non-negative");
	expect_bad_field("expires_in", "true", "expires_in is not a non-negative whole number");
	expect_bad_field("expires_in", "{}", "expires_in is not");
	expect_bad_field("expires_in", "\"3600s\"", "expires_in is not");
	expect_bad_field("expires_in", "\"+3600\"", "expires_in is not");
	expect_bad_field("expires_in", "-1", "expires_in is not");
	expect_bad_field("expires_in", "\"9223372036854775807\"", "expires_in is out of range");
	/* expiry not after now */
	expect_bad_field("expires_in", "0", "already expired");
	expect_bad_field("expires_in", "\"0\"", "already expired");
	expect_bad_field("expires_on", "1700000000", "already expired");
	expect_bad_field("expires_on", "\"1699999999\"", "already expired");
	expect_bad_field("expires_on", "\"11/14/2023 22:13:20 +00:00\"", "already expired");
	/* nor absurdly far after it */
	expect_bad_field("expires_on", "\"9223372036854775807\"", "more than 366 days");
	expect_bad_field("expires_in", "31622401", "more than 366 days");
	expect_ok("{\"access_token\":\"" SENTINEL "\",\"expires_in\":31622400}", NOW + 31622400, -1,
		  "Bearer");
}

static void test_other_fields_bad(void **state)
{
	(void)state;
	expect_fail("{\"access_token\":\"" SENTINEL "\",\"expires_in\":60,\"refresh_in\":-1}",
		    "refresh_in is not");
	expect_fail("{\"access_token\":\"" SENTINEL "\",\"expires_in\":60,\"refresh_in\":\"1h\"}",
		    "refresh_in is not");
	expect_fail("{\"access_token\":\"" SENTINEL "\",\"expires_in\":60,\"refresh_in\":false}",
		    "refresh_in is not");
	expect_fail("{\"access_token\":\"" SENTINEL "\",\"expires_in\":60,\"token_type\":1}",
		    "token_type is not a string");
	expect_fail("{\"access_token\":\"" SENTINEL "\",\"expires_in\":60,\"token_type\":\"\"}",
		    "token_type must be 1 to 15");
	expect_fail("{\"access_token\":\"" SENTINEL "\",\"expires_in\":60,"
		    "\"token_type\":\"SixteenCharsLong\"}",
		    "token_type must be 1 to 15");
	expect_fail("{\"access_token\":\"" SENTINEL "\",\"expires_in\":60,"
		    "\"token_type\":\"Bea rer\"}",
		    "token_type holds");
}

static void test_done(void **state)
{
	struct token_response t = { 0 };

	(void)state;
	token_response_done(&t); /* zeroed: nothing to do */
	token_response_done(NULL);
	assert_null(t.access_token);
	expect_ok("{\"access_token\":\"" SENTINEL "\",\"expires_in\":60}", NOW + 60, -1, "Bearer");
}

/* A person's sign-in: the refresh token (sodium memory) and who, from the
 * ID token, else the access token; an empty one counts as none. */
static void expect_person(const char *body, const char *rt, const char *account)
{
	struct token_response t = { 0 };
	char err[256] = "";

	if (token_response_parse(body, strlen(body), NOW, &t, err, sizeof(err)) < 0)
		fail_msg("%s: %s", body, err);
	if (rt) {
		assert_non_null(t.refresh_token);
		assert_string_equal(t.refresh_token, rt);
		assert_int_equal(t.refresh_token_len, strlen(rt));
	} else {
		assert_null(t.refresh_token);
	}
	assert_string_equal(t.account, account);
	token_response_done(&t);
	assert_null(t.refresh_token);
}

static void test_person(void **state)
{
	(void)state;
	expect_person("{\"access_token\":\"" SENTINEL "\",\"expires_in\":60,"
		      "\"refresh_token\":\"RT-1\",\"id_token\":\"h."
		      "eyJwcmVmZXJyZWRfdXNlcm5hbWUiOiJhZGFAY29udG9zby5leGFtcGxlIn0.s\"}",
		      "RT-1", "ada@contoso.example");
	/* No ID token: the access token's upn (email comes last). */
	expect_person("{\"access_token\":\"h.eyJ1cG4iOiJib2JAY29udG9zby5leGFtcGxlIiwiZW1haWwiOiJ4"
		      "QHkifQ.s\",\"expires_in\":60}",
		      NULL, "bob@contoso.example");
	/* Control bytes in a claim are not shown. */
	expect_person("{\"access_token\":\"" SENTINEL "\",\"expires_in\":60,\"refresh_token\":\"\","
		      "\"id_token\":\"h.eyJlbWFpbCI6ImV2ZVx1MDAwN0B4In0.s\"}",
		      NULL, "eve?@x");
	/* Junk ID tokens show nobody. */
	expect_person("{\"access_token\":\"" SENTINEL
		      "\",\"expires_in\":60,\"id_token\":\"a.!!.b\"}",
		      NULL, "");
}

static void expect_description(const char *body, const char *want)
{
	char out[512];

	memset(out, 'Z', sizeof(out));
	token_error_describe(body, body ? strlen(body) : 0, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_describe_shapes(void **state)
{
	(void)state;
	expect_description(
	    "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: "
	    "Invalid client secret provided.\\r\\nTrace ID: 1f\\r\\nCorrelation "
	    "ID: 2e\\r\\nTimestamp: 2023-11-14 22:13:20Z\",\"error_codes\":[7000215]}",
	    "invalid_client: AADSTS7000215: Invalid client secret provided. Trace "
	    "ID: 1f Correlation ID: 2e Timestamp: 2023-11-14 22:13:20Z");
	expect_description("{\"error\":\"invalid_request\",\"error_description\":\"Identity not "
			   "found\"}",
			   "invalid_request: Identity not found");
	expect_description("{\"error\":\"invalid_resource\"}", "invalid_resource");
	expect_description("{\"error\":\"e\",\"error_description\":\"\"}", "e");
	expect_description("{\"error\":\"code\\n\",\"error_description\":\"\\tdesc\\r\\n\"}",
			   "code: desc");
	expect_description("{\"error\":{\"code\":\"SecretHeaderNotFound\",\"message\":\"Secret is "
			   "not found in the request headers.\"}}",
			   "SecretHeaderNotFound: Secret is not found in the request headers.");
	expect_description("{\"error\":{\"message\":\"only a message\"}}", "only a message");
	expect_description("{\"error\":{\"code\":\"OnlyACode\"}}", "OnlyACode");
	expect_description("{\"statusCode\":400,\"message\":\"Required audience parameter not "
			   "specified\"}",
			   "Required audience parameter not specified");
	expect_description("{\"Message\":\"An error has occurred.\"}", "An error has occurred.");
	/* JSON without a known shape, and not JSON at all: the body itself */
	expect_description("{\"foo\":1}", "{\"foo\":1}");
	expect_description("{\"error\":42}", "{\"error\":42}");
	expect_description("Bad Gateway\r\n", "Bad Gateway");
	expect_description("  \n<html>\n  <body>Oops</body>\n</html>\n",
			   "<html> <body>Oops</body> </html>");
	expect_description("", "empty response body");
	expect_description(NULL, "empty response body");
	expect_description("\r\n \t", "empty response body");
	/* controls inside a JSON message are neutralised too */
	expect_description("{\"error\":\"x\",\"error_description\":\"\\u001b[31mred\\u0007\"}",
			   "x: ?[31mred?");
	/* non-ASCII text from JSON is kept */
	expect_description("{\"Message\":\"Zugriff verweigert \xc3\xa4\"}",
			   "Zugriff verweigert \xc3\xa4");
}

static void test_describe_junk(void **state)
{
	static const char junk[] = "\x01\x02\xff\xfe\x1b[31mred\x7f\x80ok\0after";
	char out[512], big[300];

	(void)state;
	token_error_describe(junk, sizeof(junk) - 1, out, sizeof(out));
	assert_string_equal(out, "?????[31mred??ok?after");
	for (size_t i = 0; out[i]; i++)
		assert_true(out[i] >= 0x20 && out[i] < 0x7f);
	/* at most 200 bytes of a raw body */
	memset(big, 'x', sizeof(big));
	token_error_describe(big, sizeof(big), out, sizeof(out));
	assert_int_equal(strlen(out), 200);
	/* and never more than the buffer */
	token_error_describe(big, sizeof(big), out, 10);
	assert_string_equal(out, "xxxxxxxxx");
	/* no space is left dangling at the end */
	token_error_describe("abcd efg", 8, out, 6);
	assert_string_equal(out, "abcd");
	token_error_describe("abcd efg", 8, out, 7);
	assert_string_equal(out, "abcd e");
	token_error_describe(big, sizeof(big), out, 1);
	assert_string_equal(out, "");
	token_error_describe(big, sizeof(big), NULL, 0);
	out[0] = 'Q';
	token_error_describe(big, sizeof(big), out, 0);
	assert_int_equal(out[0], 'Q');
}

static void test_describe_utf8_bound(void **state)
{
	const char *body = "{\"Message\":\"\xc3\xa4\xc3\xa4\xc3\xa4\xe2\x82\xac\"}";
	char out[8];

	(void)state;
	/* 7 bytes of room: three two-byte characters fit, the three-byte one does not */
	token_error_describe(body, strlen(body), out, sizeof(out));
	assert_string_equal(out, "\xc3\xa4\xc3\xa4\xc3\xa4");
	token_error_describe(body, strlen(body), out, 6);
	assert_string_equal(out, "\xc3\xa4\xc3\xa4");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_imds),
		cmocka_unit_test(test_person),
		cmocka_unit_test(test_app_service_and_fabric),
		cmocka_unit_test(test_entra),
		cmocka_unit_test(test_app_service_2017),
		cmocka_unit_test(test_azure_cli),
		cmocka_unit_test(test_azure_cli_bad),
		cmocka_unit_test(test_not_a_token),
		cmocka_unit_test(test_token_alphabet),
		cmocka_unit_test(test_check_token),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_token_bound),
		cmocka_unit_test(test_expiry_bad),
		cmocka_unit_test(test_other_fields_bad),
		cmocka_unit_test(test_done),
		cmocka_unit_test(test_describe_shapes),
		cmocka_unit_test(test_describe_junk),
		cmocka_unit_test(test_describe_utf8_bound),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("token_response", tests, NULL, NULL);
}
