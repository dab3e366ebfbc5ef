/* SPDX-License-Identifier: MIT */
/*
 * floor-server — the floor aoai-agent is measured against: a minimal
 * single-threaded epoll server on a Unix socket that answers every frame
 * (4-byte big-endian length + payload) with a reply frame of a fixed size.
 * It does what any framed Unix-socket server must do and nothing else, so
 * the agent's cost above it is its own work (parsing, matching, JSON).
 *
 *   floor-server SOCKET REPLY_LEN
 *
 * Prints "ready" on stdout once listening; runs until killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "benchlib.h"

#define FLOOR_MAX_FDS    8192 /* connections the bench opens at once stay far below */
#define FLOOR_CONN_BUF   4096 /* larger than any request the bench sends */
#define FLOOR_MAX_EVENTS 64

struct conn {
	size_t have;
	uint8_t buf[FLOOR_CONN_BUF];
};

static struct conn *conns[FLOOR_MAX_FDS];
static uint8_t *reply;
static size_t reply_len;

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static void conn_close(int ep, int fd)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	free(conns[fd]);
	conns[fd] = NULL;
}

static void accept_all(int ep, int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd;

	/* Bounded by the backlog: accept4 fails with EAGAIN once it is empty. */
	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		if (fd >= FLOOR_MAX_FDS || !(conns[fd] = calloc(1, sizeof(struct conn)))) {
			close(fd);
			continue;
		}
		ev.data.fd = fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			conn_close(ep, fd);
	}
}

/* Answers every complete frame in @c.  Returns 0, or -1 to drop the connection. */
static int answer_frames(int fd, struct conn *c)
{
	size_t len, used;

	while (c->have >= 4) {
		len = (size_t)c->buf[0] << 24 | (size_t)c->buf[1] << 16 | (size_t)c->buf[2] << 8 |
		      c->buf[3];
		if (len > FLOOR_CONN_BUF - 4)
			return -1;
		if (c->have < 4 + len)
			return 0;
		/* Replies are small: a full socket buffer means a stuck client. */
		if (send(fd, reply, 4 + reply_len, MSG_NOSIGNAL | MSG_DONTWAIT) !=
		    (ssize_t)(4 + reply_len))
			return -1;
		used = 4 + len;
		memmove(c->buf, c->buf + used, c->have - used);
		c->have -= used;
	}
	return 0;
}

static void serve(int ep, int fd)
{
	struct conn *c = conns[fd];
	ssize_t n;

	n = recv(fd, c->buf + c->have, sizeof(c->buf) - c->have, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(ep, fd);
		return;
	}
	c->have += (size_t)n;
	if (answer_frames(fd, c) < 0)
		conn_close(ep, fd);
}

static int make_reply(const char *arg)
{
	char *end;
	long n = strtol(arg, &end, 10);

	if (*end || n < 1 || n > FLOOR_CONN_BUF)
		return -EINVAL;
	reply_len = (size_t)n;
	reply = malloc(4 + reply_len);
	if (!reply)
		return -ENOMEM;
	bench_put_len(reply, (uint32_t)reply_len);
	memset(reply + 4, 'x', reply_len);
	return 0;
}

int main(int argc, char **argv)
{
	struct epoll_event evs[FLOOR_MAX_EVENTS], ev = { .events = EPOLLIN };
	int lfd, ep, n, i;

	if (argc != 3 || make_reply(argv[2]) < 0) {
		fprintf(stderr, "usage: floor-server SOCKET REPLY_LEN (1..%d)\n", FLOOR_CONN_BUF);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	lfd = listen_on(argv[1]);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (lfd < 0 || ep < 0) {
		fprintf(stderr, "floor-server: cannot listen on %s: %s\n", argv[1],
			strerror(lfd < 0 ? -lfd : errno));
		return 1;
	}
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		n = epoll_wait(ep, evs, FLOOR_MAX_EVENTS, -1);
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == lfd)
				accept_all(ep, lfd);
			else
				serve(ep, evs[i].data.fd);
		}
	}
}
