/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "conn.h"
#include "log.h"
#include "proto.h"
#include "conn_poll.h"
#include "refusal_log.h"

#define CONN_INITIAL_IN 4096
#define CONN_READ_CHUNK 65536

static void conn_free(struct conn *c)
{
	struct agent *a = c->agent;

	if (c->defer_free)
		c->defer_free(c->defer_data);
	if (c->pending_cancel)
		c->pending_cancel(c->pending_data);
	if (c->session_free)
		c->session_free(c->session);
	sd_event_source_disable_unref(c->resume);
	conn_poll_forget(c);
	sd_event_source_disable_unref(c->frame_timer);
	sd_event_source_disable_unref(c->defer_timer);
	sd_event_source_disable_unref(c->peer_watch);
	if (c->fd >= 0)
		close(c->fd);
	peer_done(&c->peer);
	if (c->in)
		sodium_memzero(c->in, c->in_cap);
	free(c->in);
	proto_buf_free(c->out.buf, c->out.cap);
	if (c->prev)
		c->prev->next = c->next;
	else
		a->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	a->n_conns--;
	free(c);
}

/* Moves @len bytes into a buffer of @cap bytes, wiping the old one: realloc
 * would leave copies of secrets behind. */
static int buf_grow(uint8_t **buf, size_t len, size_t *cap, size_t want)
{
	uint8_t *n;

	if (want <= *cap)
		return 0;
	n = malloc(want);
	if (!n)
		return -ENOMEM;
	if (*buf) {
		memcpy(n, *buf, len);
		sodium_memzero(*buf, *cap);
		free(*buf);
	}
	*buf = n;
	*cap = want;
	return 0;
}

static void queue_bytes(struct conn *c, const uint8_t *data, size_t len)
{
	if (c->out_off == c->out.len)
		c->out_off = c->out.len = 0;
	c->out.frame_start = c->out.len;
	proto_writer_raw(&c->out, data, len);
	if (c->out.err)
		c->dead = true;
}

struct proto_writer *conn_reply_begin(struct conn *c)
{
	if (c->out_off == c->out.len)
		c->out_off = c->out.len = 0;
	proto_writer_frame_begin(&c->out);
	return &c->out;
}

int conn_reply_end(struct conn *c)
{
	int r;

	proto_writer_frame_end(&c->out);
	r = c->out.err;
	if (r < 0)
		proto_writer_frame_discard(&c->out);
	else
		c->busy = false;
	return r;
}

void conn_reply_discard(struct conn *c)
{
	proto_writer_frame_discard(&c->out);
}

void conn_reply(struct conn *c, json_t *reply)
{
	uint8_t *frame = NULL;
	size_t len = 0;

	c->busy = false;
	if (!reply || proto_encode(reply, &frame, &len) < 0)
		c->dead = true;
	else
		queue_bytes(c, frame, len);
	proto_buf_free(frame, len);
	json_decref(reply);
}

void conn_reply_error(struct conn *c, int status, const char *message)
{
	conn_reply(c, proto_error_reply(status, message));
}

static int on_defer(sd_event_source *s, uint64_t usec, void *userdata);
static void conn_kick(struct conn *c);

int conn_defer(struct conn *c, uint64_t when, conn_defer_fn fn, void *data, conn_free_fn free_fn)
{
	int r;

	if (!c->defer_timer)
		r = sd_event_add_time(c->agent->event, &c->defer_timer, CLOCK_BOOTTIME, when, 0,
				      on_defer, c);
	else
		r = sd_event_source_set_time(c->defer_timer, when);
	if (r >= 0)
		r = sd_event_source_set_enabled(c->defer_timer, SD_EVENT_ONESHOT);
	if (r < 0) {
		free_fn(data);
		return r;
	}
	c->defer_fn = fn;
	c->defer_data = data;
	c->defer_free = free_fn;
	return 0;
}

static int on_defer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct conn *c = userdata;
	conn_defer_fn fn = c->defer_fn;
	void *data = c->defer_data;
	conn_free_fn free_fn = c->defer_free;

	(void)s;
	(void)usec;
	c->defer_fn = NULL;
	c->defer_data = NULL;
	c->defer_free = NULL;
	fn(c, data);
	free_fn(data);
	conn_kick(c);
	return 0;
}

/* Drops the first @n bytes of input, wiping what they leave behind. */
static void consume_input(struct conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	sodium_memzero(c->in + c->in_len - n, n);
	c->in_len -= n;
}

