/* SPDX-License-Identifier: MIT */
/*
 * The table of handle records: a hash of CURL pointers under one mutex.
 *
 * Only handles the application made (curl_easy_init, curl_easy_duphandle)
 * have a record; a handle without one — libcurl's internal DoH, connection
 * cache and HTTP/2 push handles — is never touched.  The lock covers the
 * table only and is held for a few pointer operations; a record itself is
 * used by its handle's thread alone.  fork() takes the lock around the
 * fork so a child never inherits it locked or the chains half-updated.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hook.h"

#define HANDLES_BITS    10
#define HANDLES_BUCKETS (1u << HANDLES_BITS)

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct record *buckets[HANDLES_BUCKETS];
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void atfork_prepare(void)
{
	pthread_mutex_lock(&table_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&table_lock);
}

static void atfork_child(void)
{
	/* The child's only thread is the one that took the lock. */
	pthread_mutex_unlock(&table_lock);
	agent_atfork_child();
}

/* Registered on the first record, so programs without libcurl never do it. */
static void atfork_register(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static unsigned bucket_of(const CURL *handle)
{
	uint64_t h = (uint64_t)(uintptr_t)handle >> 4;

	return (unsigned)((h * 0x9e3779b97f4a7c15ull) >> (64 - HANDLES_BITS));
}

/* Unlinks @handle's record; the caller holds the lock. */
static struct record *unlink_locked(CURL *handle)
{
	struct record **p, *rec;

	for (p = &buckets[bucket_of(handle)]; *p; p = &(*p)->next) {
		if ((*p)->handle != handle)
			continue;
		rec = *p;
		*p = rec->next;
		rec->next = NULL;
		return rec;
	}
	return NULL;
}

struct record *handles_add(CURL *handle, enum hook_flavour fl)
{
	struct record *rec, *stale;
	unsigned b;

	pthread_once(&atfork_once, atfork_register);
	/* Zeroed but for injected[], of which only the first ninjected are read:
	 * the curl tool makes a handle per transfer. */
	rec = malloc(sizeof(*rec));
	if (!rec)
		return NULL;
	memset(rec, 0, offsetof(struct record, injected));
	rec->handle = handle;
	rec->flavour = fl;
	b = bucket_of(handle);
	pthread_mutex_lock(&table_lock);
	/* A record left by a handle freed behind our back (same address). */
	stale = unlink_locked(handle);
	rec->next = buckets[b];
	buckets[b] = rec;
	pthread_mutex_unlock(&table_lock);
	record_free(stale);
	return rec;
}

struct record *handles_get(CURL *handle)
{
	struct record *rec;

	if (!handle)
		return NULL;
	pthread_mutex_lock(&table_lock);
	for (rec = buckets[bucket_of(handle)]; rec; rec = rec->next)
		if (rec->handle == handle)
			break;
	pthread_mutex_unlock(&table_lock);
	return rec;
}

struct record *handles_take(CURL *handle)
{
	struct record *rec;

	if (!handle)
		return NULL;
	pthread_mutex_lock(&table_lock);
	rec = unlink_locked(handle);
	pthread_mutex_unlock(&table_lock);
	return rec;
}

void record_reset(struct record *rec)
{
	rec->private_headers = merge_free(rec->flavour, rec->private_headers);
	rec->ninjected = 0;
	rec->app_headers = NULL;
	rec->app_prereq = NULL;
	rec->app_prereq_data = NULL;
	rec->app_debug = NULL;
	rec->app_debug_data = NULL;
	rec->app_stderr = NULL;
	rec->app_curlu = NULL;
	rec->app_port = 0;
	rec->peer_off = false;
	rec->host_off = false;
	rec->headers_unified = false;
	rec->installed = false;
}

struct record *record_free(struct record *rec)
{
	if (!rec)
		return NULL;
	record_reset(rec);
	free(rec);
	return NULL;
}
