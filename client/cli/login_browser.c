/* SPDX-License-Identifier: MIT */
/*
 * The browser side of `aoai login --browser` (RFC 8252): a listener on
 * 127.0.0.1 at a random port that takes exactly the one redirect carrying
 * the sign-in's state, answers it with a short page and closes; and opening
 * the authorization URL with $BROWSER, else xdg-open when a display exists
 * (the URL is printed either way).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "login_browser.h"

#define HEAD_MAX        8192
#define HEAD_TIMEOUT_MS 10000

extern char **environ;

int login_browser_listen(int *ret_fd, char *redirect_uri, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return -e;
	}
	snprintf(redirect_uri, len, "http://127.0.0.1:%u/", (unsigned)ntohs(a.sin_port));
	*ret_fd = fd;
	return 0;
}

static void spawn(const char *prog, const char *url)
{
	char *argv[] = { (char *)prog, (char *)url, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, prog, &fa, NULL, argv, environ) != 0)
		fprintf(stderr, "aoai login: cannot run %s\n", prog);
	posix_spawn_file_actions_destroy(&fa);
}

void login_browser_open(const char *url)
{
	const char *browser = getenv("BROWSER");
	char first[256];

	fprintf(stderr, "To sign in, open this URL in a browser:\n%s\n", url);
	if (browser && *browser) {
		snprintf(first, sizeof(first), "%.*s", (int)strcspn(browser, ":"), browser);
		spawn(first, url);
	} else if (getenv("DISPLAY") || getenv("WAYLAND_DISPLAY")) {
		spawn("xdg-open", url);
	}
	fprintf(stderr, "Waiting for the sign-in (Ctrl-C cancels)...\n");
}

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* The percent-decoded value of @key in the query @q, or NULL (malloc'ed). */
static char *query_value(const char *q, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = q; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
		size_t n = strcspn(p, "&");
		char *out, *o;

		if (n <= klen || strncmp(p, key, klen) != 0 || p[klen] != '=')
			continue;
		out = o = malloc(n);
		for (const char *v = p + klen + 1; out && v < p + n; v++) {
			if (*v == '%' && v + 2 < p + n && hexval(v[1]) >= 0 && hexval(v[2]) >= 0) {
				*o++ = (char)(hexval(v[1]) * 16 + hexval(v[2]));
				v += 2;
			} else {
				*o++ = *v == '+' ? ' ' : *v;
			}
		}
		if (out)
			*o = '\0';
		return out;
	}
	return NULL;
}

static void answer(int fd, int status, const char *text)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf),
			 "HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\n"
			 "Cache-Control: no-store\r\nConnection: close\r\nContent-Length: %zu\r\n"
			 "\r\n%s",
			 status, status == 200 ? "OK" : "Bad Request", strlen(text), text);

	if (n > 0)
		(void)!write(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* The request head of @fd (bounded, with a deadline), NUL-terminated, or -1. */
static int read_head(int fd, char *buf, size_t len)
{
	size_t used = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (used < len - 1 && !strstr(buf, "\r\n\r\n")) {
		ssize_t n;

		if (poll(&p, 1, HEAD_TIMEOUT_MS) <= 0)
			return -1;
		n = read(fd, buf + used, len - 1 - used);
		if (n <= 0)
			return -1;
		used += (size_t)n;
		buf[used] = '\0';
	}
	return strstr(buf, "\r\n\r\n") ? 0 : -1;
}

/* 1 with *ret filled when this was the redirect, 0 for anything else. */
static int take_redirect(int cfd, const char *state, struct login_redirect *ret)
{
	char head[HEAD_MAX] = "", *q, *end, *got;

	if (read_head(cfd, head, sizeof(head)) < 0 || strncmp(head, "GET /", 5) != 0 ||
	    !(end = strchr(head + 4, ' ')) || !(q = strchr(head + 4, '?')) || q > end) {
		answer(cfd, 400, "Unexpected request.\n");
		return 0;
	}
	*end = '\0';
	got = query_value(q + 1, "state");
	if (!got || strcmp(got, state) != 0) {
		free(got);
		answer(cfd, 400, "Unexpected request.\n");
		return 0;
	}
	free(got);
	ret->code = query_value(q + 1, "code");
	ret->error = query_value(q + 1, "error");
	ret->error_description = query_value(q + 1, "error_description");
	answer(cfd, 200,
	       ret->code && !ret->error
		   ? "<!DOCTYPE html><title>aoai login</title><p>Signed in. You can close this "
		     "window.</p>\n"
		   : "<!DOCTYPE html><title>aoai login</title><p>The sign-in failed. You can "
		     "close this window.</p>\n");
	explicit_bzero(head, sizeof(head));
	return 1;
}

int login_browser_wait(int fd, const char *state, int timeout_s, struct login_redirect *ret)
{
	time_t deadline = time(NULL) + timeout_s;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (time(NULL) < deadline) {
		int cfd, r;

		if (poll(&p, 1, (int)(deadline - time(NULL)) * 1000) <= 0)
			continue;
		cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0)
			continue;
		r = take_redirect(cfd, state, ret);
		close(cfd);
		if (r)
			return 0;
	}
	return -ETIMEDOUT;
}

void login_redirect_done(struct login_redirect *r)
{
	if (r->code) {
		explicit_bzero(r->code, strlen(r->code));
		free(r->code);
	}
	free(r->error);
	free(r->error_description);
	*r = (struct login_redirect){ 0 };
}
