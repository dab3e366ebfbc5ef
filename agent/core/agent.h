/* SPDX-License-Identifier: MIT */
/*
 * The agent's state: one instance, owned by main(), driven by one sd-event
 * loop.  Handlers reach everything through it.  No functions: what acts on
 * the whole agent lives in the room that needs it (agent_load.h).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "identity_env.h"
#include "ratelimit.h"
#include "source.h"

struct secret_store;
struct agent_lock;
struct added_profiles;
struct conn;
struct tokens;
struct http;
struct store;
struct kdf;
struct audit;
struct keyvault;
struct jwks_cache;
struct conn_poll;

struct agent {
	sd_event *event;
	struct config *config;
	char *config_path;    /* NULL: no file; may not exist unless config_required */
	bool config_required; /* -f given: a missing file is an error */
	struct secret_store *secrets;
	struct added_profiles *added;
	struct agent_lock *lock;
	struct store *store;          /* the persistent store (aoai add --persist) */
	struct kdf *kdf;              /* its key derivations, off the loop */
	struct identity_env env;      /* the SDK variables, read at start */
	struct http *http;            /* token requests, on the event loop */
	struct source_ctx source_ctx; /* what token sources may use */
	struct tokens *tokens;
	struct keyvault *keyvault; /* Key Vault-backed secrets; NULL until the loop runs */
	struct audit *audit;       /* releases and refusals per profile, for status */
	struct jwks_cache *jwks;   /* token issuers' keys, for aoai check */
	sd_event_source *expiry_timer;
	struct conn *conns; /* list of open connections */
	unsigned n_conns;
	struct conn_poll *conn_poll; /* the connections' epoll (conn.c); NULL until the first */
	unsigned max_conns;
	int reserve_fd;                  /* spent to turn away a client when descriptors run out */
	struct ratelimit refusals;       /* log lines of refused connections */
	sd_event_source *refusals_timer; /* writes their summary (refusal_log.c) */
	const char *socket_path;
	uint64_t started_at;        /* CLOCK_BOOTTIME usec */
	long long default_lifetime; /* seconds, 0 = forever */
	unsigned reloads;
	uint64_t hosts_version; /* of the host list last handed out (ops_hosts.c) */
	char *last_reload_error;
};
