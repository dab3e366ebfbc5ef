/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "arena.h"
#include "clock.h"
#include "secrets.h"

/* A name whose lifetime ran out: no value, nothing secret. */
struct expired_name {
	char name[PROTO_MAX_NAME + 1];
	uint64_t at;
};

/*
 * Values stay PROT_NONE except while secret_reveal() is in force (and until
 * secrets_conceal_idle() after secret_conceal_later()), so a stray read
 * elsewhere in the agent (an overflow, a wild pointer) faults instead of
 * copying a key out.  The arena switches them a slab at a time.
 */
struct secret_store {
	struct secret_arena *arena;
	struct secret *items;
	size_t n;
	size_t cap;
	/* A ring of the last expiries: slot next_expired is overwritten next. */
	struct expired_name expired[SECRETS_EXPIRED_MAX];
	size_t next_expired;
};

static void forget_expired(struct secret_store *store, const char *name)
{
	for (size_t i = 0; i < SECRETS_EXPIRED_MAX; i++)
		if (strcmp(store->expired[i].name, name) == 0)
			memset(&store->expired[i], 0, sizeof(store->expired[i]));
}

static void note_expired(struct secret_store *store, const struct secret *s)
{
	struct expired_name *e = &store->expired[store->next_expired];

	forget_expired(store, s->name);
	memcpy(e->name, s->name, sizeof(e->name));
	e->at = s->expires_at;
	store->next_expired = (store->next_expired + 1) % SECRETS_EXPIRED_MAX;
}

const char *secret_origin_name(enum secret_origin origin)
{
	switch (origin) {
	case ORIGIN_ADDED:
		return "added";
	case ORIGIN_FILE:
		return "file";
	case ORIGIN_CREDENTIALS:
		return "credentials";
	case ORIGIN_KEYVAULT:
		return "keyvault";
	}
	return "unknown";
}

struct secret_store *secrets_new(void)
{
	struct secret_store *store = calloc(1, sizeof(struct secret_store));

	if (store && !(store->arena = arena_new())) {
		free(store);
		return NULL;
	}
	return store;
}

static void secret_clear(struct secret_store *store, struct secret *s)
{
	/* Removed while revealed (a caller's bug): its slab must not stay readable for ever. */
	if (s->value && s->reveals > 0)
		arena_unreveal(s->slab, true);
	if (s->value)
		arena_wipe(store->arena, s->slab, s->value, s->len);
	free(s->error); /* a load error: nothing secret */
	sodium_memzero(s, sizeof(*s));
}

struct secret_store *secrets_free(struct secret_store *store)
{
	if (!store)
		return NULL;
	for (size_t i = 0; i < store->n; i++)
		secret_clear(store, &store->items[i]);
	free(store->items);
	arena_free(store->arena);
	free(store);
	return NULL;
}

static struct secret *find_slot(const struct secret_store *store, const char *name)
{
	for (size_t i = 0; i < store->n; i++)
		if (strcmp(store->items[i].name, name) == 0)
			return &store->items[i];
	return NULL;
}

/* Returns the existing entry for @name, cleared, or a new zeroed one. */
static int claim_slot(struct secret_store *store, const char *name, struct secret **ret)
{
	struct secret *s = find_slot(store, name);

	if (s) {
		secret_clear(store, s);
	} else {
		if (store->n == SECRETS_MAX)
			return -ENOSPC;
		if (store->n == store->cap) {
			size_t cap = store->cap ? store->cap * 2 : 16;
			struct secret *items = reallocarray(store->items, cap, sizeof(*items));

			if (!items)
				return -ENOMEM;
			store->items = items;
			store->cap = cap;
		}
		s = &store->items[store->n++];
		memset(s, 0, sizeof(*s));
	}
	memcpy(s->name, name, strlen(name) + 1);
	forget_expired(store, name);
	*ret = s;
	return 0;
}

/* "sha256:" and 12 hex digits: tells keys apart, reveals nothing useful. */
static void fingerprint(const void *value, size_t len, char out[SECRET_FINGERPRINT_LEN])
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	const size_t shown = (SECRET_FINGERPRINT_LEN - sizeof("sha256:")) / 2;

	crypto_hash_sha256(digest, value, len);
	memcpy(out, "sha256:", 7);
	sodium_bin2hex(out + 7, SECRET_FINGERPRINT_LEN - 7, digest, shown);
	sodium_memzero(digest, sizeof(digest));
}

int secrets_put(struct secret_store *store, const char *name, const void *value, size_t len,
		enum secret_origin origin, uint64_t expires_at)
{
	struct arena_slab *slab;
	unsigned char *copy;
	struct secret *s;
	int r;

	if (!proto_name_valid(name) || len == 0 || len > PROTO_MAX_SECRET)
		return -EINVAL;
	r = arena_store(store->arena, value, len, &copy, &slab);
	if (r < 0)
		return r;
	r = claim_slot(store, name, &s);
	if (r < 0) {
		arena_wipe(store->arena, slab, copy, len);
		return r;
	}
	s->value = copy;
	s->len = len;
	s->slab = slab;
	s->origin = origin;
	s->expires_at = expires_at;
	fingerprint(value, len, s->fingerprint); /* the caller's copy: the arena's is concealed */
	return 0;
}

