/* SPDX-License-Identifier: MIT */
/* The loopback redirect of `aoai login --browser` (login_browser.c). */
#pragma once

#include <stddef.h>

/* What the redirect carried (malloc'ed, NULL when absent). */
struct login_redirect {
	char *code;
	char *error;
	char *error_description;
};

/* Listens on 127.0.0.1 at a random port; writes "http://127.0.0.1:PORT/".
 * Returns 0, or -errno. */
int login_browser_listen(int *ret_fd, char *redirect_uri, size_t len);
/* Prints @url and opens it ($BROWSER, else xdg-open when a display exists). */
void login_browser_open(const char *url);
/* Waits at most @timeout_s seconds for the redirect carrying @state; other
 * requests are answered 400.  Returns 0 with *ret filled, or -ETIMEDOUT. */
int login_browser_wait(int fd, const char *state, int timeout_s, struct login_redirect *ret);
/* Wipes and frees what *r holds. */
void login_redirect_done(struct login_redirect *r);
