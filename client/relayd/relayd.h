/* SPDX-License-Identifier: MIT */
/*
 * aoai-relay: the relay of client/relay/ served for every profile with
 * "relay": {"listen": …} in the agent's configuration, on that address,
 * for programs that cannot be wrapped by aoai-exec (an IDE, a notebook).
 * What the files of client/relayd/ share:
 *
 *   aoai_relay.c       the steps, in order; the signals that end it
 *   relayd_messages.c  errors on stderr, aoai's exit codes
 *   relayd_profiles.c  the profiles with a relay, from the agent's `list`
 *   relayd_sockets.c   their listening sockets: systemd's, or bound here
 *   relayd_key.c       the placeholder key, the same across runs (relay_key.c)
 */
#pragma once

#include <stddef.h>

#include "aoai.h"
#include "cli.h" /* CLI_EXIT_*: aoai-relay's failures use aoai's exit codes */
#include "relay_key.h"

#define RELAYD_PROG       "aoai-relay"
#define RELAYD_MAX_RELAYS 64
#define RELAYD_LISTEN_MAX 32 /* "127.255.255.255:65535" */
#define RELAYD_CONFIG_HINT \
	"add \"relay\": {\"listen\": \"127.0.0.1:8787\"} to a profile of aoai-agent.json(5)"

/* Prints `aoai-relay: MESSAGE` to stderr; returns @code. */
int relayd_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints `aoai-relay: warning: MESSAGE` to stderr. */
void relayd_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One profile's relay. */
struct relayd_entry {
	char profile[65];
	char listen[RELAYD_LISTEN_MAX]; /* "127.x.y.z:PORT", as the agent lists it */
	char *upstream;                 /* "https://host[:port]" (free()d by relayd_entries_free) */
	int fd;                         /* its listening socket until a relay takes it, or -1 */
	struct relay *relay;
};

struct relayd_entries {
	struct relayd_entry items[RELAYD_MAX_RELAYS];
	size_t n;
};

/*
 * The profiles with a relay, from the agent's `list` on @conn.  Returns 0
 * (possibly none), or prints why not and returns the exit code.
 */
int relayd_profiles(struct aoai_conn *conn, struct relayd_entries *ret);
/* Frees the upstreams and closes the sockets no relay has taken. */
void relayd_entries_free(struct relayd_entries *e);

/*
 * Gives each entry its listening socket: systemd's (socket activation;
 * an entry with none passed keeps fd -1), else one bound here.  Returns 0,
 * or prints why not and returns the exit code.
 */
int relayd_sockets(struct relayd_entries *e);

/* The placeholder (RELAY_KEY_LEN chars), read or created.  0, or prints why not: exit code. */
int relayd_key(char key[RELAY_KEY_LEN + 1]);