static conn_request_fn request_handler;

void conn_set_handler(conn_request_fn fn)
{
	request_handler = fn;
}

static int on_peer_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct conn *c = userdata;

	(void)fd;
	(void)revents;
	peer_exited(&c->peer);
	return sd_event_source_set_enabled(s, SD_EVENT_OFF);
}

/* Once the peer has a pidfd (taken at its first release), the loop watches
 * it, ahead of the connections' own events: releases need no poll() each.
 * Without the watch (out of memory) they still ask the kernel. */
static void watch_peer(struct conn *c)
{
	if (c->peer_watch || c->peer.pidfd < 0 || c->peer.exited)
		return;
	if (sd_event_add_io(c->agent->event, &c->peer_watch, c->peer.pidfd, EPOLLIN, on_peer_exit,
			    c) < 0)
		return;
	if (sd_event_source_set_priority(c->peer_watch, SD_EVENT_PRIORITY_IMPORTANT) < 0) {
		c->peer_watch = sd_event_source_disable_unref(c->peer_watch);
		return;
	}
	peer_watched(&c->peer);
}

/* The plain "headers" request, read without a value tree (the hot path). */
static bool handle_headers_frame(struct conn *c, const uint8_t *payload, size_t len)
{
	char url[PROTO_HEADERS_READ_MAX];
	struct proto_request req = { .op = PROTO_OP_HEADERS, .headers.url = url };

	if (!request_handler || !proto_headers_request_read(payload, len, url, sizeof(url)))
		return false;
	c->busy = true;
	request_handler(c, &req);
	explicit_bzero(url, strlen(url)); /* it may carry credentials */
	watch_peer(c);
	return true;
}

static void handle_frame(struct conn *c, const uint8_t *payload, size_t len)
{
	struct proto_request req;
	char err[256];
	enum proto_status status;

	if (handle_headers_frame(c, payload, len))
		return;
	status = proto_request_decode(payload, len, &req, err, sizeof(err));
	if (status != PROTO_OK) {
		log_debug("pid %d: rejected request: %s", (int)c->peer.pid, err);
		conn_reply_error(c, status, err);
		return;
	}
	if (!request_handler) {
		conn_reply_error(c, PROTO_E_INTERNAL, "no request handler");
		proto_request_done(&req);
		return;
	}
	c->busy = true;
	request_handler(c, &req);
	proto_request_done(&req);
	watch_peer(c);
}

/* Handles every complete frame in the input buffer, one request at a time. */
static void process_input(struct conn *c)
{
	while (!c->busy && !c->closing && !c->dead && c->in_len > 0) {
		const uint8_t *payload;
		size_t len, used;
		int r = proto_frame_split(c->in, c->in_len, &payload, &len, &used);

		if (r == 0)
			return;
		if (r < 0) {
			log_debug("pid %d: invalid frame length, closing", (int)c->peer.pid);
			conn_reply_error(c, PROTO_E_BAD_REQUEST, "invalid frame length");
			c->closing = true;
			return;
		}
		handle_frame(c, payload, len);
		consume_input(c, used);
	}
}

/* Reads what the socket has, never more than the current frame can need. */
static int read_input(struct conn *c)
{
	size_t want = CONN_INITIAL_IN, frame;
	ssize_t n;

	if (c->in_len >= PROTO_HEADER_LEN && proto_frame_length(c->in, &frame) == 0)
		want = PROTO_HEADER_LEN + frame;
	if (want < c->in_len + 1)
		want = c->in_len + CONN_READ_CHUNK;
	if (want > PROTO_HEADER_LEN + PROTO_MAX_FRAME)
		want = PROTO_HEADER_LEN + PROTO_MAX_FRAME;
	if (buf_grow(&c->in, c->in_len, &c->in_cap, want) < 0)
		return -ENOMEM;
	if (c->in_len == c->in_cap)
		return 0; /* a full frame is waiting for a reply to go out */
	n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0) {
		c->eof = true;
		return 0;
	}
	c->in_len += (size_t)n;
	return 1;
}

static int flush_output(struct conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.buf + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		c->out_off += (size_t)n;
	}
	if (c->out.buf)
		sodium_memzero(c->out.buf, c->out.len);
	c->out_off = c->out.len = 0;
	return 0;
}

