/* SPDX-License-Identifier: MIT */
/*
 * Client connections: accept with the peer check, bounded framed reads,
 * one request dispatched at a time, replies queued and flushed without
 * blocking.  Buffers that held requests or replies are wiped.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <systemd/sd-event.h>

#include "agent.h"
#include "peer.h"
#include "proto.h"

#define CONN_MAX_DEFAULT        4096              /* connections, when descriptors allow */
#define CONN_FD_RESERVE         64                /* descriptors kept for all but connections */
#define CONN_ACCEPT_PAUSE_USEC  (100ULL * 1000)   /* stop accepting this long when stuck */
#define CONN_FRAME_TIMEOUT_USEC (10ULL * 1000000) /* a frame must arrive within this */
#define CONN_MAX_OUT            (1024 * 1024)     /* stop reading while this much is unsent */

typedef void (*conn_defer_fn)(struct conn *c, void *data);
typedef void (*conn_free_fn)(void *data);

struct conn {
	struct agent *agent;
	struct conn *next, *prev;
	int fd;
	bool polled;     /* in the connections' epoll (conn.c) */
	uint32_t events; /* what it waits for there */
	sd_event_source *frame_timer;
	sd_event_source *defer_timer;
	conn_defer_fn defer_fn;
	void *defer_data;
	conn_free_fn defer_free;
	conn_free_fn pending_cancel; /* releases what a waiting handler registered */
	void *pending_data;
	sd_event_source *resume;
	conn_free_fn session_free; /* state kept across requests (a sign-in) */
	void *session;
	struct peer peer;
	sd_event_source *peer_watch; /* the peer's pidfd, once it has one */
	uint8_t *in;
	size_t in_len, in_cap;
	struct proto_writer out; /* replies queued; sent up to out_off */
	size_t out_off;
	bool busy;    /* a request is being handled; its reply is not queued yet */
	bool closing; /* take no more requests; close once the replies are sent */
	bool eof;     /* the peer sent everything: answer what it sent, then close */
	bool dead;    /* close at the end of the current event */

	/* It fetched the host list: closed when that changes (ops_hosts.c). */
	bool watches_hosts;
};

/*
 * The connection cap for a descriptor limit of @fd_limit: CONN_MAX_DEFAULT,
 * or fewer so that CONN_FD_RESERVE descriptors (half of a tiny limit) stay
 * free for the listener, the event loop, config files and HTTP transfers.
 */
unsigned conn_max_for_fd_limit(unsigned fd_limit);

struct proto_request;
/*
 * Answers a decoded request with conn_reply() exactly once, before returning
 * or later; @req is valid only until it returns.  The handlers live above the
 * socket (agent/ops/), so main() hands their entry point down here.
 */
typedef void (*conn_request_fn)(struct conn *c, const struct proto_request *req);
void conn_set_handler(conn_request_fn fn);

/* The listening socket's event handler: accepts every pending connection. */
int conn_on_listen(sd_event_source *s, int fd, uint32_t revents, void *userdata);

/*
 * Queues the reply to the request being handled (takes the reference).
 * Every handler calls it exactly once, now or later.  NULL (out of memory)
 * drops the connection.
 */
void conn_reply(struct conn *c, json_t *reply);
/* Shorthand for conn_reply(c, proto_error_reply(status, message)). */
void conn_reply_error(struct conn *c, int status, const char *message);
/*
 * A reply written straight into the output queue instead (the hot path):
 * conn_reply_begin() starts the frame with {"v":…, the handler appends
 * members to the writer it returns, then either conn_reply_end() queues
 * the frame (returning 0) or, when writing failed, drops it and returns the
 * error, or conn_reply_discard() drops it; after either drop the handler
 * replies again, with an error.
 */
struct proto_writer *conn_reply_begin(struct conn *c);
int conn_reply_end(struct conn *c);
void conn_reply_discard(struct conn *c);

/*
 * Calls @fn(c, @data) at @when (agent clock) to finish the current request;
 * @free_fn releases @data then, or when the connection closes first.
 * Returns 0 or -errno (then @data is released).
 */
int conn_defer(struct conn *c, uint64_t when, conn_defer_fn fn, void *data, conn_free_fn free_fn);

/*
 * For a handler that waits on something else (a token fetch): @cancel(@data)
 * runs if the connection closes first.  Clear it with conn_set_pending(c,
 * NULL, NULL) when the wait ends.
 */
void conn_set_pending(struct conn *c, conn_free_fn cancel, void *data);
/* Keeps @data with the connection across requests: @free_fn(@data) runs
 * when it closes, unless replaced first with conn_set_session(c, NULL, NULL). */
void conn_set_session(struct conn *c, conn_free_fn free_fn, void *data);
/* After a late conn_reply(): sends it and reads on, from the event loop. */
void conn_resume(struct conn *c);

/*
 * Closes @c now (@c is freed), dropping a request in flight and a reply not
 * yet sent, as when the peer hangs up; or, for the connection whose request
 * is being handled (@after_reply), once its reply is sent.
 */
void conn_close(struct conn *c, bool after_reply);

/* Closes every connection (at exit). */
void conn_close_all(struct agent *a);
