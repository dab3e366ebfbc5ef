/* SPDX-License-Identifier: MIT */
/*
 * aoai login PROFILE [--device-code | --browser] [--persist]: signs a person in for a
 * profile.  The agent asks the provider for a device code and this prints
 * what to do (the provider's message) to stderr, then waits for the agent,
 * which polls the provider; the refresh token never leaves the agent.
 * Ctrl-C closes the connection, which cancels the sign-in there.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "login_browser.h"
#include "proto.h"

#define CLI_EXIT_INTERRUPTED 130 /* as a shell reports a SIGINT */

static const char usage_text[] =
    "Usage: aoai login PROFILE [--device-code | --browser] [--persist]\n"
    "\n"
    "Signs a person in for PROFILE (credential type user, or oidc without a\n"
    "secret or certificate).  The provider's instructions (a URL and a code,\n"
    "or the URL to sign in at with a browser) are printed to stderr; once the\n"
    "sign-in is approved there, the agent\n"
    "holds a refresh token and keeps the profile's access tokens fresh.\n"
    "Ctrl-C cancels the sign-in.\n"
    "\n"
    "Options:\n"
    "      --device-code  sign in with a code on another device (RFC 8628)\n"
    "      --browser      sign in with a browser: the agent's authorization\n"
    "                     URL is opened with $BROWSER, else xdg-open when a\n"
    "                     display exists, and printed; the redirect comes\n"
    "                     back to 127.0.0.1 (default when a browser can be\n"
    "                     opened, unless the profile's flow says otherwise)\n"
    "      --persist      also keep the sign-in in the encrypted persistent\n"
    "                     store: after a restart, aoai unlock brings it back\n"
    "                     (needs an unlocked store, see aoai passwd)\n"
    "      --help         show this help\n"
    "\n"
    "Exit status:\n"
    "  0  signed in\n"
    "  1  other failure: no such profile, a profile that signs no person in,\n"
    "     --persist without a usable persistent store\n"
    "  2  usage error\n"
    "  3  no agent reachable\n"
    "  5  the agent is locked (or was locked during the sign-in)\n"
    "  6  the sign-in failed (the provider's error is printed)\n"
    "  7  the profile does not allow this client\n"
    "  130  cancelled (Ctrl-C)\n";

static void on_interrupt(int sig)
{
	static const char msg[] = "\naoai login: cancelled\n";

	(void)sig;
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(CLI_EXIT_INTERRUPTED);
}