int secrets_put_missing(struct secret_store *store, const char *name, enum secret_origin origin,
			const char *error)
{
	struct secret *s;
	char *copy;
	int r;

	if (!proto_name_valid(name))
		return -EINVAL;
	copy = strndup(error, SECRET_MAX_ERROR - 1);
	if (!copy)
		return -ENOMEM;
	r = claim_slot(store, name, &s);
	if (r < 0) {
		free(copy);
		return r;
	}
	s->origin = origin;
	s->error = copy;
	return 0;
}

static void remove_at(struct secret_store *store, size_t i)
{
	secret_clear(store, &store->items[i]);
	memmove(&store->items[i], &store->items[i + 1], (store->n - i - 1) * sizeof(struct secret));
	store->n--;
	memset(&store->items[store->n], 0, sizeof(struct secret));
}

int secrets_remove(struct secret_store *store, const char *name)
{
	struct secret *s = find_slot(store, name);

	forget_expired(store, name);
	if (!s)
		return -ENOENT;
	remove_at(store, (size_t)(s - store->items));
	return 0;
}

size_t secrets_remove_origin(struct secret_store *store, enum secret_origin origin)
{
	size_t removed = 0;

	/* Only added secrets have a lifetime: removing them all ends every expiry's story. */
	if (origin == ORIGIN_ADDED)
		memset(store->expired, 0, sizeof(store->expired));
	for (size_t i = store->n; i-- > 0;)
		if (store->items[i].origin == origin) {
			remove_at(store, i);
			removed++;
		}
	return removed;
}

static bool expired(const struct secret *s, uint64_t now)
{
	return s->expires_at != 0 && now >= s->expires_at;
}

const struct secret *secrets_find(const struct secret_store *store, const char *name, uint64_t now)
{
	const struct secret *s = find_slot(store, name);

	return s && !expired(s, now) ? s : NULL;
}

size_t secrets_expire(struct secret_store *store, uint64_t now)
{
	size_t removed = 0;

	for (size_t i = store->n; i-- > 0;)
		if (expired(&store->items[i], now)) {
			note_expired(store, &store->items[i]);
			remove_at(store, i);
			removed++;
		}
	return removed;
}

/* When @name expired (held but past its lifetime, or remembered), else 0. */
static uint64_t expired_at(const struct secret_store *store, const char *name, uint64_t now)
{
	const struct secret *s = find_slot(store, name);

	if (s)
		return expired(s, now) ? s->expires_at : 0;
	for (size_t i = 0; i < SECRETS_EXPIRED_MAX; i++)
		if (strcmp(store->expired[i].name, name) == 0)
			return store->expired[i].at;
	return 0;
}

bool secrets_why_missing(const struct secret_store *store, const char *name, uint64_t now,
			 char *buf, size_t len)
{
	const struct secret *s = secrets_find(store, name, now);
	uint64_t at = expired_at(store, name, now);

	if (s && !s->value) {
		snprintf(buf, len, ": %s", s->error);
		return false;
	}
	if (at && at <= now)
		snprintf(buf, len, " expired %llu s ago",
			 (unsigned long long)((now - at) / USEC_PER_SEC));
	else
		snprintf(buf, len, " has not been added");
	return true;
}

uint64_t secrets_next_expiry(const struct secret_store *store)
{
	uint64_t next = 0;

	for (size_t i = 0; i < store->n; i++) {
		uint64_t e = store->items[i].expires_at;

		if (e != 0 && (next == 0 || e < next))
			next = e;
	}
	return next;
}

/* The count lives in the entry, which the store owns and never hands out
 * as really const: readers get const pointers so they cannot change the
 * value, yet revealing it is not a change of the store.  The slab counts
 * the entries revealed from it. */
void secret_reveal(const struct secret *s)
{
	struct secret *e = (struct secret *)s;

	if (e->value && e->reveals++ == 0)
		arena_reveal(e->slab);
}

/* Drops one reveal; true when none is left. */
static bool unreveal(struct secret *e)
{
	return e->value && e->reveals > 0 && --e->reveals == 0;
}

void secret_conceal(const struct secret *s)
{
	struct secret *e = (struct secret *)s;

	if (unreveal(e))
		arena_unreveal(e->slab, true);
}

void secret_conceal_later(const struct secret *s)
{
	struct secret *e = (struct secret *)s;

	if (unreveal(e))
		arena_unreveal(e->slab, false);
}

void secrets_conceal_idle(struct secret_store *store)
{
	arena_conceal_idle(store->arena);
}

size_t secrets_count(const struct secret_store *store)
{
	return store->n;
}

const struct secret *secrets_at(const struct secret_store *store, size_t i)
{
	return i < store->n ? &store->items[i] : NULL;
}
