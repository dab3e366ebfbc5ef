/* SPDX-License-Identifier: MIT */
/*
 * The plain URL reader (common/url_plain.c): which URLs it takes, which it
 * leaves to libcurl, and that what it takes reads exactly as the libcurl path
 * (url_target_parse_libcurl) reads it, target and authority alike.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hosts.h"
#include "url_authority.h"
#include "url_plain.h"

#define ERR_LEN    256
#define URL_LEN    1024
#define HOST_LABEL 63 /* a full label; four of them and their dots outgrow HOSTS_MAX_NAME */

/* The plain reader takes @url and reads what the libcurl path reads. */
static struct url_target expect_same(const char *url)
{
	struct url_target fast, slow;
	struct url_authority fast_a, slow_a;
	char err[ERR_LEN] = "";

	if (!url_plain_parse(url, &fast, &fast_a))
		fail_msg("\"%s\" was left to libcurl", url);
	if (url_target_parse_libcurl(url, &slow, &slow_a, err, sizeof(err)) < 0)
		fail_msg("\"%s\": the libcurl path refuses it: %s", url, err);
	assert_int_equal(fast.https, slow.https);
	assert_string_equal(fast.host, slow.host);
	assert_int_equal(fast.port, slow.port);
	assert_int_equal(fast.default_port, slow.default_port);
	assert_int_equal(fast.loopback, slow.loopback);
	assert_ptr_equal(fast_a.authority, slow_a.authority);
	assert_ptr_equal(fast_a.host, slow_a.host);
	assert_int_equal(fast_a.host_len, slow_a.host_len);
	assert_ptr_equal(fast_a.port, slow_a.port);
	assert_int_equal(fast_a.port_len, slow_a.port_len);
	return fast;
}

static void expect_plain(const char *url, bool https, const char *host, int port, bool loopback)
{
	struct url_target t = expect_same(url);

	assert_int_equal(t.https, https);
	assert_string_equal(t.host, host);
	assert_int_equal(t.port, port);
	assert_int_equal(t.default_port, port == (https ? 443 : 80));
	assert_int_equal(t.loopback, loopback);
}

/* The plain reader leaves @url to libcurl, @ret untouched, and url_target_parse() answers as
 * libcurl does, error message included. */
static void expect_deferred(const char *url)
{
	struct url_target t, slow, whole;
	struct url_authority a, slow_a;
	char err[ERR_LEN] = "", whole_err[ERR_LEN] = "";
	int r;

	memset(&t, 0x5a, sizeof(t));
	memset(&a, 0x5a, sizeof(a));
	if (url_plain_parse(url, &t, &a))
		fail_msg("\"%s\" was taken as plain", url);
	assert_int_equal(((const uint8_t *)&t)[0], 0x5a);
	assert_int_equal(t.port, (int)0x5a5a5a5a);
	assert_ptr_equal(a.host, (const char *)(uintptr_t)UINT64_C(0x5a5a5a5a5a5a5a5a));
	r = url_target_parse_libcurl(url, &slow, &slow_a, err, sizeof(err));
	assert_int_equal(url_target_parse(url, &whole, whole_err, sizeof(whole_err)), r);
	assert_string_equal(whole_err, err);
	if (r == 0)
		assert_string_equal(whole.host, slow.host);
}

/* "https://aaa.aaa.aaa.aa…c" + @tail, its host of @len bytes ending in @last. */
static void long_url(char *url, char *host, size_t len, const char *last, const char *tail)
{
	size_t i;

	for (i = 0; i < len; i++)
		host[i] = (i + 1) % (HOST_LABEL + 1) == 0 ? '.' : 'a';
	memcpy(host + len - strlen(last), last, strlen(last));
	host[len] = '\0';
	snprintf(url, URL_LEN, "https://%s%s", host, tail);
}

