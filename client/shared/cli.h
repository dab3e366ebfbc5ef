/* SPDX-License-Identifier: MIT */
/*
 * aoai, the command-line client: what the command files share.  Every
 * command is `int cmd_NAME(int argc, char *argv[], const struct cli *cli)`,
 * gets argv[0] = "aoai NAME", and returns the process exit code (CLI_EXIT_*).
 */
#pragma once

#include <stdarg.h>

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "aoai.h"

/* Exit codes (exitcode.c documents them; `aoai --help` lists them). */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_ERROR = 1,
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_NOAGENT = 3,
	CLI_EXIT_NOMATCH = 4,
	CLI_EXIT_LOCKED = 5,
	CLI_EXIT_UNAVAILABLE = 6,
	CLI_EXIT_DENIED = 7,
};

/* Global options, parsed before the command. */
struct cli {
	const char *socket; /* -S PATH, or NULL for aoai_socket_path() */
};

int cmd_add(int argc, char *argv[], const struct cli *cli);
int cmd_check(int argc, char *argv[], const struct cli *cli);
int cmd_env(int argc, char *argv[], const struct cli *cli);
int cmd_headers(int argc, char *argv[], const struct cli *cli);
int cmd_list(int argc, char *argv[], const struct cli *cli);
int cmd_lock(int argc, char *argv[], const struct cli *cli);
int cmd_login(int argc, char *argv[], const struct cli *cli);
int cmd_logout(int argc, char *argv[], const struct cli *cli);
int cmd_passwd(int argc, char *argv[], const struct cli *cli);
int cmd_reload(int argc, char *argv[], const struct cli *cli);
int cmd_remove(int argc, char *argv[], const struct cli *cli);
int cmd_status(int argc, char *argv[], const struct cli *cli);
int cmd_token(int argc, char *argv[], const struct cli *cli);
int cmd_unlock(int argc, char *argv[], const struct cli *cli);

/* The exit code for an AOAI_E_* value. */
int exitcode_from_error(int err);
/* The exit-code table for `aoai --help`. */
extern const char exitcode_help[];

/*
 * The agent's socket path (-S, else aoai_socket_path()) in @buf.  Returns 0,
 * or prints why there is none and returns the exit code.
 */
int cli_socket_path(const struct cli *cli, char *buf, size_t len);
/* How to get an agent: printed wherever none is reachable. */
#define CLI_START_HINT                                                                        \
	"start one with eval \"$(aoai-agent)\", or use the systemd agent with eval \"$(aoai " \
	"env)\""
/*
 * The advice to append to "cannot reach the agent at PATH: REASON" for
 * connect()'s @err: how to start an agent when none listens there (ENOENT,
 * ECONNREFUSED), else "".
 */
const char *cli_noagent_hint(int err);
/*
 * The agent's socket path (aoai_socket_path()) into @buf; when there is
 * none, prints why through @report and returns the exit code it returns.
 */
int cli_find_socket(char *buf, size_t len,
		    int (*report)(int code, const char *fmt, ...)
			__attribute__((format(printf, 2, 3))));
/*
 * Says why aoai_connect() to @path failed (@r < 0, errno @err) through
 * @report (cli_error(), exec_error()) and returns the exit code it returns.
 */
int cli_connect_failed(const char *path, int r, int err,
		       int (*report)(int code, const char *fmt, ...)
			   __attribute__((format(printf, 2, 3))));
/* Connects to the agent; on failure prints why and returns the exit code. */
int cli_connect(const struct cli *cli, struct aoai_conn **ret_conn);
/*
 * Prints `aoai: MESSAGE` for a failed request (the agent's message when it
 * gave one), closes @conn and returns the exit code for @err.
 */
int cli_fail(struct aoai_conn *conn, int err);
/*
 * Ends a command that read a secret or passphrase (@n: its length, or minus
 * the exit code when reading failed) and sent it (@r: the result): closes
 * @conn, prints the reason on failure and @done (when given) on success, and
 * returns the exit code.
 */
int cli_finish(struct aoai_conn *conn, long n, int r, const char *done);
/* Prints `PROG: PREFIXMESSAGE` on stderr (after flushing stdout). */
void cli_vreport(const char *prog, const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Prints `aoai: MESSAGE` to stderr; returns @code. */
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * For an unknown option or a bad operand: prints `PROG: MESSAGE` (unless
 * @fmt is NULL: getopt has said it) and a hint at --help; returns
 * CLI_EXIT_USAGE.
 */
int cli_usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Options of a command that has no others than --help and (when @json is not
 * NULL) --json, and exactly @operands operands, left at argv[optind].
 * Returns -1 to go on, or the exit code (after --help, or a usage error).
 */
int cli_parse_simple(int argc, char *argv[], const char *usage, bool *json, int operands);
/*
 * cli_parse_simple(), then cli_connect().  Returns -1 to go on with
 * *@ret_conn connected, or the exit code (with the reason printed).
 */
int cli_open_simple(int argc, char *argv[], const char *usage, bool *json, int operands,
		    const struct cli *cli, struct aoai_conn **ret_conn);
/* Writes @len bytes of @buf (malloc'd) to stdout with write(2), so that no
 * stdio buffer keeps a copy, then wipes and frees it.  Returns an exit code;
 * on failure it says that @what could not be written. */
int cli_emit_secret(char *buf, size_t len, const char *what);

/* "59m", "1h 30m", "2d 3h", "45s": the two largest units of @seconds. */
void format_duration(long long seconds, char *buf, size_t len);
/* "expires in 59m" or "no expiry" for an expires_in value (integer or null). */
void format_expiry(const json_t *expires_in, char *buf, size_t len);
/*
 * Parses the agent's @json reply and prints it for --json: pretty, without
 * "v" and "ok".  Returns an exit code.
 */
int format_print_json(const char *json);
/* Parses reply text from libaoai; NULL (message printed) when it is not JSON. */
json_t *format_parse(const char *json);
/*
 * The whole of a command with no operands, only --help and --json, that
 * prints one reply of the agent (aoai list, aoai status): @request asks for
 * it (aoai_list()), and it is printed with format_print_json() for --json,
 * else with @print.  Returns the exit code.
 */
int format_report(int argc, char *argv[], const char *usage, const struct cli *cli,
		  int (*request)(struct aoai_conn *conn, char **ret_json),
		  int (*print)(const char *json));

/*
 * Tables: a JSON array of rows of strings, the first row the header.
 * table_add() takes one cell per column (NULL prints "-"); returns 0 or -1.
 */
#define TABLE_MAX_COLUMNS 8
json_t *table_new(const char *const *header, size_t columns);
int table_add(json_t *table, const char *const *cells);
void table_print(const json_t *table);

/*
 * Reads a secret (@what: "secret", "passphrase", for messages) for @prompt:
 * on a terminal, from /dev/tty with echo off (one line); otherwise from
 * stdin, all of it (@whole) or its first line.  One trailing "\n" or "\r\n"
 * is dropped; empty input, input longer than @max and NUL bytes are errors.
 * @buf has TTY_BUF(@max) bytes, and the caller wipes all of it afterwards
 * whatever the outcome.  Returns the length (> 0; @buf NUL-terminated), or
 * minus the exit code with the reason printed.
 */
#define TTY_BUF(max) ((max) + 3)
long tty_read_secret(const char *what, const char *prompt, bool whole, char *buf, size_t max);
/* True when stdin is a terminal (the prompting path of tty_read_secret()). */
bool tty_interactive(void);

/* From protocol/ (see shared.c). */
#include "lifetime.h"
#include "shellenv.h"
