/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "audit.h"

#define AUDIT_INITIAL 16

/* A sorted array: lookups are a binary search, listing needs no sort. */
struct audit {
	struct audit_entry *entries;
	size_t n, cap;
	uint64_t unmatched;
	struct audit_count other;
};

struct audit *audit_new(void)
{
	return calloc(1, sizeof(struct audit));
}

struct audit *audit_free(struct audit *a)
{
	if (a)
		free(a->entries);
	free(a);
	return NULL;
}

/* The index of @name, or of where it belongs (*found false). */
static size_t find(const struct audit *a, const char *name, bool *found)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(a->entries[mid].name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static bool grow(struct audit *a)
{
	size_t cap = a->cap ? a->cap * 2 : AUDIT_INITIAL;
	struct audit_entry *e;

	if (cap > AUDIT_MAX_PROFILES)
		cap = AUDIT_MAX_PROFILES;
	e = realloc(a->entries, cap * sizeof(*e)); /* names and counts only: no secret */
	if (!e)
		return false;
	a->entries = e;
	a->cap = cap;
	return true;
}

/* The counters of @name, inserting it; NULL when it does not fit. */
static struct audit_count *slot(struct audit *a, const char *name)
{
	bool found;
	size_t i = find(a, name, &found);
	struct audit_entry *e;

	if (found)
		return &a->entries[i].count;
	if (strlen(name) > PROTO_MAX_NAME || a->n >= AUDIT_MAX_PROFILES ||
	    (a->n == a->cap && !grow(a)))
		return NULL;
	memmove(&a->entries[i + 1], &a->entries[i], (a->n - i) * sizeof(*e));
	e = &a->entries[i];
	memset(e, 0, sizeof(*e));
	memcpy(e->name, name, strlen(name));
	a->n++;
	return &e->count;
}

void audit_count(struct audit *a, const char *name, bool released)
{
	struct audit_count *c;

	if (!a)
		return;
	if (!name) {
		a->unmatched++;
		return;
	}
	c = slot(a, name);
	if (!c)
		c = &a->other;
	if (released)
		c->released++;
	else
		c->refused++;
}

size_t audit_size(const struct audit *a)
{
	return a ? a->n : 0;
}

const struct audit_entry *audit_at(const struct audit *a, size_t i)
{
	return i < audit_size(a) ? &a->entries[i] : NULL;
}

uint64_t audit_unmatched(const struct audit *a)
{
	return a ? a->unmatched : 0;
}

struct audit_count audit_other(const struct audit *a)
{
	return a ? a->other : (struct audit_count){ 0, 0 };
}
