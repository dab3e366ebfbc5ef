/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockpath.h"

static int join(char *buf, size_t len, const char *a, const char *b)
{
	int n = snprintf(buf, len, "%s%s", a, b);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int sockpath_runtime_dir(char *buf, size_t len)
{
	const char *runtime = secure_getenv("XDG_RUNTIME_DIR");

	if (!runtime || *runtime != '/')
		return -ENOENT;
	return join(buf, len, runtime, SOCKPATH_DIR);
}

int sockpath_client(char *buf, size_t len)
{
	const char *sock = secure_getenv(SOCKPATH_ENV);
	int r;

	if (!buf || len == 0)
		return -EINVAL;
	if (sock && *sock)
		return join(buf, len, sock, "");
	r = sockpath_runtime_dir(buf, len);
	if (r < 0)
		return r;
	return join(buf + strlen(buf), len - strlen(buf), "", SOCKPATH_NAME);
}
