/* SPDX-License-Identifier: MIT */
/*
 * The hook in the child's LD_PRELOAD.  It is found next to this program
 * (../lib/libaoai-preload.so from /proc/self/exe: the build tree and a
 * default install both lay it out so), else where `make install` put it
 * (PRELOADDIR, e.g. a multiarch library directory), by absolute path, as
 * ld.so requires for LD_PRELOAD in a program that may run from any directory.  ld.so splits
 * LD_PRELOAD at spaces and colons; an entry already naming the hook is
 * dropped, so that nesting or a hand-set LD_PRELOAD never loads it twice.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"

#define PRELOAD_NAME "libaoai-preload.so"
#define PRELOAD_VAR  "LD_PRELOAD"
#define PRELOAD_SEPS " :"

#ifndef AOAI_PRELOADDIR
#define AOAI_PRELOADDIR "/usr/local/lib"
#endif

/* The hook's real path, if `guess` names a readable file that fits `buf`. */
static int preload_try(const char *guess, char *buf, size_t len)
{
	char *real = realpath(guess, NULL);

	if (!real)
		return -errno;
	if (strlen(real) >= len) {
		free(real);
		return -ENAMETOOLONG;
	}
	memcpy(buf, real, strlen(real) + 1);
	free(real);
	return access(buf, R_OK) < 0 ? -errno : 0;
}

int preload_find(char *buf, size_t len)
{
	char self[PATH_MAX], guess[PATH_MAX + sizeof("/../lib/" PRELOAD_NAME)], *slash;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	snprintf(guess, sizeof(guess), "%s/../lib/%s", self, PRELOAD_NAME);
	if (preload_try(guess, buf, len) >= 0)
		return 0;
	return preload_try(AOAI_PRELOADDIR "/" PRELOAD_NAME, buf, len);
}

int preload_prepend(struct env *e, const char *path)
{
	const char *old = env_get(e, PRELOAD_VAR);
	char *copy = NULL, *out, *word, *save = NULL;
	size_t len, used;
	int r;

	if (strpbrk(path, PRELOAD_SEPS))
		return -EINVAL; /* ld.so would split it */
	len = strlen(path) + (old ? strlen(old) : 0) + 2;
	out = malloc(len);
	if (old)
		copy = strdup(old);
	if (!out || (old && !copy)) {
		free(out);
		free(copy);
		return -ENOMEM;
	}
	used = strlen(path);
	memcpy(out, path, used);
	for (word = copy ? strtok_r(copy, PRELOAD_SEPS, &save) : NULL; word;
	     word = strtok_r(NULL, PRELOAD_SEPS, &save)) {
		if (strcmp(word, path) == 0)
			continue;
		out[used++] = ':';
		memcpy(out + used, word, strlen(word));
		used += strlen(word);
	}
	out[used] = '\0';
	r = env_set(e, PRELOAD_VAR, out);
	free(out);
	free(copy);
	return r;
}