/* A host of HOSTS_MAX_NAME bytes is plain; one more byte, even a trailing dot, is libcurl's. */
static void expect_long_host(void)
{
	char url[URL_LEN], host[HOSTS_MAX_NAME + 2];

	long_url(url, host, HOSTS_MAX_NAME, "c", "/");
	expect_plain(url, true, host, 443, false);
	long_url(url, host, HOSTS_MAX_NAME, "c.", "/");
	host[HOSTS_MAX_NAME - 1] = '\0';
	expect_plain(url, true, host, 443, false);
	long_url(url, host, HOSTS_MAX_NAME + 1, "c.", "/");
	expect_deferred(url);
	long_url(url, host, HOSTS_MAX_NAME + 1, "c", "/");
	expect_deferred(url);
}

static void test_plain_names(void **state)
{
	(void)state;
	expect_plain("https://contoso.openai.azure.com/openai/deployments/gpt-4o/chat/"
		     "completions?api-version=2024-06-01",
		     true, "contoso.openai.azure.com", 443, false);
	expect_plain("HTTPS://Contoso.OpenAI.Azure.COM", true, "contoso.openai.azure.com", 443,
		     false);
	expect_plain("hTtP://example.test/", false, "example.test", 80, false);
	expect_plain("http://localhost:8080/v1", false, "localhost", 8080, true);
	expect_plain("http://LOCALHOST.:1/", false, "localhost", 1, true);
	expect_plain("http://localhost.example/", false, "localhost.example", 80, false);
	expect_plain("http://127.example.com/", false, "127.example.com", 80, false);
	expect_plain("https://example.com.:443/x", true, "example.com", 443, false);
	expect_plain("https://1.2.3.a/", true, "1.2.3.a", 443, false);
	expect_plain("https://0x7f.example/", true, "0x7f.example", 443, false);
	expect_plain("https://-a-.b-/", true, "-a-.b-", 443, false);
	expect_plain("https://xn--bcher-kva.example/", true, "xn--bcher-kva.example", 443, false);
	expect_long_host();
}

static void test_plain_quads(void **state)
{
	(void)state;
	expect_plain("http://127.0.0.1:8080/v1/chat/completions", false, "127.0.0.1", 8080, true);
	expect_plain("http://127.255.0.9/", false, "127.255.0.9", 80, true);
	expect_plain("https://0.0.0.0/", true, "0.0.0.0", 443, false);
	expect_plain("https://255.255.255.255:1", true, "255.255.255.255", 1, false);
	expect_plain("https://10.0.0.1?x", true, "10.0.0.1", 443, false);
	expect_plain("http://128.0.0.1/", false, "128.0.0.1", 80, false);
}

static void test_plain_ports_and_rest(void **state)
{
	(void)state;
	expect_plain("https://h.example:8443", true, "h.example", 8443, false);
	expect_plain("https://h.example:65535/", true, "h.example", 65535, false);
	expect_plain("http://h.example:443/", false, "h.example", 443, false);
	expect_plain("https://h.example:443/", true, "h.example", 443, false);
	/* parse_port() and libcurl's strtol() both drop leading zeros. */
	expect_plain("https://h.example:00443/", true, "h.example", 443, false);
	expect_plain("https://h.example:8443?api-version=1", true, "h.example", 8443, false);
	expect_plain("https://h.example?api-version=1", true, "h.example", 443, false);
	expect_plain("https://h.example#frag", true, "h.example", 443, false);
	expect_plain("https://h.example/a\\b/%zz/../[x]{y}|~^`'\"<>", true, "h.example", 443,
		     false);
	expect_plain("https://h.example/a:b@c.example/?@d#e@f", true, "h.example", 443, false);
	expect_plain("https://h.example/12345678", true, "h.example", 443, false);
	expect_plain("https://h.example/1234567", true, "h.example", 443, false);
}

