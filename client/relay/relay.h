/* SPDX-License-Identifier: MIT */
/*
 * The relay: an HTTP/1.1 endpoint on 127.0.0.1 that forwards each request
 * to one profile's host, with the agent's headers for that request in
 * place of a per-run placeholder key, so that a program never holds the
 * key itself.  docs/ARCHITECTURE.md describes its threads; aoai-exec(1)
 * what it does for a user.
 */
#pragma once

#include <stdbool.h>

#include "agent_link.h"
#include "relay_key.h" /* the placeholder's form: RELAY_KEY_PREFIX and 64 hex digits */

struct relay_config {
	struct agent_link *agent; /* must outlive the relay; it locks itself */
	const char *profile;      /* the headers must be this profile's */
	const char *upstream;     /* "https://host[:port]", or http:// to a loopback host */
	const char *placeholder;  /* the key callers present; NULL: a new random one */
	int listen_fd;            /* a listening 127.0.0.1 socket to serve, or -1: a new one */
	void (*warn)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
};

struct relay;
/* Starts serving with threads of its own.  Returns 0 or -errno (-EINVAL: a bad upstream). */
int relay_start(const struct relay_config *cfg, struct relay **ret);
/* The port it listens on. */
unsigned relay_port(const struct relay *r);
/* The placeholder key callers must present. */
const char *relay_placeholder(const struct relay *r);
/* Stops listening, ends every connection and transfer, wipes.  Accepts NULL; returns NULL. */
struct relay *relay_stop(struct relay *r);
