/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <systemd/sd-login.h>

#include "peer.h"

/* Linux 6.5; older headers lack it, older kernels answer ENOPROTOOPT. */
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

/* A pidfd for the process the kernel recorded when the peer called
 * connect(): no pid reuse can slip in between.  Returns the descriptor
 * (close-on-exec) or -errno. */
static int pidfd_from_socket(int fd)
{
	int pidfd = -1;
	socklen_t len = sizeof(pidfd);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0)
		return -errno;
	return pidfd;
}

/* pidfd_open(2) through syscall(2): glibc before 2.36 has no wrapper. */
static int pidfd_from_pid(pid_t pid)
{
#ifdef SYS_pidfd_open
	long r = syscall(SYS_pidfd_open, pid, 0);

	return r < 0 ? -errno : (int)r;
#else
	(void)pid;
	return -ENOSYS;
#endif
}

/* Whether the kernel answers SO_PEERPIDFD (Linux 6.5), learnt once by
 * asking about @fd, a connected Unix socket. */
static bool peerpidfd_supported(int fd)
{
	static int supported = -1;

	if (supported < 0) {
		int r = pidfd_from_socket(fd);

		if (r >= 0)
			close(r);
		supported = r != -ENOPROTOOPT;
	}
	return supported;
}

/*
 * With SO_PEERPIDFD the socket itself pins the peer (the kernel took its
 * struct pid at connect()), so the pidfd is asked for only when a
 * credential is first released on the connection, then held: idle
 * connections cost no descriptor, busy ones one poll() per check.
 * Otherwise a pidfd is opened from the pid now, the earliest moment the
 * agent can.  Any failure other than "this kernel has no such thing" means
 * the peer could not be held: it counts as gone, so allow lists fail
 * closed.
 */
static void hold_peer(int fd, struct peer *p)
{
	int r;

	if (peerpidfd_supported(fd)) {
		p->hold = PEER_HOLD_SOCKET;
		return;
	}
	r = p->pid > 0 ? pidfd_from_pid(p->pid) : -ESRCH;
	if (r >= 0) {
		p->pidfd = r;
		p->hold = PEER_HOLD_OPEN;
	} else if (r == -ENOSYS || r == -EPERM) { /* EPERM: a seccomp filter */
		p->hold = PEER_HOLD_PID;
	} else {
		p->hold = PEER_HOLD_GONE; /* ESRCH: exited already; EMFILE: fail closed */
	}
}

static void set_unknown(struct peer *peer)
{
	snprintf(peer->exe, sizeof(peer->exe), "?");
}

/* /proc/PID/exe into @buf (@len bytes).  Returns 0 or -errno: EACCES when
 * the process is non-dumpable or another user's (and we are not root). */
static int read_exe(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

int peer_from_socket(int fd, struct peer *ret)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	memset(ret, 0, sizeof(*ret));
	ret->pid = cred.pid;
	ret->uid = cred.uid;
	ret->gid = cred.gid;
	ret->sock = fd;
	ret->pidfd = -1;
	hold_peer(fd, ret);
	/* The program that connected, read as early as the agent can: before
	 * it can make itself non-dumpable or exec another.  Whether the pid
	 * still named it then is settled at each use: a process the pidfd
	 * shows running now was running at this read too. */
	ret->exe_read =
	    ret->hold != PEER_HOLD_GONE && read_exe(ret->pid, ret->exe, sizeof(ret->exe)) == 0;
	if (!ret->exe_read)
		set_unknown(ret);
	return 0;
}

void peer_done(struct peer *peer)
{
	if (peer->pidfd >= 0)
		close(peer->pidfd);
	peer->pidfd = -1;
	free(peer->exe_now);
	peer->exe_now = NULL;
}

bool peer_uid_allowed(const struct peer *peer, uid_t agent_uid)
{
	return peer->uid == agent_uid || peer->uid == 0;
}

/* A pidfd turns readable when its process exits (zombies included), and
 * asking needs no permission — unlike a signal 0, which a non-root agent
 * may not send to a root peer.  An error counts as exited. */
static bool pidfd_running(int pidfd)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 0;
}

/* True while the process that connected runs.  Kernels that hand out no
 * pidfd for a reaped process fail SO_PEERPIDFD then: exited too; so does
 * running out of descriptors (asked again at the next check). */
static bool peer_alive(struct peer *peer)
{
	if (peer->exited)
		return false;
	if (peer->watched)
		return true;
	switch (peer->hold) {
	case PEER_HOLD_SOCKET:
		if (peer->pidfd < 0)
			peer->pidfd = pidfd_from_socket(peer->sock);
		if (peer->pidfd < 0) {
			peer->pidfd = -1;
			return false;
		}
		return pidfd_running(peer->pidfd);
	case PEER_HOLD_OPEN:
		return pidfd_running(peer->pidfd);
	case PEER_HOLD_PID:
		return peer->pid > 0; /* cannot tell: the old kernel's limit */
	case PEER_HOLD_GONE:
	default:
		return false;
	}
}

