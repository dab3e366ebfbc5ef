/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hosts.h"

static struct host_pattern pat(const char *text)
{
	struct host_pattern p;
	char err[256] = "";

	if (host_pattern_parse(text, &p, err, sizeof(err)) < 0)
		fail_msg("pattern \"%s\": %s", text, err);
	return p;
}

static struct url_target target(const char *url)
{
	struct url_target t;
	char err[256] = "";

	if (url_target_parse(url, &t, err, sizeof(err)) < 0)
		fail_msg("url: %s", err);
	return t;
}

static void expect_pattern(const char *text, const char *host, bool wildcard, int port)
{
	struct host_pattern p = pat(text);
	char back[300];

	assert_string_equal(p.host, host);
	assert_int_equal(p.wildcard, wildcard);
	assert_int_equal(p.port, port);
	host_pattern_format(&p, back, sizeof(back));
	/* Formatting and parsing again gives the same pattern. */
	struct host_pattern q = pat(back);
	assert_true(host_pattern_equal(&p, &q));
}

static void test_pattern_valid(void **state)
{
	(void)state;
	expect_pattern("contoso.openai.azure.com", "contoso.openai.azure.com", false, 0);
	expect_pattern("Contoso.OpenAI.Azure.COM", "contoso.openai.azure.com", false, 0);
	expect_pattern("*.openai.azure.com", "openai.azure.com", true, 0);
	expect_pattern("*.Example.com:8443", "example.com", true, 8443);
	expect_pattern("localhost:1", "localhost", false, 1);
	expect_pattern("127.0.0.1:65535", "127.0.0.1", false, 65535);
	expect_pattern("[::1]:8443", "::1", false, 8443);
	expect_pattern("[0:0:0:0:0:0:0:1]", "::1", false, 0);
	expect_pattern("[FE80::A]", "fe80::a", false, 0);
	expect_pattern("*.com", "com", true, 0);
	expect_pattern("a-b.c-d", "a-b.c-d", false, 0);
}

static void test_pattern_format(void **state)
{
	char buf[300];
	struct host_pattern p;

	(void)state;
	p = pat("*.Example.com:8443");
	host_pattern_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "*.example.com:8443");
	p = pat("[::1]:8443");
	host_pattern_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:8443");
	p = pat("a.test");
	host_pattern_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "a.test");
}

static void expect_bad_pattern(const char *text, const char *why)
{
	struct host_pattern p = { .port = 77 };
	char err[256] = "";

	assert_int_equal(host_pattern_parse(text, &p, err, sizeof(err)), -EINVAL);
	if (!strstr(err, why))
		fail_msg("pattern \"%s\": message \"%s\" lacks \"%s\"", text ? text : "(null)", err,
			 why);
	assert_int_equal(p.port, 77); /* untouched */
}

/* A URL where a host belongs, as copied from the portal: a bare origin is
 * taken as its host and port; anything more is refused with what to write. */
static void test_pattern_from_url(void **state)
{
	(void)state;
	expect_pattern("https://contoso.openai.azure.com/", "contoso.openai.azure.com", false, 0);
	expect_pattern("HTTPS://Contoso.Example:443", "contoso.example", false, 0);
	expect_pattern("https://h.example:8443", "h.example", false, 8443);
	expect_pattern("https://h.example:8443/", "h.example", false, 8443);
	expect_pattern("http://localhost:8080/", "localhost", false, 8080);
	expect_pattern("http://h.example:80/", "h.example", false, 0);
	expect_pattern("http://h.example:443/", "h.example", false, 443);
	expect_pattern("https://[::1]:8443/", "::1", false, 8443);
	expect_pattern("https://127.0.0.1/", "127.0.0.1", false, 0);
	expect_bad_pattern("https://h.example:8443/x",
			   "expected a host name, got a URL with a path, query or fragment: write "
			   "\"h.example:8443\"");
	expect_bad_pattern("https://h.example/openai/v1/?api-version=1", "write \"h.example\"");
	expect_bad_pattern("https://h.example?q", "write \"h.example\"");
	expect_bad_pattern("https://h.example#f", "write \"h.example\"");
	expect_bad_pattern("https://[::1]/x", "write \"[::1]\"");
	expect_bad_pattern("https://user:pw@h.example/",
			   "expected a host name, got a URL with a user name: write \"h.example\"");
	expect_bad_pattern("https://*.openai.azure.com/", "without \"https://\"");
	expect_bad_pattern("ftp://h.example/", "expected a host name, got a URL");
	expect_bad_pattern("https://a.example\\@b.example/", "expected a host name, got a URL");
	expect_bad_pattern("https://127.1/", "expected a host name, got a URL");
}

