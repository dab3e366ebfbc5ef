// SPDX-License-Identifier: MIT
/*
 * hook-server — the loopback HTTP/1.1 keep-alive server of `make bench`
 * section 5 (hook overhead).
 *
 * It answers every request `200 ok` when it carries `api-key: KEY` (the key
 * read from --key-file, never argv) and `401` otherwise, so the benchmark
 * proves that both arms — the hook injecting the header and curl sending it
 * with -H — really sent it. Single-threaded and poll()-driven so that its
 * own cost per request is a few microseconds and steady: the hook's overhead
 * has to show above it. Requests without a body only (GET, HEAD).
 *
 * Binds 127.0.0.1 only, prints `listening on 127.0.0.1:PORT`, exits on
 * SIGTERM/SIGINT or after --max-lifetime seconds.
 */

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIENTS    64   /* connections at once; more are refused */
#define REQ_BUF        8192 /* bytes of one request's head */
#define MAX_KEY        512  /* bytes of the expected api-key */
#define DEFAULT_LIFE   120  /* seconds before the server exits by itself */
#define MAX_LIFE       3600
#define LISTEN_BACKLOG 64
#define HEADER_NAME    "api-key:"

struct client {
	int fd;
	size_t len;
	char buf[REQ_BUF + 1];
};

static volatile sig_atomic_t stopping;
static char want_key[MAX_KEY + 1];
static size_t want_len;

static const char resp_ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			      "Content-Length: 3\r\n\r\nok\n";
static const char resp_401[] = "HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\n"
			       "Content-Length: 4\r\n\r\nno!\n";

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Reads the key file; one trailing newline is not part of the key. */
static int read_key(const char *path)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(want_key, 1, MAX_KEY, f);
	fclose(f);
	while (n > 0 && (want_key[n - 1] == '\n' || want_key[n - 1] == '\r'))
		n--;
	want_key[n] = '\0';
	want_len = n;
	return n > 0 ? 0 : -EINVAL;
}

/* True when the request head @head (NUL-terminated) holds `api-key: KEY`. */
static bool has_key(const char *head)
{
	const char *line = strstr(head, "\r\n");

	while (line && line[2] != '\0') {
		const char *p = line + 2, *v, *end = strstr(p, "\r\n");

		if (!end)
			return false;
		if (strncasecmp(p, HEADER_NAME, strlen(HEADER_NAME)) == 0) {
			v = p + strlen(HEADER_NAME);
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			if ((size_t)(end - v) == want_len && memcmp(v, want_key, want_len) == 0)
				return true;
		}
		line = end;
	}
	return false;
}

/* Answers every complete request head in @c's buffer; -1: drop the connection. */
static int serve_heads(struct client *c)
{
	char *end;

	c->buf[c->len] = '\0';
	while ((end = strstr(c->buf, "\r\n\r\n")) != NULL) {
		size_t used = (size_t)(end - c->buf) + 4;
		const char *r;
		size_t rlen;

		end[2] = '\0'; /* the head ends with its last header's CRLF */
		r = has_key(c->buf) ? resp_ok : resp_401;
		rlen = r == resp_ok ? sizeof(resp_ok) - 1 : sizeof(resp_401) - 1;
		/* A short write of ~100 bytes to loopback means a stuck client. */
		if (send(c->fd, r, rlen, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)rlen)
			return -1;
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		c->buf[c->len] = '\0';
	}
	return c->len < REQ_BUF ? 0 : -1;
}

/* Reads what @c sent and answers it; -1: closed or broken. */
static int client_readable(struct client *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, REQ_BUF - c->len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	c->len += (size_t)n;
	return serve_heads(c);
}

static int listen_loopback(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof(sa);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, LISTEN_BACKLOG) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &slen) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	printf("listening on 127.0.0.1:%u\n", ntohs(sa.sin_port));
	fflush(stdout);
	return fd;
}

/* Accepts one connection into a free slot of @cl (refuses it when none is free). */
static void accept_one(int lfd, struct client *cl, struct pollfd *pfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (cl[i].fd < 0) {
			int one = 1;

			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			cl[i].fd = fd;
			cl[i].len = 0;
			pfd[i + 1].fd = fd;
			return;
		}
	}
	close(fd);
}

static void drop(struct client *c, struct pollfd *p)
{
	close(c->fd);
	c->fd = -1;
	p->fd = -1;
}

static int serve(int lfd)
{
	static struct client cl[MAX_CLIENTS];
	struct pollfd pfd[MAX_CLIENTS + 1];

	pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
	for (int i = 0; i < MAX_CLIENTS; i++) {
		cl[i].fd = -1;
		pfd[i + 1] = (struct pollfd){ .fd = -1, .events = POLLIN };
	}
	while (!stopping) {
		if (poll(pfd, MAX_CLIENTS + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[0].revents & POLLIN)
			accept_one(lfd, cl, pfd);
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (cl[i].fd >= 0 && pfd[i + 1].revents && client_readable(&cl[i]) < 0)
				drop(&cl[i], &pfd[i + 1]);
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (cl[i].fd >= 0)
			close(cl[i].fd);
	return 0;
}

static int parse_args(int argc, char **argv, const char **key_file, unsigned *life)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--key-file") == 0 && i + 1 < argc) {
			*key_file = argv[++i];
		} else if (strcmp(argv[i], "--max-lifetime") == 0 && i + 1 < argc) {
			char *end;
			unsigned long v = strtoul(argv[++i], &end, 10);

			if (*end || v == 0 || v > MAX_LIFE)
				return -1;
			*life = (unsigned)v;
		} else {
			return -1;
		}
	}
	return *key_file ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	const char *key_file = NULL;
	unsigned life = DEFAULT_LIFE;
	int lfd, r;

	if (parse_args(argc, argv, &key_file, &life) < 0) {
		fprintf(stderr, "usage: hook-server --key-file PATH [--max-lifetime SECONDS]\n");
		return 2;
	}
	if (read_key(key_file) < 0) {
		fprintf(stderr, "hook-server: cannot read a key from %s\n", key_file);
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	alarm(life);
	lfd = listen_loopback();
	if (lfd < 0) {
		fprintf(stderr, "hook-server: cannot listen: %s\n", strerror(-lfd));
		return 1;
	}
	r = serve(lfd);
	close(lfd);
	return r < 0 ? 1 : 0;
}
