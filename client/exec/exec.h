/* SPDX-License-Identifier: MIT */
/*
 * aoai-exec: runs a command with the agent's credentials wired in.  What the
 * files of client/exec/ share:
 *
 *   main.c         the steps, in order
 *   messages.c     errors on stderr, and the exit codes of aoai-exec's own failures
 *   options.c      the command line
 *   profile.c      which profile (the agent's `list`, -p, AZURE_OPENAI_ENDPOINT)
 *   environment.c  the child's environment: conflicting variables out, ours in
 *   preload.c      where the hook is, and LD_PRELOAD
 *   identity.c     the local managed-identity endpoint (libmicrohttpd)
 *   identity_http.c    one request to it
 *   relay_env.c    the relay (client/relay/) and the variables that point at it
 *   supervise.c    run the child, forward signals, reap, exit like a shell
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "aoai.h"
#include "agent_link.h"
#include "cli.h" /* CLI_EXIT_*: aoai-exec's own failures use aoai's exit codes */

#define EXEC_PROG            "aoai-exec"
#define EXEC_EXIT_CANNOT_RUN 126 /* as a shell: COMMAND found but not executable */
#define EXEC_EXIT_NOT_FOUND  127 /* as a shell: COMMAND not found */
#define EXEC_SIGNAL_BASE     128 /* exit status 128+N: the child died of signal N */

struct exec_options {
	const char *profile; /* -p, or NULL */
	bool no_env;         /* no credential in the environment: no relay either */
	bool no_relay;       /* an api-key profile: no relay, no key */
	bool key_in_env;     /* an api-key profile: the key itself in the environment */
	bool relay;          /* a token profile: the relay too */
	bool no_preload;
	bool no_identity;
	char **command; /* NULL-terminated, at least one word */
};

/* Returns -1 to go on, or the exit code (after --help or a usage error). */
int options_parse(int argc, char *argv[], struct exec_options *o);

/* Prints `aoai-exec: MESSAGE` to stderr; returns @code. */
int exec_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Prints `aoai-exec: MESSAGE` (unless @fmt is NULL: getopt has said it) and
 * a hint at --help; returns CLI_EXIT_USAGE.
 */
int exec_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints `aoai-exec: warning: MESSAGE` to stderr. */
void exec_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* exitcode_from_error() (cli.h, client/shared/exitcode.c) maps AOAI_E_* as aoai does. */

/* The profile the command runs with. */
struct profile {
	char name[65];
	bool token;          /* a token profile (credential type other than api-key) */
	char *endpoint;      /* AZURE_OPENAI_ENDPOINT to set, or NULL (only wildcard hosts) */
	bool endpoint_given; /* it came from the caller's AZURE_OPENAI_ENDPOINT */
};

/*
 * Picks the profile (@name, else the one covering the host of
 * AZURE_OPENAI_ENDPOINT, else the only one) from the agent's `list` on
 * @conn.  Returns 0 and fills @ret, or prints why not and returns the exit
 * code.
 */
int profile_select(struct aoai_conn *conn, const char *name, struct profile *ret);
void profile_clear(struct profile *p);

/*
 * The child's environment, built from environ: every variable that could
 * hand the child another credential removed, then ours set.  The strings
 * are owned (secret ones wiped by env_free()).
 */
struct env;
struct env *env_new(void);
struct env *env_free(struct env *e);
/* Sets NAME=VALUE (replacing it).  Returns 0 or -ENOMEM. */
int env_set(struct env *e, const char *name, const char *value);
/* Removes NAME. */
void env_unset(struct env *e, const char *name);
/* The value of NAME, or NULL. */
const char *env_get(const struct env *e, const char *name);
/* Removes every variable that names a credential or an identity endpoint. */
void env_scrub(struct env *e);
/*
 * Adds 127.0.0.1 and localhost to no_proxy and NO_PROXY, so that a
 * client's http_proxy does not carry requests meant for our loopback
 * endpoints away.  Returns 0 or -ENOMEM.
 */
int env_bypass_proxy(struct env *e);
/* The NULL-terminated array for execve (owned by @e). */
char **env_array(struct env *e);

/*
 * The absolute path of libaoai-preload.so next to this program
 * (../lib/ from /proc/self/exe) in @buf.  Returns 0, or -errno (missing).
 */
int preload_find(char *buf, size_t len);
/* Puts @path first in the child's LD_PRELOAD.  Returns 0 or -ENOMEM / -EINVAL. */
int preload_prepend(struct env *e, const char *path);

/*
 * The local managed-identity endpoint (App Service protocol, 2019-08-01) for
 * the token profile @profile, on 127.0.0.1 at a random port, served by
 * threads of its own.  Tokens come from the agent through @agent (which
 * must outlive the endpoint) at each request.
 */
struct identity;
int identity_start(struct agent_link *agent, const char *profile, struct identity **ret);
/* http://127.0.0.1:PORT/msi/token */
const char *identity_url(const struct identity *id);
/* The X-IDENTITY-HEADER value the endpoint expects. */
const char *identity_header(const struct identity *id);
/* Stops the listener (connections in flight are finished) and wipes.  Accepts NULL. */
struct identity *identity_stop(struct identity *id);

/*
 * Starts the relay for @p (forwarding to the origin of p->endpoint) and
 * points the child at it: AZURE_OPENAI_ENDPOINT and OPENAI_BASE_URL, and
 * the placeholder in AZURE_OPENAI_API_KEY and OPENAI_API_KEY.  Returns 0,
 * or prints why not and returns the exit code.
 */
struct relay;
int relay_env_start(struct agent_link *agent, const struct profile *p, struct env *e,
		    struct relay **ret);

/*
 * Blocks the signals the supervisor forwards, so that they wait for it
 * (call before starting any thread).  Returns 0 or -errno.
 */
int supervise_prepare(void);
/*
 * Runs @argv with @envp as a child, forwards signals to it until it exits,
 * and returns the exit code for aoai-exec: the child's status, 128+N when
 * it died of signal N, 126/127 when it could not be run.
 */
int supervise_run(char **argv, char **envp);
/* Replaces this process with @argv (no supervisor needed); returns 126/127 on failure. */
int supervise_exec(char **argv, char **envp);
