/* SPDX-License-Identifier: MIT */
/*
 * Named secrets the configuration reads from files: {"file": PATH} and
 * {"credentials": NAME} ($CREDENTIALS_DIRECTORY/NAME, systemd's
 * LoadCredential=).  Key Vault secrets come from their own source.
 */
#pragma once

#include <stddef.h>

#include "config.h"
#include "secrets.h"

/*
 * Reads the secret file at @path into @store as @name.  The file must be a
 * regular file owned by the agent's user and not readable or writable by
 * group or others; one trailing newline is dropped.  Returns 0 or a
 * negative errno with the reason (naming the file) in @err.
 */
int secret_file_read(struct secret_store *store, const char *name, enum secret_origin origin,
		     const char *path, char *err, size_t errlen);

/*
 * Replaces every file and credentials secret in @store with what @config
 * names now (Key Vault secrets are keyvault.c's).  A source that cannot be
 * read is recorded as missing with its reason (shown by `aoai list` and in
 * errors) and logged.
 */
void secret_files_load(struct secret_store *store, const struct config *config);
