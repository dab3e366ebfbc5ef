/* SPDX-License-Identifier: MIT */
/*
 * A head deadline (head_deadline.h) wired to a libmicrohttpd daemon: each
 * connection's deadline runs from when its thread starts, is disarmed when
 * the handler sees the head, and rearmed after each answer.
 */
#pragma once

#include <microhttpd.h>

#include "head_deadline.h"

/* MHD_OPTION_NOTIFY_CONNECTION's callback; @cls is the struct head_deadline. */
void head_deadline_watch(void *cls, struct MHD_Connection *c, void **socket_context,
			 enum MHD_ConnectionNotificationCode what);
/* The connection's place in the deadline's table, or NULL. */
struct head_deadline_entry *head_deadline_entry_of(struct MHD_Connection *c);
