/* SPDX-License-Identifier: MIT */
/*
 * libmicrohttpd calls STARTED before the connection's thread reads, and
 * CLOSED before it closes the socket (MHD_cleanup_connections, and the
 * failure path of new_connection_process_), so the watchdog never outlives
 * the descriptor.
 */
#include <sys/socket.h>

#include "head_deadline_watch.h"

void head_deadline_watch(void *cls, struct MHD_Connection *c, void **socket_context,
			 enum MHD_ConnectionNotificationCode what)
{
	struct head_deadline *hd = cls;
	struct head_deadline_entry *e = NULL;
	const union MHD_ConnectionInfo *info;

	if (what == MHD_CONNECTION_NOTIFY_CLOSED) {
		head_deadline_remove(hd, *socket_context);
		*socket_context = NULL;
		return;
	}
	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (what != MHD_CONNECTION_NOTIFY_STARTED || !info)
		return;
	/* No room cannot happen (the table has a place per connection slot); if it
	 * did, a connection without a deadline is one we do not serve. */
	if (head_deadline_add(hd, info->connect_fd, &e) < 0)
		shutdown(info->connect_fd, SHUT_RDWR);
	*socket_context = e;
}

struct head_deadline_entry *head_deadline_entry_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info;

	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return info ? info->socket_context : NULL;
}
