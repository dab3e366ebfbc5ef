/* SPDX-License-Identifier: MIT */
/*
 * aoai-exec [-p PROFILE] [--no-env] [--no-preload] [--no-identity] [--] COMMAND [ARGS]
 *
 * The steps: refuse to nest; reach the agent; pick the profile; build the
 * child's environment (credentials of other origins out, the endpoint, the
 * hook, AOAI_EXEC); then serve the relay (an api-key profile, unless told
 * otherwise) and, for a token profile, the identity endpoint while
 * supervising the child; with neither, become the command.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>

#include "exec.h"
#include "relay.h"

#define NEST_VAR     "AOAI_EXEC"
#define ENDPOINT_VAR "AZURE_OPENAI_ENDPOINT"
#define APIKEY_VAR   "AZURE_OPENAI_API_KEY"
#define SOCKET_MAX   4096

static int connect_agent(const char *path, struct aoai_conn **ret)
{
	int r = aoai_connect(path, ret), err = errno;

	return r < 0 ? cli_connect_failed(path, r, err, exec_error) : 0;
}

/* AZURE_OPENAI_API_KEY: the api-key header the agent gives for the endpoint. */
static int set_api_key(struct aoai_conn *conn, const struct profile *p, struct env *e)
{
	struct aoai_headers *h = NULL;
	size_t i;
	int r;

	if (!p->endpoint) {
		exec_warn("profile \"%s\" has wildcard hosts only: set %s to one of them to get %s",
			  p->name, ENDPOINT_VAR, APIKEY_VAR);
		return 0;
	}
	r = aoai_get_headers(conn, p->endpoint, &h);
	if (r < 0)
		return exec_error(
		    exitcode_from_error(r), "no API key for profile \"%s\": %s", p->name,
		    *aoai_conn_message(conn) ? aoai_conn_message(conn) : aoai_strerror(r));
	r = 1;
	if (strcmp(aoai_headers_profile(h), p->name) == 0) {
		for (i = 0; r == 1 && i < aoai_headers_count(h); i++)
			if (strcasecmp(aoai_header_name(h, i), "api-key") == 0)
				r = env_set(e, APIKEY_VAR, aoai_header_value(h, i));
	}
	aoai_headers_free(h);
	if (r == 1)
		exec_warn("profile \"%s\" sends no api-key header for %s: %s not set", p->name,
			  p->endpoint, APIKEY_VAR);
	return r < 0 ? exec_error(CLI_EXIT_ERROR, "out of memory") : 0;
}

static void add_preload(struct env *e)
{
	char path[4096];
	int r = preload_find(path, sizeof(path));

	if (r < 0) {
		errno = -r;
		exec_warn("the libcurl hook (libaoai-preload.so, in ../lib/ next to aoai-exec or "
			  "where it was installed) is missing: %m; LD_PRELOAD left as it is");
		return;
	}
	r = preload_prepend(e, path);
	if (r < 0) {
		errno = -r;
		exec_warn("cannot add %s to LD_PRELOAD: %m", path);
	}
}

/* The child's environment; NULL with the error printed (*ret_code set). */
static struct env *build_env(struct aoai_conn *conn, const struct exec_options *o,
			     const struct profile *p, int *ret_code)
{
	struct env *e = env_new();

	*ret_code = CLI_EXIT_ERROR;
	if (!e) {
		exec_error(CLI_EXIT_ERROR, "out of memory");
		return NULL;
	}
	env_scrub(e);
	env_unset(e, ENDPOINT_VAR);
	if ((p->endpoint && env_set(e, ENDPOINT_VAR, p->endpoint) < 0) ||
	    env_set(e, NEST_VAR, p->name) < 0) {
		exec_error(CLI_EXIT_ERROR, "out of memory");
		return env_free(e);
	}
	if (!p->token && o->key_in_env) {
		exec_warn("--key-in-env: the API key of profile \"%s\" is in %s, readable by "
			  "every process of yours and inherited by all of COMMAND's children",
			  p->name, APIKEY_VAR);
		*ret_code = set_api_key(conn, p, e);
		if (*ret_code != 0)
			return env_free(e);
	}
	if (!o->no_preload)
		add_preload(e);
	*ret_code = 0;
	return e;
}

/* What runs beside the child. */
struct serving {
	bool identity, relay;
};

/* The endpoints, their agent connection @agent, and the child: started and
 * stopped together. */
