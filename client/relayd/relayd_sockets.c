/* SPDX-License-Identifier: MIT */
/*
 * Each relay's listening socket.  Under systemd (aoai-relay.socket) the
 * sockets are passed, and each one's address says whose relay it is: a
 * socket no profile claims is an error rather than a relay for a guessed
 * profile.  Otherwise aoai-relay binds every configured address itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "relayd.h"

#define RELAYD_BACKLOG 256 /* as loopback_listen.h's: another user's burst must not fill it */

/* "a.b.c.d:port" of the IPv4 socket @fd.  0 or -errno. */
static int sock_address(int fd, char *buf, size_t len)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	char ip[INET_ADDRSTRLEN];

	if (getsockname(fd, (struct sockaddr *)&sa, &salen) < 0)
		return -errno;
	if (sa.sin_family != AF_INET || salen != sizeof(sa))
		return -EAFNOSUPPORT;
	if (!inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip)))
		return -errno;
	snprintf(buf, len, "%s:%u", ip, ntohs(sa.sin_port));
	return 0;
}

static struct relayd_entry *by_listen(struct relayd_entries *e, const char *listen)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->items[i].listen, listen) == 0)
			return &e->items[i];
	return NULL;
}

/* Claims systemd's socket @fd for the profile relaying its address.  0 or the exit code. */
static int take_passed(struct relayd_entries *e, int fd)
{
	char addr[RELAYD_LISTEN_MAX + 16];
	struct relayd_entry *x;
	int r = sock_address(fd, addr, sizeof(addr));

	if (r < 0 || sd_is_socket(fd, AF_INET, SOCK_STREAM, 1) <= 0) {
		close(fd);
		return relayd_error(
		    CLI_EXIT_ERROR,
		    "systemd passed a socket that is not a listening IPv4 TCP "
		    "socket: aoai-relay.socket must say ListenStream=127.0.0.1:PORT");
	}
	x = by_listen(e, addr);
	if (!x || x->fd >= 0) {
		close(fd);
		return relayd_error(
		    CLI_EXIT_ERROR,
		    "systemd passed a socket on %s, but no profile relays there: "
		    "add \"relay\": {\"listen\": \"%s\"} to the profile of "
		    "aoai-agent.json(5), or change ListenStream= of aoai-relay.socket "
		    "with a drop-in",
		    addr, addr);
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		close(fd);
		return relayd_error(CLI_EXIT_ERROR, "cannot set up the socket on %s: %m", addr);
	}
	x->fd = fd;
	return 0;
}

static int from_systemd(struct relayd_entries *e, int n)
{
	int r = 0;

	for (int i = 0; i < n; i++) {
		if (r == 0)
			r = take_passed(e, SD_LISTEN_FDS_START + i);
		else
			close(SD_LISTEN_FDS_START + i);
	}
	for (size_t i = 0; r == 0 && i < e->n; i++)
		if (e->items[i].fd < 0)
			relayd_warn("profile \"%s\": systemd passed no socket on %s: not served "
				    "(add ListenStream=%s to aoai-relay.socket)",
				    e->items[i].profile, e->items[i].listen, e->items[i].listen);
	return r;
}

/* A listening socket on "a.b.c.d:port" @address.  fd or -errno. */
static int bind_listen(const char *address)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const char *colon = strrchr(address, ':');
	char ip[INET_ADDRSTRLEN];
	int fd, one = 1, r;

	if (!colon || (size_t)(colon - address) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, address, (size_t)(colon - address));
	ip[colon - address] = '\0';
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return -EINVAL;
	sa.sin_port = htons((uint16_t)strtoul(colon + 1, NULL, 10));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, RELAYD_BACKLOG) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int relayd_sockets(struct relayd_entries *e)
{
	int n = sd_listen_fds(1); /* 1: LISTEN_FDS & co. are not passed on */

	if (n < 0) {
		errno = -n;
		return relayd_error(CLI_EXIT_ERROR,
				    "cannot read the sockets passed by systemd: %m");
	}
	if (n > 0)
		return from_systemd(e, n);
	if (e->n == 0)
		return relayd_error(CLI_EXIT_ERROR,
				    "no profile of the agent has a relay: %s, then run aoai reload",
				    RELAYD_CONFIG_HINT);
	for (size_t i = 0; i < e->n; i++) {
		int fd = bind_listen(e->items[i].listen);

		if (fd < 0) {
			errno = -fd;
			return relayd_error(CLI_EXIT_ERROR,
					    "profile \"%s\": cannot listen on %s: %m",
					    e->items[i].profile, e->items[i].listen);
		}
		e->items[i].fd = fd;
	}
	return 0;
}
