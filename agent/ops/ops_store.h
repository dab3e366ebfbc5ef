/* SPDX-License-Identifier: MIT */
/* Unlocking and locking an agent that has a persistent store (ops_store.c). */
#pragma once

#include <stddef.h>

#include "conn.h"

/* An unlock attempt whose turn has come, for an agent locked by its store. */
void store_unlock(struct conn *c, const char *passphrase, size_t len);
struct agent;
/* --persist (add, login) needs an unlocked store: PROTO_OK, or a status
 * with the reason in @msg. */
int store_check_persist(const struct agent *a, char *msg, size_t len);
/* "lock" while the store is unlocked: only the store's passphrase locks. */
void store_lock(struct conn *c, const char *passphrase, size_t len);
