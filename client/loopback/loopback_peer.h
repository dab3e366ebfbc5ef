/* SPDX-License-Identifier: MIT */
/*
 * Who is on the other end of a TCP connection over loopback: the kernel
 * knows both ends, so it can name the uid that owns the client's socket
 * (what `ss -e` shows), which SO_PEERCRED gives for Unix sockets only.
 * Asked over NETLINK_SOCK_DIAG; needs no privilege; libc only.
 */
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

/*
 * The uid owning the client socket of the TCP connection accepted from
 * @client (accept()'s address) on @local (the accepted socket's own address:
 * the listener's, when it is bound to one address).  IPv4, IPv6 and
 * v4-mapped IPv6 addresses.  Returns 0 and sets *ret_uid; -EAFNOSUPPORT or
 * -EINVAL for other addresses, -ENOENT when the kernel knows no such socket
 * or one no process holds any more (it has no owner to name), -errno
 * otherwise.  Thread-safe: each call uses its own netlink socket.
 */
int loopback_peer_uid(const struct sockaddr *client, socklen_t client_len,
		      const struct sockaddr *local, socklen_t local_len, uid_t *ret_uid);
