/* SPDX-License-Identifier: MIT */
/* The peer of a connection: pidfd hold, executable, allow lists, and a
 * connection whose connecting process has exited. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "peer.h"

#define OTHER_PROGRAM "/usr/bin/sleep" /* a program the exec tests switch to */

static char self_exe[PATH_MAX], other_exe[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	if (!realpath("/proc/self/exe", self_exe) || !realpath(OTHER_PROGRAM, other_exe))
		return -1;
	return 0;
}

static void units_match(void **state)
{
	char *names[] = { "a.service", "app@1.service" };
	struct allow allow = { .unit = names, .n_unit = 2 };
	const char *user_and_system[] = { NULL, "app@1.service" };
	const char *other[] = { "c.service", NULL };
	const char *none[] = { NULL, NULL };

	(void)state;
	assert_true(peer_units_match(user_and_system, 2, &allow));
	assert_false(peer_units_match(other, 2, &allow));
	assert_false(peer_units_match(none, 2, &allow));
	allow.n_unit = 0;
	assert_false(peer_units_match(user_and_system, 2, &allow));
}

/* This process on the other end of a socketpair: held, its exe known. */
static void self_peer(void **state)
{
	char *mine[] = { self_exe }, *theirs[] = { "/nonexistent/tool" };
	unsigned my_uid[] = { getuid() }, other_uid[] = { getuid() + 1 };
	struct allow allow_mine = { .exe = mine, .n_exe = 1 };
	struct allow allow_theirs = { .exe = theirs, .n_exe = 1 };
	struct allow uid_mine = { .uid = my_uid, .n_uid = 1 };
	struct allow uid_other = { .uid = other_uid, .n_uid = 1 };
	struct allow open_to_all = { 0 };
	struct peer p;
	char who[PEER_DESCRIBE_MAX];
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(peer_from_socket(sv[0], &p), 0);
	assert_int_equal(p.pid, getpid());
	assert_int_not_equal(p.hold, PEER_HOLD_GONE);
	assert_string_equal(peer_exe(&p), self_exe);
	assert_true(peer_allowed(&p, &allow_mine));
	assert_false(peer_allowed(&p, &allow_theirs));
	assert_string_equal(peer_describe(&p, who, sizeof(who)), self_exe);
	assert_true(peer_allowed(&p, &uid_mine));
	assert_false(peer_allowed(&p, &uid_other));
	assert_true(peer_allowed(&p, &open_to_all));
	peer_done(&p);
	peer_done(&p); /* twice is fine */
	assert_int_equal(p.pidfd, -1);
	close(sv[0]);
	close(sv[1]);
}

/* A listening socket in the abstract namespace, unique to this process. */
static int listen_abstract(struct sockaddr_un *addr, socklen_t *len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			   (size_t)snprintf(addr->sun_path + 1, sizeof(addr->sun_path) - 1,
					    "aoai-test-peer-%d", (int)getpid()));
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)addr, *len), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* Forks a child that connects, then waits for a byte on @go (or not, when
 * @go is -1) before it exits.  Returns the child's pid. */
static pid_t connect_in_child(const struct sockaddr_un *addr, socklen_t len, int go)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		char c;

		if (fd < 0 || connect(fd, (const struct sockaddr *)addr, len) < 0)
			_exit(1);
		if (go >= 0 && read(go, &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The connecting process has exited (and been reaped) before accept: its
 * pid may be anyone's now, so every allow list refuses the connection. */
static void exited_before_accept(void **state)
{
	unsigned my_uid[] = { getuid() };
	struct allow uid_mine = { .uid = my_uid, .n_uid = 1 }, open_to_all = { 0 };
	struct sockaddr_un addr;
	socklen_t len;
	int lfd = listen_abstract(&addr, &len), fd;
	pid_t child = connect_in_child(&addr, len, -1);
	char who[PEER_DESCRIBE_MAX], want[2 * PATH_MAX + 64];
	struct peer p;

	(void)state;
	reap(child);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(peer_from_socket(fd, &p), 0);
	assert_int_equal(p.pid, child);
	assert_string_equal(peer_exe(&p), "?");
	assert_false(peer_allowed(&p, &uid_mine));
	assert_true(peer_allowed(&p, &open_to_all));
	snprintf(want, sizeof(want), "pid %d, which has exited (the connection outlived it)",
		 (int)child);
	assert_string_equal(peer_describe(&p, who, sizeof(who)), want);
	peer_done(&p);
	close(fd);
	close(lfd);
}

/* The exe was read while the process ran; once it exits the cached name
 * is dropped: the connection may now be in another process's hands. */
static void exited_after_lookup(void **state)
{
	char *mine[] = { self_exe };
	struct allow allow_mine = { .exe = mine, .n_exe = 1 };
	struct sockaddr_un addr;
	socklen_t len;
	int lfd = listen_abstract(&addr, &len), fd, go[2];
	pid_t child;
	struct peer p;

	(void)state;
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	child = connect_in_child(&addr, len, go[0]);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(peer_from_socket(fd, &p), 0);
	assert_string_equal(peer_exe(&p), self_exe); /* the forked child runs this binary */
	assert_true(peer_allowed(&p, &allow_mine));
	assert_int_equal(write(go[1], "x", 1), 1);
	reap(child);
	assert_string_equal(peer_exe(&p), "?");
	assert_false(peer_allowed(&p, &allow_mine));
	peer_done(&p);
	close(go[0]);
	close(go[1]);
	close(fd);
	close(lfd);
}

/* Forks a child that connects, waits for a byte on @go (unless @go is -1),
 * then execs @program (OTHER_PROGRAM or a copy) with the connected socket
 * still open.  *ret_done reads EOF once the exec has happened (see
 * await_exec()).  Returns the child's pid. */
static pid_t connect_then_run(const struct sockaddr_un *addr, socklen_t len, int go,
			      const char *program, int *ret_done)
{
	char *argv[] = { OTHER_PROGRAM, "60", NULL };
	int done[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe2(done, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0); /* inherited by the new program */

		close(done[0]);
		if (fd < 0 || connect(fd, (const struct sockaddr *)addr, len) < 0)
			_exit(1);
		if (go >= 0 && read(go, &c, 1) != 1)
			_exit(2);
		execv(program, argv);
		_exit(3);
	}
	close(done[1]);
	*ret_done = done[0];
	return pid;
}

static pid_t connect_then_exec(const struct sockaddr_un *addr, socklen_t len, int go, int *ret_done)
{
	return connect_then_run(addr, len, go, OTHER_PROGRAM, ret_done);
}

/* Lets the child go on (unless @go is -1) and returns once it has exec'd:
 * its end of the close-on-exec pipe @done closes then (or when it exits,
 * which kill_and_reap() catches). */
static void await_exec(int go, int done)
{
	char c;

	if (go >= 0)
		assert_int_equal(write(go, "x", 1), 1);
	assert_int_equal(read(done, &c, 1), 0);
	close(done);
}

static void kill_and_reap(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status)); /* it was still running OTHER_PROGRAM */
}

