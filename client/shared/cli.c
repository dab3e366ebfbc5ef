/* SPDX-License-Identifier: MIT */
/*
 * What every command does the same way: find and reach the agent, and turn
 * a failure into one `aoai: …` line on stderr and an exit code.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void cli_vreport(const char *prog, const char *prefix, const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s: %s", prog, prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vreport("aoai", "", fmt, ap);
	va_end(ap);
	return code;
}

int cli_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		fprintf(stderr, "%s: ", prog);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fprintf(stderr, "Try '%s --help' for more information.\n", prog);
	return CLI_EXIT_USAGE;
}

int cli_socket_path(const struct cli *cli, char *buf, size_t len)
{
	int r;

	if (cli->socket) {
		r = snprintf(buf, len, "%s", cli->socket);
		if (r <= 0 || (size_t)r >= len)
			return cli_error(CLI_EXIT_USAGE, "invalid socket path");
		return 0;
	}
	return cli_find_socket(buf, len, cli_error);
}

int cli_connect(const struct cli *cli, struct aoai_conn **ret_conn)
{
	char path[4096];
	int r, err;

	r = cli_socket_path(cli, path, sizeof(path));
	if (r != 0)
		return r;
	r = aoai_connect(path, ret_conn);
	err = errno;
	return r < 0 ? cli_connect_failed(path, r, err, cli_error) : 0;
}

int cli_finish(struct aoai_conn *conn, long n, int r, const char *done)
{
	if (n < 0) {
		aoai_close(conn);
		return (int)-n;
	}
	if (r < 0)
		return cli_fail(conn, r);
	aoai_close(conn);
	if (done)
		puts(done);
	return CLI_EXIT_OK;
}

int cli_fail(struct aoai_conn *conn, int err)
{
	const char *message = aoai_conn_message(conn);

	if (!*message)
		message = aoai_strerror(err);
	if (err == AOAI_E_PROTOCOL)
		cli_error(0, "invalid reply from the agent: %s", message);
	else
		cli_error(0, "%s", message);
	aoai_close(conn);
	return exitcode_from_error(err);
}

static int write_all(const char *buf, size_t len)
{
	ssize_t n;

	if (fflush(stdout) != 0)
		return -1;
	while (len > 0) {
		n = write(STDOUT_FILENO, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int cli_emit_secret(char *buf, size_t len, const char *what)
{
	int r = write_all(buf, len);

	explicit_bzero(buf, len);
	free(buf);
	return r < 0 ? cli_error(CLI_EXIT_ERROR, "cannot write the %s: %m", what) : CLI_EXIT_OK;
}

int cli_parse_simple(int argc, char *argv[], const char *usage, bool *json, int operands)
{
	static const struct option with_json[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* Without @json, "--json" is not offered: the table starts at "help". */
	while ((c = getopt_long(argc, argv, "", json ? with_json : with_json + 1, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return CLI_EXIT_OK;
		}
		if (c != 'j')
			return cli_usage_error(argv[0], NULL);
		*json = true;
	}
	if (argc - optind > operands)
		return cli_usage_error(argv[0], "unexpected argument '%s'",
				       argv[optind + operands]);
	if (argc - optind < operands)
		return cli_usage_error(argv[0], "missing argument");
	return -1;
}

int cli_open_simple(int argc, char *argv[], const char *usage, bool *json, int operands,
		    const struct cli *cli, struct aoai_conn **ret_conn)
{
	int r;

	r = cli_parse_simple(argc, argv, usage, json, operands);
	if (r >= 0)
		return r;
	r = cli_connect(cli, ret_conn);
	return r != 0 ? r : -1;
}
