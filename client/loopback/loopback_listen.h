/* SPDX-License-Identifier: MIT */
/*
 * A local endpoint's listening socket on 127.0.0.1 and the libmicrohttpd
 * accept policy that admits only its owner's (and root's) connections.
 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>

/*
 * Deep enough for a burst of another user's connections, each refused within
 * microseconds of its accept: a full queue would drop the owner's SYN, and
 * the owner's connect would wait a second for its retransmission.
 */
#define LOOPBACK_BACKLOG 256

/* A listening TCP socket on 127.0.0.1 at a port the kernel picks.  fd or -errno. */
int loopback_listen(void);

struct loopback_admit {
	struct sockaddr_in local; /* the listener's address: where every client connects to */
	uid_t owner;              /* ours; root is admitted too, as the agent's socket admits it */
	const char *what;         /* "identity endpoint", "relay": the warnings' subject */
	void (*warn)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
	bool warned_unknown; /* only the listening thread touches these two */
	bool warned_foreign;
};

/*
 * Fills @a for the listening socket @fd (an IPv4 loopback address).
 * Returns 0 or -errno (-EAFNOSUPPORT: not IPv4).
 */
int loopback_admit_init(struct loopback_admit *a, int fd, const char *what,
			void (*warn)(const char *fmt, ...) __attribute__((format(printf, 1, 2))));
/* libmicrohttpd's accept policy callback; @cls is the struct loopback_admit. */
enum MHD_Result loopback_admit(void *cls, const struct sockaddr *addr, socklen_t addrlen);
