/* SPDX-License-Identifier: MIT */
/*
 * The upstream thread: one libcurl multi handle drives every relayed
 * transfer (and keeps their connections to the profile's host alive).
 * Client threads never touch it; they queue what they need done.
 */
#pragma once

#include "relay_xfer.h"

enum upstream_op {
	UPSTREAM_ADD = 1,    /* start x->easy */
	UPSTREAM_RESUME = 2, /* a buffer has data or room again: unpause */
	UPSTREAM_CANCEL = 4, /* the client is gone: remove it */
};

struct relay_upstream;
/* Starts the thread.  Returns 0 or -errno. */
int upstream_start(struct relay_upstream **ret);
/* Queues @op for @x (which holds a reference while queued) and wakes the thread. */
void upstream_queue(struct relay_upstream *u, struct xfer *x, enum upstream_op op);
/* Ends every transfer and the thread.  Accepts NULL; returns NULL. */
struct relay_upstream *upstream_stop(struct relay_upstream *u);
