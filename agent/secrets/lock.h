/* SPDX-License-Identifier: MIT */
/*
 * Locking the agent with a passphrase (aoai lock / unlock).  Only a
 * libsodium password hash of the passphrase is kept.  Failed unlocks earn
 * a delay that doubles each time; the caller enforces it without blocking
 * (time is passed in, CLOCK_BOOTTIME microseconds).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOCK_FIRST_DELAY_USEC (1000000ULL)
#define LOCK_MAX_DELAY_USEC   (32000000ULL)

struct agent_lock;

struct agent_lock *lock_new(void);
/* Wipes and frees.  Accepts NULL; returns NULL. */
struct agent_lock *lock_free(struct agent_lock *lock);

bool lock_is_locked(const struct agent_lock *lock);
/* Locks with @passphrase.  Returns 0, -EBUSY when already locked, -ENOMEM. */
int lock_lock(struct agent_lock *lock, const char *passphrase, size_t len);
/*
 * Tries @passphrase at @now.  Returns 0 (unlocked), -EALREADY (not locked),
 * -EACCES (wrong: the next attempt is allowed at lock_next_attempt()).
 * The caller must not call it before lock_next_attempt().
 */
int lock_unlock(struct agent_lock *lock, const char *passphrase, size_t len, uint64_t now);
/*
 * Locked by the persistent store (at start, or `aoai lock` with a store):
 * no hash; the store's key decides, and the caller reports the outcome of
 * each attempt with lock_failed() or lock_clear().
 */
void lock_lock_by_store(struct agent_lock *lock);
bool lock_is_by_store(const struct agent_lock *lock);
/* A wrong passphrase at @now: the next attempt waits longer. */
void lock_failed(struct agent_lock *lock, uint64_t now);
/* Unlocked (forgets the hash and the failures). */
void lock_clear(struct agent_lock *lock);
/* The earliest time the next unlock attempt may be made (0: any time). */
uint64_t lock_next_attempt(const struct agent_lock *lock);
