/* SPDX-License-Identifier: MIT */
/*
 * aoai-agent: holds Azure OpenAI credentials and hands out request headers
 * over a Unix socket.  main() parses ssh-agent's flags, hardens the
 * process, loads the configuration, opens the socket, then detaches (or
 * not) and runs the event loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "agent_load.h"
#include "clock.h"
#include "added_profiles.h"
#include "agent.h"
#include "audit.h"
#include "conn.h"
#include "curl_dl.h"
#include "dispatch.h"
#include "daemon.h"
#include "harden.h"
#include "http.h"
#include "tokens.h"
#include "lifetime.h"
#include "listen.h"
#include "lock.h"
#include "log.h"
#include "notify.h"
#include "oidc_discovery.h"
#include "kdf.h"
#include "jwks.h"
#include "keyvault.h"
#include "secrets.h"
#include "signins.h"
#include "refusal_log.h"
#include "store.h"
#include "store_file.h"

#define EXIT_USAGE 2

struct options {
	const char *socket;
	const char *config;
	enum shell_kind shell;
	bool foreground;
	bool debug;
	bool kill;
	long long lifetime;
	char **command;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: aoai-agent [-c | -s | --fish] [-Dd] [-a socket] [-f config] [-t life]\n"
		"                  [command [arg ...]]\n"
		"       aoai-agent [-c | -s | --fish] -k\n"
		"\n"
		"  -a SOCKET  listen on SOCKET (default $XDG_RUNTIME_DIR/aoai/agent.sock)\n"
		"  -c, -s     print csh / sh commands (default: from $SHELL)\n"
		"  --fish     print fish commands\n"
		"  -D         stay in the foreground\n"
		"  -d         stay in the foreground and log debug messages to stderr\n"
		"  -f CONFIG  configuration file (default $XDG_CONFIG_HOME/aoai/agent.json)\n"
		"  -k         kill the agent named by $AOAI_AGENT_PID\n"
		"  -t LIFE    default lifetime of added secrets (e.g. 3600, 30m, 8h, 2d)\n"
		"  -V, --version  print the version\n"
		"  command    run command with the agent's variables set; exit with it\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "fish", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->shell = shell_kind_from_path(secure_getenv("SHELL"));
	while ((c = getopt_long(argc, argv, "+a:cdDf:kst:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			o->socket = optarg;
			break;
		case 'c':
			o->shell = SHELL_CSH;
			break;
		case 's':
			o->shell = SHELL_SH;
			break;
		case 'F':
			o->shell = SHELL_FISH;
			break;
		case 'd':
			o->debug = true;
			o->foreground = true;
			break;
		case 'D':
			o->foreground = true;
			break;
		case 'f':
			o->config = optarg;
			break;
		case 'k':
			o->kill = true;
			break;
		case 't':
			if (lifetime_parse(optarg, &o->lifetime) < 0) {
				fprintf(stderr, "aoai-agent: invalid lifetime \"%s\"\n", optarg);
				return -EINVAL;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("aoai-agent %s\n", AOAI_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	o->command = optind < argc ? &argv[optind] : NULL;
	if ((o->kill && (o->command || o->foreground)) || (o->command && o->foreground)) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* $XDG_CONFIG_HOME/aoai/agent.json, else ~/.config/aoai/agent.json. */
static char *default_config_path(void)
{
	const char *xdg = secure_getenv("XDG_CONFIG_HOME");
	const char *home = secure_getenv("HOME");
	char *path = NULL;

	if (xdg && *xdg == '/')
		return asprintf(&path, "%s/aoai/agent.json", xdg) < 0 ? NULL : path;
	if (home && *home == '/')
		return asprintf(&path, "%s/.config/aoai/agent.json", home) < 0 ? NULL : path;
	return NULL;
}

