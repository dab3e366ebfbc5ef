/* SPDX-License-Identifier: MIT */
/*
 * The connection: where the socket is, connecting to it, and one blocking
 * request/reply exchange of frames (PROTOCOL.md, "Frames").
 *
 * Sends use MSG_NOSIGNAL so an agent that went away turns into AOAI_E_IO
 * rather than a SIGPIPE in the host program, and every system call is
 * retried on EINTR, since the host may have signal handlers without
 * SA_RESTART.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "aoai.h"
#include "aoai_conn.h"
#include "proto.h"
#include "sockpath.h"
#include "sockpeer.h"

int aoai_socket_path(char *buf, size_t len)
{
	int r = sockpath_client(buf, len);

	if (r == -ENOENT)
		return AOAI_E_NOAGENT;
	return r < 0 ? AOAI_E_INVALID : 0;
}

/*
 * connect() interrupted by a signal goes on in the background; it must not
 * be called again (EALREADY) but waited for, and its result read back.
 */
static int connect_wait(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int r, soerr = 0;

	do
		r = poll(&pfd, 1, -1);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -1;
	if (soerr) {
		errno = soerr;
		return -1;
	}
	return 0;
}

static int connect_fd(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	int fd, r;

	if (len == 0 || len >= sizeof(sun.sun_path)) {
		errno = len ? ENAMETOOLONG : ENOENT;
		return AOAI_E_NOAGENT;
	}
	memcpy(sun.sun_path, path, len);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno == ENOMEM || errno == ENOBUFS ? AOAI_E_NOMEM : AOAI_E_IO;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 &&
	    (errno != EINTR || connect_wait(fd) < 0))
		r = -errno;
	else
		r = sockpeer_trusted(fd); /* the agent must be us or root */
	if (r < 0) {
		close(fd);
		errno = -r; /* aoai_connect() documents errno */
		return AOAI_E_NOAGENT;
	}
	return fd;
}

int aoai_connect(const char *path, struct aoai_conn **ret_conn)
{
	char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct aoai_conn *conn;
	int fd, r;

	if (!ret_conn)
		return AOAI_E_INVALID;
	if (!path) {
		r = aoai_socket_path(buf, sizeof(buf));
		if (r == AOAI_E_INVALID)
			errno = ENAMETOOLONG;
		if (r < 0)
			return AOAI_E_NOAGENT;
		path = buf;
	}
	conn = calloc(1, sizeof(*conn));
	if (!conn)
		return AOAI_E_NOMEM;
	fd = connect_fd(path);
	if (fd < 0) {
		r = errno;
		free(conn);
		errno = r;
		return fd;
	}
	conn->fd = fd;
	*ret_conn = conn;
	return 0;
}

struct aoai_conn *aoai_close(struct aoai_conn *conn)
{
	if (!conn)
		return NULL;
	if (conn->fd >= 0)
		close(conn->fd);
	free(conn);
	return NULL;
}

const char *aoai_conn_message(const struct aoai_conn *conn)
{
	return conn ? conn->message : "";
}

const char *aoai_conn_error_code(const struct aoai_conn *conn)
{
	return conn ? conn->code : "";
}

void conn_clear_error(struct aoai_conn *conn)
{
	conn->code[0] = '\0';
	conn->message[0] = '\0';
}

/* Length of the UTF-8 sequence a lead byte announces (1 for anything else). */
static size_t utf8_seq_len(unsigned char c)
{
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	if (c >= 0xc0)
		return 2;
	return 1;
}

/*
 * Drops a character vsnprintf() cut in half at the end of @s, and replaces
 * control characters: messages end up on terminals.
 */
static void sanitize(char *s)
{
	size_t len = strlen(s), start, i;

	start = len;
	while (start > 0 && ((unsigned char)s[start - 1] & 0xc0) == 0x80)
		start--;
	if (start > 0 && start - 1 + utf8_seq_len((unsigned char)s[start - 1]) > len)
		s[start - 1] = '\0';
	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = '?';
}

int conn_fail(struct aoai_conn *conn, int err, const char *code, const char *fmt, ...)
{
	int saved = errno; /* for %m */
	va_list ap;

	snprintf(conn->code, sizeof(conn->code), "%s", code);
	errno = saved;
	va_start(ap, fmt);
	vsnprintf(conn->message, sizeof(conn->message), fmt, ap);
	va_end(ap);
	sanitize(conn->message);
	return err;
}

