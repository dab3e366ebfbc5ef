/* SPDX-License-Identifier: MIT */
/*
 * The persistent store (aoai add --persist, aoai login --persist): which
 * added secrets and sign-ins are kept on disk, the key that seals them while the agent is unlocked, and the
 * last bytes read or written, which unlock opens again.  The file format
 * is store_format.c's, the disk side store_file.c's; deriving keys is
 * kdf.c's (off the event loop), and the flows with a client ops_store.c's.
 *
 * States: none (no file: --persist first needs `aoai passwd`), locked (a
 * file, no key: nothing of it is in memory), unlocked (key held, secrets
 * loaded), broken (the file cannot be used; it is never written over).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store_format.h"

struct agent;

enum store_state {
	STORE_NONE,
	STORE_LOCKED,
	STORE_UNLOCKED,
	STORE_BROKEN,
};

struct store;

/*
 * Looks at @path: no file gives state none, a file that passes the
 * structural checks gives locked (the caller locks the agent), anything
 * else broken (with the reason in store_error()).  A directory another user
 * could change (store_file_check_dir()) is broken too, its file unread: it
 * may have been planted or rolled back.  Returns 0 or -ENOMEM.
 */
int store_new(const char *path, struct store **ret);
/* Wipes the key and frees.  Accepts NULL; returns NULL. */
struct store *store_free(struct store *s);

enum store_state store_state(const struct store *s);
const char *store_state_name(enum store_state state);
const char *store_path(const struct store *s);
/* Why the store is broken (or the last write failed); NULL when fine. */
const char *store_error(const struct store *s);
size_t store_count(const struct store *s);
/* How many persisted sign-ins (aoai login --persist) the last unlock loaded. */
size_t store_signins_loaded(const struct store *s);
bool store_has(const struct store *s, const char *name);

/* The parameters to derive the current key with (locked or unlocked). */
const struct store_kdf *store_current_kdf(const struct store *s);
/* Fresh parameters (a new salt) of @strength for a new passphrase. */
void store_new_kdf(enum store_strength strength, struct store_kdf *ret);
/* Constant-time comparison with the key held while unlocked. */
bool store_key_matches(const struct store *s, const unsigned char key[STORE_KEY_LEN]);

/*
 * Opens the locked store with @key: every record is authenticated, then
 * loaded into the agent's secrets (and --host profiles) and sign-ins;
 * expired secrets are dropped.  From then on a change to a persisted
 * sign-in (rotation, sign-in required, logout) rewrites the file.  Returns 0; -EACCES (wrong key: nothing changes); -EBADMSG etc.
 * (the store is now broken, nothing loaded) with a message in @err.
 */
int store_open(struct agent *a, const unsigned char key[STORE_KEY_LEN], char *err, size_t errlen);
/* Locks: wipes the key and every persisted secret from memory (the caller
 * forgets the sign-ins: ops_forget_signins()). */
void store_close(struct agent *a);

/*
 * Sets a new key and parameters (aoai passwd) and rewrites the file under
 * them; in state none this creates the store.  Returns 0 or -errno with a
 * message; on failure nothing changes.
 */
int store_rekey(struct agent *a, const unsigned char key[STORE_KEY_LEN],
		const struct store_kdf *kdf, char *err, size_t errlen);
/*
 * Marks @name (an added secret held now) as persisted, or unmarks it, and
 * rewrites the file.  Returns 0 or -errno with a message; when persisting
 * fails, @name stays in memory only.
 */
int store_keep(struct agent *a, const char *name, bool persist, char *err, size_t errlen);
/* Drops persisted names whose secret is gone (removed, expired) and
 * rewrites the file when any was.  Returns 0 or -errno with a message
 * (also logged). */
int store_sync(struct agent *a, char *err, size_t errlen);
