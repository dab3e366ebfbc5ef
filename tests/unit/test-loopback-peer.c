/* SPDX-License-Identifier: MIT */
/* The owner of a loopback TCP connection's client socket, asked of the kernel:
 * ours, another uid's, over IPv4, IPv6 and v4-mapped IPv6, and the lookups that
 * must fail (no such socket, a closed one, addresses of the wrong kind). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "loopback_peer.h"

#define NOBODY    65534
#define UNTOUCHED ((uid_t)12345)

/* One accepted connection: the server's end and both addresses. */
struct link {
	int listener, client, server;
	struct sockaddr_storage local, peer;
	socklen_t local_len, peer_len;
};

/* A listener on @addr (port 0: the kernel picks), whose address is *ret_local. */
static int listen_on(const struct sockaddr *addr, socklen_t len, struct link *l)
{
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	l->local_len = sizeof(l->local);
	if (bind(fd, addr, len) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&l->local, &l->local_len) < 0) {
		close(fd);
		return -errno;
	}
	l->listener = fd;
	return 0;
}

/* Connects a @family client to the listener, and accepts it. */
static void connect_accept(struct link *l, int family)
{
	struct sockaddr_storage to = l->local;

	if (family == AF_INET && l->local.ss_family == AF_INET6) {
		/* A v4 client of a v6 listener bound to ::ffff:127.0.0.1. */
		struct sockaddr_in *in = (struct sockaddr_in *)&to;
		in_port_t port = ((struct sockaddr_in6 *)&l->local)->sin6_port;

		memset(&to, 0, sizeof(to));
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		in->sin_port = port;
	}
	l->client = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(l->client >= 0);
	assert_int_equal(
	    connect(l->client, (struct sockaddr *)&to,
		    family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)),
	    0);
	l->peer_len = sizeof(l->peer);
	l->server = accept4(l->listener, (struct sockaddr *)&l->peer, &l->peer_len, SOCK_CLOEXEC);
	assert_true(l->server >= 0);
}

static void link_close(struct link *l)
{
	if (l->client >= 0)
		close(l->client);
	close(l->server);
	close(l->listener);
}

static int lookup(const struct link *l, uid_t *ret_uid)
{
	return loopback_peer_uid((const struct sockaddr *)&l->peer, l->peer_len,
				 (const struct sockaddr *)&l->local, l->local_len, ret_uid);
}

static void ipv4(void **state)
{
	struct sockaddr_in any = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct link l = { 0 };
	uid_t uid = UNTOUCHED;

	(void)state;
	assert_int_equal(listen_on((struct sockaddr *)&any, sizeof(any), &l), 0);
	connect_accept(&l, AF_INET);
	assert_int_equal(lookup(&l, &uid), 0);
	assert_int_equal(uid, getuid());
	link_close(&l);
}

static void ipv6(void **state)
{
	struct sockaddr_in6 lo = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct link l = { 0 };
	uid_t uid = UNTOUCHED;

	(void)state;
	if (listen_on((struct sockaddr *)&lo, sizeof(lo), &l) < 0)
		skip(); /* no IPv6 here */
	connect_accept(&l, AF_INET6);
	assert_int_equal(lookup(&l, &uid), 0);
	assert_int_equal(uid, getuid());
	link_close(&l);
}

/* An IPv6 listener sees an IPv4 client as ::ffff:127.0.0.1. */
static void v4_mapped(void **state)
{
	struct sockaddr_in6 mapped = { .sin6_family = AF_INET6 };
	struct link l = { 0 };
	uid_t uid = UNTOUCHED;

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1", &mapped.sin6_addr), 1);
	if (listen_on((struct sockaddr *)&mapped, sizeof(mapped), &l) < 0)
		skip();
	connect_accept(&l, AF_INET);
	assert_int_equal(l.peer.ss_family, AF_INET6);
	assert_int_equal(lookup(&l, &uid), 0);
	assert_int_equal(uid, getuid());
	link_close(&l);
}

/* A client socket made by uid NOBODY in a child: the answer names NOBODY, not us. */
static void other_uid(void **state)
{
	struct sockaddr_in lo = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct link l = { 0 };
	int hold[2], status;
	uid_t uid = UNTOUCHED;
	pid_t pid;
	char c;

	(void)state;
	if (geteuid() != 0)
		skip(); /* only root can be another user */
	assert_int_equal(listen_on((struct sockaddr *)&lo, sizeof(lo), &l), 0);
	assert_int_equal(pipe2(hold, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;

		if (setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
			_exit(2);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&l.local, l.local_len) < 0)
			_exit(3);
		close(hold[1]);
		_exit(read(hold[0], &c, 1) == 0 ? 0 : 4); /* holds it until the parent is done */
	}
	close(hold[0]);
	l.peer_len = sizeof(l.peer);
	l.server = accept4(l.listener, (struct sockaddr *)&l.peer, &l.peer_len, SOCK_CLOEXEC);
	assert_true(l.server >= 0);
	l.client = -1;
	assert_int_equal(lookup(&l, &uid), 0);
	assert_int_equal(uid, NOBODY);
	close(hold[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	link_close(&l);
}

/* A port where no client socket is, and a client that has closed its socket. */
static void no_such_socket(void **state)
{
	struct sockaddr_in lo = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in *peer;
	struct link l = { 0 };
	uid_t uid = UNTOUCHED;

	(void)state;
	assert_int_equal(listen_on((struct sockaddr *)&lo, sizeof(lo), &l), 0);
	connect_accept(&l, AF_INET);
	peer = (struct sockaddr_in *)&l.peer;
	peer->sin_port = htons((uint16_t)(ntohs(peer->sin_port) ^ 1));
	assert_int_equal(lookup(&l, &uid), -ENOENT);
	peer->sin_port = htons((uint16_t)(ntohs(peer->sin_port) ^ 1));
	assert_int_equal(lookup(&l, &uid), 0); /* the right port again */
	uid = UNTOUCHED;
	/* Closed: orphaned or in TIME_WAIT, it reports uid 0, which is not root. */
	close(l.client);
	l.client = -1;
	assert_int_equal(lookup(&l, &uid), -ENOENT);
	assert_int_equal(uid, UNTOUCHED);
	link_close(&l);
}

static void bad_addresses(void **state)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(1) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6,
				    .sin6_port = htons(1),
				    .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	uid_t uid = UNTOUCHED;

	(void)state;
	assert_int_equal(loopback_peer_uid((struct sockaddr *)&un, sizeof(un),
					   (struct sockaddr *)&in, sizeof(in), &uid),
			 -EAFNOSUPPORT);
	assert_int_equal(loopback_peer_uid((struct sockaddr *)&in, sizeof(in) - 1,
					   (struct sockaddr *)&in, sizeof(in), &uid),
			 -EINVAL);
	assert_int_equal(loopback_peer_uid((struct sockaddr *)&in, sizeof(in),
					   (struct sockaddr *)&in6, sizeof(in6), &uid),
			 -EINVAL);
	assert_int_equal(loopback_peer_uid(NULL, 0, (struct sockaddr *)&in, sizeof(in), &uid),
			 -EINVAL);
	assert_int_equal(uid, UNTOUCHED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4),           cmocka_unit_test(ipv6),
		cmocka_unit_test(v4_mapped),      cmocka_unit_test(other_uid),
		cmocka_unit_test(no_such_socket), cmocka_unit_test(bad_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