static int serve_with(struct agent_link *agent, const struct profile *p, struct serving want,
		      struct env *e, char **command)
{
	struct identity *id = NULL;
	struct relay *relay = NULL;
	int r;

	if (env_bypass_proxy(e) < 0)
		return exec_error(CLI_EXIT_ERROR, "out of memory");
	r = supervise_prepare(); /* before the endpoints' threads exist */
	if (r < 0) {
		errno = -r;
		return exec_error(CLI_EXIT_ERROR, "cannot set up signal handling: %m");
	}
	if (want.relay) {
		r = relay_env_start(agent, p, e, &relay);
		if (r != 0)
			return r;
	}
	if (want.identity) {
		r = identity_start(agent, p->name, &id);
		if (r < 0) {
			relay_stop(relay);
			errno = -r;
			return exec_error(CLI_EXIT_ERROR, "cannot start the identity endpoint: %m");
		}
		if (env_set(e, "IDENTITY_ENDPOINT", identity_url(id)) < 0 ||
		    env_set(e, "IDENTITY_HEADER", identity_header(id)) < 0) {
			identity_stop(id);
			relay_stop(relay);
			return exec_error(CLI_EXIT_ERROR, "out of memory");
		}
	}
	r = supervise_run(command, env_array(e));
	identity_stop(id); /* their threads are gone: @agent is ours again */
	relay_stop(relay);
	return r;
}

/* The endpoints live exactly as long as the child, and ask the agent over
 * @conn (taken), the connection made at start. */
static int serve_and_run(struct aoai_conn *conn, const char *socket_path, const struct profile *p,
			 struct serving want, struct env *e, char **command)
{
	struct agent_link *agent = NULL;
	int r = agent_link_new(conn, socket_path, &agent);

	if (r < 0) {
		errno = -r;
		return exec_error(CLI_EXIT_ERROR, "cannot reach the agent: %m");
	}
	r = serve_with(agent, p, want, e, command);
	agent_link_free(agent);
	return r;
}

/* Which endpoints @o and @p call for. */
static struct serving serving_for(const struct exec_options *o, const struct profile *p)
{
	struct serving want = { .identity = p->token && !o->no_identity };
	bool relay = p->token ? o->relay : !o->no_relay && !o->key_in_env;

	want.relay = relay && !o->no_env;
	if (want.relay && !p->endpoint) {
		exec_warn("profile \"%s\" has wildcard hosts only: set %s to one of them to get "
			  "the relay",
			  p->name, ENDPOINT_VAR);
		want.relay = false;
	}
	return want;
}

/*
 * Nothing of ours in memory may be read by other processes of this user:
 * no secret arrives before this.  Not earlier, though: an agent running as
 * an ordinary user can read the executable of a dumpable process only, and
 * reads it when it accepts a connection.  Our first round trip (the
 * profile list, no secret in it) shows that it has accepted this one, which
 * allow.exe then admits for as long as we keep it (agent_link.c).
 */
static void harden(void)
{
	prctl(PR_SET_DUMPABLE, 0);
}

static int run(const struct exec_options *o, const char *socket_path)
{
	struct profile p = { 0 };
	struct aoai_conn *conn = NULL;
	struct serving want;
	struct env *e;
	int r;

	r = connect_agent(socket_path, &conn);
	if (r != 0)
		return r;
	r = profile_select(conn, o->profile, &p);
	harden();
	e = r == 0 ? build_env(conn, o, &p, &r) : NULL;
	want = e ? serving_for(o, &p) : (struct serving){ 0 };
	if (e && (want.identity || want.relay)) {
		r = serve_and_run(conn, socket_path, &p, want, e, o->command);
		conn = NULL;
	} else if (e) {
		conn = aoai_close(conn);
		r = supervise_exec(o->command, env_array(e));
	}
	aoai_close(conn);
	env_free(e);
	profile_clear(&p);
	return r;
}

int main(int argc, char *argv[])
{
	struct exec_options o = { 0 };
	char socket_path[SOCKET_MAX];
	const char *nested = getenv(NEST_VAR);
	int r;

	r = options_parse(argc, argv, &o);
	if (r >= 0)
		return r;
	if (nested && *nested)
		return exec_error(
		    CLI_EXIT_ERROR,
		    "already running under aoai-exec (profile \"%s\"): run the command "
		    "directly, or unset %s to wrap it again",
		    nested, NEST_VAR);
	r = cli_find_socket(socket_path, sizeof(socket_path), exec_error);
	if (r != 0)
		return r;
	return run(&o, socket_path);
}
