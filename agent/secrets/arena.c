/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <sodium.h>

#include "arena.h"
#include "log.h"

/* Values start on GRANULE boundaries; each takes len + NUL + canary, rounded up. */
#define GRANULE    16
#define CANARY_LEN 16
/* Slabs double from one page up to SLAB_MAX_PAGES: an agent with one key
 * locks one page, one with a thousand a few dozen. */
#define SLAB_MIN_PAGES 1
#define SLAB_MAX_PAGES 16
/*
 * sodium_malloc() puts a 16-byte canary of its own in front of what it
 * returns, on the first unprotected page: asking for whole pages less those
 * bytes keeps the slab on exactly that many pages instead of one more.
 */
#define SODIUM_CANARY_LEN 16
#define NO_RUN            SIZE_MAX

struct arena_slab {
	struct arena_slab *next;
	unsigned char *base; /* sodium_malloc'd, granules * GRANULE bytes */
	size_t granules;
	size_t used;      /* granules in use */
	unsigned reveals; /* arena_reveal() calls not yet ended */
	bool readable;    /* PROT_READ now (revealed, or left so until idle) */
	uint64_t map[];   /* one bit per granule, set when in use */
};

struct secret_arena {
	struct arena_slab *slabs;
	size_t n_slabs;
	/* Random, so that an overrun cannot write the expected bytes by chance;
	 * not secret (it guards against corruption, not readers). */
	unsigned char canary[CANARY_LEN];
};

/*
 * -DAOAI_SECRETS_NO_MPROTECT leaves slabs readable and writable: the bench's
 * baseline for what switching costs.
 */
static int protect_noaccess(void *base)
{
#ifdef AOAI_SECRETS_NO_MPROTECT
	(void)base;
	return 0;
#else
	return sodium_mprotect_noaccess(base);
#endif
}

static int protect_readonly(void *base)
{
#ifdef AOAI_SECRETS_NO_MPROTECT
	(void)base;
	return 0;
#else
	return sodium_mprotect_readonly(base);
#endif
}

static int protect_readwrite(void *base)
{
#ifdef AOAI_SECRETS_NO_MPROTECT
	(void)base;
	return 0;
#else
	return sodium_mprotect_readwrite(base);
#endif
}

/* Going on would fault anyway: stop here, saying why. */
static void need_access(int r, const char *what)
{
	if (r == 0)
		return;
	log_error("cannot make secret memory %s: %s", what, strerror(errno));
	abort();
}

static void open_for_writing(struct arena_slab *slab)
{
	need_access(protect_readwrite(slab->base), "writable");
}

/* A write ends the slab's idle readability: only reveals in force keep it readable. */
static void close_after_writing(struct arena_slab *slab)
{
	slab->readable = slab->reveals > 0;
	if (slab->readable)
		need_access(protect_readonly(slab->base), "readable");
	else
		(void)protect_noaccess(slab->base); /* on failure it merely stays readable */
}

static void conceal_now(struct arena_slab *slab)
{
	(void)protect_noaccess(slab->base); /* on failure it merely stays readable */
	slab->readable = false;
}

/*
 * sodium_malloc() tries mlock() but ignores a refusal.  RLIMIT_MEMLOCK is
 * only 64 KiB on older kernels, so a refusal is possible: say so once (the
 * values may then reach swap) and carry on.
 */
static void lock_in_ram(void *base, size_t len)
{
	static bool warned;
	char limit[32] = "unlimited"; /* getrlimit() cannot fail here */
	struct rlimit rl;
	int err;

	if (sodium_mlock(base, len) == 0 || warned)
		return;
	err = errno;
	warned = true;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		snprintf(limit, sizeof(limit), "%llu bytes", (unsigned long long)rl.rlim_cur);
	log_warn(
	    "cannot lock secrets in memory (%s; RLIMIT_MEMLOCK is %s): they may be written to "
	    "swap; raise the limit (LimitMEMLOCK= in the systemd unit, ulimit -l) or disable swap",
	    strerror(err), limit);
}

static size_t granules_for(size_t len)
{
	return (len + 1 + CANARY_LEN + GRANULE - 1) / GRANULE;
}

static bool granule_used(const struct arena_slab *slab, size_t i)
{
	return (slab->map[i / 64] >> (i % 64)) & 1;
}

static void mark(struct arena_slab *slab, size_t first, size_t n, bool used)
{
	for (size_t i = first; i < first + n; i++) {
		uint64_t bit = UINT64_C(1) << (i % 64);

		slab->map[i / 64] = used ? slab->map[i / 64] | bit : slab->map[i / 64] & ~bit;
	}
	slab->used = used ? slab->used + n : slab->used - n;
}

/* The first of @n free granules in a row (first fit), or NO_RUN. */
static size_t find_run(const struct arena_slab *slab, size_t n)
{
	size_t run = 0;

	if (slab->granules - slab->used < n)
		return NO_RUN;
	for (size_t i = 0; i < slab->granules; i++) {
		run = granule_used(slab, i) ? 0 : run + 1;
		if (run == n)
			return i + 1 - n;
	}
	return NO_RUN;
}

