/* SPDX-License-Identifier: MIT */
/*
 * The Azure CLI source: `az account get-access-token --output json
 * --resource R [--tenant T]`, spawned without a shell, its output read by
 * the event loop, killed when it takes longer than AZ_TIMEOUT_USEC.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "fetch.h"
#include "source_builders.h"

#define AZ_MAX_OUT 65536
#define AZ_MAX_ERR 2048

extern char **environ;

struct az_run {
	struct source_fetch *f;
	pid_t pid;
	int out_fd, err_fd;
	sd_event_source *out_src, *err_src, *child_src, *timer;
	char out[AZ_MAX_OUT + 1]; /* holds the token: wiped */
	size_t out_len;
	char err[AZ_MAX_ERR + 1];
	size_t err_len;
};

/* fetch.c's cancel hook: stops az if it still runs, frees the run. */
static void azure_cli_cancel(void *userdata)
{
	struct az_run *az = userdata;

	if (!az)
		return;
	if (az->pid > 0) { /* still running: stop it and reap it here, its source goes */
		kill(az->pid, SIGKILL);
		(void)waitpid(az->pid, NULL, 0);
	}
	sd_event_source_disable_unref(az->out_src);
	sd_event_source_disable_unref(az->err_src);
	sd_event_source_disable_unref(az->child_src);
	sd_event_source_disable_unref(az->timer);
	if (az->out_fd >= 0)
		close(az->out_fd);
	if (az->err_fd >= 0)
		close(az->err_fd);
	sodium_memzero(az, sizeof(*az));
	free(az);
}

/* Reads what is there; a full buffer is simply not read further. */
static void drain(int fd, char *buf, size_t *len, size_t cap)
{
	for (;;) {
		ssize_t n = *len < cap ? read(fd, buf + *len, cap - *len) : 0;

		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	buf[*len] = '\0';
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct az_run *az = userdata;

	(void)revents;
	if (fd == az->out_fd)
		drain(fd, az->out, &az->out_len, AZ_MAX_OUT);
	else
		drain(fd, az->err, &az->err_len, AZ_MAX_ERR);
	/* At EOF (or a full buffer) stop watching; the exit handler finishes. */
	if (revents & (EPOLLHUP | EPOLLERR))
		sd_event_source_set_enabled(s, SD_EVENT_OFF);
	return 0;
}

/* The CLI's own words for "not signed in" are the useful error. */
static void describe_failure(struct az_run *az, const siginfo_t *si, struct source_error *err)
{
	char *nl;

	for (nl = az->err; *nl; nl++)
		if ((unsigned char)*nl < 0x20)
			*nl = ' ';
	if (si->si_code == CLD_EXITED && strstr(az->err, "az login"))
		fetch_error(az->f, err, 0, false, "not signed in: run 'az login' (%s)", az->err);
	else if (si->si_code == CLD_EXITED)
		fetch_error(az->f, err, 0, false, "az exited with status %d: %s", si->si_status,
			    az->err);
	else
		fetch_error(az->f, err, 0, true, "az was killed by signal %d%s", si->si_status,
			    az->timer ? "" : " (timed out)");
}

static int on_exit_status(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	struct az_run *az = userdata;
	struct source_fetch *f = az->f;
	struct token_response tok = { 0 };
	struct source_error err = { 0 };
	char why[256];

	(void)s;
	az->pid = 0;
	drain(az->out_fd, az->out, &az->out_len, AZ_MAX_OUT);
	drain(az->err_fd, az->err, &az->err_len, AZ_MAX_ERR);
	if (si->si_code != CLD_EXITED || si->si_status != 0) {
		describe_failure(az, si, &err);
		fetch_finish(f, NULL, &err);
		return 0;
	}
	if (token_response_parse(az->out, az->out_len, (int64_t)time(NULL), &tok, why,
				 sizeof(why)) < 0) {
		fetch_error(f, &err, 0, false, "unusable output: %s", why);
		fetch_finish(f, NULL, &err);
		return 0;
	}
	fetch_finish(f, &tok, NULL);
	token_response_done(&tok);
	return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct az_run *az = userdata;

	(void)usec;
	(void)s;
	az->timer = sd_event_source_disable_unref(az->timer); /* marks the timeout */
	if (az->pid > 0)
		kill(az->pid, SIGKILL);
	return 0;
}

static int spawn_az(struct az_run *az, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, r;

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	/* The agent blocks signals for sd-event and ignores SIGPIPE: az gets
	 * neither. */
	sigemptyset(&none);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGPIPE);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = -posix_spawnp(&az->pid, argv[0], &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(errp[1]);
	out[1] = errp[1] = -1;
	if (r < 0)
		goto fail;
	az->out_fd = out[0];
	az->err_fd = errp[0];
	fcntl(az->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(az->err_fd, F_SETFL, O_NONBLOCK);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return r;
}

static int watch(struct az_run *az, sd_event *e)
{
	int r = sd_event_add_io(e, &az->out_src, az->out_fd, EPOLLIN, on_output, az);

	if (r >= 0)
		r = sd_event_add_io(e, &az->err_src, az->err_fd, EPOLLIN, on_output, az);
	if (r >= 0)
		r = sd_event_add_child(e, &az->child_src, az->pid, WEXITED, on_exit_status, az);
	if (r >= 0)
		r = sd_event_add_time_relative(e, &az->timer, CLOCK_MONOTONIC, AZ_TIMEOUT_USEC, 0,
					       on_timeout, az);
	return r;
}

int azure_cli_start(struct source_fetch *f, const struct profile *p, const char *resource,
		    struct source_error *err)
{
	char *argv[] = { "az",
			 "account",
			 "get-access-token",
			 "--output",
			 "json",
			 "--resource",
			 (char *)resource,
			 p->cred.tenant_id ? "--tenant" : NULL,
			 p->cred.tenant_id,
			 NULL };
	struct az_run *az = calloc(1, sizeof(*az));
	int r;

	if (!az) {
		fetch_error(f, err, 0, false, "out of memory");
		return -ENOMEM;
	}
	az->f = f;
	az->out_fd = az->err_fd = -1;
	f->cancel = azure_cli_cancel;
	f->cancel_data = az;
	r = spawn_az(az, argv);
	if (r < 0) {
		fetch_error(f, err, 0, false, "cannot run az: %s", strerror(-r));
		return r;
	}
	r = watch(az, f->ctx->event);
	if (r < 0)
		fetch_error(f, err, 0, false, "cannot watch az: %s", strerror(-r));
	return r;
}
