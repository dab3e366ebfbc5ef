/* SPDX-License-Identifier: MIT */
/*
 * Request decoding, frame encoding, replies, status and op names.
 * Every value a client could regard as private carries "SENTINEL", and no
 * error message may contain it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"

#define SENTINEL "SENTINEL"

static enum proto_status decode_str(const char *json, struct proto_request *req, char *err,
				    size_t errlen)
{
	return proto_request_decode((const uint8_t *)json, strlen(json), req, err, errlen);
}

/* Decodes @json, expects @status, an empty request and a message free of request data. */
static void expect_fail(const char *json, enum proto_status status, const char *err_has)
{
	struct proto_request req;
	char err[256];
	enum proto_status st;

	memset(&req, 0x5a, sizeof(req));
	memset(err, 'x', sizeof(err));
	st = decode_str(json, &req, err, sizeof(err));
	if (st != status)
		fail_msg("%s: status %s, want %s (%s)", json, proto_status_name(st),
			 proto_status_name(status), err);
	assert_null(req.json);
	assert_null(req.add.name);
	assert_null(req.add.secret);
	assert_non_null(memchr(err, '\0', sizeof(err)));
	assert_true(err[0] != '\0');
	if (strstr(err, SENTINEL))
		fail_msg("%s: message leaks request data: %s", json, err);
	if (err_has && !strstr(err, err_has))
		fail_msg("%s: message \"%s\" lacks \"%s\"", json, err, err_has);
}

/* "@before" + @n copies of @c + "@after", malloc'ed. */
static char *long_json(const char *before, char c, size_t n, const char *after)
{
	size_t lb = strlen(before), la = strlen(after);
	char *s = malloc(lb + n + la + 1);

	assert_non_null(s);
	memcpy(s, before, lb);
	memset(s + lb, c, n);
	memcpy(s + lb + n, after, la + 1);
	return s;
}

static void expect_long(const char *before, size_t n, const char *after, enum proto_status st)
{
	struct proto_request req;
	char err[256];
	char *json = long_json(before, 'S', n, after);

	if (st == PROTO_OK) {
		assert_int_equal(decode_str(json, &req, err, sizeof(err)), PROTO_OK);
		proto_request_done(&req);
	} else {
		expect_fail(json, st, NULL);
	}
	free(json);
}

static void test_decode_add(void **state)
{
	struct proto_request req;
	char err[256];

	(void)state;
	assert_int_equal(decode_str("{\"v\":1,\"op\":\"add\",\"name\":\"contoso\",\"secret\":"
				    "\"0123\\\"abc\",\"lifetime\":3600,\"host\":\"c.example:443\"}",
				    &req, err, sizeof(err)),
			 PROTO_OK);
	assert_string_equal(err, "");
	assert_int_equal(req.op, PROTO_OP_ADD);
	assert_non_null(req.json);
	assert_string_equal(req.add.name, "contoso");
	assert_string_equal(req.add.secret, "0123\"abc");
	assert_int_equal(req.add.secret_len, 8);
	assert_int_equal(req.add.lifetime, 3600);
	assert_string_equal(req.add.host, "c.example:443");
	proto_request_done(&req);
	assert_null(req.json);
	assert_null(req.add.secret);
	proto_request_done(&req);
}

static void test_decode_add_minimal(void **state)
{
	struct proto_request req;

	(void)state;
	/* Whitespace around the object is fine; key order does not matter. */
	assert_int_equal(
	    decode_str(" {\"secret\":\"s\",\"name\":\"a.b_c-D9\",\"op\":\"add\",\"v\":1}\n", &req,
		       NULL, 0),
	    PROTO_OK);
	assert_string_equal(req.add.name, "a.b_c-D9");
	assert_int_equal(req.add.secret_len, 1);
	assert_int_equal(req.add.lifetime, -1);
	assert_null(req.add.host);
	proto_request_done(&req);
}

static void test_decode_add_lifetime_bounds(void **state)
{
	struct proto_request req;

	(void)state;
	assert_int_equal(decode_str("{\"v\":1,\"op\":\"add\",\"name\":\"a\",\"secret\":\"s\","
				    "\"lifetime\":0}",
				    &req, NULL, 0),
			 PROTO_OK);
	assert_int_equal(req.add.lifetime, 0);
	proto_request_done(&req);
	assert_int_equal(decode_str("{\"v\":1,\"op\":\"add\",\"name\":\"a\",\"secret\":\"s\","
				    "\"lifetime\":3153600000}",
				    &req, NULL, 0),
			 PROTO_OK);
	assert_int_equal(req.add.lifetime, 3153600000LL);
	assert_int_equal(req.add.lifetime, PROTO_MAX_LIFETIME);
	proto_request_done(&req);
}

static void test_decode_remove(void **state)
{
	struct proto_request req;

	(void)state;
	assert_int_equal(
	    decode_str("{\"v\":1,\"op\":\"remove\",\"name\":\"contoso\"}", &req, NULL, 0),
	    PROTO_OK);
	assert_int_equal(req.op, PROTO_OP_REMOVE);
	assert_string_equal(req.remove.name, "contoso");
	assert_false(req.remove.all);
	proto_request_done(&req);
	assert_int_equal(decode_str("{\"v\":1,\"op\":\"remove\",\"all\":true}", &req, NULL, 0),
			 PROTO_OK);
	assert_null(req.remove.name);
	assert_true(req.remove.all);
	proto_request_done(&req);
}

static void test_decode_no_field_ops(void **state)
{
	static const struct {
		const char *json;
		enum proto_op op;
	} cases[] = {
		{ "{\"v\":1,\"op\":\"list\"}", PROTO_OP_LIST },
		{ "{\"op\":\"status\",\"v\":1}", PROTO_OP_STATUS },
		{ "{\"v\":1,\"op\":\"reload\"}", PROTO_OP_RELOAD },
		{ "{\"v\":1,\"op\":\"hosts\"}", PROTO_OP_HOSTS },
	};
	struct proto_request req;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(decode_str(cases[i].json, &req, NULL, 0), PROTO_OK);
		assert_int_equal(req.op, cases[i].op);
		proto_request_done(&req);
	}
}

