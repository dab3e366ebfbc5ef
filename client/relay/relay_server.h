/* SPDX-License-Identifier: MIT */
/*
 * Between relay.c (the listener and its threads) and relay_request.c (one
 * request): the relay's state, read-only while the daemon runs.
 */
#pragma once

#include <microhttpd.h>

#include "head_deadline_watch.h"
#include "loopback_listen.h"
#include "loopback_secret.h"
#include "relay.h"
#include "relay_upstream.h"

struct relay {
	struct MHD_Daemon *daemon;
	int fd;
	unsigned port;
	struct loopback_admit admit;
	struct head_deadline *deadline;
	struct relay_upstream *upstream;
	struct agent_link *agent;
	bool plain_http; /* the upstream is a loopback host over http */
	char profile[65];
	char base[1024]; /* the upstream's scheme://authority, no slash */
	char placeholder[RELAY_KEY_LEN + 1];
	char host_ip[32];   /* "127.x.y.z:PORT", the address it listens on */
	char host_name[32]; /* "localhost:PORT" */
	char cainfo[4096];  /* CURL_CA_BUNDLE or SSL_CERT_FILE, as curl(1) reads them, or "" */
	void (*warn)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
};

/* What a connection's first line leaves for its handler: the request target as sent. */
struct relay_request {
	char *target;
	struct xfer *x;
	bool started;  /* the handler has seen the head */
	bool answered; /* a response is queued */
};

/* libmicrohttpd's URI log callback: the request target before it is unescaped. */
void *relay_request_begin(void *cls, const char *uri, struct MHD_Connection *c);
/* The access handler; @cls is the struct relay. */
enum MHD_Result relay_request_handle(void *cls, struct MHD_Connection *c, const char *url,
				     const char *method, const char *version,
				     const char *upload_data, size_t *upload_data_size,
				     void **req_cls);
/* The request is over (answered, or the client gone): its transfer is let go. */
void relay_request_end(struct relay_request *q);
