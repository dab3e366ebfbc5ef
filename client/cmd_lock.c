/* SPDX-License-Identifier: MIT */
/*
 * aoai lock / aoai unlock, as ssh-add -x / -X: the passphrase comes from
 * the terminal without echo (asked twice to lock), or from the first line of
 * stdin when that is not a terminal.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "proto.h"

static const char lock_usage[] =
    "Usage: aoai lock\n"
    "\n"
    "Locks the agent with a passphrase: until 'aoai unlock' it releases nothing\n"
    "and lists no secrets.  The passphrase is read from the terminal (twice), or\n"
    "from the first line of stdin.\n"
    "\n"
    "Options:\n"
    "      --help  show this help\n";

static const char unlock_usage[] =
    "Usage: aoai unlock\n"
    "\n"
    "Unlocks the agent.  The passphrase is read from the terminal, or from the\n"
    "first line of stdin.  A wrong one is answered after a growing delay.\n"
    "\n"
    "Options:\n"
    "      --help  show this help\n";

#define PASS_BUF TTY_BUF(PROTO_MAX_PASSPHRASE)

/* Constant time, out of habit: the two inputs are the user's own. */
static bool same(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char d = alen != blen;
	size_t i;

	for (i = 0; i < alen && i < blen; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* Reads the lock passphrase into @pass; asks twice on a terminal. */
static long read_new_passphrase(char pass[PASS_BUF])
{
	char again[PASS_BUF];
	long n, m;

	n = tty_read_secret("passphrase", "Enter lock passphrase: ", false, pass,
			    PROTO_MAX_PASSPHRASE);
	if (n < 0 || !tty_interactive())
		return n;
	m = tty_read_secret("passphrase", "Again: ", false, again, PROTO_MAX_PASSPHRASE);
	if (m > 0 && !same(pass, (size_t)n, again, (size_t)m))
		m = -cli_error(CLI_EXIT_ERROR, "the passphrases do not match");
	explicit_bzero(again, sizeof(again));
	return m < 0 ? m : n;
}

static int lock_unlock(int argc, char *argv[], const struct cli *cli, bool lock)
{
	char pass[PASS_BUF];
	struct aoai_conn *conn;
	long n;
	int r;

	r = cli_parse_simple(argc, argv, lock ? lock_usage : unlock_usage, NULL, 0);
	if (r >= 0)
		return r;
	r = cli_connect(cli, &conn);
	if (r != 0)
		return r;
	if (lock)
		n = read_new_passphrase(pass);
	else
		n = tty_read_secret("passphrase", "Enter lock passphrase: ", false, pass,
				    PROTO_MAX_PASSPHRASE);
	if (n > 0)
		r = lock ? aoai_lock(conn, pass) : aoai_unlock(conn, pass);
	explicit_bzero(pass, sizeof(pass));
	if (n < 0) {
		aoai_close(conn);
		return (int)-n;
	}
	if (r < 0)
		return cli_fail(conn, r);
	aoai_close(conn);
	puts(lock ? "Agent locked." : "Agent unlocked.");
	return CLI_EXIT_OK;
}

int cmd_lock(int argc, char *argv[], const struct cli *cli)
{
	return lock_unlock(argc, argv, cli, true);
}

int cmd_unlock(int argc, char *argv[], const struct cli *cli)
{
	return lock_unlock(argc, argv, cli, false);
}
