/* SPDX-License-Identifier: MIT */
/*
 * aoai-relay's placeholder key, kept in $XDG_CONFIG_HOME/aoai/relay.key
 * (~/.config/aoai/relay.key) so that it stays the same across runs and a
 * user can paste it into a tool once.  It is no credential: the relay
 * swaps it for the agent's headers, and serves only its owner's
 * connections.  aoai-relay creates it; `aoai env` only reads it.
 */
#pragma once

#include <stddef.h>

#define RELAY_KEY_PREFIX "aoai-relay-"
#define RELAY_KEY_HEX    64
#define RELAY_KEY_LEN    (sizeof(RELAY_KEY_PREFIX) - 1 + RELAY_KEY_HEX)
#define RELAY_KEY_PATH   4096

/* The file's path into @buf (@len bytes).  0, or -ENOENT when neither
 * XDG_CONFIG_HOME nor HOME says where, -ENAMETOOLONG. */
int relay_key_path(char *buf, size_t len);
/*
 * Reads the key from @path into @key.  Returns 0; -ENOENT when there is no
 * file; -EPERM when it is not a regular file of ours that only we can
 * read; -EINVAL when it does not hold a key; other -errno.
 */
int relay_key_read(const char *path, char key[RELAY_KEY_LEN + 1]);
/*
 * Creates @path (0600, its directory 0700 when missing) holding the
 * placeholder RELAY_KEY_PREFIX @hex (RELAY_KEY_HEX digits), never
 * replacing a file.  Returns 0, -EEXIST, or another -errno.
 */
int relay_key_create(const char *path, const char *hex);