static void test_pattern_invalid(void **state)
{
	char label[80], name[300];

	(void)state;
	expect_bad_pattern(NULL, "empty");
	expect_bad_pattern("", "empty");
	expect_bad_pattern("*", "lone '*'");
	expect_bad_pattern("*:443", "lone '*'");
	expect_bad_pattern("*foo.com", "*.suffix");
	expect_bad_pattern("*.", "empty host name");
	expect_bad_pattern("a.*.com", "'*'");
	expect_bad_pattern("a*.com", "'*'");
	expect_bad_pattern("*.*.com", "'*'");
	expect_bad_pattern(".a.com", "starts with a dot");
	expect_bad_pattern("a.com.", "ends with a dot");
	expect_bad_pattern("a..com", "empty label");
	expect_bad_pattern("a_b.com", "invalid character");
	expect_bad_pattern("a b.com", "invalid character");
	expect_bad_pattern("a/b", "invalid character");
	expect_bad_pattern("a.com:", "empty port");
	expect_bad_pattern("a.com:0", "port");
	expect_bad_pattern("a.com:65536", "port");
	expect_bad_pattern("a.com:123456", "port");
	expect_bad_pattern("a.com:+80", "port");
	expect_bad_pattern("a.com:80x", "port");
	expect_bad_pattern(":80", "empty host name");
	expect_bad_pattern("::1", "brackets");
	expect_bad_pattern("[::1", "missing ']'");
	expect_bad_pattern("[::1]x", "after ']'");
	expect_bad_pattern("[]", "invalid IPv6");
	expect_bad_pattern("[zz::1]", "invalid IPv6");
	expect_bad_pattern("[::1]:0", "port");
	expect_bad_pattern("*.[::1]", "IP address");
	memset(label, 'a', 64);
	label[64] = '\0';
	expect_bad_pattern(label, "longer than 63");
	label[63] = '\0';
	pat(label); /* 63 is fine */
	memset(name, 'a', sizeof(name));
	for (size_t i = 50; i < sizeof(name); i += 51)
		name[i] = '.';
	name[256] = '\0';
	expect_bad_pattern(name, "longer than 255");
	name[255] = '\0';
	if (name[254] == '.')
		name[254] = 'a';
	pat(name); /* 255 is fine */
}

static void test_pattern_equal(void **state)
{
	struct host_pattern a = pat("a.test"), b = pat("A.TEST"), c = pat("*.a.test"),
			    d = pat("a.test:443");

	(void)state;
	assert_true(host_pattern_equal(&a, &b));
	assert_false(host_pattern_equal(&a, &c));
	assert_false(host_pattern_equal(&a, &d));
}

static void expect_target(const char *url, bool https, const char *host, int port,
			  bool default_port, bool loopback)
{
	struct url_target t = target(url);

	assert_int_equal(t.https, https);
	assert_string_equal(t.host, host);
	assert_int_equal(t.port, port);
	assert_int_equal(t.default_port, default_port);
	assert_int_equal(t.loopback, loopback);
}

