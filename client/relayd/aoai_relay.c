/* SPDX-License-Identifier: MIT */
/*
 * aoai-relay: serves the relay of every profile with "relay": {"listen": …}
 * until SIGTERM or SIGINT.
 *
 * The steps: reach the agent; list the profiles with a relay; stop being
 * dumpable; take systemd's sockets or bind the addresses; read (or create)
 * the placeholder; start one relay per socket, all asking the agent over
 * the one connection made at start; wait for a signal; stop them.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "agent_link.h"
#include "relay.h"
#include "relayd.h"

#define SOCKET_MAX 4096

static const char usage_text[] =
    "Usage: aoai-relay\n"
    "\n"
    "Serves, for each profile of aoai-agent.json with \"relay\": {\"listen\": ADDRESS},\n"
    "the profile's host on http://ADDRESS/ for programs of yours that cannot be\n"
    "run under aoai-exec (an IDE, a notebook).  Point such a program at it with\n"
    "the placeholder key of ~/.config/aoai/relay.key ($XDG_CONFIG_HOME/aoai/),\n"
    "created on the first run; `aoai env` prints both.  The relay replaces the\n"
    "placeholder with the agent's headers, so the program never holds the key.\n"
    "Under systemd (aoai-relay.socket) it serves the sockets systemd passes.\n"
    "Runs until SIGTERM or SIGINT.\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help\n"
    "  -V, --version  print the version\n";

/* Returns -1 to go on, or the exit code. */
static int parse_options(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "hV", options, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return CLI_EXIT_OK;
		}
		if (c == 'V') {
			printf("%s %s\n", RELAYD_PROG, AOAI_VERSION);
			return CLI_EXIT_OK;
		}
		fprintf(stderr, "Try '%s --help' for more information.\n", RELAYD_PROG);
		return CLI_EXIT_USAGE;
	}
	if (optind < argc) {
		relayd_error(CLI_EXIT_USAGE, "unexpected argument \"%s\"", argv[optind]);
		fprintf(stderr, "Try '%s --help' for more information.\n", RELAYD_PROG);
		return CLI_EXIT_USAGE;
	}
	return -1;
}

/*
 * As aoai-exec's harden(): nothing of ours may be read by other processes
 * of this user once a secret can arrive, but not before the agent has
 * accepted our connection, as it reads the executable of a dumpable
 * process only (allow.exe).  The first round trip (the profile list) shows
 * that it has.
 */
static void harden(void)
{
	prctl(PR_SET_DUMPABLE, 0);
}

/* Starts every relay that has a socket.  0, or prints why not: the exit code. */
static int start_all(struct agent_link *agent, struct relayd_entries *e, const char *key)
{
	size_t served = 0;

	for (size_t i = 0; i < e->n; i++) {
		struct relayd_entry *x = &e->items[i];
		struct relay_config cfg = { .agent = agent,
					    .profile = x->profile,
					    .upstream = x->upstream,
					    .placeholder = key,
					    .listen_fd = x->fd,
					    .warn = relayd_warn };
		int r;

		if (x->fd < 0)
			continue;
		r = relay_start(&cfg, &x->relay);
		if (r == -EINVAL)
			return relayd_error(CLI_EXIT_ERROR,
					    "profile \"%s\": cannot relay to %s: https only (plain "
					    "http to a loopback host)",
					    x->profile, x->upstream);
		if (r < 0) {
			errno = -r;
			return relayd_error(CLI_EXIT_ERROR,
					    "profile \"%s\": cannot start the relay: %m",
					    x->profile);
		}
		x->fd = -1; /* the relay's now: relay_stop() closes it */
		fprintf(stderr, "%s: profile \"%s\": http://%s/\n", RELAYD_PROG, x->profile,
			x->listen);
		served++;
	}
	return served ? 0 : relayd_error(CLI_EXIT_ERROR, "no relay to serve");
}

/* Blocks the signals that end us (before any relay thread exists, which
 * inherit the mask), so that only sigwait() sees them. */
static int block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || sigprocmask(SIG_BLOCK, set, NULL) < 0)
		return relayd_error(CLI_EXIT_ERROR, "cannot set up signal handling: %m");
	return 0;
}

static int serve(struct aoai_conn *conn, const char *socket_path, struct relayd_entries *e,
		 const char *key)
{
	struct agent_link *agent = NULL;
	sigset_t set;
	int r, sig;

	r = block_signals(&set);
	if (r != 0) {
		aoai_close(conn);
		return r;
	}
	r = agent_link_new(conn, socket_path, &agent);
	if (r < 0) {
		errno = -r;
		return relayd_error(CLI_EXIT_ERROR, "cannot reach the agent: %m");
	}
	r = start_all(agent, e, key);
	fflush(stderr);
	while (r == 0 && sigwait(&set, &sig) != 0)
		;
	for (size_t i = 0; i < e->n; i++)
		e->items[i].relay = relay_stop(e->items[i].relay);
	agent_link_free(agent); /* the relays' threads are gone */
	return r;
}

static int connect_agent(const char *path, struct aoai_conn **ret)
{
	int r = aoai_connect(path, ret), err = errno;

	return r < 0 ? cli_connect_failed(path, r, err, relayd_error) : 0;
}

static int run(const char *socket_path)
{
	static struct relayd_entries entries; /* large: not on the stack */
	char key[RELAY_KEY_LEN + 1] = "";
	struct aoai_conn *conn = NULL;
	int r;

	r = connect_agent(socket_path, &conn);
	if (r != 0)
		return r;
	r = relayd_profiles(conn, &entries);
	harden();
	if (r == 0)
		r = relayd_sockets(&entries);
	if (r == 0)
		r = relayd_key(key);
	if (r == 0) {
		r = serve(conn, socket_path, &entries, key);
		conn = NULL;
	}
	aoai_close(conn);
	relayd_entries_free(&entries);
	explicit_bzero(key, sizeof(key));
	return r;
}

int main(int argc, char *argv[])
{
	char socket_path[SOCKET_MAX];
	int r;

	r = parse_options(argc, argv);
	if (r >= 0)
		return r;
	r = cli_find_socket(socket_path, sizeof(socket_path), relayd_error);
	if (r != 0)
		return r;
	return run(socket_path);
}
