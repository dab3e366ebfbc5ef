/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Reads until @cap bytes or end of file, retrying on EINTR.  Returns the
 * byte count, or -errno.  A caller that reads cap = limit + 1 learns
 * whether the file is larger than its limit. */
ssize_t read_full(int fd, void *buf, size_t cap);
