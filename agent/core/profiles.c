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
const struct profile *profiles_match(const struct agent *a, const struct url_target *t)
{
	const struct profile *best = NULL;
	int best_score = -1;
	size_t n = profiles_count(a);

	for (size_t i = 0; i < n; i++) {
		const struct profile *p = profiles_at(a, i);

		for (size_t h = 0; h < p->n_hosts; h++) {
			int score = host_pattern_score(&p->hosts[h], t);

			if (score > best_score) {
				best_score = score;
				best = p;
			}
		}
	}
	return best;
}

const struct profile *profiles_match_any_port(const struct agent *a, const struct url_target *t,
					      const struct host_pattern **ret_pattern)
{
	const struct profile *best = NULL;
	int best_score = -1;
	size_t n = profiles_count(a);

	for (size_t i = 0; i < n; i++) {
		const struct profile *p = profiles_at(a, i);

		for (size_t h = 0; h < p->n_hosts; h++) {
			/* @t as if it went to the port this pattern covers. */
			struct url_target on_port = *t;
			int score;

			on_port.default_port = p->hosts[h].port == 0;
			if (p->hosts[h].port)
				on_port.port = p->hosts[h].port;
			score = host_pattern_score(&p->hosts[h], &on_port);
			if (score > best_score) {
				best_score = score;
				best = p;
				*ret_pattern = &p->hosts[h];
			}
		}
	}
	return best;
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
