/* SPDX-License-Identifier: MIT */
/*
 * Any local user can connect to 127.0.0.1, so a local endpoint admits a
 * connection only from a socket of its owner's uid or root's, asked of the
 * kernel (loopback_peer.c) right at accept.  libmicrohttpd calls the policy
 * on its listening thread before the connection is counted against its
 * limit and before a byte is read (new_connection_prepare_ in daemon.c),
 * and closes a refused socket at once: another user's connections never
 * take a slot.  Not knowing who connected refuses too.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "loopback_listen.h"
#include "loopback_peer.h"

int loopback_listen(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd, r;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, LOOPBACK_BACKLOG) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int loopback_admit_init(struct loopback_admit *a, int fd, const char *what,
			void (*warn)(const char *fmt, ...))
{
	socklen_t len = sizeof(a->local);

	memset(a, 0, sizeof(*a));
	if (getsockname(fd, (struct sockaddr *)&a->local, &len) < 0)
		return -errno;
	if (a->local.sin_family != AF_INET || len != sizeof(a->local))
		return -EAFNOSUPPORT;
	a->owner = getuid();
	a->what = what;
	a->warn = warn;
	return 0;
}

enum MHD_Result loopback_admit(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct loopback_admit *a = cls;
	uid_t uid;
	int r;

	r = loopback_peer_uid(addr, addrlen, (const struct sockaddr *)&a->local, sizeof(a->local),
			      &uid);
	if (r < 0) {
		/* -ENOENT: the client closed before we asked, nothing to report. */
		if (r != -ENOENT && !a->warned_unknown) {
			a->warned_unknown = true;
			errno = -r;
			a->warn("%s: cannot tell who connected (%m); refusing such connections",
				a->what);
		}
		return MHD_NO;
	}
	if (uid == a->owner || uid == 0)
		return MHD_YES;
	if (!a->warned_foreign) {
		a->warned_foreign = true;
		a->warn("%s: refusing connections from uid %u (only uid %u and root are served)",
			a->what, (unsigned)uid, (unsigned)a->owner);
	}
	return MHD_NO;
}
