/* SPDX-License-Identifier: MIT */
/*
 * The persistent store on disk: where it lives, reading it whole, and
 * replacing it atomically (temporary file, fsync, rename, fsync of the
 * directory), so that a crash at any moment leaves the old file or the new
 * one, never a mix.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* $XDG_DATA_HOME/aoai/store, else ~/.local/share/aoai/store; NULL when
 * neither is set (or out of memory).  free() it. */
char *store_file_default_path(void);

/*
 * Checks the directory of @path as the socket's is checked
 * (private_dir_check()): the store is only as safe from rollback as its
 * directory.  Returns 0, -ENOENT when it does not exist, or another -errno
 * with a message in @err.
 */
int store_file_check_dir(const char *path, char *err, size_t errlen);

/*
 * Reads @path (a regular file of at most STORE_MAX_FILE bytes) into a new
 * buffer.  Returns 0, -ENOENT when there is no file, or another -errno with
 * a message in @err.
 */
int store_file_read(const char *path, uint8_t **ret_buf, size_t *ret_len, char *err, size_t errlen);

/*
 * Replaces @path with @len bytes of @buf (mode 0600), creating its
 * directory (mode 0700) when needed, after store_file_check_dir()'s check.
 * Returns 0 or -errno with a message in @err; on failure the old file is
 * untouched.
 */
int store_file_write(const char *path, const uint8_t *buf, size_t len, char *err, size_t errlen);
