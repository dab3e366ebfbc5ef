/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "conn_poll.h"

/*
 * Every connection's socket is in one epoll instance of ours, which is a
 * single source of the agent's loop: sd-event polls its epoll again
 * (timeout 0) before every source it dispatches, so with N connections
 * ready, N sources of their own would cost O(N) kernel work per request;
 * one source that serves every ready connection at once costs O(1).
 */
struct conn_poll {
	int fd;
	sd_event_source *source;
	conn_poll_fn on_io;
	uint64_t frees; /* conn_poll_forget() calls: a batch stops when connections go */
};

#define CONN_BATCH 64 /* ready connections served per wakeup */

static int on_conns(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct conn_poll *cp = ((struct agent *)userdata)->conn_poll;
	struct epoll_event evs[CONN_BATCH];
	int n = epoll_wait(fd, evs, CONN_BATCH, 0);

	(void)s;
	(void)revents;
	for (int i = 0; i < n; i++) {
		uint64_t frees = cp->frees;

		cp->on_io(evs[i].data.ptr, evs[i].events);
		/* The rest may name a connection that is gone; epoll reports the
		 * live ones again at once. */
		if (cp->frees != frees)
			break;
	}
	return 0;
}

static int conn_poll_open(struct agent *a, conn_poll_fn on_io)
{
	struct conn_poll *cp;
	int r;

	if (a->conn_poll)
		return 0;
	cp = calloc(1, sizeof(*cp));
	if (!cp)
		return -ENOMEM;
	cp->fd = epoll_create1(EPOLL_CLOEXEC);
	if (cp->fd < 0) {
		r = -errno;
		free(cp);
		return r;
	}
	r = sd_event_add_io(a->event, &cp->source, cp->fd, EPOLLIN, on_conns, a);
	if (r < 0) {
		close(cp->fd);
		free(cp);
		return r;
	}
	cp->on_io = on_io;
	a->conn_poll = cp;
	return 0;
}

void conn_poll_close(struct agent *a)
{
	struct conn_poll *cp = a->conn_poll;

	if (!cp)
		return;
	sd_event_source_disable_unref(cp->source);
	close(cp->fd);
	free(cp);
	a->conn_poll = NULL;
}

int conn_poll_add(struct conn *c, conn_poll_fn on_io)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	int r = conn_poll_open(c->agent, on_io);

	if (r < 0)
		return r;
	if (epoll_ctl(c->agent->conn_poll->fd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		return -errno;
	c->polled = true;
	c->events = EPOLLIN;
	return 0;
}

int conn_poll_set(struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (events == c->events)
		return 0;
	if (epoll_ctl(c->agent->conn_poll->fd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		return -errno;
	c->events = events;
	return 0;
}

void conn_poll_forget(struct conn *c)
{
	struct conn_poll *cp = c->agent->conn_poll;

	if (!cp)
		return;
	if (c->polled)
		(void)epoll_ctl(cp->fd, EPOLL_CTL_DEL, c->fd, NULL);
	cp->frees++;
}
