/* SPDX-License-Identifier: MIT */
/*
 * aoai check: runs aoai-check, installed beside the CLI in
 * ../libexec/aoai/ (as git runs its commands).  It links libcrypto, libxml2
 * and libcurl; keeping them out of `aoai` keeps every other command (and
 * `eval "$(aoai env)"` in each new shell) starting as fast as it does.
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define CHECK_RELPATH "/../libexec/aoai/aoai-check"

static int check_path(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0)
		return cli_error(CLI_EXIT_ERROR, "cannot find my own path: %m");
	self[n] = '\0';
	if ((size_t)snprintf(buf, len, "%s" CHECK_RELPATH, dirname(self)) >= len)
		return cli_error(CLI_EXIT_ERROR, "path too long");
	return -1;
}

int cmd_check(int argc, char *argv[], const struct cli *cli)
{
	char path[PATH_MAX + sizeof(CHECK_RELPATH)];
	int r = check_path(path, sizeof(path));

	(void)argc;
	if (r >= 0)
		return r;
	/* -S given before the command reaches it as the socket everyone reads. */
	if (cli->socket && setenv("AOAI_AUTH_SOCK", cli->socket, 1) < 0)
		return cli_error(CLI_EXIT_ERROR, "out of memory");
	fflush(stdout);
	/* Beside the CLI (the build tree, a default or moved install), else where
	 * `make install` put it when BINDIR and LIBEXECDIR were set apart. */
	execv(path, argv); /* argv[0] is "aoai check" */
	execv(AOAI_LIBEXECDIR "/aoai/aoai-check", argv);
	return cli_error(CLI_EXIT_ERROR, "cannot run %s: %m (is aoai-agent installed completely?)",
			 path);
}