static void test_decode_headers(void **state)
{
	const char *url = "https://c.openai.azure.com/openai/deployments/x?api-version=1";
	struct proto_request req;
	char json[256];

	(void)state;
	snprintf(json, sizeof(json), "{\"v\":1,\"op\":\"headers\",\"url\":\"%s\"}", url);
	assert_int_equal(decode_str(json, &req, NULL, 0), PROTO_OK);
	assert_int_equal(req.op, PROTO_OP_HEADERS);
	assert_string_equal(req.headers.url, url);
	proto_request_done(&req);
}

static void test_decode_lock_unlock(void **state)
{
	struct proto_request req;

	(void)state;
	assert_int_equal(
	    decode_str("{\"v\":1,\"op\":\"lock\",\"passphrase\":\"correct horse\"}", &req, NULL, 0),
	    PROTO_OK);
	assert_int_equal(req.op, PROTO_OP_LOCK);
	assert_string_equal(req.lock.passphrase, "correct horse");
	assert_int_equal(req.lock.passphrase_len, 13);
	proto_request_done(&req);
	assert_int_equal(
	    decode_str("{\"v\":1,\"op\":\"unlock\",\"passphrase\":\"\\u00e9\"}", &req, NULL, 0),
	    PROTO_OK);
	assert_int_equal(req.op, PROTO_OP_UNLOCK);
	assert_string_equal(req.lock.passphrase, "\xc3\xa9");
	assert_int_equal(req.lock.passphrase_len, 2);
	proto_request_done(&req);
}

static void test_decode_jwks(void **state)
{
	struct proto_request req;

	(void)state;
	assert_int_equal(decode_str("{\"v\":1,\"op\":\"jwks\",\"openid_config\":\"https://l/c\"}",
				    &req, NULL, 0),
			 PROTO_OK);
	assert_int_equal(req.op, PROTO_OP_JWKS);
	assert_string_equal(req.jwks.openid_config, "https://l/c");
	assert_false(req.jwks.refresh);
	proto_request_done(&req);
	assert_int_equal(decode_str("{\"v\":1,\"op\":\"jwks\",\"openid_config\":\"https://l/c\","
				    "\"refresh\":true}",
				    &req, NULL, 0),
			 PROTO_OK);
	assert_true(req.jwks.refresh);
	proto_request_done(&req);
	/* The URL is required, a string, and refresh only ever true. */
	assert_int_equal(decode_str("{\"v\":1,\"op\":\"jwks\"}", &req, NULL, 0),
			 PROTO_E_BAD_REQUEST);
	assert_int_equal(decode_str("{\"v\":1,\"op\":\"jwks\",\"openid_config\":7}", &req, NULL, 0),
			 PROTO_E_BAD_REQUEST);
	assert_int_equal(
	    decode_str("{\"v\":1,\"op\":\"jwks\",\"openid_config\":\"\"}", &req, NULL, 0),
	    PROTO_E_BAD_REQUEST);
	assert_int_equal(decode_str("{\"v\":1,\"op\":\"jwks\",\"openid_config\":\"https://l/c\","
				    "\"refresh\":false}",
				    &req, NULL, 0),
			 PROTO_E_BAD_REQUEST);
}

static void test_decode_login(void **state)
{
	struct proto_request req;

	(void)state;
	assert_int_equal(decode_str("{\"v\":1,\"op\":\"login\",\"profile\":\"me\"}", &req, NULL, 0),
			 PROTO_OK);
	assert_int_equal(req.op, PROTO_OP_LOGIN);
	assert_string_equal(req.login.profile, "me");
	assert_null(req.login.flow);
	proto_request_done(&req);
	assert_int_equal(decode_str("{\"v\":1,\"op\":\"login\",\"profile\":\"me\","
				    "\"flow\":\"device-code\"}",
				    &req, NULL, 0),
			 PROTO_OK);
	assert_string_equal(req.login.flow, "device-code");
	proto_request_done(&req);
	/* A profile is required; the flow is one of two. */
	assert_int_equal(decode_str("{\"v\":1,\"op\":\"login\"}", &req, NULL, 0),
			 PROTO_E_BAD_REQUEST);
	assert_int_equal(decode_str("{\"v\":1,\"op\":\"login\",\"profile\":\"me\","
				    "\"flow\":\"password\"}",
				    &req, NULL, 0),
			 PROTO_E_BAD_REQUEST);
	assert_int_equal(
	    decode_str("{\"v\":1,\"op\":\"login_wait\",\"login_id\":\"0a1b\"}", &req, NULL, 0),
	    PROTO_OK);
	assert_string_equal(req.login_wait.login_id, "0a1b");
	proto_request_done(&req);
	assert_int_equal(
	    decode_str("{\"v\":1,\"op\":\"login\",\"profile\":\"me\","
		       "\"flow\":\"device-code\",\"redirect_uri\":\"http://127.0.0.1:1/\"}",
		       &req, NULL, 0),
	    PROTO_E_BAD_REQUEST);
	assert_int_equal(decode_str("{\"v\":1,\"op\":\"login\",\"profile\":\"me\","
				    "\"redirect_uri\":\"http://127.0.0.1:1/\"}",
				    &req, NULL, 0),
			 PROTO_OK);
	assert_string_equal(req.login.redirect_uri, "http://127.0.0.1:1/");
	proto_request_done(&req);
	assert_int_equal(decode_str("{\"v\":1,\"op\":\"login_code\",\"login_id\":\"ab\","
				    "\"code\":\"c\",\"state\":\"s\"}",
				    &req, NULL, 0),
			 PROTO_OK);
	assert_string_equal(req.login_code.code, "c");
	assert_string_equal(req.login_code.state, "s");
	proto_request_done(&req);
	assert_int_equal(decode_str("{\"v\":1,\"op\":\"login_code\",\"login_id\":\"ab\","
				    "\"code\":\"c\"}",
				    &req, NULL, 0),
			 PROTO_E_BAD_REQUEST);
	assert_int_equal(decode_str("{\"v\":1,\"op\":\"login_wait\"}", &req, NULL, 0),
			 PROTO_E_BAD_REQUEST);
	assert_int_equal(
	    decode_str("{\"v\":1,\"op\":\"logout\",\"profile\":\"me\"}", &req, NULL, 0), PROTO_OK);
	assert_string_equal(req.logout.profile, "me");
	proto_request_done(&req);
	assert_int_equal(
	    decode_str("{\"v\":1,\"op\":\"logout\",\"profile\":\"a b\"}", &req, NULL, 0),
	    PROTO_E_BAD_REQUEST);
}