static void test_url_valid(void **state)
{
	(void)state;
	expect_target("https://contoso.openai.azure.com/openai/deployments?x=1", true,
		      "contoso.openai.azure.com", 443, true, false);
	expect_target("HTTPS://Contoso.OpenAI.Azure.COM/", true, "contoso.openai.azure.com", 443,
		      true, false);
	expect_target("http://example.com", false, "example.com", 80, true, false);
	expect_target("https://example.com.:8443/x", true, "example.com", 8443, false, false);
	expect_target("https://example.com:443/", true, "example.com", 443, true, false);
	expect_target("http://example.com:443/", false, "example.com", 443, false, false);
	/* userinfo and fragments never decide the host */
	expect_target("https://a.test@b.test/", true, "b.test", 443, true, false);
	expect_target("https://a.test:443@b.test/", true, "b.test", 443, true, false);
	expect_target("https://b.test/#a.test", true, "b.test", 443, true, false);
	expect_target("https://b.test?@a.test/", true, "b.test", 443, true, false);
	/* IPv6 and loopback */
	expect_target("http://[::1]:8443/", false, "::1", 8443, false, true);
	expect_target("http://[0:0::1]/", false, "::1", 80, true, true);
	expect_target("http://[::ffff:127.0.0.1]/", false, "::ffff:127.0.0.1", 80, true, true);
	expect_target("https://[2001:DB8::1]/", true, "2001:db8::1", 443, true, false);
	expect_target("http://127.0.0.1:1234/", false, "127.0.0.1", 1234, false, true);
	expect_target("http://127.255.1.2/", false, "127.255.1.2", 80, true, true);
	expect_target("http://LOCALHOST./", false, "localhost", 80, true, true);
	expect_target("http://128.0.0.1/", false, "128.0.0.1", 80, true, false);
	expect_target("http://localhost.example/", false, "localhost.example", 80, true, false);
	expect_target("http://169.254.169.254/metadata", false, "169.254.169.254", 80, true, false);
}

static void expect_bad_url(const char *url, const char *why)
{
	struct url_target t = { .port = 77 };
	char err[256] = "";

	assert_int_equal(url_target_parse(url, &t, err, sizeof(err)), -EINVAL);
	if (!strstr(err, why))
		fail_msg("message \"%s\" lacks \"%s\"", err, why);
	assert_int_equal(t.port, 77);
}

static void test_url_invalid(void **state)
{
	struct url_target t;
	char err[256] = "";

	(void)state;
	expect_bad_url(NULL, "empty");
	expect_bad_url("", "empty");
	expect_bad_url("ftp://example.com/", "scheme");
	expect_bad_url("FILE:///etc/passwd", "scheme");
	expect_bad_url("foo://example.com/", "scheme");
	expect_bad_url("example.com/x", "absolute");
	expect_bad_url("/relative/path", "absolute");
	expect_bad_url("https://example.com:0/", "port");
	expect_bad_url("https://example.com:65536/", "absolute");
	/* The URL (which may carry credentials) is never echoed. */
	assert_int_equal(url_target_parse("ftp://user:hunter2@example.com/", &t, err, sizeof(err)),
			 -EINVAL);
	assert_null(strstr(err, "hunter2"));
	assert_null(strstr(err, "example"));
	assert_int_equal(url_target_parse("https://user:hunter2@a b/", &t, err, sizeof(err)),
			 -EILSEQ);
	assert_null(strstr(err, "hunter2"));
}

static void expect_ambiguous(const char *url, const char *why)
{
	struct url_target t = { .port = 77 };
	char err[256] = "";

	if (url_target_parse(url, &t, err, sizeof(err)) != -EILSEQ)
		fail_msg("\"%s\" was not refused as ambiguous (%s)", url, err);
	if (!strstr(err, why))
		fail_msg("message \"%s\" lacks \"%s\"", err, why);
	assert_null(strstr(err, "evil"));
	assert_int_equal(t.port, 77);
}

/* URLs whose host libcurl reads one way and Node, browsers, urllib3 or
 * Python's urllib another (tests/integration/test_url_parsers.py asks them). */