/* Tells a client that trickled a partial frame for too long why it is cut
 * off (after any replies still queued), best effort, then closes. */
static int on_frame_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct conn *c = userdata;

	(void)s;
	(void)usec;
	log_debug("pid %d: incomplete frame for too long, closing", (int)c->peer.pid);
	conn_reply_error(c, PROTO_E_LIMIT, "request not received in time: partial frame timed out");
	if (!c->dead)
		(void)flush_output(c);
	conn_free(c);
	return 0;
}

/* A frame must arrive whole within CONN_FRAME_TIMEOUT_USEC of its first
 * byte, so a client trickling bytes cannot hold a connection slot. */
static int update_frame_timer(struct conn *c)
{
	int enabled = SD_EVENT_OFF;

	if (c->in_len == 0 || c->busy)
		return c->frame_timer ? sd_event_source_set_enabled(c->frame_timer, SD_EVENT_OFF)
				      : 0;
	if (c->frame_timer && sd_event_source_get_enabled(c->frame_timer, &enabled) >= 0 &&
	    enabled != SD_EVENT_OFF)
		return 0;
	if (!c->frame_timer)
		return sd_event_add_time_relative(c->agent->event, &c->frame_timer, CLOCK_BOOTTIME,
						  CONN_FRAME_TIMEOUT_USEC, 0, on_frame_timeout, c);
	return sd_event_source_set_time_relative(c->frame_timer, CONN_FRAME_TIMEOUT_USEC) < 0
		   ? -EIO
		   : sd_event_source_set_enabled(c->frame_timer, SD_EVENT_ONESHOT);
}

/* Once input has ended, what is left unanswered is a partial frame. */
static bool finished(const struct conn *c)
{
	bool drained = c->out_off == c->out.len && !c->busy;

	return c->dead || (drained && (c->closing || c->eof));
}

/* After any event: handle buffered requests, send replies, then wait for
 * what the connection can take next. */
static void conn_kick(struct conn *c)
{
	uint32_t events = 0;

	process_input(c);
	if (!c->dead && flush_output(c) < 0)
		c->dead = true;
	if (finished(c) || update_frame_timer(c) < 0) {
		conn_free(c);
		return;
	}
	if (!c->busy && !c->closing && !c->eof && c->out.len - c->out_off < CONN_MAX_OUT)
		events |= EPOLLIN;
	if (c->out_off < c->out.len)
		events |= EPOLLOUT;
	if (conn_poll_set(c, events) < 0)
		conn_free(c);
}

static void on_conn_io(struct conn *c, uint32_t revents)
{
	if (revents & (EPOLLHUP | EPOLLERR) && !(revents & EPOLLIN)) {
		conn_free(c);
		return;
	}
	if ((revents & EPOLLIN) && read_input(c) < 0)
		c->dead = true;
	conn_kick(c);
}

/* Refuses a connection with a clear reply before closing it, best effort:
 * the socket is new, so the frame fits its send buffer or is dropped. */
