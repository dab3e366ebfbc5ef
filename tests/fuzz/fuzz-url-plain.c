/* SPDX-License-Identifier: MIT */
/*
 * The plain URL reader (common/url_plain.c) against the libcurl path it
 * stands in for (url_target_parse_libcurl in common/hosts.c): whenever the
 * plain reader takes a URL, the libcurl path must take it too and read the
 * same target (scheme, host, port, default port, loopback) and the same
 * authority as written.  When the plain reader declines, it must leave its
 * outputs untouched (url_target_parse then answers from libcurl alone).
 * Each input is tried as it is and after "http://".
 */
#include "fuzz.h"
#include "hosts.h"
#include "url_authority.h"
#include "url_plain.h"

#define URL_PLAIN_ERR_LEN 256
#define URL_PLAIN_POISON  0xa5 /* what the outputs hold before a declined read */

static void check_same_target(const struct url_target *fast, const struct url_target *slow)
{
	FUZZ_CHECK(fast->https == slow->https);
	FUZZ_CHECK(strcmp(fast->host, slow->host) == 0);
	FUZZ_CHECK(fast->port == slow->port);
	FUZZ_CHECK(fast->default_port == slow->default_port);
	FUZZ_CHECK(fast->loopback == slow->loopback);
}

static void check_same_authority(const struct url_authority *fast, const struct url_authority *slow)
{
	FUZZ_CHECK(fast->authority == slow->authority);
	FUZZ_CHECK(fast->host == slow->host && fast->host_len == slow->host_len);
	FUZZ_CHECK(fast->port == slow->port && fast->port_len == slow->port_len);
}

/* A declined URL leaves both outputs as they were. */
static void check_untouched(const struct url_target *t, const struct url_authority *a)
{
	const uint8_t *bytes = (const uint8_t *)t;
	size_t i;

	for (i = 0; i < sizeof(*t); i++)
		FUZZ_CHECK(bytes[i] == URL_PLAIN_POISON);
	for (bytes = (const uint8_t *)a, i = 0; i < sizeof(*a); i++)
		FUZZ_CHECK(bytes[i] == URL_PLAIN_POISON);
}

static void check_url(const char *url)
{
	char err[URL_PLAIN_ERR_LEN] = "";
	struct url_target fast, slow;
	struct url_authority fast_a, slow_a;
	int r;

	memset(&fast, URL_PLAIN_POISON, sizeof(fast));
	memset(&fast_a, URL_PLAIN_POISON, sizeof(fast_a));
	if (!url_plain_parse(url, &fast, &fast_a)) {
		check_untouched(&fast, &fast_a);
		return;
	}
	r = url_target_parse_libcurl(url, &slow, &slow_a, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "the libcurl path refuses a plain URL: %s\n", err);
	FUZZ_CHECK(r == 0);
	check_same_target(&fast, &slow);
	check_same_authority(&fast_a, &slow_a);
}

/* The input as a URL, and after "http://": most mutations of a URL break its scheme, this way
 * every one of them also reaches the host, port and path rules. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char scheme[] = "http://";
	char *url = malloc(sizeof(scheme) + size);

	FUZZ_CHECK(url);
	memcpy(url, scheme, sizeof(scheme) - 1);
	if (size > 0)
		memcpy(url + sizeof(scheme) - 1, data, size);
	url[sizeof(scheme) - 1 + size] = '\0';
	check_url(url + sizeof(scheme) - 1);
	check_url(url);
	free(url);
	return 0;
}
