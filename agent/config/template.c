/* SPDX-License-Identifier: MIT */
/*
 * Header value templates.  template_expand_into() hands the expansion piece
 * by piece to its caller, who writes it where it goes (the reply frame): no
 * buffer of ours ever holds a secret.  template_expand() runs two passes —
 * one to measure, one to copy — so the only buffer that holds one is the
 * result itself, allocated once at its exact size and wiped by
 * template_value_free() (or here, on any failure after it was filled).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "errmsg.h"
#include "proto.h"
#include "template.h"

#define TEMPLATE_SECRET       "{secret}"
#define TEMPLATE_SECRET_NAMED "{secret:"
#define TEMPLATE_TOKEN        "{token}"

enum placeholder_kind {
	PLACEHOLDER_SECRET,
	PLACEHOLDER_SECRET_NAMED,
	PLACEHOLDER_TOKEN,
};

struct placeholder {
	enum placeholder_kind kind;
	char name[PROTO_MAX_NAME + 1]; /* PLACEHOLDER_SECRET_NAMED only */
	size_t len;                    /* bytes of template text it spans */
};

struct piece {
	const char *data;
	size_t len;
};

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A header value may hold HTAB and visible bytes (obs-text too), never CR, LF or other controls. */
static bool value_byte_valid(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Parses the placeholder starting at @p (a '{' at byte @offset of the template). */
static int placeholder_parse(const char *p, size_t offset, struct placeholder *ret, char *err,
			     size_t errlen)
{
	const char *name, *close;
	size_t n;

	if (starts_with(p, TEMPLATE_SECRET)) {
		*ret = (struct placeholder){ .kind = PLACEHOLDER_SECRET,
					     .len = strlen(TEMPLATE_SECRET) };
		return 0;
	}
	if (starts_with(p, TEMPLATE_TOKEN)) {
		*ret = (struct placeholder){ .kind = PLACEHOLDER_TOKEN,
					     .len = strlen(TEMPLATE_TOKEN) };
		return 0;
	}
	if (!starts_with(p, TEMPLATE_SECRET_NAMED))
		return errmsg(err, errlen, -EINVAL,
			      "'{' at offset %zu does not start {secret}, {secret:NAME} or {token}",
			      offset);
	name = p + strlen(TEMPLATE_SECRET_NAMED);
	close = strchr(name, '}');
	if (!close)
		return errmsg(err, errlen, -EINVAL,
			      "{secret:NAME} at offset %zu has no closing '}'", offset);
	n = (size_t)(close - name);
	if (n == 0 || n > PROTO_MAX_NAME)
		return errmsg(err, errlen, -EINVAL,
			      "{secret:NAME} at offset %zu: NAME must be 1 to %d characters",
			      offset, PROTO_MAX_NAME);
	ret->kind = PLACEHOLDER_SECRET_NAMED;
	memcpy(ret->name, name, n);
	ret->name[n] = '\0';
	ret->len = (size_t)(close + 1 - p);
	if (!proto_name_valid(ret->name))
		return errmsg(
		    err, errlen, -EINVAL,
		    "{secret:NAME} at offset %zu: NAME may only hold letters, digits, '.', "
		    "'_' and '-'",
		    offset);
	return 0;
}

int template_check(const char *tmpl, struct template_refs *ret_refs, char *err, size_t errlen)
{
	struct template_refs refs = { .n_named = 0 };
	struct placeholder ph;
	const char *p;
	int r;

	if (!tmpl)
		return errmsg(err, errlen, -EINVAL, "no template");
	if (strnlen(tmpl, TEMPLATE_MAX_VALUE + 1) > TEMPLATE_MAX_VALUE)
		return errmsg(err, errlen, -EINVAL, "template is longer than %d bytes",
			      TEMPLATE_MAX_VALUE);
	for (p = tmpl; *p;) {
		if (*p == '\r' || *p == '\n')
			return errmsg(err, errlen, -EINVAL, "line break (CR or LF) at offset %zu",
				      (size_t)(p - tmpl));
		if (!value_byte_valid((unsigned char)*p))
			return errmsg(err, errlen, -EINVAL, "control character at offset %zu",
				      (size_t)(p - tmpl));
		if (*p != '{') {
			p++;
			continue;
		}
		r = placeholder_parse(p, (size_t)(p - tmpl), &ph, err, errlen);
		if (r < 0)
			return r;
		refs.secret |= ph.kind == PLACEHOLDER_SECRET;
		refs.token |= ph.kind == PLACEHOLDER_TOKEN;
		refs.n_named += ph.kind == PLACEHOLDER_SECRET_NAMED;
		p += ph.len;
	}
	if (ret_refs)
		*ret_refs = refs;
	return 0;
}

static void set_missing(char *missing, size_t missing_len, const char *what)
{
	if (missing && missing_len > 0)
		snprintf(missing, missing_len, "%s", what);
}

/*
 * The value of @ph.  -ENOENT when it is missing, -EINVAL when it could not be
 * a header value (CR, LF, NUL …); either way naming it in @missing.
 */
static int placeholder_value(const struct placeholder *ph, const struct template_vars *vars,
			     struct piece *ret, char *missing, size_t missing_len)
{
	const char *label, *v = NULL;
	size_t i, n = 0;

	if (ph->kind == PLACEHOLDER_TOKEN) {
		label = TEMPLATE_TOKEN;
		v = vars->token;
		n = vars->token_len;
	} else {
		label = ph->kind == PLACEHOLDER_SECRET ? TEMPLATE_SECRET : ph->name;
		if (vars->secret)
			v = vars->secret(vars->userdata,
					 ph->kind == PLACEHOLDER_SECRET ? NULL : ph->name, &n);
	}
	if (!v) {
		set_missing(missing, missing_len, label);
		return -ENOENT;
	}
	for (i = 0; i < n; i++)
		if (!value_byte_valid((unsigned char)v[i])) {
			set_missing(missing, missing_len, label);
			return -EINVAL;
		}
	*ret = (struct piece){ .data = v, .len = n };
	return 0;
}

/* One pass over @tmpl, handing each piece to @sink (NULL: measure only),
 * never beyond @cap bytes.  Sets *ret_len to the expanded length. */
static int expand_pass(const char *tmpl, const struct template_vars *vars, template_sink_fn sink,
		       void *ctx, size_t cap, size_t *ret_len, char *missing, size_t missing_len)
{
	struct placeholder ph;
	struct piece piece;
	const char *p = tmpl;
	size_t len = 0;
	int r;

	while (*p) {
		if (*p == '{') {
			r = placeholder_parse(p, (size_t)(p - tmpl), &ph, NULL, 0);
			if (r < 0)
				return r;
			r = placeholder_value(&ph, vars, &piece, missing, missing_len);
			if (r < 0)
				return r;
			p += ph.len;
		} else {
			piece = (struct piece){ .data = p, .len = (size_t)(strchrnul(p, '{') - p) };
			p += piece.len;
		}
		if (piece.len > cap - len)
			return -E2BIG;
		if (sink)
			sink(ctx, piece.data, piece.len);
		len += piece.len;
	}
	*ret_len = len;
	return 0;
}

static const struct template_vars no_vars = { .secret = NULL };

int template_expand_into(const char *tmpl, const struct template_vars *vars, template_sink_fn sink,
			 void *ctx, char *missing, size_t missing_len)
{
	size_t len;

	if (!tmpl)
		return -EINVAL;
	return expand_pass(tmpl, vars ? vars : &no_vars, sink, ctx, TEMPLATE_MAX_VALUE, &len,
			   missing, missing_len);
}

struct copy {
	char *out;
	size_t len;
};

static void copy_piece(void *ctx, const char *data, size_t len)
{
	struct copy *c = ctx;

	memcpy(c->out + c->len, data, len);
	c->len += len;
}

int template_expand(const char *tmpl, const struct template_vars *vars, char **ret, size_t *ret_len,
		    char *missing, size_t missing_len)
{
	struct copy copy;
	size_t len, len2;
	int r;

	if (!tmpl)
		return -EINVAL;
	if (!vars)
		vars = &no_vars;
	r = expand_pass(tmpl, vars, NULL, NULL, TEMPLATE_MAX_VALUE, &len, missing, missing_len);
	if (r < 0)
		return r;
	copy = (struct copy){ .out = malloc(len + 1) };
	if (!copy.out)
		return -ENOMEM;
	/* The lookups run again; a value that changed length in between cannot overflow @out. */
	r = expand_pass(tmpl, vars, copy_piece, &copy, len, &len2, missing, missing_len);
	if (r < 0 || len2 != len) {
		sodium_memzero(copy.out, len + 1);
		free(copy.out);
		return r < 0 ? r : -EAGAIN;
	}
	copy.out[len] = '\0';
	*ret = copy.out;
	if (ret_len)
		*ret_len = len;
	return 0;
}

char *template_value_free(char *value)
{
	if (value) {
		sodium_memzero(value, strlen(value));
		free(value);
	}
	return NULL;
}