static void refuse(int fd, const char *message)
{
	json_t *reply = proto_error_reply(PROTO_E_LIMIT, message);
	uint8_t *frame = NULL;
	size_t len = 0;

	if (reply && proto_encode(reply, &frame, &len) == 0)
		(void)!send(fd, frame, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	proto_buf_free(frame, len);
	json_decref(reply);
	close(fd);
}

static int conn_new(struct agent *a, int fd, const struct peer *peer)
{
	struct conn *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->agent = a;
	c->fd = fd;
	c->peer = *peer;
	c->next = a->conns;
	if (a->conns)
		a->conns->prev = c;
	a->conns = c;
	a->n_conns++;
	r = conn_poll_add(c, on_conn_io);
	if (r < 0) {
		c->fd = -1; /* the caller closes them, and frees what the peer holds */
		c->peer.pidfd = -1;
		c->peer.exe_now = NULL;
		conn_free(c);
	}
	return r;
}

static void accept_one(struct agent *a, int fd)
{
	struct peer peer;

	if (peer_from_socket(fd, &peer) < 0) {
		close(fd);
		return;
	}
	if (!peer_uid_allowed(&peer, getuid())) {
		refusal_log_warn(a, "refused connection from uid %u (pid %d)", (unsigned)peer.uid,
				 (int)peer.pid);
		peer_done(&peer);
		close(fd);
		return;
	}
	if (a->n_conns >= a->max_conns) {
		refusal_log_warn(a, "refused connection from pid %d: %u connections open",
				 (int)peer.pid, a->n_conns);
		peer_done(&peer);
		refuse(fd, "too many connections");
		return;
	}
	if (conn_new(a, fd, &peer) < 0) {
		peer_done(&peer);
		close(fd);
	}
}

/* With no descriptor to accept with, the readable listening socket would
 * spin the loop: let it wake the loop at most once per
 * CONN_ACCEPT_PAUSE_USEC (sd-event's rate limit needs no descriptor of its
 * own) while pending clients wait in the backlog.  Returns true the first
 * time, to log once. */
static bool pause_accepting(sd_event_source *listen_source)
{
	uint64_t interval;
	unsigned burst;

	if (sd_event_source_get_ratelimit(listen_source, &interval, &burst) >= 0)
		return false;
	(void)sd_event_source_set_ratelimit(listen_source, CONN_ACCEPT_PAUSE_USEC, 1);
	return true;
}

/* Accepting works again: full speed. */
static void resume_accepting(sd_event_source *listen_source)
{
	uint64_t interval;
	unsigned burst;

	if (sd_event_source_get_ratelimit(listen_source, &interval, &burst) >= 0) {
		(void)sd_event_source_set_ratelimit(listen_source, 0, 0);
		log_info("descriptors available again: accepting connections");
	}
}

/* Out of descriptors, a pending connection would keep the listening socket
 * readable and spin the loop: give up the reserve descriptor to accept it,
 * refuse it, then take the reserve back.  Returns 1 when a client was
 * refused, 0 when none was pending, -1 when that was not possible (no
 * reserve, or the system-wide table is full). */
static int shed_connection(struct agent *a, int listen_fd)
{
	int fd, err;

	if (a->reserve_fd < 0)
		a->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (a->reserve_fd < 0)
		return -1;
	close(a->reserve_fd);
	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	err = errno;
	if (fd >= 0)
		refuse(fd, "out of file descriptors");
	a->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return 1;
	return err == EAGAIN || err == EINTR ? 0 : -1;
}

int conn_on_listen(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct agent *a = userdata;
	unsigned shed = 0;
	int r = 0;

	(void)revents;
	for (unsigned i = 0; i < 64 && r >= 0; i++) { /* bounded: let other events run */
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (cfd >= 0) {
			resume_accepting(s);
			accept_one(a, cfd);
			continue;
		}
		if (errno != EMFILE && errno != ENFILE)
			break; /* EAGAIN: none left; anything else: retried at the next wakeup */
		r = shed_connection(a, fd);
		if (r == 0)
			break;
		shed += r > 0;
	}
	/* Once per wakeup, not once per client, and rate-limited: a flood must
	 * not flood the log. */
	if (shed > 0)
		refusal_log_warn(a, "out of file descriptors: refused %u connection(s)", shed);
	if (r < 0 && pause_accepting(s))
		log_warn("out of file descriptors: accepting slowly until some are free");
	return 0;
}

unsigned conn_max_for_fd_limit(unsigned fd_limit)
{
	unsigned reserve = fd_limit / 2 < CONN_FD_RESERVE ? fd_limit / 2 : CONN_FD_RESERVE;
	unsigned cap = fd_limit - reserve;

	return cap < CONN_MAX_DEFAULT ? cap : CONN_MAX_DEFAULT;
}

void conn_set_session(struct conn *c, conn_free_fn free_fn, void *data)
{
	c->session_free = free_fn;
	c->session = data;
}

void conn_set_pending(struct conn *c, conn_free_fn cancel, void *data)
{
	c->pending_cancel = cancel;
	c->pending_data = data;
}

static int on_resume(sd_event_source *s, void *userdata)
{
	(void)s;
	conn_kick(userdata);
	return 0;
}

void conn_resume(struct conn *c)
{
	int r = c->resume ? 0 : sd_event_add_defer(c->agent->event, &c->resume, on_resume, c);

	if (r >= 0)
		r = sd_event_source_set_enabled(c->resume, SD_EVENT_ONESHOT);
	if (r < 0)
		c->dead = true; /* noticed at the connection's next event */
}

void conn_close(struct conn *c, bool after_reply)
{
	c->closing = true;
	if (!after_reply)
		conn_free(c);
}

void conn_close_all(struct agent *a)
{
	while (a->conns)
		conn_free(a->conns);
	conn_poll_close(a);
}
