/* SPDX-License-Identifier: MIT */
/*
 * Reading a secret or a passphrase, never from argv.  On a terminal: a
 * prompt on /dev/tty with echo off, as readpassphrase(3) does it — signals
 * that arrive meanwhile are held until the terminal is restored, then
 * delivered (a stop signal restarts the prompt after the shell's `fg`).
 * Otherwise: stdin with read(2), so no stdio buffer keeps a copy.  Every
 * buffer that saw the secret is the caller's or wiped here.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

static const int held_signals[] = { SIGALRM, SIGHUP,  SIGINT,  SIGPIPE, SIGQUIT,
				    SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU };
#define N_HELD (sizeof(held_signals) / sizeof(held_signals[0]))

static volatile sig_atomic_t caught[NSIG];

struct tty {
	int in, out;
	bool opened; /* in/out is our /dev/tty descriptor */
	bool echo_off;
	struct termios saved;
	struct sigaction old[N_HELD];
};

static void on_signal(int sig)
{
	caught[sig] = 1;
}

bool tty_interactive(void)
{
	return isatty(STDIN_FILENO);
}

/* Opens the terminal, holds signals and turns echo off. */
static void tty_begin(struct tty *t)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: read() returns */
	struct termios raw;
	size_t i;

	t->in = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	t->opened = t->in >= 0;
	t->out = t->opened ? t->in : STDERR_FILENO;
	if (!t->opened)
		t->in = STDIN_FILENO;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < N_HELD; i++) {
		caught[held_signals[i]] = 0;
		sigaction(held_signals[i], &sa, &t->old[i]);
	}
	t->echo_off = false;
	if (tcgetattr(t->in, &t->saved) == 0) {
		raw = t->saved;
		raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		t->echo_off = tcsetattr(t->in, TCSAFLUSH, &raw) == 0;
	}
}

/*
 * Restores the terminal and the handlers, then delivers what was held.
 * Returns true when a stop signal came in (the caller prompts again).
 */
static bool tty_end(struct tty *t)
{
	bool restart = false;
	size_t i;
	int sig;

	if (t->echo_off) {
		while (tcsetattr(t->in, TCSAFLUSH, &t->saved) < 0 && errno == EINTR)
			;
		/* The user's Enter was not echoed. */
		(void)!write(t->out, "\n", 1);
	}
	for (i = 0; i < N_HELD; i++)
		sigaction(held_signals[i], &t->old[i], NULL);
	if (t->opened)
		close(t->in);
	for (i = 0; i < N_HELD; i++) {
		sig = held_signals[i];
		if (!caught[sig])
			continue;
		raise(sig);
		restart |= sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
	}
	return restart;
}

static bool any_caught(void)
{
	size_t i;

	for (i = 0; i < N_HELD; i++)
		if (caught[held_signals[i]])
			return true;
	return false;
}

/*
 * Reads one line from @fd byte by byte (never past it: the rest of stdin is
 * not ours), into @buf of @cap bytes.  Returns the length without the "\n",
 * -1 on a read error or a held signal, -2 when the line is longer than @cap.
 */
static long read_line(int fd, char *buf, size_t cap, bool tty)
{
	size_t len = 0;
	bool overflow = false;
	ssize_t n;
	char c;

	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR && !(tty && any_caught()))
			continue;
		if (n < 0)
			return -1;
		if (n == 0 || c == '\n')
			break;
		if (len < cap)
			buf[len++] = c;
		else
			overflow = true; /* drain the line so it is not left for the shell */
	}
	c = 0;
	return overflow ? -2 : (long)len;
}

/* Reads all of stdin into @buf (@cap bytes).  Same returns as read_line(). */
static long read_all(char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;
	char extra;

	while (len < cap) {
		n = read(STDIN_FILENO, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return (long)len;
		len += (size_t)n;
	}
	do
		n = read(STDIN_FILENO, &extra, 1);
	while (n < 0 && errno == EINTR);
	extra = 0;
	return n == 0 ? (long)len : n < 0 ? -1 : -2;
}

static long read_tty(const char *prompt, char *buf, size_t cap)
{
	struct tty t;
	long len;
	bool restart;
	int saved;

	do {
		tty_begin(&t);
		(void)!write(t.out, prompt, strlen(prompt));
		len = read_line(t.in, buf, cap, true);
		saved = errno;
		restart = tty_end(&t);
		errno = saved;
		if (restart)
			explicit_bzero(buf, cap);
	} while (restart);
	return len;
}

/*
 * Drops one trailing "\n" or "\r\n" (the one `echo` and editors add).  A
 * line read with read_line() has lost its "\n" already.
 */
static size_t strip_newline(char *buf, size_t len, bool line)
{
	if (!line) {
		if (len == 0 || buf[len - 1] != '\n')
			return len;
		buf[--len] = '\0';
	}
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	return len;
}

long tty_read_secret(const char *what, const char *prompt, bool whole, char *buf, size_t max)
{
	/* Room for the value and "\r\n"; the NUL makes TTY_BUF(). */
	size_t cap = max + 2;
	long n;

	if (tty_interactive())
		n = read_tty(prompt, buf, cap);
	else if (whole)
		n = read_all(buf, cap);
	else
		n = read_line(STDIN_FILENO, buf, cap, false);
	if (n == -1)
		return -cli_error(CLI_EXIT_ERROR, "cannot read the %s: %s", what,
				  any_caught() ? "interrupted" : strerror(errno));
	if (n >= 0)
		n = (long)strip_newline(buf, (size_t)n, tty_interactive() || !whole);
	buf[n < 0 ? 0 : n] = '\0';
	if (n == -2 || (size_t)n > max)
		return -cli_error(CLI_EXIT_USAGE, "the %s is longer than %zu bytes", what, max);
	if (n == 0)
		return -cli_error(CLI_EXIT_USAGE, "the %s is empty", what);
	if (memchr(buf, '\0', (size_t)n))
		return -cli_error(CLI_EXIT_USAGE, "the %s contains a NUL byte", what);
	return n;
}