static void test_url_ambiguous(void **state)
{
	(void)state;
	/* WHATWG ends the authority at a backslash; RFC 3986 does not. */
	expect_ambiguous("https://evil.example\\@contoso.openai.azure.com/", "backslash");
	expect_ambiguous("https://contoso.openai.azure.com\\@evil.example/", "backslash");
	expect_ambiguous("https://contoso.openai.azure.com:443\\@evil.example/", "backslash");
	expect_ambiguous("https://\\contoso.openai.azure.com/", "slashes");
	/* WHATWG strips tab, CR and LF anywhere; the others keep or refuse them. */
	expect_ambiguous("https://contoso.openai.azure.com\t.evil.example/", "control");
	expect_ambiguous("https://contoso.openai.azure.com\r\n.evil.example/", "control");
	expect_ambiguous("https://contoso.openai.azure.com/a\tb", "offset 34");
	expect_ambiguous(" https://contoso.openai.azure.com/", "starts with");
	expect_ambiguous("https://contoso.openai.azure.com\x7f/", "control");
	/* Only "//" after the scheme: WHATWG and libcurl read a host, urllib none. */
	expect_ambiguous("https:/contoso.openai.azure.com/", "\"//\"");
	expect_ambiguous("https:contoso.openai.azure.com/", "\"//\"");
	expect_ambiguous("https:///contoso.openai.azure.com/", "slashes");
	/* Forms libcurl normalises and others keep, or map through IDNA. */
	expect_ambiguous("https://contoso%2eopenai.azure.com/", "percent");
	expect_ambiguous("https://contoso\xef\xbc\x8eopenai.azure.com/", "ASCII");
	expect_ambiguous("https://con\xc2\xadtoso.openai.azure.com/", "ASCII");
	expect_ambiguous("http://127.1/", "plain form");
	expect_ambiguous("http://0x7f.0.0.1/", "plain form");
	expect_ambiguous("http://2130706433/", "plain form");
	expect_ambiguous("http://0177.0.0.1/", "plain form");
	expect_ambiguous("https://[::1%25eth0]/", "IPv6");
	/* Userinfo: one '@', RFC 3986 characters only. */
	expect_ambiguous("https://a@evil.example@contoso.openai.azure.com/", "one '@'");
	expect_ambiguous("https://ev[il@contoso.openai.azure.com/", "percent-encoded");
	expect_ambiguous("https://contoso.openai.azure.com:44x3/", "port");
}

/* What every parser reads alike is still accepted. */
static void test_url_unambiguous(void **state)
{
	(void)state;
	expect_target("https://evil.example@contoso.openai.azure.com/", true,
		      "contoso.openai.azure.com", 443, true, false);
	expect_target("https://u:p%40x@contoso.openai.azure.com/", true, "contoso.openai.azure.com",
		      443, true, false);
	expect_target("https://contoso.openai.azure.com/p\\q?x=\\#\\", true,
		      "contoso.openai.azure.com", 443, true, false);
	expect_target("https://contoso.openai.azure.com/caf\xc3\xa9", true,
		      "contoso.openai.azure.com", 443, true, false);
	expect_target("https://contoso.openai.azure.com:0443/", true, "contoso.openai.azure.com",
		      443, true, false);
	expect_target("https://contoso.openai.azure.com:/", true, "contoso.openai.azure.com", 443,
		      true, false);
	expect_target("https://contoso.openai.azure.com#@evil.example", true,
		      "contoso.openai.azure.com", 443, true, false);
}

static int score(const char *pattern, const char *url)
{
	struct host_pattern p = pat(pattern);
	struct url_target t = target(url);

	return host_pattern_score(&p, &t);
}

static void test_score_match(void **state)
{
	(void)state;
	assert_true(score("a.example.com", "https://a.example.com/") >= 0);
	assert_true(score("a.example.com", "https://A.EXAMPLE.COM./") >= 0);
	assert_true(score("*.example.com", "https://a.example.com/") >= 0);
	assert_true(score("*.example.com", "https://x.y.example.com/") >= 0);
	/* the suffix itself is not covered by its wildcard */
	assert_true(score("*.example.com", "https://example.com/") < 0);
	assert_true(score("*.example.com", "https://badexample.com/") < 0);
	assert_true(score("*.example.com", "https://example.com.evil.test/") < 0);
	assert_true(score("a.example.com", "https://b.example.com/") < 0);
	assert_true(score("a.example.com", "https://a.example.com.evil.test/") < 0);
	/* wildcards never cover IP addresses */
	assert_true(score("*.0.0.1", "http://127.0.0.1/") < 0);
	assert_true(score("[::1]:8443", "http://[::1]:8443/") >= 0);
	assert_true(score("127.0.0.1", "http://127.0.0.1/") >= 0);
}

