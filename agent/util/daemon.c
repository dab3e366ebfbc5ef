/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon.h"

int daemon_print_env(FILE *out, enum shell_kind kind, const char *socket, pid_t pid)
{
	char pid_text[32];

	snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
	if (shell_print_set(out, kind, ENV_SOCK, socket) < 0)
		return -EINVAL;
	shell_print_set(out, kind, ENV_PID, pid_text);
	fprintf(out, "echo Agent pid %d;\n", (int)pid);
	return fflush(out) == 0 ? 0 : -errno;
}

static int parse_pid(const char *text, pid_t *ret)
{
	char *end;
	long v;

	if (!text || !*text)
		return -ENOENT;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || *end || v < 2 || v > 0x3fffffff)
		return -EINVAL;
	*ret = (pid_t)v;
	return 0;
}

int daemon_kill(enum shell_kind kind)
{
	pid_t pid;
	int r = parse_pid(secure_getenv(ENV_PID), &pid);

	if (r == -ENOENT) {
		fprintf(stderr, "aoai-agent: %s is not set, cannot kill the agent\n", ENV_PID);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "aoai-agent: %s is not a valid pid\n", ENV_PID);
		return 1;
	}
	if (kill(pid, SIGTERM) < 0) {
		fprintf(stderr, "aoai-agent: kill %d: %s\n", (int)pid, strerror(errno));
		return 1;
	}
	shell_print_unset(stdout, kind, ENV_SOCK);
	shell_print_unset(stdout, kind, ENV_PID);
	printf("echo Agent pid %d killed;\n", (int)pid);
	return 0;
}

static int null_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (int i = 0; i <= 2; i++)
		if (dup2(fd, i) < 0)
			return -errno;
	if (fd > 2)
		close(fd);
	return 0;
}

pid_t daemon_detach(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid != 0)
		return pid < 0 ? -errno : pid;
	if (setsid() < 0 || chdir("/") < 0 || null_stdio() < 0)
		_exit(1);
	return 0;
}

int daemon_exec_command(char **argv, const char *socket, pid_t agent_pid)
{
	char pid_text[32];

	snprintf(pid_text, sizeof(pid_text), "%d", (int)agent_pid);
	if (setenv(ENV_SOCK, socket, 1) < 0 || setenv(ENV_PID, pid_text, 1) < 0) {
		perror("aoai-agent: setenv");
		return 1;
	}
	execvp(argv[0], argv);
	fprintf(stderr, "aoai-agent: %s: %s\n", argv[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

int daemon_watch_pid(pid_t pid)
{
	long fd = syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : (int)fd;
}
