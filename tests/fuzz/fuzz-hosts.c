/* SPDX-License-Identifier: MIT */
/*
 * Host patterns and request URLs (common/hosts.c).  The input is
 * "PATTERN\nURL": the pattern comes from a config file or `aoai add
 * --host`, the URL from any client.  Checked: a parsed pattern survives
 * its canonical spelling (host_pattern_format then host_pattern_parse
 * gives an equal pattern); a parsed URL is in range; a score agrees with
 * the pattern; and a pattern written for a URL's own host and port covers
 * that URL.  Error messages must not echo the URL (it may hold userinfo).
 */
#include "fuzz.h"
#include "hosts.h"

#define HOSTS_ERR_LEN 256
#define HOSTS_TEXT    (HOSTS_MAX_NAME + 16) /* "*." + "[" + host + "]" + ":65535" */
#define HOSTS_PORT    65535

/* Format, parse again: the same pattern, or the canonical form is not canonical. */
static void check_round_trip(const struct host_pattern *p)
{
	char text[HOSTS_TEXT], again_text[HOSTS_TEXT], err[HOSTS_ERR_LEN];
	struct host_pattern again;
	int n;

	n = host_pattern_format(p, text, sizeof(text));
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(text));
	FUZZ_CHECK(host_pattern_parse(text, &again, err, sizeof(err)) == 0);
	FUZZ_CHECK(host_pattern_equal(p, &again));
	host_pattern_format(&again, again_text, sizeof(again_text));
	FUZZ_CHECK(strcmp(text, again_text) == 0);
}

static void check_pattern(const struct host_pattern *p)
{
	size_t i;

	FUZZ_CHECK(p->host[0] != '\0' && p->port >= 0 && p->port <= HOSTS_PORT);
	for (i = 0; p->host[i]; i++)
		FUZZ_CHECK(p->host[i] < 'A' || p->host[i] > 'Z');
	check_round_trip(p);
}

static void check_target(const struct url_target *t)
{
	size_t i;

	FUZZ_CHECK(t->host[0] != '\0' && t->port >= 1 && t->port <= HOSTS_PORT);
	FUZZ_CHECK(t->default_port == (t->port == (t->https ? 443 : 80)));
	for (i = 0; t->host[i]; i++)
		FUZZ_CHECK(t->host[i] < 'A' || t->host[i] > 'Z');
	FUZZ_CHECK(url_target_secure(t) == (t->https || t->loopback));
}

/* A profile written for exactly the URL's host and port covers the URL. */
static void check_own_pattern(const struct url_target *t)
{
	char text[HOSTS_TEXT + 8], err[HOSTS_ERR_LEN];
	struct host_pattern p;
	bool v6 = strchr(t->host, ':') != NULL;

	snprintf(text, sizeof(text), "%s%s%s:%d", v6 ? "[" : "", t->host, v6 ? "]" : "", t->port);
	if (host_pattern_parse(text, &p, err, sizeof(err)) < 0)
		return; /* a host curl accepts but a pattern cannot spell (e.g. '_') */
	FUZZ_CHECK(host_pattern_score(&p, t) >= 0);
}

static void check_score(const struct host_pattern *p, const struct url_target *t)
{
	int score = host_pattern_score(p, t);

	if (score < 0)
		return;
	FUZZ_CHECK(p->port == 0 ? t->default_port : p->port == t->port);
	if (!p->wildcard)
		FUZZ_CHECK(strcmp(p->host, t->host) == 0);
	else
		FUZZ_CHECK(strlen(t->host) > strlen(p->host) + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size), *url, err[HOSTS_ERR_LEN];
	struct host_pattern p;
	struct url_target t;
	bool have_p, have_t;

	url = strchr(text, '\n');
	if (url)
		*url++ = '\0';
	have_p = host_pattern_parse(text, &p, err, sizeof(err)) == 0;
	FUZZ_CHECK(fuzz_terminated(err, sizeof(err)));
	if (have_p)
		check_pattern(&p);
	have_t = url && url_target_parse(url, &t, err, sizeof(err)) == 0;
	FUZZ_CHECK(fuzz_message_ok(err, sizeof(err)));
	if (have_t) {
		check_target(&t);
		check_own_pattern(&t);
	}
	if (have_p && have_t)
		check_score(&p, &t);
	free(text);
	return 0;
}
