/* SPDX-License-Identifier: MIT */
/*
 * The secret store: named values in the secret arena (arena.h: slabs of
 * sodium_malloc memory, mlock'ed, wiped on free, inaccessible while not
 * being read), each with an origin and an optional expiry.
 * Time is passed in by the caller (CLOCK_BOOTTIME microseconds) so the
 * lifetime rules are testable without waiting.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define SECRETS_MAX            1024
#define SECRET_FINGERPRINT_LEN sizeof("sha256:0123456789ab")
#define SECRET_MAX_ERROR       256
#define SECRETS_EXPIRED_MAX    64 /* expired names remembered, for messages */

enum secret_origin {
	ORIGIN_ADDED,       /* aoai add */
	ORIGIN_FILE,        /* config "file" */
	ORIGIN_CREDENTIALS, /* config "credentials" ($CREDENTIALS_DIRECTORY) */
	ORIGIN_KEYVAULT,    /* config "keyvault" */
};

struct arena_slab;

struct secret {
	char name[PROTO_MAX_NAME + 1];
	/* In the arena, NUL-terminated; NULL when missing.  PROT_NONE: read
	 * it only between secret_reveal() and secret_conceal(). */
	unsigned char *value;
	size_t len;
	struct arena_slab *slab; /* the arena's slab holding value */
	unsigned reveals;        /* secret_reveal() calls not yet concealed */
	enum secret_origin origin;
	uint64_t expires_at; /* 0 = never */
	char fingerprint[SECRET_FINGERPRINT_LEN];
	/* Why value is NULL (config sources), < SECRET_MAX_ERROR bytes; heap
	 * memory, as only failed sources have one. */
	char *error;
};

struct secret_store;

const char *secret_origin_name(enum secret_origin origin);

struct secret_store *secrets_new(void);
/* Wipes every value and frees the store.  Accepts NULL; returns NULL. */
struct secret_store *secrets_free(struct secret_store *store);

/*
 * Stores a copy of @value under @name, replacing (and wiping) any previous
 * value.  Returns 0, -EINVAL (bad name, empty or oversized value),
 * -ENOSPC (SECRETS_MAX reached), -ENOMEM.
 */
int secrets_put(struct secret_store *store, const char *name, const void *value, size_t len,
		enum secret_origin origin, uint64_t expires_at);
/*
 * Records that the config secret @name could not be loaded (shown by list
 * and in errors).  Returns 0 or -ENOSPC / -EINVAL / -ENOMEM.
 */
int secrets_put_missing(struct secret_store *store, const char *name, enum secret_origin origin,
			const char *error);
/* Forgets @name.  Returns 0 or -ENOENT. */
int secrets_remove(struct secret_store *store, const char *name);
/* Forgets every entry of @origin; returns how many. */
size_t secrets_remove_origin(struct secret_store *store, enum secret_origin origin);

/*
 * The entry for @name (possibly one without a value: check ->value), or
 * NULL when none is held or it has expired at @now.
 */
const struct secret *secrets_find(const struct secret_store *store, const char *name, uint64_t now);
/*
 * Wipes and removes entries expired at @now; returns how many.  Their names
 * and expiry times are remembered (the last SECRETS_EXPIRED_MAX) until the
 * name is stored or removed again, for secrets_why_missing().
 */
size_t secrets_expire(struct secret_store *store, uint64_t now);
/*
 * Why secrets_find(@name, @now) has no value, as the rest of a message
 * after "secret \"NAME\"": ": ERROR" (a configured source that failed),
 * " expired N s ago", or " has not been added".  Returns true when
 * `aoai add NAME` is the remedy (not for a configured source).
 */
bool secrets_why_missing(const struct secret_store *store, const char *name, uint64_t now,
			 char *buf, size_t len);
/* The earliest expiry among held entries, 0 when none expires. */
uint64_t secrets_next_expiry(const struct secret_store *store);

/*
 * Between the two, s->value may be read (never written).  Nothing may
 * change the store in between: the entry could move or be freed.  Both do
 * nothing when s->value is NULL.
 */
/* Makes s->value readable until secret_conceal(); calls must pair up. */
void secret_reveal(const struct secret *s);
/* Makes s->value inaccessible again. */
void secret_conceal(const struct secret *s);
/*
 * secret_conceal() that leaves the value readable until
 * secrets_conceal_idle(): mprotect() costs a request more than all else the
 * agent does for it (TLB flushes), so a burst of releases switches once.
 * Protection is per slab of the arena: a reveal makes the values sharing
 * the slab readable too.
 */
void secret_conceal_later(const struct secret *s);
/* Conceals every value left readable by secret_conceal_later(). */
void secrets_conceal_idle(struct secret_store *store);

/* Iteration in insertion order: entry @i of secrets_count(). */
size_t secrets_count(const struct secret_store *store);
const struct secret *secrets_at(const struct secret_store *store, size_t i);