static void test_decode_token(void **state)
{
	const char *scope = "https://cognitiveservices.azure.com/.default";
	struct proto_request req;
	char json[256];

	(void)state;
	snprintf(json, sizeof(json),
		 "{\"v\":1,\"op\":\"token\",\"profile\":\"vm\",\"scope\":\"%s\"}", scope);
	assert_int_equal(decode_str(json, &req, NULL, 0), PROTO_OK);
	assert_int_equal(req.op, PROTO_OP_TOKEN);
	assert_string_equal(req.token.profile, "vm");
	assert_string_equal(req.token.scope, scope);
	proto_request_done(&req);
	assert_null(req.token.profile);

	/* Both fields are optional. */
	assert_int_equal(decode_str("{\"v\":1,\"op\":\"token\"}", &req, NULL, 0), PROTO_OK);
	assert_int_equal(req.op, PROTO_OP_TOKEN);
	assert_null(req.token.profile);
	assert_null(req.token.scope);
	proto_request_done(&req);
	assert_int_equal(decode_str("{\"v\":1,\"op\":\"token\",\"scope\":\"api://1e6a/.default\"}",
				    &req, NULL, 0),
			 PROTO_OK);
	assert_null(req.token.profile);
	assert_string_equal(req.token.scope, "api://1e6a/.default");
	proto_request_done(&req);
	assert_int_equal(
	    decode_str("{\"op\":\"token\",\"profile\":\"a.b_c-D9\",\"v\":1}", &req, NULL, 0),
	    PROTO_OK);
	assert_string_equal(req.token.profile, "a.b_c-D9");
	assert_null(req.token.scope);
	proto_request_done(&req);
}

static void test_scope_valid(void **state)
{
	char scope[PROTO_MAX_SCOPE + 2];

	(void)state;
	assert_true(proto_scope_valid("https://cognitiveservices.azure.com/.default"));
	assert_true(proto_scope_valid("api://1e6a-4c/.default"));
	assert_true(proto_scope_valid("!~"));
	assert_false(proto_scope_valid(NULL));
	assert_false(proto_scope_valid(""));
	assert_false(proto_scope_valid("a b"));
	assert_false(proto_scope_valid(" a"));
	assert_false(proto_scope_valid("a\tb"));
	assert_false(proto_scope_valid("a\n"));
	assert_false(proto_scope_valid("a\x7f"));
	assert_false(proto_scope_valid("caf\xc3\xa9"));
	memset(scope, 's', PROTO_MAX_SCOPE);
	scope[PROTO_MAX_SCOPE] = '\0';
	assert_true(proto_scope_valid(scope));
	scope[PROTO_MAX_SCOPE] = 's';
	scope[PROTO_MAX_SCOPE + 1] = '\0';
	assert_false(proto_scope_valid(scope));
}

