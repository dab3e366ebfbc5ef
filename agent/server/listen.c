/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "listen.h"
#include "private_dir.h"
#include "sockpath.h"

struct listener {
	int fd;
	char *path;
	char *tmp_dir; /* directory we created and remove at exit, or NULL */
	dev_t dev;     /* identity of our socket file, to never unlink another's */
	ino_t ino;
};

/* Formats "@what: <reason>" into @err and passes @r through. */
static int fail(char *err, size_t errlen, int r, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, strerror(-r));
	return r;
}

static int failf(char *err, size_t errlen, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int failf(char *err, size_t errlen, int r, const char *fmt, ...)
{
	char what[4200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return fail(err, errlen, r, what);
}

/* The directory must be ours and private: the socket's mode is not enough
 * on systems where connect() ignores it. */
static int ensure_private_dir(const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return failf(err, errlen, -errno, "cannot create %s", dir);
	return private_dir_check(dir, err, errlen);
}

static int default_path(struct listener *l, char *err, size_t errlen)
{
	const char *tmp = secure_getenv("TMPDIR");
	char dir[4096];
	int r;

	r = sockpath_runtime_dir(dir, sizeof(dir));
	if (r == -ENAMETOOLONG)
		return failf(err, errlen, r, "XDG_RUNTIME_DIR is too long");
	if (r == 0) {
		r = ensure_private_dir(dir, err, errlen);
		if (r < 0)
			return r;
		return asprintf(&l->path, "%s%s", dir, SOCKPATH_NAME) < 0 ? -ENOMEM : 0;
	}
	snprintf(dir, sizeof(dir), "%s/aoai-XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return failf(err, errlen, -errno, "cannot create a directory in %s",
			     tmp ? tmp : "/tmp");
	l->tmp_dir = strdup(dir);
	if (!l->tmp_dir || asprintf(&l->path, "%s/agent.%d", dir, (int)getpid()) < 0)
		return -ENOMEM;
	return 0;
}

static int make_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memcpy(sun->sun_path, path, strlen(path));
	return 0;
}

/* Returns -EADDRINUSE when something listens at @path, 0 when the path is
 * free (a stale socket file has been removed). */
static int claim_path(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, r = 0;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0)
		r = -EADDRINUSE;
	else if (errno != ECONNREFUSED)
		r = -errno;
	close(fd);
	if (r == 0 && unlink(path) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

static int dir_lock(const char *path)
{
	char *dir = strdup(path), *slash;
	int fd;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* Binds and listens with the directory locked, so two agents starting at
 * once cannot both decide the path is free. */
static int bind_locked(struct listener *l, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old_umask;
	int lock_fd, r;

	r = make_addr(l->path, &sun);
	if (r < 0)
		return failf(err, errlen, r, "socket path %s", l->path);
	lock_fd = dir_lock(l->path);
	if (lock_fd < 0)
		return failf(err, errlen, lock_fd, "cannot lock the directory of %s", l->path);
	r = claim_path(l->path, &sun);
	if (r == -EADDRINUSE) {
		snprintf(err, errlen, "an agent is already listening on %s", l->path);
		goto out;
	}
	if (r < 0) {
		failf(err, errlen, r, "cannot use %s", l->path);
		goto out;
	}
	old_umask = umask(0177);
	r = bind(l->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ? -errno : 0;
	umask(old_umask);
	if (r == 0 && lstat(l->path, &st) == 0) {
		l->dev = st.st_dev;
		l->ino = st.st_ino;
	}
	if (r == 0 && listen(l->fd, LISTEN_BACKLOG) < 0)
		r = -errno;
	if (r < 0)
		failf(err, errlen, r, "cannot listen on %s", l->path);
out:
	close(lock_fd);
	return r;
}

int listener_open(const char *path, struct listener **ret, char *err, size_t errlen)
{
	struct listener *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return -ENOMEM;
	l->fd = -1;
	r = path ? (l->path = strdup(path)) ? 0 : -ENOMEM : default_path(l, err, errlen);
	if (r < 0)
		goto fail;
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (l->fd < 0) {
		r = fail(err, errlen, -errno, "cannot create a socket");
		goto fail;
	}
	r = bind_locked(l, err, errlen);
	if (r < 0)
		goto fail;
	*ret = l;
	return 0;
fail:
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (l->tmp_dir)
		rmdir(l->tmp_dir);
	l->dev = 0; /* nothing of ours to unlink */
	listener_close(l);
	return r;
}

/* The descriptor systemd passed for us: the one named "agent", or the only
 * one when it has no name.  Returns its index or -ENOENT. */
static int pick_fd(int n, char **names)
{
	for (int i = 0; i < n; i++)
		if (names && names[i] && strcmp(names[i], "agent") == 0)
			return i;
	if (n == 1 && (!names || !names[0] || strcmp(names[0], "unknown") == 0))
		return 0;
	return -ENOENT;
}

static void free_names(char **names)
{
	if (!names)
		return;
	for (char **p = names; *p; p++)
		free(*p);
	free(names);
}

int listener_adopt(struct listener **ret, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	struct listener *l;
	char **names = NULL;
	int n, i, fd, flags;

	n = sd_listen_fds_with_names(1, &names); /* 1: unset LISTEN_FDS & co. */
	if (n <= 0) {
		free_names(names);
		if (n < 0)
			return fail(err, errlen, n, "cannot read the sockets passed by systemd");
		return 0;
	}
	i = pick_fd(n, names);
	for (int j = 0; j < n; j++) /* not ours: do not leak them to `az` */
		if (j != i)
			close(SD_LISTEN_FDS_START + j);
	free_names(names);
	if (i < 0) {
		snprintf(err, errlen, "systemd passed %d sockets but none is named \"agent\"", n);
		return -ENOENT;
	}
	fd = SD_LISTEN_FDS_START + i;
	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
		close(fd);
		snprintf(err, errlen,
			 "the socket passed by systemd is not a listening Unix stream socket");
		return -ENOTSOCK;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		close(fd);
		return fail(err, errlen, -errno, "cannot set up the socket passed by systemd");
	}
	memset(&sun, 0, sizeof(sun));
	l = calloc(1, sizeof(*l));
	if (!l || getsockname(fd, (struct sockaddr *)&sun, &len) < 0 ||
	    !(l->path =
		  strndup(sun.sun_path[0] ? sun.sun_path : "(unnamed)", sizeof(sun.sun_path)))) {
		free(l);
		close(fd);
		snprintf(err, errlen, "cannot set up the socket passed by systemd");
		return -ENOMEM;
	}
	l->fd = fd; /* dev stays 0: the file is systemd's, never unlinked */
	*ret = l;
	return 1;
}

struct listener *listener_close(struct listener *l)
{
	struct stat st;

	if (!l)
		return NULL;
	if (l->fd >= 0)
		close(l->fd);
	if (l->dev && lstat(l->path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino)
		unlink(l->path);
	if (l->tmp_dir)
		rmdir(l->tmp_dir);
	free(l->tmp_dir);
	free(l->path);
	free(l);
	return NULL;
}

void listener_forget(struct listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->dev = 0;
	free(l->tmp_dir);
	l->tmp_dir = NULL;
}

int listener_fd(const struct listener *l)
{
	return l->fd;
}

const char *listener_path(const struct listener *l)
{
	return l->path;
}