static int send_all(struct aoai_conn *conn, const uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(conn->fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			conn->broken = true;
			return conn_fail(conn, AOAI_E_IO, "", "cannot send to the agent: %m");
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int recv_all(struct aoai_conn *conn, uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = recv(conn->fd, buf, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			conn->broken = true;
			if (n == 0)
				return conn_fail(conn, AOAI_E_IO, "",
						 "the agent closed the connection");
			return conn_fail(conn, AOAI_E_IO, "", "cannot read from the agent: %m");
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_request(struct aoai_conn *conn, json_t *request)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	r = proto_encode(request, &buf, &len);
	if (r == -ENOMEM)
		return conn_fail(conn, AOAI_E_NOMEM, "", "out of memory");
	if (r < 0)
		return conn_fail(conn, AOAI_E_INVALID, "", "request too large");
	r = send_all(conn, buf, len);
	/* The frame may hold a secret or a passphrase. */
	proto_buf_free(buf, len);
	return r;
}

/* Reads one frame, its length checked before anything is allocated. */
static int recv_frame(struct aoai_conn *conn, uint8_t **ret_buf, size_t *ret_len)
{
	uint8_t header[PROTO_HEADER_LEN];
	uint8_t *buf;
	size_t len;
	int r;

	r = recv_all(conn, header, sizeof(header));
	if (r < 0)
		return r;
	if (proto_frame_length(header, &len) < 0) {
		conn->broken = true;
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "reply frame length out of range");
	}
	buf = malloc(len);
	if (!buf) {
		conn->broken = true;
		return conn_fail(conn, AOAI_E_NOMEM, "", "out of memory");
	}
	r = recv_all(conn, buf, len);
	if (r < 0) {
		proto_buf_free(buf, len);
		return r;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

static int conn_usable(struct aoai_conn *conn)
{
	if (conn->broken || conn->fd < 0)
		return conn_fail(conn, AOAI_E_IO, "", "the connection to the agent is broken");
	return 0;
}

/* Moves the iovecs of @msg past the @n bytes sent. */
static void iov_advance(struct msghdr *msg, size_t n)
{
	while (n > 0) {
		size_t step = n < msg->msg_iov->iov_len ? n : msg->msg_iov->iov_len;

		msg->msg_iov->iov_base = (uint8_t *)msg->msg_iov->iov_base + step;
		msg->msg_iov->iov_len -= step;
		n -= step;
		if (msg->msg_iov->iov_len == 0) {
			msg->msg_iov++;
			msg->msg_iovlen--;
		}
	}
}

/*
 * One frame of @len bytes of @payload: header and payload gathered by one
 * sendmsg(), with no copy of the payload to wipe.
 */
static int send_payload(struct aoai_conn *conn, const char *payload, size_t len)
{
	uint8_t header[PROTO_HEADER_LEN];
	struct iovec iov[2] = { { header, sizeof(header) }, { (char *)payload, len } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	if (proto_frame_header(len, header) < 0)
		return conn_fail(conn, AOAI_E_INVALID, "", "request too large");
	while (msg.msg_iovlen > 0) {
		n = sendmsg(conn->fd, &msg, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			conn->broken = true;
			return conn_fail(conn, AOAI_E_IO, "", "cannot send to the agent: %m");
		}
		iov_advance(&msg, (size_t)n);
	}
	return 0;
}

int conn_exchange(struct aoai_conn *conn, const char *payload, size_t len, uint8_t **ret_buf,
		  size_t *ret_len)
{
	int r;

	r = conn_usable(conn);
	if (r < 0)
		return r;
	r = send_payload(conn, payload, len);
	if (r < 0)
		return r;
	return recv_frame(conn, ret_buf, ret_len);
}

int conn_roundtrip(struct aoai_conn *conn, json_t *request, json_t **ret_reply)
{
	uint8_t *buf = NULL;
	json_t *reply;
	size_t len = 0;
	int r;

	r = conn_usable(conn);
	if (r < 0)
		return r;
	r = send_request(conn, request);
	if (r < 0)
		return r;
	r = recv_frame(conn, &buf, &len);
	if (r < 0)
		return r;
	/*
	 * The frame (a "headers" reply holds credentials) is wiped right after
	 * parsing, and so is the parser's scratch copy of each string (unlike
	 * jansson's own lexer, whose copies only a global allocator hook could
	 * reach, and a library must not install one in its host process).
	 */
	reply = proto_json_parse(buf, len, NULL, NULL);
	proto_buf_free(buf, len);
	if (!json_is_object(reply)) {
		wipe_json_decref(reply);
		return conn_fail(conn, AOAI_E_PROTOCOL, "",
				 "the agent's reply is not a JSON object");
	}
	*ret_reply = reply;
	return 0;
}
