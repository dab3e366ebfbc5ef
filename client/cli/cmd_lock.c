/* SPDX-License-Identifier: MIT */
/*
 * aoai lock / aoai unlock, as ssh-add -x / -X, and aoai passwd: a passphrase
 * comes from the terminal without echo (a new one is asked twice), or from
 * the next line of stdin when that is not a terminal.
 */
#include <stdio.h>
#include <stdlib.h>
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

static const char passwd_usage[] =
    "Usage: aoai passwd\n"
    "\n"
    "Sets the passphrase of the agent's persistent store (aoai add --persist),\n"
    "creating the store when there is none.  It asks for the current passphrase\n"
    "(when there is a store), then the new one twice.  Without a terminal it\n"
    "reads them from stdin, one a line.  The agent re-encrypts the store under\n"
    "the new passphrase and replaces the file atomically.  A store's passphrase\n"
    "is also the one that locks and unlocks the agent.\n"
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

/* Reads a new passphrase into @pass; asks twice on a terminal. */
static long read_new_passphrase(const char *prompt, char pass[PASS_BUF])
{
	char again[PASS_BUF];
	long n, m;

	n = tty_read_secret("passphrase", prompt, false, pass, PROTO_MAX_PASSPHRASE);
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

	r = cli_open_simple(argc, argv, lock ? lock_usage : unlock_usage, NULL, 0, cli, &conn);
	if (r >= 0)
		return r;
	if (lock)
		n = read_new_passphrase("Enter lock passphrase: ", pass);
	else
		n = tty_read_secret("passphrase", "Enter lock passphrase: ", false, pass,
				    PROTO_MAX_PASSPHRASE);
	if (n > 0)
		r = lock ? aoai_lock(conn, pass) : aoai_unlock(conn, pass);
	explicit_bzero(pass, sizeof(pass));
	return cli_finish(conn, n, r, lock ? "Agent locked." : "Agent unlocked.");
}

int cmd_lock(int argc, char *argv[], const struct cli *cli)
{
	return lock_unlock(argc, argv, cli, true);
}

int cmd_unlock(int argc, char *argv[], const struct cli *cli)
{
	return lock_unlock(argc, argv, cli, false);
}

/* The state of the agent's store ("none", "locked", …) and its error. */
static int store_state(struct aoai_conn *conn, char *state, size_t len, char *error, size_t errlen)
{
	char *json = NULL;
	json_t *status, *store;
	const char *s, *e;
	int r = aoai_status(conn, &json);

	if (r < 0)
		return r;
	status = format_parse(json);
	free(json);
	store = json_object_get(status, "store");
	s = json_string_value(json_object_get(store, "state"));
	e = json_string_value(json_object_get(store, "error"));
	snprintf(state, len, "%s", s ? s : "?");
	snprintf(error, errlen, "%s", e ? e : "the agent reports no persistent store");
	json_decref(status);
	return 0;
}

/* Reads the current passphrase (when there is a store) and the new one. */
static long read_passwd(bool current, char old[PASS_BUF], char pass[PASS_BUF])
{
	long n = 1;

	if (current)
		n = tty_read_secret("passphrase", "Current store passphrase: ", false, old,
				    PROTO_MAX_PASSPHRASE);
	if (n > 0)
		n = read_new_passphrase("New store passphrase: ", pass);
	return n;
}

int cmd_passwd(int argc, char *argv[], const struct cli *cli)
{
	char old[PASS_BUF] = "", pass[PASS_BUF], state[32], error[1024];
	struct aoai_conn *conn;
	bool create;
	long n;
	int r;

	r = cli_open_simple(argc, argv, passwd_usage, NULL, 0, cli, &conn);
	if (r >= 0)
		return r;
	r = store_state(conn, state, sizeof(state), error, sizeof(error));
	if (r < 0)
		return cli_fail(conn, r);
	create = strcmp(state, "none") == 0;
	/* Say why before any prompt (the agent checks again). */
	if (!create && strcmp(state, "unlocked") != 0) {
		aoai_close(conn);
		if (strcmp(state, "locked") == 0)
			return cli_error(CLI_EXIT_LOCKED,
					 "the agent is locked (aoai unlock first)");
		return cli_error(CLI_EXIT_ERROR, "%s", error);
	}
	n = read_passwd(!create, old, pass);
	if (n > 0)
		r = aoai_passwd(conn, create ? NULL : old, pass);
	explicit_bzero(old, sizeof(old));
	explicit_bzero(pass, sizeof(pass));
	return cli_finish(conn, n, r,
			  create ? "Persistent store created." : "Store passphrase changed.");
}
