/* SPDX-License-Identifier: MIT */
/*
 * Running the command.  When aoai-exec has nothing to serve (no identity
 * endpoint) it simply becomes the command (execvpe), as `env` or aws-vault
 * without its server do: no parent left to forward signals, and the exit
 * status is the command's own.
 *
 * Otherwise it stays the parent: the child runs in aoai-exec's process
 * group (so it stays the terminal's foreground job), the signals below are
 * blocked in every thread and taken with sigwaitinfo(), and each one is
 * forwarded to the child — unless the kernel sent it (si_code SI_KERNEL):
 * Ctrl-C, Ctrl-\, a window resize or a hangup go to the whole foreground
 * process group, so the child already has it and must not get it twice.
 * `kill -TERM <aoai-exec>` (si_code SI_USER) is forwarded.  SIGTSTP, SIGTTIN,
 * SIGTTOU and SIGCONT keep their defaults: job control stops and continues
 * the whole group.  When the child exits, aoai-exec returns its status (the
 * caller stops the endpoint and exits with it), 128+N when it died of signal
 * N, as a shell reports it.  The child gets no PR_SET_PDEATHSIG: it is an
 * ordinary program that must survive like one; should aoai-exec be killed
 * (SIGKILL), the endpoint goes with it and the child's next token request
 * fails with "connection refused" rather than reaching a stray listener.
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"

static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH };

static sigset_t original_mask; /* restored in the child */
static sigset_t waited;        /* forwarded + SIGCHLD */

int supervise_prepare(void)
{
	size_t i;

	/* A SIGCHLD ignored by our parent would reap the child before we could. */
	if (signal(SIGCHLD, SIG_DFL) == SIG_ERR)
		return -errno;
	sigemptyset(&waited);
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&waited, forwarded[i]);
	sigaddset(&waited, SIGCHLD);
	return sigprocmask(SIG_BLOCK, &waited, &original_mask) < 0 ? -errno : 0;
}

static int cannot_run(const char *command, int err)
{
	errno = err;
	return exec_error(err == ENOENT ? EXEC_EXIT_NOT_FOUND : EXEC_EXIT_CANNOT_RUN,
			  "cannot run %s: %m", command);
}

static int status_code(int status)
{
	if (WIFSIGNALED(status))
		return EXEC_SIGNAL_BASE + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Waits for @child, forwarding signals.  Returns its exit code. */
static int wait_forwarding(pid_t child)
{
	siginfo_t si;
	int status;
	pid_t r;

	for (;;) {
		if (sigwaitinfo(&waited, &si) < 0) {
			if (errno == EINTR)
				continue;
			return exec_error(CLI_EXIT_ERROR, "sigwaitinfo: %m");
		}
		if (si.si_signo != SIGCHLD) {
			if (si.si_code != SI_KERNEL)
				kill(child, si.si_signo);
			continue;
		}
		while ((r = waitpid(child, &status, WNOHANG)) < 0 && errno == EINTR)
			;
		if (r == child && (WIFEXITED(status) || WIFSIGNALED(status)))
			return status_code(status);
		if (r < 0)
			return exec_error(CLI_EXIT_ERROR, "waitpid: %m");
	}
}

int supervise_run(char **argv, char **envp)
{
	posix_spawnattr_t attr;
	pid_t child;
	int r;

	r = posix_spawnattr_init(&attr);
	if (r == 0)
		r = posix_spawnattr_setsigmask(&attr, &original_mask);
	if (r == 0)
		r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	if (r != 0) {
		errno = r;
		return exec_error(CLI_EXIT_ERROR, "cannot prepare the child: %m");
	}
	r = posix_spawnp(&child, argv[0], NULL, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	if (r != 0)
		return cannot_run(argv[0], r);
	return wait_forwarding(child);
}

int supervise_exec(char **argv, char **envp)
{
	execvpe(argv[0], argv, envp);
	return cannot_run(argv[0], errno);
}