static void test_bad_payloads(void **state)
{
	static const char *const cases[] = {
		"",
		"hello",
		"{",
		"{\"v\":1,",
		"{\"v\":1,\"op\":\"add\",\"name\":\"a\",\"secret\":" SENTINEL "}",
		"{\"v\":1,\"op\":\"add\",\"name\":\"a\",\"secret\":\"" SENTINEL,
		"{\"v\":1,\"op\":\"add\",\"name\":\"a\",\"secret\":\"" SENTINEL "\xff\"}",
		"{\"v\":1,\"op\":\"add\",\"name\":\"a\",\"secret\":\"" SENTINEL "\\u0000\"}",
		"{\"v\":1,\"op\":\"add\",\"name\":\"a\",\"secret\":\"" SENTINEL "\x01\"}",
		"[1]",
		"[]",
		"\"" SENTINEL "\"",
		"1",
		"null",
		"{\"v\":1,\"op\":\"list\"}x",
		"{\"v\":1,\"op\":\"list\"}{}",
		"{\"v\":1,\"op\":\"list\"} []",
		"{\"v\":1,\"op\":\"list\",\"op\":\"list\"}",
		"{\"v\":1,\"v\":1,\"op\":\"list\"}",
		"{\"v\":1,\"op\":\"add\",\"name\":\"a\",\"secret\":\"" SENTINEL
		"1\",\"secret\":\"" SENTINEL "2\"}",
		"{\"v\":1,\"op\":\"add\",\"name\":\"a\",\"secret\":\"s\",\"lifetime\":" SENTINEL
		"}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_fail(cases[i], PROTO_E_BAD_REQUEST, NULL);
	expect_fail("[1]", PROTO_E_BAD_REQUEST, "object");
	expect_fail("{\"v\":1,\"op\":\"list\"}x", PROTO_E_BAD_REQUEST, "after");
	expect_fail("{\"v\":1,\"v\":1,\"op\":\"list\"}", PROTO_E_BAD_REQUEST, "duplicate");
}

static void test_bad_payload_bytes(void **state)
{
	static const uint8_t trailing_nul[] = "{\"v\":1,\"op\":\"list\"}";
	struct proto_request req;
	char err[128];

	(void)state;
	/* The terminating NUL is sent as part of the payload. */
	assert_int_equal(
	    proto_request_decode(trailing_nul, sizeof(trailing_nul), &req, err, sizeof(err)),
	    PROTO_E_BAD_REQUEST);
	assert_null(req.json);
	assert_int_equal(proto_request_decode(NULL, 5, &req, err, sizeof(err)),
			 PROTO_E_BAD_REQUEST);
	assert_int_equal(
	    proto_request_decode(trailing_nul, PROTO_MAX_FRAME + 1, &req, err, sizeof(err)),
	    PROTO_E_BAD_REQUEST);
	assert_null(req.json);
}

static void test_bad_version(void **state)
{
	(void)state;
	expect_fail("{\"op\":\"list\"}", PROTO_E_BAD_REQUEST, "\"v\"");
	expect_fail("{\"v\":\"1\",\"op\":\"list\"}", PROTO_E_BAD_REQUEST, "\"v\"");
	expect_fail("{\"v\":1.0,\"op\":\"list\"}", PROTO_E_BAD_REQUEST, "\"v\"");
	expect_fail("{\"v\":true,\"op\":\"list\"}", PROTO_E_BAD_REQUEST, "\"v\"");
	expect_fail("{\"v\":null,\"op\":\"list\"}", PROTO_E_BAD_REQUEST, "\"v\"");
	expect_fail("{\"v\":2,\"op\":\"list\"}", PROTO_E_UNSUPPORTED_VERSION, "version");
	expect_fail("{\"v\":0,\"op\":\"list\"}", PROTO_E_UNSUPPORTED_VERSION, NULL);
	expect_fail("{\"v\":-1,\"op\":\"list\"}", PROTO_E_UNSUPPORTED_VERSION, NULL);
	/* A newer version may have other ops and fields: the version decides first. */
	expect_fail("{\"v\":2,\"op\":\"token\",\"scope\":\"x\"}", PROTO_E_UNSUPPORTED_VERSION,
		    NULL);
}

static void test_bad_op(void **state)
{
	(void)state;
	expect_fail("{\"v\":1,\"op\":\"frobnicate\"}", PROTO_E_UNKNOWN_OP, "\"op\"");
	expect_fail("{\"v\":1,\"op\":\"" SENTINEL "\"}", PROTO_E_UNKNOWN_OP, NULL);
	expect_fail("{\"v\":1,\"op\":\"\"}", PROTO_E_UNKNOWN_OP, NULL);
	expect_fail("{\"v\":1,\"op\":\"ADD\"}", PROTO_E_UNKNOWN_OP, NULL);
	expect_fail("{\"v\":1,\"op\":\"TOKEN\"}", PROTO_E_UNKNOWN_OP, NULL);
	expect_fail("{\"v\":1}", PROTO_E_BAD_REQUEST, "\"op\"");
	expect_fail("{\"v\":1,\"op\":1}", PROTO_E_BAD_REQUEST, "\"op\"");
	expect_fail("{\"v\":1,\"op\":null}", PROTO_E_BAD_REQUEST, "\"op\"");
	expect_fail("{\"v\":1,\"op\":[\"add\"]}", PROTO_E_BAD_REQUEST, "\"op\"");
	expect_fail("{\"v\":1,\"op\":{}}", PROTO_E_BAD_REQUEST, "\"op\"");
}

#define ADD_PREFIX "{\"v\":1,\"op\":\"add\","
#define ADD_OK     "\"name\":\"a\",\"secret\":\"" SENTINEL "\""

static void test_bad_add_types(void **state)
{
	static const struct {
		const char *json;
		const char *field;
	} cases[] = {
		{ ADD_PREFIX "\"name\":1,\"secret\":\"" SENTINEL "\"}", "\"name\"" },
		{ ADD_PREFIX "\"name\":null,\"secret\":\"" SENTINEL "\"}", "\"name\"" },
		{ ADD_PREFIX "\"name\":[\"a\"],\"secret\":\"" SENTINEL "\"}", "\"name\"" },
		{ ADD_PREFIX "\"name\":\"a\",\"secret\":1}", "\"secret\"" },
		{ ADD_PREFIX "\"name\":\"a\",\"secret\":true}", "\"secret\"" },
		{ ADD_PREFIX "\"name\":\"a\",\"secret\":{\"x\":\"" SENTINEL "\"}}", "\"secret\"" },
		{ ADD_PREFIX "\"name\":\"a\",\"secret\":[\"" SENTINEL "\"]}", "\"secret\"" },
		{ ADD_PREFIX ADD_OK ",\"lifetime\":\"3600\"}", "\"lifetime\"" },
		{ ADD_PREFIX ADD_OK ",\"lifetime\":1.5}", "\"lifetime\"" },
		{ ADD_PREFIX ADD_OK ",\"lifetime\":3600.0}", "\"lifetime\"" },
		{ ADD_PREFIX ADD_OK ",\"lifetime\":true}", "\"lifetime\"" },
		{ ADD_PREFIX ADD_OK ",\"lifetime\":null}", "\"lifetime\"" },
		{ ADD_PREFIX ADD_OK ",\"host\":1}", "\"host\"" },
		{ ADD_PREFIX ADD_OK ",\"host\":null}", "\"host\"" },
		{ ADD_PREFIX ADD_OK ",\"host\":[\"" SENTINEL "\"]}", "\"host\"" },
		{ ADD_PREFIX "\"secret\":\"" SENTINEL "\"}", "\"name\"" },
		{ ADD_PREFIX "\"name\":\"a\"}", "\"secret\"" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_fail(cases[i].json, PROTO_E_BAD_REQUEST, cases[i].field);
}

static void test_bad_add_values(void **state)
{
	(void)state;
	expect_fail(ADD_PREFIX ADD_OK ",\"lifetime\":-1}", PROTO_E_BAD_REQUEST,
		    "field \"lifetime\": must be an integer 0..3153600000");
	expect_fail(ADD_PREFIX ADD_OK ",\"lifetime\":3153600001}", PROTO_E_BAD_REQUEST,
		    "\"lifetime\"");
	expect_fail(ADD_PREFIX ADD_OK ",\"lifetime\":99999999999999999999}", PROTO_E_BAD_REQUEST,
		    NULL);
	expect_fail(ADD_PREFIX "\"name\":\"\",\"secret\":\"" SENTINEL "\"}", PROTO_E_BAD_REQUEST,
		    "\"name\"");
	expect_fail(ADD_PREFIX "\"name\":\"a b\",\"secret\":\"" SENTINEL "\"}", PROTO_E_BAD_REQUEST,
		    "\"name\"");
	expect_fail(ADD_PREFIX "\"name\":\"a/b\",\"secret\":\"" SENTINEL "\"}", PROTO_E_BAD_REQUEST,
		    "\"name\"");
	expect_fail(ADD_PREFIX "\"name\":\"caf\\u00e9\",\"secret\":\"" SENTINEL "\"}",
		    PROTO_E_BAD_REQUEST, "\"name\"");
	expect_fail(ADD_PREFIX "\"name\":\"a\",\"secret\":\"\"}", PROTO_E_BAD_REQUEST,
		    "\"secret\"");
	expect_fail(ADD_PREFIX ADD_OK ",\"host\":\"\"}", PROTO_E_BAD_REQUEST, "\"host\"");
}

static void test_bad_add_lengths(void **state)
{
	(void)state;
	expect_long(ADD_PREFIX "\"secret\":\"s\",\"name\":\"", PROTO_MAX_NAME, "\"}", PROTO_OK);
	expect_long(ADD_PREFIX "\"secret\":\"s\",\"name\":\"", PROTO_MAX_NAME + 1, "\"}",
		    PROTO_E_BAD_REQUEST);
	expect_long(ADD_PREFIX "\"name\":\"a\",\"secret\":\"", PROTO_MAX_SECRET, "\"}", PROTO_OK);
	expect_long(ADD_PREFIX "\"name\":\"a\",\"secret\":\"" SENTINEL, PROTO_MAX_SECRET, "\"}",
		    PROTO_E_BAD_REQUEST);
	expect_long(ADD_PREFIX ADD_OK ",\"host\":\"", PROTO_MAX_HOST, "\"}", PROTO_OK);
	expect_long(ADD_PREFIX ADD_OK ",\"host\":\"" SENTINEL, PROTO_MAX_HOST, "\"}",
		    PROTO_E_BAD_REQUEST);
}

static void test_bad_fields(void **state)
{
	(void)state;
	expect_fail("{\"v\":1,\"op\":\"list\",\"extra\":1}", PROTO_E_BAD_REQUEST, "unknown field");
	expect_fail("{\"v\":1,\"op\":\"list\",\"name\":\"a\"}", PROTO_E_BAD_REQUEST,
		    "field \"name\": not allowed in op \"list\"");
	expect_fail("{\"v\":1,\"op\":\"status\",\"all\":true}", PROTO_E_BAD_REQUEST, "\"all\"");
	expect_fail("{\"v\":1,\"op\":\"reload\",\"x\":null}", PROTO_E_BAD_REQUEST, NULL);
	expect_fail(ADD_PREFIX ADD_OK ",\"url\":\"https://" SENTINEL "\"}", PROTO_E_BAD_REQUEST,
		    "field \"url\": not allowed in op \"add\"");
	/* An unknown key is never echoed: it could be a misplaced secret. */
	expect_fail(ADD_PREFIX ADD_OK ",\"" SENTINEL "\":1}", PROTO_E_BAD_REQUEST, "unknown field");
	expect_fail(ADD_PREFIX ADD_OK ",\"Name\":\"a\"}", PROTO_E_BAD_REQUEST, NULL);
}

static void test_bad_remove(void **state)
{
	(void)state;
	expect_fail("{\"v\":1,\"op\":\"remove\",\"name\":\"a\",\"all\":true}", PROTO_E_BAD_REQUEST,
		    "exactly one");
	expect_fail("{\"v\":1,\"op\":\"remove\"}", PROTO_E_BAD_REQUEST, "exactly one");
	expect_fail("{\"v\":1,\"op\":\"remove\",\"all\":false}", PROTO_E_BAD_REQUEST,
		    "field \"all\": must be true");
	expect_fail("{\"v\":1,\"op\":\"remove\",\"name\":\"a\",\"all\":false}", PROTO_E_BAD_REQUEST,
		    "\"all\"");
	expect_fail("{\"v\":1,\"op\":\"remove\",\"all\":\"true\"}", PROTO_E_BAD_REQUEST, "\"all\"");
	expect_fail("{\"v\":1,\"op\":\"remove\",\"all\":1}", PROTO_E_BAD_REQUEST, "\"all\"");
	expect_fail("{\"v\":1,\"op\":\"remove\",\"name\":1}", PROTO_E_BAD_REQUEST, "\"name\"");
	expect_fail("{\"v\":1,\"op\":\"remove\",\"name\":null}", PROTO_E_BAD_REQUEST, "\"name\"");
	expect_fail("{\"v\":1,\"op\":\"remove\",\"name\":\"a*\"}", PROTO_E_BAD_REQUEST, "\"name\"");
	expect_fail("{\"v\":1,\"op\":\"remove\",\"name\":\"a\",\"secret\":\"" SENTINEL "\"}",
		    PROTO_E_BAD_REQUEST, "\"secret\"");
}

static void test_bad_headers(void **state)
{
	(void)state;
	expect_fail("{\"v\":1,\"op\":\"headers\"}", PROTO_E_BAD_REQUEST, "\"url\"");
	expect_fail("{\"v\":1,\"op\":\"headers\",\"url\":1}", PROTO_E_BAD_REQUEST, "\"url\"");
	expect_fail("{\"v\":1,\"op\":\"headers\",\"url\":\"\"}", PROTO_E_BAD_REQUEST, "\"url\"");
	expect_fail("{\"v\":1,\"op\":\"headers\",\"url\":\"https://u:" SENTINEL
		    "@h/\",\"name\":\"a\"}",
		    PROTO_E_BAD_REQUEST, "\"name\"");
	expect_long("{\"v\":1,\"op\":\"headers\",\"url\":\"", PROTO_MAX_URL, "\"}", PROTO_OK);
	expect_long("{\"v\":1,\"op\":\"headers\",\"url\":\"https://" SENTINEL, PROTO_MAX_URL, "\"}",
		    PROTO_E_BAD_REQUEST);
}

static void test_bad_lock(void **state)
{
	(void)state;
	expect_fail("{\"v\":1,\"op\":\"lock\"}", PROTO_E_BAD_REQUEST, "\"passphrase\"");
	expect_fail("{\"v\":1,\"op\":\"unlock\"}", PROTO_E_BAD_REQUEST, "\"passphrase\"");
	expect_fail("{\"v\":1,\"op\":\"lock\",\"passphrase\":\"\"}", PROTO_E_BAD_REQUEST,
		    "\"passphrase\"");
	expect_fail("{\"v\":1,\"op\":\"unlock\",\"passphrase\":1234}", PROTO_E_BAD_REQUEST,
		    "\"passphrase\"");
	expect_fail("{\"v\":1,\"op\":\"lock\",\"passphrase\":\"" SENTINEL "\",\"lifetime\":1}",
		    PROTO_E_BAD_REQUEST, "\"lifetime\"");
	expect_long("{\"v\":1,\"op\":\"lock\",\"passphrase\":\"", PROTO_MAX_PASSPHRASE, "\"}",
		    PROTO_OK);
	expect_long("{\"v\":1,\"op\":\"unlock\",\"passphrase\":\"" SENTINEL, PROTO_MAX_PASSPHRASE,
		    "\"}", PROTO_E_BAD_REQUEST);
}

#define TOKEN_PREFIX "{\"v\":1,\"op\":\"token\","

static void test_bad_token(void **state)
{
	static const struct {
		const char *json;
		const char *has;
	} cases[] = {
		/* Wrong types: absent is fine, null is not. */
		{ TOKEN_PREFIX "\"profile\":1}", "field \"profile\": must be a string" },
		{ TOKEN_PREFIX "\"profile\":null}", "\"profile\"" },
		{ TOKEN_PREFIX "\"profile\":[\"vm\"]}", "\"profile\"" },
		{ TOKEN_PREFIX "\"profile\":true}", "\"profile\"" },
		{ TOKEN_PREFIX "\"scope\":1}", "\"scope\"" },
		{ TOKEN_PREFIX "\"scope\":null}", "\"scope\"" },
		{ TOKEN_PREFIX "\"scope\":{\"s\":\"" SENTINEL "\"}}", "\"scope\"" },
		{ TOKEN_PREFIX "\"scope\":[\"" SENTINEL "\"]}", "\"scope\"" },
		/* Bad names. */
		{ TOKEN_PREFIX "\"profile\":\"\"}", "field \"profile\": must be 1..64 characters" },
		{ TOKEN_PREFIX "\"profile\":\"" SENTINEL " x\"}", "\"profile\"" },
		{ TOKEN_PREFIX "\"profile\":\"" SENTINEL "/x\"}", "\"profile\"" },
		{ TOKEN_PREFIX "\"profile\":\"caf\\u00e9\"}", "\"profile\"" },
		/* Bad scopes: empty, spaces, control and non-ASCII characters. */
		{ TOKEN_PREFIX "\"scope\":\"\"}",
		  "field \"scope\": must be 1..1024 characters of printable ASCII without spaces" },
		{ TOKEN_PREFIX "\"scope\":\"" SENTINEL " openid\"}", "\"scope\"" },
		{ TOKEN_PREFIX "\"scope\":\" " SENTINEL "\"}", "\"scope\"" },
		{ TOKEN_PREFIX "\"scope\":\"" SENTINEL "\\t\"}", "\"scope\"" },
		{ TOKEN_PREFIX "\"scope\":\"" SENTINEL "\\n\"}", "\"scope\"" },
		{ TOKEN_PREFIX "\"scope\":\"" SENTINEL "\\u007f\"}", "\"scope\"" },
		{ TOKEN_PREFIX "\"scope\":\"" SENTINEL "\\u00e9\"}", "\"scope\"" },
		/* Fields of other operations, and unknown ones (never echoed). */
		{ TOKEN_PREFIX "\"url\":\"https://" SENTINEL "\"}",
		  "field \"url\": not allowed in op \"token\"" },
		{ TOKEN_PREFIX "\"name\":\"vm\"}", "field \"name\": not allowed in op \"token\"" },
		{ TOKEN_PREFIX "\"" SENTINEL "\":\"vm\"}", "op \"token\": unknown field" },
		{ TOKEN_PREFIX "\"Scope\":\"x\"}", "unknown field" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_fail(cases[i].json, PROTO_E_BAD_REQUEST, cases[i].has);
	/* "profile" and "scope" belong to "token" only. */
	expect_fail("{\"v\":1,\"op\":\"list\",\"scope\":\"x\"}", PROTO_E_BAD_REQUEST,
		    "field \"scope\": not allowed in op \"list\"");
	expect_fail("{\"v\":1,\"op\":\"headers\",\"url\":\"https://h/\",\"profile\":\"vm\"}",
		    PROTO_E_BAD_REQUEST, "field \"profile\": not allowed in op \"headers\"");
}

static void test_bad_token_lengths(void **state)
{
	(void)state;
	expect_long(TOKEN_PREFIX "\"scope\":\"", PROTO_MAX_SCOPE, "\"}", PROTO_OK);
	expect_long(TOKEN_PREFIX "\"scope\":\"" SENTINEL, PROTO_MAX_SCOPE, "\"}",
		    PROTO_E_BAD_REQUEST);
	expect_long(TOKEN_PREFIX "\"profile\":\"", PROTO_MAX_NAME, "\"}", PROTO_OK);
	expect_long(TOKEN_PREFIX "\"profile\":\"", PROTO_MAX_NAME + 1, "\"}", PROTO_E_BAD_REQUEST);
}

static void test_err_buffer_sizes(void **state)
{
	const char *json = "{\"v\":1,\"op\":\"remove\",\"all\":false}";
	struct proto_request req;
	char err[8];

	(void)state;
	assert_int_equal(decode_str(json, &req, NULL, 0), PROTO_E_BAD_REQUEST);
	memset(err, 'x', sizeof(err));
	assert_int_equal(decode_str(json, &req, err, 1), PROTO_E_BAD_REQUEST);
	assert_int_equal(err[0], '\0');
	assert_int_equal(err[1], 'x');
	assert_int_equal(decode_str(json, &req, err, sizeof(err)), PROTO_E_BAD_REQUEST);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(decode_str(json, NULL, err, sizeof(err)), PROTO_E_INTERNAL);
	proto_request_done(NULL);
}

static void test_name_valid(void **state)
{
	char name[PROTO_MAX_NAME + 2];

	(void)state;
	assert_true(proto_name_valid("a"));
	assert_true(proto_name_valid("Contoso-1.prod_EU"));
	assert_true(proto_name_valid("..."));
	assert_false(proto_name_valid(NULL));
	assert_false(proto_name_valid(""));
	assert_false(proto_name_valid("a b"));
	assert_false(proto_name_valid("a/b"));
	assert_false(proto_name_valid("a:b"));
	assert_false(proto_name_valid("caf\xc3\xa9"));
	assert_false(proto_name_valid("a\n"));
	memset(name, 'n', PROTO_MAX_NAME);
	name[PROTO_MAX_NAME] = '\0';
	assert_true(proto_name_valid(name));
	name[PROTO_MAX_NAME] = 'n';
	name[PROTO_MAX_NAME + 1] = '\0';
	assert_false(proto_name_valid(name));
}

static void test_encode_round_trip(void **state)
{
	struct proto_request req;
	const uint8_t *payload;
	size_t len = 0, plen, consumed;
	uint8_t *buf = NULL;
	json_t *msg;

	(void)state;
	msg = json_pack("{s:s,s:s,s:s,s:I}", "op", "add", "name", "contoso", "secret",
			"k\"\\\n" SENTINEL, "lifetime", (json_int_t)60);
	assert_non_null(msg);
	assert_int_equal(proto_encode(msg, &buf, &len), 0);
	assert_null(json_object_get(msg, "v")); /* the caller's object is left alone */
	assert_true(len > PROTO_HEADER_LEN);
	assert_memory_equal(buf + PROTO_HEADER_LEN, "{\"v\":1,", 7);
	assert_int_equal(proto_frame_split(buf, len, &payload, &plen, &consumed), 1);
	assert_int_equal(consumed, len);
	assert_int_equal(proto_request_decode(payload, plen, &req, NULL, 0), PROTO_OK);
	assert_int_equal(req.op, PROTO_OP_ADD);
	assert_string_equal(req.add.name, "contoso");
	assert_string_equal(req.add.secret, "k\"\\\n" SENTINEL);
	assert_int_equal(req.add.lifetime, 60);
	proto_request_done(&req);
	assert_null(proto_buf_free(buf, len));
	json_decref(msg);
}

static void test_encode_reply(void **state)
{
	size_t len = 0;
	uint8_t *buf = NULL;
	json_t *msg = proto_ok_reply();
	const char want[] = "{\"v\":1,\"ok\":true,\"removed\":1}";

	(void)state;
	assert_non_null(msg);
	assert_int_equal(json_object_set_new(msg, "removed", json_integer(1)), 0);
	assert_int_equal(proto_encode(msg, &buf, &len), 0);
	assert_int_equal(len, PROTO_HEADER_LEN + strlen(want));
	assert_memory_equal(buf + PROTO_HEADER_LEN, want, strlen(want));
	assert_int_equal(buf[3], strlen(want));
	proto_buf_free(buf, len);
	json_decref(msg);
}

/* A "v" already present is kept: the way to speak another version in tests. */
static void test_encode_keeps_version(void **state)
{
	struct proto_request req;
	size_t len = 0;
	uint8_t *buf = NULL;
	json_t *msg = json_pack("{s:s,s:i}", "op", "list", "v", 2);

	(void)state;
	assert_int_equal(proto_encode(msg, &buf, &len), 0);
	assert_memory_equal(buf + PROTO_HEADER_LEN, "{\"v\":2,", 7);
	assert_int_equal(
	    proto_request_decode(buf + PROTO_HEADER_LEN, len - PROTO_HEADER_LEN, &req, NULL, 0),
	    PROTO_E_UNSUPPORTED_VERSION);
	proto_buf_free(buf, len);
	json_decref(msg);
}

static void test_encode_sizes(void **state)
{
	/* {"v":1,"x":"…"} is 14 bytes of JSON around the string. */
	const size_t overhead = 14;
	size_t len = 7;
	uint8_t *buf = NULL;
	json_t *msg;
	char *s;

	(void)state;
	s = long_json("", 'x', PROTO_MAX_FRAME - overhead, "");
	msg = json_pack("{s:s}", "x", s);
	assert_int_equal(proto_encode(msg, &buf, &len), 0);
	assert_int_equal(len, PROTO_HEADER_LEN + PROTO_MAX_FRAME);
	buf = proto_buf_free(buf, len);
	json_decref(msg);
	free(s);

	len = 7;
	s = long_json("", 'x', PROTO_MAX_FRAME - overhead + 1, "");
	msg = json_pack("{s:s}", "x", s);
	assert_int_equal(proto_encode(msg, &buf, &len), -EMSGSIZE);
	assert_null(buf);
	assert_int_equal(len, 7);
	json_decref(msg);
	free(s);

	msg = json_pack("[i]", 1);
	assert_int_equal(proto_encode(msg, &buf, &len), -EINVAL);
	assert_int_equal(proto_encode(NULL, &buf, &len), -EINVAL);
	json_decref(msg);
	assert_null(proto_buf_free(NULL, 10));
}

/* The writer's output is byte for byte what jansson's compact dump makes. */
static void test_encode_matches_jansson(void **state)
{
	static const char *const docs[] = {
		"{\"op\":\"headers\",\"url\":\"https://a.example/x?y=1&z=%2F\"}",
		"{\"s\":\"\\u0000\\u0001\\u001f \\\" \\\\ / \\b\\f\\n\\r\\t \\u007f\"}",
		"{\"u\":\"caf\\u00e9 \\u20ac \\ud83d\\ude00\",\"k\\u00e9y\":1}",
		"{\"n\":[-9223372036854775808,9223372036854775807,0,1.5,-0.0,1e300,2.0,1e-7]}",
		"{\"t\":true,\"f\":false,\"z\":null,\"e\":{},\"a\":[],\"o\":{\"a\":[{\"b\":[1]}]}}",
		"{\"zz\":1,\"aa\":2,\"mm\":{\"y\":1,\"b\":2}}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		json_t *msg = json_loads(docs[i], JSON_ALLOW_NUL, NULL);
		json_t *want = json_pack("{s:i}", "v", PROTO_VERSION);
		uint8_t *buf = NULL;
		size_t len = 0, want_len;
		char *text;

		assert_non_null(msg);
		assert_int_equal(json_object_update(want, msg), 0);
		want_len = json_dumpb(want, NULL, 0, JSON_COMPACT);
		text = malloc(want_len);
		assert_non_null(text);
		assert_int_equal(json_dumpb(want, text, want_len, JSON_COMPACT), want_len);
		assert_int_equal(proto_encode(msg, &buf, &len), 0);
		assert_int_equal(len - PROTO_HEADER_LEN, want_len);
		assert_memory_equal(buf + PROTO_HEADER_LEN, text, want_len);
		proto_buf_free(buf, len);
		free(text);
		json_decref(want);
		json_decref(msg);
	}
}

/* Nesting deeper than any message of the protocol is refused, not recursed into. */
static void test_encode_depth_bounded(void **state)
{
	json_t *msg = json_object(), *inner = msg;
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	for (int i = 0; i < 100; i++) {
		json_t *next = json_object();

		json_object_set_new(inner, "x", next);
		inner = next;
	}
	assert_int_equal(proto_encode(msg, &buf, &len), -ELOOP);
	assert_null(buf);
	json_decref(msg);
}

static void test_error_reply(void **state)
{
	json_t *r;

	(void)state;
	r = proto_error_reply(PROTO_E_NO_MATCH, "no profile covers host example.com:443");
	assert_non_null(r);
	assert_true(json_is_false(json_object_get(r, "ok")));
	assert_string_equal(json_string_value(json_object_get(r, "error")), "no_match");
	assert_string_equal(json_string_value(json_object_get(r, "message")),
			    "no profile covers host example.com:443");
	assert_int_equal(json_object_size(r), 3);
	json_decref(r);

	r = proto_error_reply(PROTO_E_LOCKED, NULL);
	assert_string_equal(json_string_value(json_object_get(r, "message")),
			    proto_strerror(PROTO_E_LOCKED));
	json_decref(r);

	r = proto_error_reply(PROTO_E_DENIED, "bad \xff utf-8");
	assert_string_equal(json_string_value(json_object_get(r, "error")), "denied");
	assert_string_equal(json_string_value(json_object_get(r, "message")),
			    proto_strerror(PROTO_E_DENIED));
	json_decref(r);

	r = proto_error_reply(PROTO_E_UNSUPPORTED_VERSION, NULL);
	assert_string_equal(json_string_value(json_object_get(r, "error")), "unsupported_version");
	assert_int_equal(json_array_size(json_object_get(r, "versions")), 1);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(r, "versions"), 0)),
			 PROTO_VERSION);
	json_decref(r);

	r = proto_error_reply(PROTO_OK, "x");
	assert_string_equal(json_string_value(json_object_get(r, "error")), "internal");
	json_decref(r);
	r = proto_error_reply((enum proto_status)999, "x");
	assert_string_equal(json_string_value(json_object_get(r, "error")), "internal");
	json_decref(r);

	r = proto_ok_reply();
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_int_equal(json_object_size(r), 1);
	json_decref(r);
}

static void test_status_names(void **state)
{
	static const char *const names[] = {
		[PROTO_E_BAD_REQUEST] = "bad_request",
		[PROTO_E_UNSUPPORTED_VERSION] = "unsupported_version",
		[PROTO_E_UNKNOWN_OP] = "unknown_op",
		[PROTO_E_NO_MATCH] = "no_match",
		[PROTO_E_INSECURE_URL] = "insecure_url",
		[PROTO_E_LOCKED] = "locked",
		[PROTO_E_NOT_LOCKED] = "not_locked",
		[PROTO_E_BAD_PASSPHRASE] = "bad_passphrase",
		[PROTO_E_MISSING_SECRET] = "missing_secret",
		[PROTO_E_UNAVAILABLE] = "unavailable",
		[PROTO_E_NOT_FOUND] = "not_found",
		[PROTO_E_CONFLICT] = "conflict",
		[PROTO_E_BAD_CONFIG] = "bad_config",
		[PROTO_E_DENIED] = "denied",
		[PROTO_E_LIMIT] = "limit",
		[PROTO_E_INTERNAL] = "internal",
		[PROTO_E_STORE] = "store",
	};
	unsigned i;

	(void)state;
	assert_int_equal(sizeof(names) / sizeof(names[0]), _PROTO_STATUS_MAX);
	for (i = PROTO_E_BAD_REQUEST; i < _PROTO_STATUS_MAX; i++) {
		assert_string_equal(proto_status_name((enum proto_status)i), names[i]);
		assert_int_equal(proto_status_from_name(names[i]), i);
		assert_non_null(proto_strerror((enum proto_status)i));
		assert_true(proto_strerror((enum proto_status)i)[0] != '\0');
	}
	assert_string_equal(proto_status_name((enum proto_status)999), "internal");
	assert_string_equal(proto_status_name((enum proto_status) - 1), "internal");
	assert_string_equal(proto_strerror((enum proto_status)999),
			    proto_strerror(PROTO_E_INTERNAL));
	assert_int_equal(proto_status_from_name("ok"), PROTO_E_INTERNAL);
	assert_int_equal(proto_status_from_name("nope"), PROTO_E_INTERNAL);
	assert_int_equal(proto_status_from_name(""), PROTO_E_INTERNAL);
	assert_int_equal(proto_status_from_name(NULL), PROTO_E_INTERNAL);
	assert_int_equal(proto_status_from_name("LOCKED"), PROTO_E_INTERNAL);
}

static void test_op_names(void **state)
{
	static const char *const names[] = {
		[PROTO_OP_ADD] = "add",
		[PROTO_OP_REMOVE] = "remove",
		[PROTO_OP_LIST] = "list",
		[PROTO_OP_HEADERS] = "headers",
		[PROTO_OP_LOCK] = "lock",
		[PROTO_OP_UNLOCK] = "unlock",
		[PROTO_OP_STATUS] = "status",
		[PROTO_OP_RELOAD] = "reload",
		[PROTO_OP_TOKEN] = "token",
		[PROTO_OP_PASSWD] = "passwd",
		[PROTO_OP_JWKS] = "jwks",
		[PROTO_OP_LOGIN] = "login",
		[PROTO_OP_LOGIN_WAIT] = "login_wait",
		[PROTO_OP_LOGOUT] = "logout",
		[PROTO_OP_LOGIN_CODE] = "login_code",
		[PROTO_OP_HOSTS] = "hosts",
	};
	unsigned i;

	(void)state;
	assert_int_equal(sizeof(names) / sizeof(names[0]), _PROTO_OP_MAX);
	for (i = 0; i < _PROTO_OP_MAX; i++)
		assert_string_equal(proto_op_name((enum proto_op)i), names[i]);
	assert_string_equal(proto_op_name(_PROTO_OP_MAX), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_add),
		cmocka_unit_test(test_decode_login),
		cmocka_unit_test(test_decode_add_minimal),
		cmocka_unit_test(test_decode_add_lifetime_bounds),
		cmocka_unit_test(test_decode_remove),
		cmocka_unit_test(test_decode_no_field_ops),
		cmocka_unit_test(test_decode_headers),
		cmocka_unit_test(test_decode_lock_unlock),
		cmocka_unit_test(test_decode_token),
		cmocka_unit_test(test_decode_jwks),
		cmocka_unit_test(test_scope_valid),
		cmocka_unit_test(test_bad_payloads),
		cmocka_unit_test(test_bad_payload_bytes),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_bad_op),
		cmocka_unit_test(test_bad_add_types),
		cmocka_unit_test(test_bad_add_values),
		cmocka_unit_test(test_bad_add_lengths),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_bad_remove),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_bad_lock),
		cmocka_unit_test(test_bad_token),
		cmocka_unit_test(test_bad_token_lengths),
		cmocka_unit_test(test_err_buffer_sizes),
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_encode_round_trip),
		cmocka_unit_test(test_encode_reply),
		cmocka_unit_test(test_encode_keeps_version),
		cmocka_unit_test(test_encode_sizes),
		cmocka_unit_test(test_encode_matches_jansson),
		cmocka_unit_test(test_encode_depth_bounded),
		cmocka_unit_test(test_error_reply),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_op_names),
	};

	return cmocka_run_group_tests_name("request", tests, NULL, NULL);
}