/* A store on disk means the agent starts locked: unlock opens it. */
static int open_store(struct agent *a)
{
	char *path = store_file_default_path();
	int r = store_new(path, &a->store);

	free(path);
	if (r < 0)
		return r;
	if (store_state(a->store) == STORE_LOCKED) {
		lock_lock_by_store(a->lock);
		log_info("persistent store %s: locked until `aoai unlock`", store_path(a->store));
	} else if (store_state(a->store) == STORE_BROKEN) {
		log_error("persistent store: %s", store_error(a->store));
	}
	return 0;
}

static int agent_init(struct agent *a, const struct options *o)
{
	char err[1024];
	int r;

	refusal_log_init(a);
	a->default_lifetime = o->lifetime;
	a->config_required = o->config != NULL;
	a->config_path = o->config ? strdup(o->config) : default_config_path();
	a->secrets = secrets_new();
	a->added = added_profiles_new();
	a->lock = lock_new();
	a->audit = audit_new();
	if (!a->secrets || !a->added || !a->lock || !a->audit || (o->config && !a->config_path) ||
	    identity_env_read(&a->env) < 0 || oidc_cache_new(&a->source_ctx.oidc) < 0 ||
	    signins_new(&a->source_ctx.signins) < 0 || tokens_new(&a->source_ctx, &a->tokens) < 0)
		return -ENOMEM;
	a->source_ctx.env = &a->env;
	a->source_ctx.secrets = a->secrets;
	r = agent_load_config(a, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "aoai-agent: %s\n", err);
		return r;
	}
	return open_store(a);
}

static void agent_done(struct agent *a, struct listener *l)
{
	conn_close_all(a); /* cancels waits on key derivations */
	a->kdf = kdf_free(a->kdf);
	a->keyvault = keyvault_free(a->keyvault); /* before the tokens and requests it waits on */
	a->jwks = jwks_cache_free(a->jwks);
	a->tokens = tokens_free(a->tokens); /* wipes */
	a->source_ctx.oidc = oidc_cache_free(a->source_ctx.oidc);
	a->source_ctx.signins = signins_free(a->source_ctx.signins); /* wipes */
	a->http = http_free(a->http);
	identity_env_clear(&a->env);
	listener_close(l);
	if (a->reserve_fd >= 0)
		close(a->reserve_fd);
	sd_event_source_disable_unref(a->expiry_timer);
	refusal_log_done(a); /* a summary still pending */
	a->event = sd_event_unref(a->event);
	a->secrets = secrets_free(a->secrets); /* wipes */
	a->added = added_profiles_free(a->added);
	a->store = store_free(a->store);
	a->lock = lock_free(a->lock);
	a->audit = audit_free(a->audit);
	a->config = config_free(a->config);
	free(a->config_path);
	free(a->last_reload_error);
	curl_dl_cleanup(); /* when a fetch loaded libcurl */
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct agent *a = userdata;
	char err[1024];

	(void)s;
	(void)si;
	notify_reloading();
	if (agent_load_config(a, err, sizeof(err)) < 0)
		log_error("reload failed, keeping the running configuration: %s", err);
	else
		log_info("configuration reloaded");
	ops_hosts_check(a, NULL);
	notify_ready(a);
	return 0;
}

static int on_parent_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	(void)fd;
	(void)revents;
	(void)userdata;
	log_info("the command has exited, stopping");
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int add_signals(struct agent *a)
{
	sigset_t ss;
	int r;

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGCHLD); /* for sd_event_add_child (the Azure CLI source) */
	if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
		return -errno;
	r = sd_event_add_signal(a->event, NULL, SIGTERM, NULL, NULL); /* NULL: exit the loop */
	if (r >= 0)
		r = sd_event_add_signal(a->event, NULL, SIGINT, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(a->event, NULL, SIGHUP, on_sighup, a);
	return r;
}

/*
 * Runs until SIGTERM/SIGINT (or, with @parent_fd, until the command exits).
 * With @env_out, prints the environment once everything is set up: that
 * line is the readiness signal of a foreground agent.
 */