/* Returns -1 to go on, or the exit code. */
static int parse_options(int argc, char *argv[], const char **profile, const char **flow,
			 bool *persist)
{
	static const struct option options[] = {
		{ "persist", no_argument, NULL, 'P' },
		{ "device-code", no_argument, NULL, 'd' },
		{ "browser", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return CLI_EXIT_OK;
		} else if (c == 'P') {
			*persist = true;
		} else if ((c == 'd' || c == 'b') && *flow) {
			return cli_usage_error(argv[0], "--device-code and --browser exclude "
							"each other");
		} else if (c == 'd' || c == 'b') {
			*flow = c == 'd' ? "device-code" : "browser";
		} else {
			return cli_usage_error(argv[0], NULL);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(argv[0], argc - optind ? "one PROFILE only" : "PROFILE?");
	*profile = argv[optind];
	if (!proto_name_valid(*profile))
		return cli_error(CLI_EXIT_USAGE,
				 "invalid profile name '%s': use 1-64 of A-Z a-z 0-9 . _ -",
				 *profile);
	return -1;
}

static const char *str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "";
}

/* The provider's message, or ours when it sends none. */
static void show_code(const json_t *reply)
{
	const char *message = str(reply, "message");

	if (*message)
		fprintf(stderr, "%s\n", message);
	else if (*str(reply, "verification_uri_complete"))
		fprintf(stderr, "To sign in, open %s and confirm the code %s.\n",
			str(reply, "verification_uri_complete"), str(reply, "user_code"));
	else
		fprintf(stderr, "To sign in, open %s and enter the code %s.\n",
			str(reply, "verification_uri"), str(reply, "user_code"));
	fprintf(stderr, "Waiting for the sign-in (Ctrl-C cancels)...\n");
}

/* cli_fail() closes the connection: *@conn is NULL after it, so the caller
 * closes what is left, once. */
static int request(struct aoai_conn **conn, json_t *req, json_t **ret)
{
	char *text = json_dumps(req, JSON_COMPACT), *reply = NULL;
	int r;

	json_decref(req);
	if (!text)
		return cli_error(CLI_EXIT_ERROR, "out of memory");
	r = aoai_request(*conn, text, &reply);
	free(text);
	if (r < 0) {
		r = cli_fail(*conn, r);
		*conn = NULL;
		return r;
	}
	*ret = format_parse(reply);
	free(reply);
	return *ret ? -1 : CLI_EXIT_ERROR;
}

static void show_done(const char *profile, const json_t *reply)
{
	const json_t *exp = json_object_get(reply, "expires_on");
	const char *account = str(reply, "account");
	char expiry[64] = "";
	time_t when = json_is_integer(exp) ? (time_t)json_integer_value(exp) : 0;
	struct tm tm;

	if (when && localtime_r(&when, &tm))
		strftime(expiry, sizeof(expiry), "%Y-%m-%d %H:%M:%S", &tm);
	printf("Signed in for profile %s%s%s%s%s\n", profile, *account ? " as " : "", account,
	       *expiry ? "; token expires " : "", expiry);
}

/* The browser flow, after the agent's reply: open, take the redirect, redeem. */
static int browser(struct aoai_conn **conn, int fd, const json_t *reply, json_t **ret)
{
	struct login_redirect rd = { 0 };
	json_t *req;
	int r;

	login_browser_open(str(reply, "authorization_url"));
	r = login_browser_wait(fd, str(reply, "state"),
			       (int)json_integer_value(json_object_get(reply, "expires_in")), &rd);
	close(fd);
	if (r < 0)
		return cli_error(CLI_EXIT_UNAVAILABLE,
				 "sign-in failed: no redirect came back in time");
	if (rd.error || !rd.code) {
		r = cli_error(CLI_EXIT_UNAVAILABLE, "sign-in failed: %s: %s",
			      rd.error ? rd.error : "no code",
			      rd.error_description ? rd.error_description : "");
		login_redirect_done(&rd);
		return r;
	}
	req = json_pack("{s:s, s:s, s:s, s:s}", "op", "login_code", "login_id",
			str(reply, "login_id"), "code", rd.code, "state", str(reply, "state"));
	login_redirect_done(&rd);
	return req ? request(conn, req, ret) : cli_error(CLI_EXIT_ERROR, "out of memory");
}

/* Offer a redirect (the browser flow) unless told otherwise, when a browser can open. */
static bool offer_browser(const char *flow)
{
	if (flow)
		return strcmp(flow, "browser") == 0;
	return getenv("BROWSER") || getenv("DISPLAY") || getenv("WAYLAND_DISPLAY");
}

static int start(struct aoai_conn **conn, const char *profile, const char *flow, bool persist,
		 int *fd, json_t **reply)
{
	char redirect[64];
	json_t *req = json_pack("{s:s, s:s}", "op", "login", "profile", profile);

	if (req && persist)
		json_object_set_new(req, "persist", json_true());
	if (req && flow)
		json_object_set_new(req, "flow", json_string(flow));
	if (req && offer_browser(flow)) {
		if (login_browser_listen(fd, redirect, sizeof(redirect)) < 0) {
			json_decref(req);
			return cli_error(CLI_EXIT_ERROR, "cannot listen on 127.0.0.1: %m");
		}
		json_object_set_new(req, "redirect_uri", json_string(redirect));
	}
	return req ? request(conn, req, reply) : cli_error(CLI_EXIT_ERROR, "out of memory");
}

static int device_code(struct aoai_conn **conn, json_t *reply, json_t **ret)
{
	json_t *req;

	show_code(reply);
	req = json_pack("{s:s, s:s}", "op", "login_wait", "login_id", str(reply, "login_id"));
	return req ? request(conn, req, ret) : cli_error(CLI_EXIT_ERROR, "out of memory");
}

int cmd_login(int argc, char *argv[], const struct cli *cli)
{
	const char *profile = NULL, *flow = NULL;
	struct aoai_conn *conn;
	json_t *reply = NULL, *done = NULL;
	bool persist = false;
	int r = parse_options(argc, argv, &profile, &flow, &persist), fd = -1;

	if (r >= 0)
		return r;
	r = cli_connect(cli, &conn);
	if (r != 0)
		return r;
	signal(SIGINT, on_interrupt);
	r = start(&conn, profile, flow, persist, &fd, &reply);
	if (r < 0 && strcmp(str(reply, "flow"), "browser") == 0)
		r = browser(&conn, fd, reply, &done);
	else if (r < 0)
		r = device_code(&conn, reply, &done);
	if (fd >= 0 && strcmp(str(reply, "flow"), "browser") != 0)
		close(fd);
	json_decref(reply);
	aoai_close(conn);
	if (r >= 0)
		return r;
	show_done(profile, done);
	if (persist)
		printf("Kept in the persistent store\n");
	json_decref(done);
	return CLI_EXIT_OK;
}
