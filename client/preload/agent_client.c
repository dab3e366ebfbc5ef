/* SPDX-License-Identifier: MIT */
/*
 * The hook's own minimal agent client: the socket libaoai would find, the
 * same peer check, and one frame out, one frame in (PROTOCOL.md).
 *
 * It runs inside arbitrary programs, in libcurl callbacks, on any thread,
 * so nothing may block forever: every step has a deadline on the monotonic
 * clock.  The reply deadline is generous because a token profile can make
 * the agent wait for an identity endpoint.  One connection is kept per
 * process; a thread that finds it busy uses a connection of its own for
 * that request rather than queue behind a slow one.  A child after fork()
 * never speaks on its parent's connection (the two would read each
 * other's replies).
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hook.h"
#include "proto.h"
#include "sockpath.h"
#include "sockpeer.h"

#define AGENT_CONNECT_TIMEOUT_MS 5000
#define AGENT_SEND_TIMEOUT_MS    10000
#define AGENT_REPLY_TIMEOUT_MS   120000
#define AGENT_CONNECT_RETRY_MS   10   /* a full listen backlog: try again shortly */
#define AGENT_FRAME_STACK        4096 /* frames up to this size move in one syscall */

static atomic_bool conn_busy;
static int conn_fd = -1;
static pid_t conn_pid;
/* Counts the shared connections made: tells host_list.c which one it fetched on. */
static unsigned long conn_serial;

void agent_atfork_child(void)
{
	/* The child has one thread; whoever held the connection is gone. */
	if (conn_fd >= 0)
		close(conn_fd);
	conn_fd = -1;
	atomic_store(&conn_busy, false);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for @events on @fd until @deadline (ms).  0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int r;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int socket_path(char *buf, size_t len, char *err, size_t errlen)
{
	int r = sockpath_client(buf, len);

	if (r == -ENOENT)
		snprintf(err, errlen, "AOAI_AUTH_SOCK and XDG_RUNTIME_DIR are unset");
	else if (r < 0)
		snprintf(err, errlen, "socket path too long");
	return r;
}

static int connect_deadline(int fd, const struct sockaddr_un *sun, int64_t deadline)
{
	socklen_t len = sizeof(int);
	int r, soerr = 0;

	for (;;) {
		if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0)
			return 0;
		if (errno == EINTR || errno == EINPROGRESS)
			break;
		if (errno != EAGAIN)
			return -errno;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		poll(NULL, 0, AGENT_CONNECT_RETRY_MS);
	}
	r = wait_fd(fd, POLLOUT, deadline);
	if (r < 0)
		return r;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -errno;
	return soerr ? -soerr : 0;
}

