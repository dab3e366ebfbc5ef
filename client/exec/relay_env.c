/* SPDX-License-Identifier: MIT */
/*
 * The relay as aoai-exec's child sees it.  The endpoint keeps the path of
 * the profile's (an API Management gateway's API prefix, say); the relay
 * forwards every path to the endpoint's origin unchanged, so the two
 * compose.  OPENAI_BASE_URL is Azure's v1 API under the same path, which
 * the plain OpenAI clients speak.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "relay.h"

#define ORIGIN_MAX 1024

/* scheme://authority of @url into @origin; the path after it (or "/") in *@path. */
static int split_origin(const char *url, char *origin, size_t len, const char **path)
{
	const char *authority = strstr(url, "://"), *end;

	if (!authority)
		return -EINVAL;
	authority += 3;
	end = authority + strcspn(authority, "/?#");
	if ((size_t)(end - url) >= len)
		return -EINVAL;
	memcpy(origin, url, (size_t)(end - url));
	origin[end - url] = '\0';
	*path = *end == '/' ? end : "/";
	return 0;
}

static int point_child(struct env *e, const struct relay *r, const char *path)
{
	char endpoint[ORIGIN_MAX + 64], base[ORIGIN_MAX + 64];
	unsigned port = relay_port(r);
	size_t n = strlen(path);

	/* The v1 API under the same prefix as the endpoint's path. */
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%u%s", port, path);
	snprintf(base, sizeof(base), "http://127.0.0.1:%u%s%sopenai/v1", port, path,
		 n && path[n - 1] == '/' ? "" : "/");
	if (env_set(e, "AZURE_OPENAI_ENDPOINT", endpoint) < 0 ||
	    env_set(e, "AZURE_OPENAI_API_KEY", relay_placeholder(r)) < 0 ||
	    env_set(e, "OPENAI_BASE_URL", base) < 0 ||
	    env_set(e, "OPENAI_API_KEY", relay_placeholder(r)) < 0)
		return -ENOMEM;
	return 0;
}

int relay_env_start(struct agent_link *agent, const struct profile *p, struct env *e,
		    struct relay **ret)
{
	struct relay_config cfg = {
		.agent = agent, .profile = p->name, .listen_fd = -1, .warn = exec_warn
	};
	char origin[ORIGIN_MAX];
	const char *path;
	int r;

	if (split_origin(p->endpoint, origin, sizeof(origin), &path) < 0)
		return exec_error(CLI_EXIT_ERROR, "cannot relay to %s: not an http(s) URL",
				  p->endpoint);
	cfg.upstream = origin;
	r = relay_start(&cfg, ret);
	if (r == -EINVAL)
		return exec_error(CLI_EXIT_ERROR,
				  "cannot relay to %s: https only (plain http to a loopback host)",
				  origin);
	if (r < 0) {
		errno = -r;
		return exec_error(CLI_EXIT_ERROR, "cannot start the relay: %m");
	}
	if (point_child(e, *ret, path) < 0) {
		*ret = relay_stop(*ret);
		return exec_error(CLI_EXIT_ERROR, "out of memory");
	}
	return 0;
}
