/* SPDX-License-Identifier: MIT */
/*
 * The connections' sockets in one epoll instance of their own, a single
 * source of the agent's loop that serves every ready connection per wakeup
 * (conn_poll.c says why).
 */
#pragma once

#include <stdint.h>

#include "conn.h"

typedef void (*conn_poll_fn)(struct conn *c, uint32_t revents);

/* Watches @c's socket for input; @on_io serves its events (the same for every connection). */
int conn_poll_add(struct conn *c, conn_poll_fn on_io);
/* Waits for @events (EPOLLIN, EPOLLOUT, or none) on @c's socket. */
int conn_poll_set(struct conn *c, uint32_t events);
/* Stops watching @c, before its socket is closed; ends the current batch. */
void conn_poll_forget(struct conn *c);
/* Closes the instance (at exit, once every connection is gone). */
void conn_poll_close(struct agent *a);