/* Returns a connected, checked descriptor or -errno with @err set. */
static int agent_connect(char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, r;

	r = socket_path(sun.sun_path, sizeof(sun.sun_path), err, errlen);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "socket: %s", strerrordesc_np(-r));
		return r;
	}
	r = connect_deadline(fd, &sun, now_ms() + AGENT_CONNECT_TIMEOUT_MS);
	if (r < 0)
		snprintf(err, errlen, "%s: %s", sun.sun_path, strerrordesc_np(-r));
	else if ((r = sockpeer_trusted(fd)) < 0)
		snprintf(err, errlen, "%s: not served by our user", sun.sun_path);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static int send_all(int fd, const void *buf, size_t len, int64_t deadline)
{
	const char *p = buf;
	ssize_t n;
	int r;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return errno == ECONNRESET ? -EPIPE : -errno;
		r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Reads exactly @len bytes.  End of stream is -EPIPE. */
static int recv_all(int fd, void *buf, size_t len, int64_t deadline)
{
	char *p = buf;
	ssize_t n;
	int r;

	while (len > 0) {
		n = recv(fd, p, len, 0);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0)
			return -EPIPE;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return errno == ECONNRESET ? -EPIPE : -errno;
		r = wait_fd(fd, POLLIN, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Reads at least @min bytes into @buf (@cap bytes), waiting before the
 * first read: the reply is rarely there the moment the request left, and
 * a recv() that would only say EAGAIN is a syscall for nothing.  Returns
 * the count read, or -errno (end of stream is -EPIPE).
 */
static ssize_t recv_some(int fd, uint8_t *buf, size_t cap, size_t min, int64_t deadline)
{
	size_t got = 0;
	ssize_t n;
	int r;

	while (got < min) {
		r = wait_fd(fd, POLLIN, deadline);
		if (r < 0)
			return r;
		n = recv(fd, buf + got, cap - got, 0);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0)
			return -EPIPE;
		else if (errno != EINTR && errno != EAGAIN)
			return errno == ECONNRESET ? -EPIPE : -errno;
	}
	return (ssize_t)got;
}

/*
 * One frame: a reply of up to AGENT_FRAME_STACK bytes usually comes in one
 * read.  The agent sends nothing but the reply to our one request, so
 * reading ahead cannot take bytes of another frame; more than the frame
 * declares is an error.
 */
static int recv_frame(int fd, char **ret_buf, size_t *ret_len)
{
	uint8_t first[AGENT_FRAME_STACK];
	int64_t deadline = now_ms() + AGENT_REPLY_TIMEOUT_MS;
	ssize_t got = recv_some(fd, first, sizeof(first), PROTO_HEADER_LEN, deadline);
	size_t len, have;
	char *buf = NULL;
	int r = 0;

	if (got < 0)
		return (int)got;
	have = (size_t)got - PROTO_HEADER_LEN;
	/* Checked before anything is allocated. */
	if (proto_frame_length(first, &len) < 0 || have > len)
		r = -EBADMSG;
	else if (!(buf = malloc(len)))
		r = -ENOMEM;
	if (r == 0) {
		memcpy(buf, first + PROTO_HEADER_LEN, have);
		r = recv_all(fd, buf + have, len - have, deadline);
	}
	explicit_bzero(first, (size_t)got); /* it held credentials */
	if (r < 0) {
		if (buf)
			explicit_bzero(buf, len);
		free(buf);
		return r;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

/* Header and request in one write when they fit: the agent wakes once. */
static int send_frame(int fd, const char *req, size_t len, int64_t deadline)
{
	uint8_t frame[AGENT_FRAME_STACK];
	int r = proto_frame_header(len, frame);

	if (r < 0)
		return r;
	if (len > sizeof(frame) - PROTO_HEADER_LEN) {
		r = send_all(fd, frame, PROTO_HEADER_LEN, deadline);
		return r < 0 ? r : send_all(fd, req, len, deadline);
	}
	memcpy(frame + PROTO_HEADER_LEN, req, len);
	return send_all(fd, frame, PROTO_HEADER_LEN + len, deadline);
}

static int exchange(int fd, const char *req, size_t len, char **ret_buf, size_t *ret_len)
{
	int r = send_frame(fd, req, len, now_ms() + AGENT_SEND_TIMEOUT_MS);

	return r < 0 ? r : recv_frame(fd, ret_buf, ret_len);
}

static void exchange_error(int r, char *err, size_t errlen)
{
	if (r == -ETIMEDOUT)
		snprintf(err, errlen, "no reply within %d s", AGENT_REPLY_TIMEOUT_MS / 1000);
	else if (r == -EPIPE)
		snprintf(err, errlen, "the agent closed the connection");
	else if (r == -EBADMSG)
		snprintf(err, errlen, "reply frame length out of range");
	else
		snprintf(err, errlen, "%s", strerrordesc_np(-r));
}

/*
 * On the shared connection (the caller owns conn_busy): a connection kept
 * from an earlier request may have been closed by the agent since, so a
 * failure on it is retried once on a fresh one (the request is read-only).
 */
static int shared_roundtrip(const char *req, size_t len, char **ret_buf, size_t *ret_len, char *err,
			    size_t errlen)
{
	bool fresh;
	int r, attempt;

	if (conn_fd >= 0 && conn_pid != getpid()) {
		close(conn_fd); /* inherited from our parent: never ours to speak on */
		conn_fd = -1;
	}
	for (attempt = 0; attempt < 2; attempt++) {
		fresh = conn_fd < 0;
		if (fresh) {
			conn_fd = agent_connect(err, errlen);
			if (conn_fd < 0)
				return conn_fd;
			conn_pid = getpid();
			conn_serial++;
		}
		r = exchange(conn_fd, req, len, ret_buf, ret_len);
		if (r == 0)
			return 0;
		/* The stream is out of step after any failure. */
		close(conn_fd);
		conn_fd = -1;
		if (fresh || r != -EPIPE)
			break;
	}
	exchange_error(r, err, errlen);
	return r;
}

static int oneoff_roundtrip(const char *req, size_t len, char **ret_buf, size_t *ret_len, char *err,
			    size_t errlen)
{
	int fd, r;

	fd = agent_connect(err, errlen);
	if (fd < 0)
		return fd;
	r = exchange(fd, req, len, ret_buf, ret_len);
	close(fd);
	if (r < 0)
		exchange_error(r, err, errlen);
	return r;
}

int agent_roundtrip(const char *req, size_t len, char **ret_buf, size_t *ret_len, char *err,
		    size_t errlen)
{
	int r;

	if (!agent_shared_acquire())
		return oneoff_roundtrip(req, len, ret_buf, ret_len, err, errlen);
	r = shared_roundtrip(req, len, ret_buf, ret_len, err, errlen);
	agent_shared_release();
	return r;
}

bool agent_shared_acquire(void)
{
	/* Acquire on success: what the last holder wrote is visible. */
	return !atomic_exchange_explicit(&conn_busy, true, memory_order_acquire);
}

void agent_shared_release(void)
{
	atomic_store_explicit(&conn_busy, false, memory_order_release);
}

int agent_shared_roundtrip(const char *req, size_t len, char **ret_buf, size_t *ret_len, char *err,
			   size_t errlen)
{
	return shared_roundtrip(req, len, ret_buf, ret_len, err, errlen);
}

unsigned long agent_shared_serial(void)
{
	return conn_fd >= 0 ? conn_serial : 0;
}

/*
 * Between requests nothing may be waiting on the connection: a readable
 * end of stream means the agent closed it (it does so when the host list
 * changes, or it exited); a byte would be a reply nobody asked for.
 * Either way the connection is done with.  One non-blocking syscall.
 */
bool agent_shared_open(void)
{
	char byte;
	ssize_t n;

	if (conn_fd < 0)
		return false;
	do
		n = recv(conn_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return true;
	close(conn_fd);
	conn_fd = -1;
	return false;
}
