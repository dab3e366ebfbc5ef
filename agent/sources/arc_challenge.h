/* SPDX-License-Identifier: MIT */
/*
 * Azure Arc's challenge.  The first token request is answered 401 with
 * "WWW-Authenticate: Basic realm=/var/opt/azcmagent/tokens/<guid>.key";
 * reading that file proves the caller may have a token (it is readable by
 * the himds group), and the retry sends its contents as
 * "Authorization: Basic <contents>".  The path comes from the network, so
 * it is checked before anything is opened.
 */
#pragma once

#include <stddef.h>

#define ARC_DEFAULT_KEY_DIR "/var/opt/azcmagent/tokens"
#define ARC_MAX_KEY         4096 /* bytes of a key file */
#define ARC_MAX_KEY_NAME    255  /* bytes of its file name */

/*
 * Extracts the key file path from a WWW-Authenticate header value.  The
 * scheme must be Basic (any case) and the realm parameter (quoted or not)
 * an absolute path whose directory is exactly @allowed_dir (NULL:
 * ARC_DEFAULT_KEY_DIR), compared lexically: no "..", no further '/', a
 * file name of letters, digits, '.', '_' and '-' ending in ".key".
 * Returns 0 with the path in @out, or -EINVAL with the reason in @err.
 */
int arc_challenge_key_path(const char *www_authenticate, const char *allowed_dir, char *out,
			   size_t outlen, char *err, size_t errlen);

/*
 * Reads the key file at @path: a regular file (not followed if it is a
 * symbolic link) of 1 to ARC_MAX_KEY bytes; one trailing newline is
 * dropped and the rest must hold no control characters.  Returns 0 with
 * the NUL-terminated contents in sodium memory in *@ret (the caller
 * releases it with sodium_free()) and their length in *@ret_len, or a
 * negative errno with the reason (naming the file) in @err.
 */
int arc_challenge_read_key(const char *path, char **ret, size_t *ret_len, char *err, size_t errlen);
