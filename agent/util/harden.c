/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <jansson.h>
#include <sodium.h>

#include "harden.h"

/* jansson's free() gets no size, so each block carries it in front. */
#define WIPE_HEADER (sizeof(max_align_t))

static void *wiping_malloc(size_t n)
{
	size_t *block;

	if (n > SIZE_MAX - WIPE_HEADER)
		return NULL;
	block = malloc(n + WIPE_HEADER);
	if (!block)
		return NULL;
	*block = n;
	return (char *)block + WIPE_HEADER;
}

/* Parsed requests and built replies hold secrets: wipe every block. */
static void wiping_free(void *ptr)
{
	size_t *block;

	if (!ptr)
		return;
	block = (size_t *)(void *)((char *)ptr - WIPE_HEADER);
	sodium_memzero(ptr, *block);
	free(block);
}

/*
 * A daemon serving many clients needs more than the usual soft limit of
 * 1024 descriptors: raise it to the hard limit, as systemd does for its
 * services, but not past HARDEN_NOFILE_MAX (a hard limit of a million would
 * only let a flood of clients eat memory).  The agent never uses select(),
 * so descriptors above 1024 are safe.  Best effort.
 */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	rlim_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	want = rl.rlim_max < HARDEN_NOFILE_MAX ? rl.rlim_max : HARDEN_NOFILE_MAX;
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}

int harden_process(void)
{
	struct rlimit rl = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;
	if (setrlimit(RLIMIT_CORE, &rl) < 0)
		return -errno;
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -errno;
	raise_fd_limit();
	if (sodium_init() < 0)
		return -EIO;
	json_set_alloc_funcs(wiping_malloc, wiping_free);
	return 0;
}

unsigned harden_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur > 1u << 20)
		return 1u << 20;
	return (unsigned)rl.rlim_cur;
}
