/* SPDX-License-Identifier: MIT */
/*
 * Azure Arc's WWW-Authenticate challenge (agent/sources/arc_challenge.c): the
 * header comes from whoever answers on the Arc endpoint and names a file
 * the agent will read and send back, so an accepted path must be exactly
 * "DIR/NAME.key" with no way out of DIR.  The input is the header value,
 * optionally preceded by "DIR\n" to fuzz the configured directory too
 * (without it, the default directory).  Only the parser runs: no file is
 * ever opened.
 */
#include <errno.h>

#include "arc_challenge.h"
#include "fuzz.h"

#define ARC_FUZZ_ERR_LEN 256
#define ARC_FUZZ_OUT_LEN 4096
#define ARC_FUZZ_SHORT   48 /* shorter than most accepted paths */

/* An accepted path is DIR (without trailing slashes) + "/" + a plain NAME.key. */
static void check_path(const char *dir, const char *path)
{
	size_t dirlen = strlen(dir), n = strlen(path);
	const char *name = strrchr(path, '/');

	while (dirlen > 1 && dir[dirlen - 1] == '/')
		dirlen--;
	if (dirlen == 1)
		dirlen = 0; /* the root directory */
	FUZZ_CHECK(path[0] == '/' && name && !strstr(path, ".."));
	FUZZ_CHECK((size_t)(name - path) == dirlen && memcmp(path, dir, dirlen) == 0);
	FUZZ_CHECK(strlen(name + 1) > strlen(".key") && strlen(name + 1) <= ARC_MAX_KEY_NAME);
	FUZZ_CHECK(n > 4 && strcmp(path + n - 4, ".key") == 0);
	FUZZ_CHECK(strcspn(name + 1, "/\\\"\t\r\n ") == strlen(name + 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size), *header = text, *dir = NULL;
	char out[ARC_FUZZ_OUT_LEN], short_out[ARC_FUZZ_SHORT], err[ARC_FUZZ_ERR_LEN];
	char *nl = strchr(text, '\n');
	int r, r2;

	if (nl) {
		*nl = '\0';
		dir = text;
		header = nl + 1;
	}
	memset(err, 'x', sizeof(err));
	r = arc_challenge_key_path(header, dir, out, sizeof(out), err, sizeof(err));
	FUZZ_CHECK(r == 0 || r == -EINVAL);
	if (r == 0)
		check_path(dir ? dir : ARC_DEFAULT_KEY_DIR, out);
	else
		FUZZ_CHECK(fuzz_terminated(err, sizeof(err)) && err[0] != '\0');

	/* A short output buffer: the same path when it fits, else a clean refusal. */
	r2 = arc_challenge_key_path(header, dir, short_out, sizeof(short_out), err, sizeof(err));
	if (r == 0 && strlen(out) < sizeof(short_out))
		FUZZ_CHECK(r2 == 0 && strcmp(out, short_out) == 0);
	else
		FUZZ_CHECK(r2 == -EINVAL && fuzz_terminated(err, sizeof(err)));
	free(text);
	return 0;
}