/* What libcurl reads as a number, or other parsers read another way, or refuses: its call. */
static void test_plain_defers_hosts(void **state)
{
	(void)state;
	expect_deferred("http://127.1/");
	expect_deferred("http://0x7f.0.0.1/");
	expect_deferred("http://2130706433/");
	expect_deferred("http://0177.0.0.1/");
	expect_deferred("http://127.0.0.01/");
	expect_deferred("http://1.2.3.256/");
	expect_deferred("http://1.2.3.4.5/");
	expect_deferred("http://127.0.0.1./");
	expect_deferred("https://a.b.1/");
	expect_deferred("https://example.com../");
	expect_deferred("https://a..b/");
	expect_deferred("https://.example.com/");
	expect_deferred("https://./");
	expect_deferred("https://a_b.example/");
	expect_deferred("https://ex%61mple.com/");
	expect_deferred("https://user:pw@example.com/");
	expect_deferred("https://evil.example\\@example.com/");
	expect_deferred("http://[::1]:8080/");
	expect_deferred("https://b\xc3\xbc"
			"cher.example/");
}

static void test_plain_defers_rest(void **state)
{
	(void)state;
	expect_deferred("");
	expect_deferred("https://");
	expect_deferred("https://:443/");
	expect_deferred("https:///example.com/");
	expect_deferred("http:/example.com/");
	expect_deferred("http:example.com/");
	expect_deferred("ftp://example.com/");
	expect_deferred("httpx://example.com/");
	expect_deferred("https://example.com:/");
	expect_deferred("https://example.com:0/");
	expect_deferred("https://example.com:000443/");
	expect_deferred("https://example.com:65536/");
	expect_deferred("https://example.com:8x/");
	expect_deferred("https://example.com:1:2/");
	expect_deferred("https://example.com/a\tb");
	expect_deferred("https://example.com/a b");
	expect_deferred("https://exam\r\nple.com/");
	expect_deferred("https://example.com/#\x7f");
	expect_deferred("https://example.com/\xc3\xa9");
	expect_deferred("https://example.com/1234567\x01");
	expect_deferred(" https://example.com/");
}

/*
 * Every URL built from these pieces: where the plain reader takes one, the
 * libcurl path must read the same (expect_same); the others go to libcurl.
 */
static void test_plain_grid_matches_libcurl(void **state)
{
	static const char *const schemes[] = { "http://", "HTTPS://", "https:/", "https:///" };
	static const char *const hosts[] = {
		"a",          "A.b",     "a.b.",  "a..b", "1.2.3.4",   "1.2.3.4.",  "01.2.3.4",
		"1.2.3",      "1.2.3.a", "0x1.a", "0x1",  "256.1.1.1", "127.0.0.1", "localhost",
		"LocalHost.", "-",       "a-",    "",     ".",         "a.1",       "4294967295",
	};
	static const char *const ports[] = { "",       ":",      ":0",      ":1",
					     ":80",    ":443",   ":0443",   ":65535",
					     ":65536", ":99999", ":123456", ":1a" };
	static const char *const rests[] = { "", "/", "?", "#", "/x?y#z", "\\", "@x", " ", "/%41" };
	char url[URL_LEN];
	struct url_target t;
	struct url_authority a;
	size_t s, h, p, r, taken = 0;

	(void)state;
	for (s = 0; s < sizeof(schemes) / sizeof(*schemes); s++)
		for (h = 0; h < sizeof(hosts) / sizeof(*hosts); h++)
			for (p = 0; p < sizeof(ports) / sizeof(*ports); p++)
				for (r = 0; r < sizeof(rests) / sizeof(*rests); r++) {
					snprintf(url, sizeof(url), "%s%s%s%s", schemes[s], hosts[h],
						 ports[p], rests[r]);
					if (url_plain_parse(url, &t, &a)) {
						expect_same(url);
						taken++;
					} else {
						expect_deferred(url);
					}
				}
	/* The grid does reach the plain reader (and not only its refusals). */
	assert_true(taken > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_names),
		cmocka_unit_test(test_plain_quads),
		cmocka_unit_test(test_plain_ports_and_rest),
		cmocka_unit_test(test_plain_defers_hosts),
		cmocka_unit_test(test_plain_defers_rest),
		cmocka_unit_test(test_plain_grid_matches_libcurl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
