/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "private_dir.h"

/* Group or other access: even reading lets another user watch the
 * directory, and on systems where connect() ignores the socket's mode,
 * search permission is enough to reach the agent. */
#define PRIVATE_DIR_FORBIDDEN 0077

int private_dir_check(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	/* lstat: a link could be repointed by whoever owns the link's directory. */
	if (lstat(dir, &st) < 0)
		return errmsg(err, errlen, -errno, "cannot inspect %s: %s", dir, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return errmsg(err, errlen, -EPERM,
			      "%s is a symbolic link (replace it with a directory of your own, "
			      "mode 700)",
			      dir);
	if (!S_ISDIR(st.st_mode))
		return errmsg(err, errlen, -ENOTDIR, "%s is not a directory (move it away)", dir);
	if (st.st_uid != getuid())
		return errmsg(err, errlen, -EPERM,
			      "%s belongs to uid %u, not to you (uid %u): remove it, or use a "
			      "directory of your own",
			      dir, (unsigned)st.st_uid, (unsigned)getuid());
	if (st.st_mode & PRIVATE_DIR_FORBIDDEN)
		return errmsg(err, errlen, -EPERM,
			      "%s is accessible by other users, mode %03o (chmod 700 it)", dir,
			      (unsigned)(st.st_mode & 07777));
	return 0;
}
