/* SPDX-License-Identifier: MIT */
/*
 * Directories only the agent's user may change: the socket's and the
 * persistent store's.  Another user who can write to such a directory can
 * replace what is in it (a socket of their own, an older store file), so
 * both are checked by this one rule.
 */
#pragma once

#include <stddef.h>

/*
 * Checks @dir without following a final symbolic link: a directory owned by
 * the real uid, with no access for group or others (mode 0700 or tighter).
 * Parent directories are not checked.  Returns 0; -ENOENT when @dir does
 * not exist; -EPERM or -ENOTDIR (or another -errno from lstat) with a
 * message in @err that names @dir and says what to do.
 */
int private_dir_check(const char *dir, char *err, size_t errlen);
