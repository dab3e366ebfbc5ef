/* SPDX-License-Identifier: MIT */
/*
 * The token `aoai check` looks at: an operand, standard input, or the very
 * token the agent sends for a profile.  It is a live credential: kept in
 * one buffer, wiped when done, never printed whole (only its header and
 * claims are, never the signature).
 */
#pragma once

#include <stddef.h>

struct check_token {
	char *text; /* the compact JWS, trimmed */
	size_t len;
	char *buf; /* what holds it; wiped by check_token_done() */
	size_t buf_len;
};

/*
 * Reads the token: @arg itself, or standard input for "-" (or NULL), or
 * with @profile set, the agent's token for it (from @socket, NULL: the
 * default).  Accepts "Bearer TOKEN" and "Authorization: Bearer TOKEN" as
 * copied from a request.  Returns 0, or an exit code (cli.h) after printing
 * why.
 */
int check_token_read(const char *arg, const char *profile, const char *socket,
		     struct check_token *ret);
void check_token_done(struct check_token *t);
