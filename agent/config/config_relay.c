/* SPDX-License-Identifier: MIT */
/*
 * A profile's "relay": {"listen": "127.0.0.1:8787"}, where aoai-relay(1)
 * serves the profile's host.  The agent listens on nothing there; it only
 * checks the address (an IPv4 loopback one, so the relay is never reachable
 * from another machine, with an explicit port) and keeps it, canonical, for
 * `list`.  An object, so that more settings of the relay can come.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_relay.h"

#define RELAY_HOST_MAX 64 /* "localhost" or a dotted quad, with room to spare */
#define RELAY_PORT_MAX 65535

/* The PORT of "HOST:PORT", @digits: 1 to 65535, digits only.  0 if invalid. */
static unsigned listen_port(const char *digits)
{
	unsigned long v;
	char *end;

	if (digits[0] < '0' || digits[0] > '9' || strlen(digits) > 5)
		return 0;
	v = strtoul(digits, &end, 10);
	return *end || v > RELAY_PORT_MAX ? 0 : (unsigned)v;
}

/* "127.x.y.z:port" or "localhost:port" into canonical "127.x.y.z:port".  0 or -EINVAL. */
static int listen_canonical(const char *s, char *buf, size_t len, const char **why)
{
	const char *colon = strrchr(s, ':');
	char host[RELAY_HOST_MAX], addr[INET_ADDRSTRLEN];
	struct in_addr in;
	unsigned port;

	*why = "must be \"127.x.y.z:PORT\" or \"localhost:PORT\" (an IPv4 loopback address "
	       "and a port from 1 to 65535)";
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = listen_port(colon + 1);
	if (port == 0)
		return -EINVAL;
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &in) != 1)
		return -EINVAL;
	if ((ntohl(in.s_addr) >> 24) != 127) {
		*why = "must be a loopback address (127.x.y.z or localhost): the relay serves "
		       "this user's programs on this machine only";
		return -EINVAL;
	}
	inet_ntop(AF_INET, &in, addr, sizeof(addr));
	snprintf(buf, len, "%s:%u", addr, port);
	return 0;
}

int cfg_parse_relay(const struct cfg_ctx *ctx, json_t *v, const struct config *c, struct profile *p)
{
	static const char *const keys[] = { "listen", NULL };
	char canon[INET_ADDRSTRLEN + 8];
	const char *listen, *why;
	int r;

	if (!v)
		return 0;
	if (!json_is_object(v))
		return cfg_error(ctx, "relay", "must be an object with \"listen\"");
	r = cfg_check_keys(ctx, v, "relay", keys, NULL);
	if (r >= 0)
		r = cfg_string(ctx, v, "relay", "listen", true, &listen);
	if (r < 0)
		return r;
	if (listen_canonical(listen, canon, sizeof(canon), &why) < 0)
		return cfg_error(ctx, "relay.listen", "%s", why);
	for (size_t i = 0; i < c->n_profiles; i++) {
		const struct profile *q = &c->profiles[i];

		if (q != p && q->relay_listen && strcmp(q->relay_listen, canon) == 0)
			return cfg_error(ctx, "relay.listen",
					 "%s is already the relay of profile \"%s\"", canon,
					 q->name);
	}
	p->relay_listen = strdup(canon);
	return p->relay_listen ? 0 : cfg_oom(ctx);
}
