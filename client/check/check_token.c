/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "jwt.h"
#include "check_token.h"

/* Room for a header line around the largest token we decode. */
#define TOKEN_READ_MAX (JWT_MAX_TOKEN + 256)

static int read_stdin(struct check_token *t)
{
	size_t cap = TOKEN_READ_MAX + 1;
	size_t n = 0;
	ssize_t got;

	t->buf = calloc(1, cap);
	if (!t->buf)
		return cli_error(CLI_EXIT_ERROR, "out of memory");
	t->buf_len = cap;
	if (isatty(STDIN_FILENO))
		fputs("Paste the token, then press Ctrl-D.\n", stderr);
	while (n < cap - 1 && (got = read(STDIN_FILENO, t->buf + n, cap - 1 - n)) != 0) {
		if (got < 0)
			return cli_error(CLI_EXIT_ERROR, "cannot read the token from stdin: %m");
		n += (size_t)got;
	}
	if (n >= TOKEN_READ_MAX)
		return cli_error(CLI_EXIT_USAGE, "the token on stdin is longer than %d bytes",
				 JWT_MAX_TOKEN);
	t->buf[n] = '\0';
	return 0;
}

static int from_agent(const char *profile, const char *socket, struct check_token *t)
{
	struct aoai_conn *conn;
	struct aoai_token *tok = NULL;
	int r = aoai_connect(socket, &conn), err = errno;

	if (r == AOAI_E_NOAGENT)
		return cli_error(CLI_EXIT_NOAGENT, "no agent reachable (%s)%s", strerror(err),
				 cli_noagent_hint(err));
	if (r < 0)
		return cli_error(exitcode_from_error(r), "no agent: %s", aoai_strerror(r));
	r = aoai_get_token(conn, profile, NULL, &tok);
	if (r < 0)
		return cli_fail(conn, r);
	aoai_close(conn);
	t->buf = strdup(aoai_token_value(tok));
	aoai_token_free(tok); /* wipes its copy */
	if (!t->buf)
		return cli_error(CLI_EXIT_ERROR, "out of memory");
	t->buf_len = strlen(t->buf) + 1;
	return 0;
}

/* Skips @word (case-insensitive) and the space after it, when there. */
static char *skip_word(char *s, const char *word)
{
	size_t n = strlen(word);

	if (strncasecmp(s, word, n) == 0 && (isspace((unsigned char)s[n]) || word[n - 1] == ':'))
		for (s += n; isspace((unsigned char)*s);)
			s++;
	return s;
}

static int trim(struct check_token *t)
{
	char *s = t->buf, *end;

	while (isspace((unsigned char)*s))
		s++;
	s = skip_word(s, "Authorization:");
	s = skip_word(s, "Bearer");
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	if (end == s)
		return cli_error(CLI_EXIT_USAGE, "no token given");
	t->text = s;
	t->len = (size_t)(end - s);
	return 0;
}

int check_token_read(const char *arg, const char *profile, const char *socket,
		     struct check_token *ret)
{
	int r;

	*ret = (struct check_token){ 0 };
	if (profile)
		r = from_agent(profile, socket, ret);
	else if (!arg || !strcmp(arg, "-"))
		r = read_stdin(ret);
	else if (!(ret->buf = strdup(arg)))
		r = cli_error(CLI_EXIT_ERROR, "out of memory");
	else
		ret->buf_len = strlen(arg) + 1, r = 0;
	if (r == 0)
		r = trim(ret);
	if (r)
		check_token_done(ret); /* wipes what was read */
	return r;
}

void check_token_done(struct check_token *t)
{
	if (t->buf) {
		explicit_bzero(t->buf, t->buf_len);
		free(t->buf);
	}
	*t = (struct check_token){ 0 };
}