static void test_score_ports(void **state)
{
	(void)state;
	/* no port: the scheme's default only, written or not */
	assert_true(score("a.test", "https://a.test/") >= 0);
	assert_true(score("a.test", "https://a.test:443/") >= 0);
	assert_true(score("a.test", "http://a.test/") >= 0);
	assert_true(score("a.test", "https://a.test:8443/") < 0);
	assert_true(score("a.test", "http://a.test:443/") < 0);
	/* explicit port: that port only */
	assert_true(score("a.test:8443", "https://a.test:8443/") >= 0);
	assert_true(score("a.test:8443", "https://a.test/") < 0);
	assert_true(score("a.test:8443", "https://a.test:8444/") < 0);
	assert_true(score("a.test:443", "https://a.test/") >= 0);
	assert_true(score("*.test:8443", "https://a.test:8443/") >= 0);
	assert_true(score("*.test:8443", "https://a.test/") < 0);
}

static void test_score_order(void **state)
{
	const char *url = "https://a.b.example.com/";

	(void)state;
	/* exact beats any wildcard, even a long one */
	assert_true(score("a.b.example.com", url) > score("*.b.example.com", url));
	assert_true(score("a.b.example.com", url) > score("*.example.com", url));
	/* longer suffix beats shorter */
	assert_true(score("*.b.example.com", url) > score("*.example.com", url));
	assert_true(score("*.example.com", url) > score("*.com", url));
	/* explicit port beats the default, other things equal */
	assert_true(score("a.b.example.com:443", url) > score("a.b.example.com", url));
	assert_true(score("*.example.com:443", url) > score("*.example.com", url));
	/* ... but not a more specific host */
	assert_true(score("a.b.example.com", url) > score("*.b.example.com:443", url));
	assert_true(score("*.b.example.com", url) > score("*.example.com:443", url));
}

static void test_secure(void **state)
{
	struct url_target t;

	(void)state;
	t = target("https://example.com/");
	assert_true(url_target_secure(&t));
	t = target("http://example.com/");
	assert_false(url_target_secure(&t));
	t = target("http://127.0.0.1:8080/");
	assert_true(url_target_secure(&t));
	t = target("http://[::1]/");
	assert_true(url_target_secure(&t));
	t = target("http://localhost/");
	assert_true(url_target_secure(&t));
	/* IMDS is an exception for token endpoints only, never for headers */
	t = target("http://169.254.169.254/");
	assert_false(url_target_secure(&t));
	t = target("http://127.0.0.1.example.com/");
	assert_false(url_target_secure(&t));
}

static void test_fetchable(void **state)
{
	char where[300], err[256];

	(void)state;
	assert_int_equal(url_fetchable("https://login.microsoftonline.com/t/v2.0/.well-known/x",
				       where, sizeof(where), err, sizeof(err)),
			 0);
	assert_string_equal(where, "login.microsoftonline.com:443");
	assert_int_equal(
	    url_fetchable("http://127.0.0.1:8080/k", where, sizeof(where), err, sizeof(err)), 0);
	assert_string_equal(where, "127.0.0.1:8080");
	assert_int_equal(url_fetchable("http://127.0.0.1.example.com/secret-path", where,
				       sizeof(where), err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "plain http to 127.0.0.1.example.com is not loopback: https is "
				 "required");
	assert_int_equal(url_fetchable("ftp://127.0.0.1/x", where, sizeof(where), err, sizeof(err)),
			 -EINVAL);
	assert_null(strstr(err, "/x"));
	/* aoai check and the key cache fetch by the same rule: no host others read otherwise. */
	assert_int_equal(url_fetchable("http://evil.example\\@127.0.0.1/k", where, sizeof(where),
				       err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "backslash"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pattern_valid),   cmocka_unit_test(test_pattern_from_url),
		cmocka_unit_test(test_pattern_format),  cmocka_unit_test(test_pattern_invalid),
		cmocka_unit_test(test_pattern_equal),   cmocka_unit_test(test_url_valid),
		cmocka_unit_test(test_url_invalid),     cmocka_unit_test(test_url_ambiguous),
		cmocka_unit_test(test_url_unambiguous), cmocka_unit_test(test_score_match),
		cmocka_unit_test(test_score_ports),     cmocka_unit_test(test_score_order),
		cmocka_unit_test(test_secure),          cmocka_unit_test(test_fetchable),
	};

	return cmocka_run_group_tests_name("hosts", tests, NULL, NULL);
}