static int run_loop(struct agent *a, struct listener *l, int parent_fd,
		    const struct options *env_out)
{
	int r = sd_event_new(&a->event);

	if (r >= 0)
		r = add_signals(a);
	if (r >= 0)
		r = http_new(a->event, &a->http);
	if (r >= 0)
		r = kdf_new(a->event, &a->kdf);
	if (r >= 0)
		r = keyvault_new(a, &a->keyvault);
	if (r >= 0)
		r = jwks_cache_new(a->http, &a->jwks);
	a->source_ctx.event = a->event;
	a->source_ctx.http = a->http;
	conn_set_handler(dispatch_request);
	if (r >= 0)
		r = sd_event_add_io(a->event, NULL, listener_fd(l), EPOLLIN, conn_on_listen, a);
	if (r >= 0 && parent_fd >= 0)
		r = sd_event_add_io(a->event, NULL, parent_fd, EPOLLIN, on_parent_exit, a);
	if (r >= 0)
		r = notify_watchdog_start(a);
	if (r < 0) {
		log_error("cannot set up the event loop: %s", strerror(-r));
		return r;
	}
	a->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	a->started_at = clock_now();
	keyvault_reconfigure(a->keyvault); /* the first fetches need the loop */
	agent_schedule_expiry(a);
	log_info("listening on %s", a->socket_path);
	if (env_out && daemon_print_env(stdout, env_out->shell, a->socket_path, getpid()) < 0)
		return -EINVAL;
	notify_ready(a);
	r = sd_event_loop(a->event);
	notify_stopping();
	log_info("stopping");
	return r;
}

/* Detaches; the parent prints the environment or becomes the command. */
static int start_detached(struct agent *a, struct listener *l, const struct options *o)
{
	pid_t parent = getpid(), pid = daemon_detach();
	int parent_fd = -1;

	if (pid < 0) {
		fprintf(stderr, "aoai-agent: fork: %s\n", strerror((int)-pid));
		return 1;
	}
	if (pid > 0) {
		listener_forget(l); /* the socket file belongs to the child now */
		if (o->command)
			return daemon_exec_command(o->command, a->socket_path, pid);
		return daemon_print_env(stdout, o->shell, a->socket_path, pid) < 0 ? 1 : 0;
	}
	log_setup(LOG_TARGET_SYSLOG, o->debug);
	if (o->command) {
		parent_fd = daemon_watch_pid(parent);
		if (parent_fd < 0 || getppid() != parent)
			return 0; /* the command is already gone */
	}
	return run_loop(a, l, parent_fd, NULL) < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct agent a = { .reserve_fd = -1 };
	struct listener *l = NULL;
	char err[1024] = "";
	int r;

	if (parse_options(argc, argv, &o) < 0)
		return EXIT_USAGE;
	if (o.kill)
		return daemon_kill(o.shell);
	r = harden_process();
	http_global_init();
	if (r < 0) {
		fprintf(stderr, "aoai-agent: cannot harden the process: %s\n", strerror(-r));
		return 1;
	}
	log_setup(LOG_TARGET_STDERR, o.debug);
	r = agent_init(&a, &o);
	/* Socket activation: the socket (and its file) are systemd's; the
	 * agent runs in the foreground as the unit's main process. */
	if (r == 0) {
		r = listener_adopt(&l, err, sizeof(err));
		if (r > 0)
			o.foreground = true;
		else if (r == 0)
			r = listener_open(o.socket, &l, err, sizeof(err));
		if (r < 0)
			fprintf(stderr, "aoai-agent: %s\n", err);
		else
			r = 0;
	}
	if (r < 0) {
		agent_done(&a, l);
		return 1;
	}
	a.socket_path = listener_path(l);
	a.max_conns = conn_max_for_fd_limit(harden_fd_limit() / PEER_FDS_PER_CONN);
	if (!o.foreground)
		r = start_detached(&a, l, &o);
	else
		r = run_loop(&a, l, -1, &o) < 0 ? 1 : 0;
	agent_done(&a, l);
	return r;
}
