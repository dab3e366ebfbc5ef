/* SPDX-License-Identifier: MIT */
/*
 * The secret arena: the values of the secret store packed into a few slabs
 * of sodium_malloc memory (guard pages, mlock'ed, excluded from core dumps,
 * wiped on free) instead of one allocation, hence two resident pages, per
 * value.  Each value is followed by a NUL and a random canary, checked when
 * the value is wiped.  A slab is PROT_NONE except while one of its values is
 * revealed (and until arena_conceal_idle() after arena_unreveal() left it
 * readable): protection is per slab, as mprotect() works on pages.
 * See docs/SECURITY.md, "Secrets in memory".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The largest value arena_store() takes (the store's own cap is lower). */
#define ARENA_MAX_VALUE (1024 * 1024)

struct secret_arena;
struct arena_slab;

/* Returns an empty arena, or NULL when out of memory. */
struct secret_arena *arena_new(void);
/* Wipes and unmaps every slab and frees the arena.  Accepts NULL; returns NULL. */
struct secret_arena *arena_free(struct secret_arena *arena);

/*
 * Copies @len bytes of @value, then a NUL, into the arena: *ret_value points
 * to the copy (which never moves) and *ret_slab to the slab holding it, for
 * the calls below.  Afterwards the slab is PROT_NONE, or read-only while a
 * reveal of it is in force (either way it was writable only meanwhile).
 * Returns 0, -EINVAL (@len 0 or beyond ARENA_MAX_VALUE), or -ENOMEM.
 */
int arena_store(struct secret_arena *arena, const void *value, size_t len,
		unsigned char **ret_value, struct arena_slab **ret_slab);
/*
 * Wipes the @len-byte value arena_store() gave as @value in @slab and gives
 * its room back; unmaps the slab when it was the last (protection as after
 * arena_store()).  Aborts when the value's canary was overwritten: memory
 * next to a secret was corrupted.
 */
void arena_wipe(struct secret_arena *arena, struct arena_slab *slab, unsigned char *value,
		size_t len);

/* Makes @slab readable until as many arena_unreveal() calls; aborts when it cannot. */
void arena_reveal(struct arena_slab *slab);
/*
 * Ends one arena_reveal() (an unpaired call does nothing).  When none is
 * left, @conceal makes the slab PROT_NONE at once; otherwise it stays
 * readable until arena_conceal_idle().
 */
void arena_unreveal(struct arena_slab *slab, bool conceal);
/* Conceals every slab left readable with no reveal in force. */
void arena_conceal_idle(struct secret_arena *arena);

/* How many slabs the arena holds, and how many bytes of values they span (for tests). */
size_t arena_slab_count(const struct secret_arena *arena);
size_t arena_bytes(const struct secret_arena *arena);