/* Pages for a new slab holding at least @n granules: doubling, up to SLAB_MAX_PAGES. */
static size_t slab_pages(const struct secret_arena *arena, size_t n, size_t page)
{
	size_t need = (n * GRANULE + SODIUM_CANARY_LEN + page - 1) / page;
	size_t grown =
	    arena->n_slabs < 8 ? (size_t)SLAB_MIN_PAGES << arena->n_slabs : SLAB_MAX_PAGES;

	if (grown > SLAB_MAX_PAGES)
		grown = SLAB_MAX_PAGES;
	return need > grown ? need : grown;
}

static int add_slab(struct secret_arena *arena, size_t n, struct arena_slab **ret)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t bytes = slab_pages(arena, n, page) * page - SODIUM_CANARY_LEN;
	size_t granules = bytes / GRANULE, words = (granules + 63) / 64;
	struct arena_slab *slab = calloc(1, sizeof(*slab) + words * sizeof(uint64_t));

	if (!slab)
		return -ENOMEM;
	slab->base = sodium_malloc(granules * GRANULE);
	if (!slab->base) {
		free(slab);
		return -ENOMEM;
	}
	lock_in_ram(slab->base, granules * GRANULE);
	slab->granules = granules;
	conceal_now(slab);
	slab->next = arena->slabs;
	arena->slabs = slab;
	arena->n_slabs++;
	*ret = slab;
	return 0;
}

static struct arena_slab *free_slab(struct arena_slab *slab)
{
	sodium_free(slab->base); /* makes it writable, wipes, unmaps */
	free(slab);
	return NULL;
}

struct secret_arena *arena_new(void)
{
	struct secret_arena *arena = calloc(1, sizeof(*arena));

	if (arena)
		randombytes_buf(arena->canary, sizeof(arena->canary));
	return arena;
}

struct secret_arena *arena_free(struct secret_arena *arena)
{
	if (!arena)
		return NULL;
	while (arena->slabs) {
		struct arena_slab *next = arena->slabs->next;

		free_slab(arena->slabs);
		arena->slabs = next;
	}
	free(arena);
	return NULL;
}

int arena_store(struct secret_arena *arena, const void *value, size_t len,
		unsigned char **ret_value, struct arena_slab **ret_slab)
{
	struct arena_slab *slab;
	size_t n, first = NO_RUN;
	unsigned char *p;
	int r;

	if (len == 0 || len > ARENA_MAX_VALUE)
		return -EINVAL;
	n = granules_for(len);
	for (slab = arena->slabs; slab; slab = slab->next) {
		first = find_run(slab, n);
		if (first != NO_RUN)
			break;
	}
	if (!slab) {
		r = add_slab(arena, n, &slab);
		if (r < 0)
			return r;
		first = 0;
	}
	mark(slab, first, n, true);
	p = slab->base + first * GRANULE;
	open_for_writing(slab);
	memcpy(p, value, len);
	p[len] = '\0';
	memcpy(p + len + 1, arena->canary, CANARY_LEN);
	close_after_writing(slab);
	*ret_value = p;
	*ret_slab = slab;
	return 0;
}

static void unlink_slab(struct secret_arena *arena, struct arena_slab *slab)
{
	for (struct arena_slab **at = &arena->slabs; *at; at = &(*at)->next)
		if (*at == slab) {
			*at = slab->next;
			arena->n_slabs--;
			free_slab(slab);
			return;
		}
}

void arena_wipe(struct secret_arena *arena, struct arena_slab *slab, unsigned char *value,
		size_t len)
{
	size_t n = granules_for(len);

	open_for_writing(slab);
	if (sodium_memcmp(value + len + 1, arena->canary, CANARY_LEN) != 0) {
		/* Like sodium_free() on a bad canary: nothing after this is trustworthy. */
		log_error("memory after a secret was overwritten (a bug): stopping the agent");
		abort();
	}
	sodium_memzero(value, n * GRANULE);
	close_after_writing(slab);
	mark(slab, (size_t)(value - slab->base) / GRANULE, n, false);
	if (slab->used == 0 && slab->reveals == 0)
		unlink_slab(arena, slab);
}

void arena_reveal(struct arena_slab *slab)
{
	if (slab->reveals++ > 0 || slab->readable)
		return;
	need_access(protect_readonly(slab->base), "readable");
	slab->readable = true;
}

void arena_unreveal(struct arena_slab *slab, bool conceal)
{
	if (slab->reveals == 0 || --slab->reveals > 0)
		return;
	if (conceal)
		conceal_now(slab);
}

void arena_conceal_idle(struct secret_arena *arena)
{
	for (struct arena_slab *slab = arena->slabs; slab; slab = slab->next)
		if (slab->readable && slab->reveals == 0)
			conceal_now(slab);
}

size_t arena_slab_count(const struct secret_arena *arena)
{
	return arena->n_slabs;
}

size_t arena_bytes(const struct secret_arena *arena)
{
	size_t bytes = 0;

	for (const struct arena_slab *slab = arena->slabs; slab; slab = slab->next)
		bytes += slab->granules * GRANULE;
	return bytes;
}
