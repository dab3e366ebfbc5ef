/* SPDX-License-Identifier: MIT */
/*
 * A deadline for each connection's request head, whatever the client drips:
 * an inactivity timeout is reset by every byte, this is not.  A watchdog
 * thread shuts an expired connection's socket down (both ways), which wakes
 * the thread serving it with an end of file, and the client with one too.
 *
 * The server owns the descriptors: it adds one when a connection starts and
 * removes it before closing it.  The watchdog touches a descriptor only under
 * the lock that head_deadline_remove() takes, so it never shuts down a number
 * the kernel has since given to another socket.
 */
#pragma once

#include <stddef.h>

struct head_deadline;       /* the watchdog and its table of connections */
struct head_deadline_entry; /* one connection's place in it */

/*
 * Starts a watchdog for at most @capacity connections at a time, each given
 * @timeout_ms from head_deadline_add() or head_deadline_rearm() to complete
 * its head.  Returns 0 and sets *ret, or -errno.
 */
int head_deadline_new(size_t capacity, unsigned timeout_ms, struct head_deadline **ret);
/* Stops the watchdog (waits for its thread) and frees it; NULL. */
struct head_deadline *head_deadline_free(struct head_deadline *hd);

/*
 * Watches @fd, its deadline @timeout_ms from now.  Returns 0 and sets
 * *ret_entry, or -ENOSPC when @capacity connections are watched already.
 */
int head_deadline_add(struct head_deadline *hd, int fd, struct head_deadline_entry **ret_entry);
/* The head has arrived: no deadline until head_deadline_rearm().  NULL @e: nothing. */
void head_deadline_disarm(struct head_deadline *hd, struct head_deadline_entry *e);
/* A new head is awaited on the connection (keep-alive): a deadline from now. */
void head_deadline_rearm(struct head_deadline *hd, struct head_deadline_entry *e);
/* Forgets @e; call it before closing its descriptor.  NULL @e: nothing. */
void head_deadline_remove(struct head_deadline *hd, struct head_deadline_entry *e);