/* The process that connected has exec'd another program since the agent
 * accepted it: it is no longer the program that connected, and a listed
 * new program does not help it either. */
static void exec_after_accept(void **state)
{
	char *mine[] = { self_exe }, *other[] = { other_exe };
	struct allow allow_mine = { .exe = mine, .n_exe = 1 };
	struct allow allow_other = { .exe = other, .n_exe = 1 };
	struct allow open_to_all = { 0 };
	struct sockaddr_un addr;
	socklen_t len;
	int lfd = listen_abstract(&addr, &len), fd, go[2], done;
	char who[PEER_DESCRIBE_MAX], want[2 * PATH_MAX + 64];
	pid_t child;
	struct peer p;

	(void)state;
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	child = connect_then_exec(&addr, len, go[0], &done);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(peer_from_socket(fd, &p), 0);
	assert_true(peer_allowed(&p, &allow_mine)); /* still the program that connected */
	await_exec(go[1], done);
	assert_false(peer_allowed(&p, &allow_other));
	assert_false(peer_allowed(&p, &allow_mine));
	assert_true(peer_allowed(&p, &open_to_all));
	assert_string_equal(peer_exe(&p), self_exe); /* the program that connected */
	snprintf(want, sizeof(want), "pid %d, which exec'd %s since it connected as %s", (int)child,
		 other_exe, self_exe);
	assert_string_equal(peer_describe(&p, who, sizeof(who)), want);
	assert_false(peer_allowed(&p, &allow_mine)); /* for good: no second read needed */
	kill_and_reap(child);
	peer_done(&p);
	close(go[0]);
	close(go[1]);
	close(fd);
	close(lfd);
}

/* An exec between connect() and accept is not seen: the program the agent
 * finds at accept is the one it decides on (README, "Per-program access"). */
static void exec_before_accept(void **state)
{
	char *other[] = { other_exe };
	struct allow allow_other = { .exe = other, .n_exe = 1 };
	struct sockaddr_un addr;
	socklen_t len;
	int lfd = listen_abstract(&addr, &len), fd, done;
	pid_t child = connect_then_exec(&addr, len, -1, &done);
	struct peer p;

	(void)state;
	await_exec(-1, done);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(peer_from_socket(fd, &p), 0);
	assert_string_equal(peer_exe(&p), other_exe);
	assert_true(peer_allowed(&p, &allow_other));
	kill_and_reap(child);
	peer_done(&p);
	close(fd);
	close(lfd);
}

/* Copies OTHER_PROGRAM to @path (mode 0700). */
static void copy_program(const char *path)
{
	int in = open(OTHER_PROGRAM, O_RDONLY | O_CLOEXEC);
	int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	ssize_t n;

	assert_true(in >= 0 && out >= 0);
	do
		n = copy_file_range(in, NULL, out, NULL, 1 << 20, 0);
	while (n > 0);
	assert_int_equal(n, 0);
	close(in);
	close(out);
}

/* The program's file removed after accept: the same image, not an exec;
 * it reads as "PATH (deleted)" and is refused, as when removed before. */
static void deleted_after_accept(void **state)
{
	char copy[64], deleted[128], *listed[] = { copy };
	struct allow allow_copy = { .exe = listed, .n_exe = 1 };
	struct sockaddr_un addr;
	socklen_t len;
	int lfd = listen_abstract(&addr, &len), fd, done;
	char who[PEER_DESCRIBE_MAX];
	pid_t child;
	struct peer p;

	(void)state;
	snprintf(copy, sizeof(copy), "/tmp/aoai-test-peer-%d", (int)getpid());
	snprintf(deleted, sizeof(deleted), "%s (deleted)", copy);
	copy_program(copy);
	child = connect_then_run(&addr, len, -1, copy, &done);
	await_exec(-1, done);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(peer_from_socket(fd, &p), 0);
	assert_true(peer_allowed(&p, &allow_copy));
	assert_int_equal(unlink(copy), 0);
	assert_false(peer_allowed(&p, &allow_copy));
	assert_string_equal(peer_describe(&p, who, sizeof(who)), deleted);
	kill_and_reap(child);
	peer_done(&p);
	close(fd);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(units_match),          cmocka_unit_test(self_peer),
		cmocka_unit_test(exited_before_accept), cmocka_unit_test(exited_after_lookup),
		cmocka_unit_test(exec_after_accept),    cmocka_unit_test(exec_before_accept),
		cmocka_unit_test(deleted_after_accept),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
