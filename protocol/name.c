/* SPDX-License-Identifier: MIT */
/*
 * Secret and profile names.  The alphabet is small on purpose: names appear
 * in logs, file names and shell output, where nothing needs quoting.
 */
#include "proto.h"

static bool name_char_valid(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

bool proto_name_valid(const char *name)
{
	size_t i;

	if (!name)
		return false;
	/* Bounded walk: never reads more than PROTO_MAX_NAME + 1 bytes. */
	for (i = 0; name[i]; i++)
		if (i >= PROTO_MAX_NAME || !name_char_valid(name[i]))
			return false;
	return i > 0;
}
