/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include <sodium.h>

#include "lock.h"

/*
 * The hash never leaves the agent's memory, and whoever can read that memory
 * can read the secrets themselves, so its cost only needs to make each
 * guess through the socket slower than the delay schedule allows anyway.
 * These parameters keep lock/unlock at a few milliseconds, so the event loop
 * is never held up noticeably.
 */
#define LOCK_OPSLIMIT 2
#define LOCK_MEMLIMIT (8U * 1024 * 1024)

struct agent_lock {
	char *hash;    /* sodium memory, crypto_pwhash_STRBYTES; NULL when unlocked */
	bool by_store; /* locked by the persistent store's key instead */
	unsigned failures;
	uint64_t next_attempt;
};

struct agent_lock *lock_new(void)
{
	return calloc(1, sizeof(struct agent_lock));
}

struct agent_lock *lock_free(struct agent_lock *lock)
{
	if (!lock)
		return NULL;
	sodium_free(lock->hash);
	free(lock);
	return NULL;
}

bool lock_is_locked(const struct agent_lock *lock)
{
	return lock->hash != NULL || lock->by_store;
}

bool lock_is_by_store(const struct agent_lock *lock)
{
	return lock->by_store;
}

void lock_lock_by_store(struct agent_lock *lock)
{
	lock->by_store = true;
}

int lock_lock(struct agent_lock *lock, const char *passphrase, size_t len)
{
	char *hash;

	if (lock_is_locked(lock))
		return -EBUSY;
	hash = sodium_malloc(crypto_pwhash_STRBYTES);
	if (!hash)
		return -ENOMEM;
	if (crypto_pwhash_str_alg(hash, passphrase, len, LOCK_OPSLIMIT, LOCK_MEMLIMIT,
				  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_free(hash);
		return -ENOMEM;
	}
	lock->hash = hash;
	lock->failures = 0;
	lock->next_attempt = 0;
	return 0;
}

static uint64_t failure_delay(unsigned failures)
{
	uint64_t delay = LOCK_FIRST_DELAY_USEC;

	while (--failures > 0 && delay < LOCK_MAX_DELAY_USEC)
		delay *= 2;
	return delay < LOCK_MAX_DELAY_USEC ? delay : LOCK_MAX_DELAY_USEC;
}

void lock_failed(struct agent_lock *lock, uint64_t now)
{
	if (lock->failures < 64)
		lock->failures++;
	lock->next_attempt = now + failure_delay(lock->failures);
}

void lock_clear(struct agent_lock *lock)
{
	sodium_free(lock->hash);
	lock->hash = NULL;
	lock->by_store = false;
	lock->failures = 0;
	lock->next_attempt = 0;
}

int lock_unlock(struct agent_lock *lock, const char *passphrase, size_t len, uint64_t now)
{
	if (!lock->hash)
		return -EALREADY;
	if (crypto_pwhash_str_verify(lock->hash, passphrase, len) != 0) {
		lock_failed(lock, now);
		return -EACCES;
	}
	lock_clear(lock);
	return 0;
}

uint64_t lock_next_attempt(const struct agent_lock *lock)
{
	return lock->next_attempt;
}