void peer_watched(struct peer *peer)
{
	peer->watched = true;
}

void peer_exited(struct peer *peer)
{
	peer->exited = true;
	set_unknown(peer);
}

const char *peer_exe(struct peer *peer)
{
	/* At every use: once the process has exited, its pid may name another
	 * program, and the connection is no longer its. */
	if (!peer_alive(peer))
		set_unknown(peer);
	return peer->exe;
}

bool peer_units_match(const char *const units[], size_t n_units, const struct allow *allow)
{
	for (size_t i = 0; i < allow->n_unit; i++)
		for (size_t u = 0; u < n_units; u++)
			if (units[u] && strcmp(units[u], allow->unit[i]) == 0)
				return true;
	return false;
}

/* libsystemd here has no sd_pidfd_get_unit(): read by pid, then confirm
 * with the pidfd that the pid still names the peer. */
static bool unit_allowed(struct peer *peer, const struct allow *allow)
{
	char *units[2] = { NULL, NULL };
	bool ok = false;

	if (peer->pid > 0) {
		(void)sd_pid_get_user_unit(peer->pid, &units[0]);
		(void)sd_pid_get_unit(peer->pid, &units[1]);
		ok = peer_units_match((const char *const *)units, 2, allow) && peer_alive(peer);
	}
	free(units[0]);
	free(units[1]);
	return ok;
}

static bool uid_allowed(const struct peer *peer, const struct allow *allow)
{
	for (size_t i = 0; i < allow->n_uid; i++)
		if (allow->uid[i] == peer->uid)
			return true;
	return false;
}

/* Whether @now is @then with the " (deleted)" the kernel appends once the
 * file has been removed or replaced: the same image, not an exec. */
static bool is_deleted_form(const char *now, const char *then)
{
	static const char suffix[] = " (deleted)";
	size_t n = strlen(then);

	return strncmp(now, then, n) == 0 && strcmp(now + n, suffix) == 0;
}

/*
 * False once the process is seen running another program than at accept:
 * it has exec'd since it connected, and the connection may be in the hands
 * of whoever it forked before.  An exe that cannot be read now (made
 * non-dumpable since, as aoai-exec does) leaves the one read at accept
 * standing.  A file removed since reads as "PATH (deleted)", refused by
 * every list as when it was removed before accept.
 */
static bool exe_unchanged(struct peer *peer)
{
	char now[PATH_MAX];

	if (peer->exe_now)
		return false;
	if (!peer->exe_read || read_exe(peer->pid, now, sizeof(now)) < 0)
		return true;
	/* Read by pid: only what a running peer shows is its own. */
	if (strcmp(now, peer->exe) == 0 || !peer_alive(peer))
		return true;
	if (is_deleted_form(now, peer->exe)) {
		snprintf(peer->exe, sizeof(peer->exe), "%s", now);
		return true;
	}
	peer->exe_now = strdup(now); /* for peer_describe(); without memory, found again */
	return false;
}

static bool exe_allowed(struct peer *peer, const struct allow *allow)
{
	/* peer_allowed() has seen the process alive since exe[] was read. */
	if (!exe_unchanged(peer))
		return false;
	for (size_t i = 0; i < allow->n_exe; i++)
		if (strcmp(allow->exe[i], peer->exe) == 0)
			return true;
	return false;
}

bool peer_allowed(struct peer *peer, const struct allow *allow)
{
	bool restricted = allow->n_uid > 0 || allow->n_exe > 0 || allow->n_unit > 0;

	/* A connection outliving the process that opened it belongs to nobody
	 * we can name: every allow list refuses it, uid lists included. */
	if (restricted && !peer_alive(peer))
		return false;
	if (allow->n_uid > 0 && !uid_allowed(peer, allow))
		return false;
	if (allow->n_exe > 0 && !exe_allowed(peer, allow))
		return false;
	return allow->n_unit == 0 || unit_allowed(peer, allow);
}

const char *peer_describe(struct peer *peer, char *buf, size_t len)
{
	int pid = (int)peer->pid;

	if (!peer_alive(peer)) /* or could not be held at all: counted as gone */
		snprintf(buf, len, "pid %d, which has exited (the connection outlived it)", pid);
	else if (peer->exe_now)
		snprintf(buf, len, "pid %d, which exec'd %s since it connected as %s", pid,
			 peer->exe_now, peer->exe);
	else if (!peer->exe_read)
		snprintf(buf, len,
			 "pid %d, whose executable could not be read when it connected "
			 "(non-dumpable, another user's, or exited)",
			 pid);
	else
		snprintf(buf, len, "%s", peer->exe);
	return buf;
}

const char *peer_hold_name(enum peer_hold hold)
{
	switch (hold) {
	case PEER_HOLD_SOCKET:
		return "SO_PEERPIDFD";
	case PEER_HOLD_OPEN:
		return "pidfd_open";
	case PEER_HOLD_PID:
		return "pid";
	case PEER_HOLD_GONE:
	default:
		return "gone";
	}
}
