/* SPDX-License-Identifier: MIT */
/*
 * Header value templates: "{secret}", "{secret:NAME}", "{token}" and
 * literal text.  Validation happens when the configuration is loaded;
 * expansion on every "headers" request, into wiped memory.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define TEMPLATE_MAX_VALUE 32768 /* bytes of one expanded header value */

/* What a template refers to, as found by template_check(). */
struct template_refs {
	bool secret;    /* {secret} */
	bool token;     /* {token} */
	size_t n_named; /* {secret:NAME} occurrences */
};

/*
 * Checks the syntax of @tmpl: every '{' opens one of the three placeholders,
 * NAME is a valid secret name, no CR, LF or NUL.  Returns 0 and fills
 * @ret_refs (may be NULL), or -EINVAL with the reason in @err.
 */
int template_check(const char *tmpl, struct template_refs *ret_refs, char *err, size_t errlen);

/*
 * Looks up a value.  @name is NULL for the profile's own secret, else the
 * NAME of {secret:NAME}.  Returns the value and its length, or NULL when
 * it is missing.  The template code never keeps the pointer.
 */
typedef const char *(*template_secret_fn)(void *userdata, const char *name, size_t *ret_len);

struct template_vars {
	template_secret_fn secret;
	void *userdata;
	const char *token; /* NULL when the profile has no token */
	size_t token_len;
};

/*
 * Expands a template checked by template_check().  On success returns 0 and
 * sets *ret (NUL-terminated, in memory to be released with
 * template_value_free()) and *ret_len.  Returns -ENOENT when a secret or
 * the token is missing (the missing NAME, or "{secret}" / "{token}", is
 * written to @missing), -EINVAL when a value holds CR, LF, NUL or another
 * control byte that would break the header (named in @missing the same way),
 * -E2BIG beyond TEMPLATE_MAX_VALUE, -ENOMEM.
 */
int template_expand(const char *tmpl, const struct template_vars *vars, char **ret, size_t *ret_len,
		    char *missing, size_t missing_len);
/*
 * Expands like template_expand(), handing each piece (literal text, or a
 * checked secret or token value) to @sink instead, with @ctx.  Returns
 * template_expand()'s errors but -ENOMEM; on an error @sink may have had
 * part of the value, which the caller then discards.
 */
typedef void (*template_sink_fn)(void *ctx, const char *data, size_t len);
int template_expand_into(const char *tmpl, const struct template_vars *vars, template_sink_fn sink,
			 void *ctx, char *missing, size_t missing_len);
/* Wipes and frees a value from template_expand().  Accepts NULL; returns NULL. */
char *template_value_free(char *value);
