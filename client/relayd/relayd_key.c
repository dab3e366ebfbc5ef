/* SPDX-License-Identifier: MIT */
/*
 * The placeholder a user pastes into a tool once: read from relay.key, or,
 * the first time, a new random one (loopback_secret.c) written there.  A
 * file we would not have written (another owner, readable by others, not a
 * key) is refused, not replaced: its name is in the message.
 */
#include <errno.h>
#include <string.h>

#include "loopback_secret.h"
#include "relayd.h"

_Static_assert(LOOPBACK_SECRET_HEX == RELAY_KEY_HEX, "the key file holds one loopback secret");

static int refused(const char *path, int r)
{
	if (r == -EPERM)
		return relayd_error(
		    CLI_EXIT_ERROR,
		    "%s: not a regular file of yours readable by you alone: fix its "
		    "owner and mode (chmod 600), or remove it for a new placeholder",
		    path);
	if (r == -EINVAL)
		return relayd_error(
		    CLI_EXIT_ERROR,
		    "%s: holds no placeholder (%s and %d hex digits): remove it for "
		    "a new one",
		    path, RELAY_KEY_PREFIX, RELAY_KEY_HEX);
	errno = -r;
	return relayd_error(CLI_EXIT_ERROR, "%s: %m", path);
}

int relayd_key(char key[RELAY_KEY_LEN + 1])
{
	char path[RELAY_KEY_PATH], hex[LOOPBACK_SECRET_HEX + 1];
	int r;

	r = relay_key_path(path, sizeof(path));
	if (r < 0)
		return relayd_error(CLI_EXIT_ERROR,
				    r == -ENOENT ? "neither XDG_CONFIG_HOME nor HOME is set (an "
						   "absolute path): nowhere to keep relay.key"
						 : "the path of relay.key is too long");
	r = relay_key_read(path, key);
	if (r != -ENOENT)
		return r < 0 ? refused(path, r) : 0;
	r = loopback_secret_new(hex);
	if (r == 0)
		r = relay_key_create(path, hex);
	explicit_bzero(hex, sizeof(hex));
	if (r < 0 && r != -EEXIST) /* EEXIST: another run made it first: use theirs */
		return refused(path, r);
	r = relay_key_read(path, key);
	return r < 0 ? refused(path, r) : 0;
}
