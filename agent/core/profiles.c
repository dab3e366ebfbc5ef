/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "added_profiles.h"
#include "profiles.h"
#include "proto.h"

size_t profiles_count(const struct agent *a)
{
	return a->config->n_profiles + added_profiles_count(a->added);
}

const struct profile *profiles_at(const struct agent *a, size_t i)
{
	if (i < a->config->n_profiles)
		return &a->config->profiles[i];
	return added_profiles_at(a->added, i - a->config->n_profiles);
}

const struct profile *profiles_find(const struct agent *a, const char *name)
{
	size_t n = profiles_count(a);

	for (size_t i = 0; i < n; i++) {
		const struct profile *p = profiles_at(a, i);

		if (strcmp(p->name, name) == 0)
			return p;
	}
	return NULL;
}

/* Host patterns are unique across profiles (config load and `add` check
 * that), so the best score names one profile whatever the file order. */
/* @t as if it went to the port @pat covers: for "right host, wrong port" hints. */
static struct url_target on_pattern_port(const struct url_target *t, const struct host_pattern *pat)
{
	struct url_target on_port = *t;

	on_port.default_port = pat->port == 0;
	if (pat->port)
		on_port.port = pat->port;
	return on_port;
}

/* The profile whose host pattern covers @t most specifically, and that pattern;
 * with @any_port, each pattern is scored as if @t went to its port. */
static const struct profile *best_match(const struct agent *a, const struct url_target *t,
					bool any_port, const struct host_pattern **ret_pattern)
{
	const struct profile *best = NULL;
	int best_score = -1;
	size_t n = profiles_count(a);

	for (size_t i = 0; i < n; i++) {
		const struct profile *p = profiles_at(a, i);

		for (size_t h = 0; h < p->n_hosts; h++) {
			const struct host_pattern *pat = &p->hosts[h];
			struct url_target moved;
			int score;

			/* A copy only for the hint: the release path scores @t itself. */
			if (any_port)
				moved = on_pattern_port(t, pat);
			score = host_pattern_score(pat, any_port ? &moved : t);

			if (score > best_score) {
				best_score = score;
				best = p;
				*ret_pattern = pat;
			}
		}
	}
	return best;
}

const struct profile *profiles_match(const struct agent *a, const struct url_target *t)
{
	const struct host_pattern *pat;

	return best_match(a, t, false, &pat);
}

const struct profile *profiles_match_any_port(const struct agent *a, const struct url_target *t,
					      const struct host_pattern **ret_pattern)
{
	return best_match(a, t, true, ret_pattern);
}

const struct profile *profiles_with_pattern(const struct agent *a, const struct host_pattern *pat)
{
	size_t n = profiles_count(a);

	for (size_t i = 0; i < n; i++) {
		const struct profile *p = profiles_at(a, i);

		for (size_t h = 0; h < p->n_hosts; h++)
			if (host_pattern_equal(&p->hosts[h], pat))
				return p;
	}
	return NULL;
}

bool profile_uses_secret(const struct profile *p, const char *name)
{
	char placeholder[PROTO_MAX_NAME + sizeof("{secret:}")];

	if (p->cred.secret && strcmp(p->cred.secret, name) == 0)
		return true;
	/* Templates were checked at load: "{secret:NAME}" can only be that placeholder. */
	snprintf(placeholder, sizeof(placeholder), "{secret:%s}", name);
	for (size_t i = 0; i < p->n_headers; i++)
		if (strstr(p->headers[i].value, placeholder))
			return true;
	return false;
}

bool profile_is_added(const struct agent *a, const struct profile *p)
{
	return !(p >= a->config->profiles && p < a->config->profiles + a->config->n_profiles);
}
