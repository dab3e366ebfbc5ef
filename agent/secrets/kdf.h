/* SPDX-License-Identifier: MIT */
/*
 * Argon2id off the event loop.  Deriving the store's key takes a sizeable
 * fraction of a second and hundreds of MiB on purpose; one worker thread
 * does it, one job at a time in arrival order, while the loop keeps serving
 * other clients.  Completion comes back to the loop through an eventfd, and
 * the callback runs there.
 */
#pragma once

#include <stddef.h>

#include <systemd/sd-event.h>

#include "store_format.h"

struct kdf;
struct kdf_job;

/* @key is STORE_KEY_LEN bytes of sodium memory, wiped after the call; NULL
 * when the derivation failed (out of memory). */
typedef void (*kdf_done_fn)(void *userdata, const unsigned char *key);

int kdf_new(sd_event *event, struct kdf **ret);
/* Cancels queued jobs, waits for the running one, wipes.  Accepts NULL. */
struct kdf *kdf_free(struct kdf *k);

/*
 * Queues the derivation of a key from @passphrase (copied to sodium memory)
 * with @params.  @done runs on the event loop unless kdf_cancel() comes
 * first.  Returns 0 and the job in *ret (may be NULL), or -ENOMEM.
 */
int kdf_derive(struct kdf *k, const char *passphrase, size_t len, const struct store_kdf *params,
	       kdf_done_fn done, void *userdata, struct kdf_job **ret);
/* @done will not run for @job (the job is freed once the worker is done). */
void kdf_cancel(struct kdf_job *job);
