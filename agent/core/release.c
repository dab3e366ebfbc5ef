/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conceal.h"
#include "proto.h"
#include "release.h"
#include "secrets.h"
#include "template.h"

struct release {
	const struct agent *a;
	const struct profile *profile;
	uint64_t now;
	/* The secrets revealed for the expansion (each once), handed back at
	 * its end (conceal.h): the template code reads a value after the
	 * lookup returns. */
	const struct secret **revealed;
	size_t n_revealed, cap_revealed;
	bool oom;
};

/* Reveals @s until conceal_all(); false when out of memory. */
static bool reveal_once(struct release *rel, const struct secret *s)
{
	for (size_t i = 0; i < rel->n_revealed; i++)
		if (rel->revealed[i] == s)
			return true;
	if (rel->n_revealed == rel->cap_revealed) {
		size_t cap = rel->cap_revealed ? 2 * rel->cap_revealed : 4;
		const struct secret **grown = reallocarray(rel->revealed, cap, sizeof(*grown));

		if (!grown)
			return false;
		rel->revealed = grown;
		rel->cap_revealed = cap;
	}
	secret_reveal(s);
	rel->revealed[rel->n_revealed++] = s;
	return true;
}

static void conceal_all(struct release *rel)
{
	for (size_t i = 0; i < rel->n_revealed; i++)
		secret_conceal_later(rel->revealed[i]);
	if (rel->n_revealed > 0)
		conceal_soon(rel->a);
	free(rel->revealed); /* pointers to the entries, nothing secret */
	rel->revealed = NULL;
	rel->n_revealed = rel->cap_revealed = 0;
}

static const char *lookup_secret(void *userdata, const char *name, size_t *ret_len)
{
	struct release *rel = userdata;
	const struct secret *s;

	if (!name)
		name = rel->profile->cred.secret;
	s = name ? secrets_find(rel->a->secrets, name, rel->now) : NULL;
	if (!s || !s->value)
		return NULL;
	if (!reveal_once(rel, s)) {
		rel->oom = true;
		return NULL;
	}
	*ret_len = s->len;
	return (const char *)s->value;
}

/* Explains a missing secret: never added, expired, or a config source that
 * failed to load (with its error); with `aoai add` where that is the fix. */
static void explain_missing(const struct release *rel, const char *missing, char *msg, size_t len)
{
	const char *name = strcmp(missing, "{secret}") == 0 ? rel->profile->cred.secret : missing;
	char why[SECRET_MAX_ERROR + 8];
	bool addable;

	if (!name) {
		snprintf(msg, len, "profile \"%s\" has no secret", rel->profile->name);
		return;
	}
	addable = secrets_why_missing(rel->a->secrets, name, rel->now, why, sizeof(why));
	snprintf(msg, len, "profile \"%s\": secret \"%s\"%s%s%s%s", rel->profile->name, name, why,
		 addable ? " (aoai add " : "", addable ? name : "", addable ? ")" : "");
}

static void write_piece(void *ctx, const char *data, size_t len)
{
	proto_writer_escaped(ctx, data, len);
}

/* {"name":…,"value":…,"exists_action":…}, the value expanded straight into
 * @w; nothing but @w's buffer ever holds it. */
static int write_header(const struct header_template *h, const struct template_vars *vars,
			struct proto_writer *w, char *missing, size_t missing_len)
{
	const char *action = exists_action_name(h->action);
	int r;

	proto_writer_raw(w, "{\"name\":", 8);
	proto_writer_string(w, h->name, strlen(h->name));
	proto_writer_raw(w, ",\"value\":\"", 10);
	r = template_expand_into(h->value, vars, write_piece, w, missing, missing_len);
	proto_writer_raw(w, "\",\"exists_action\":", 18);
	proto_writer_string(w, action, strlen(action));
	proto_writer_raw(w, "}", 1);
	return r;
}

/* Expands every header of @rel->profile; release_expand() conceals after. */
static int expand_headers(struct release *rel, const struct template_vars *vars,
			  struct proto_writer *w, char *msg, size_t len)
{
	const struct profile *p = rel->profile;
	char missing[PROTO_MAX_NAME + 16];

	for (size_t i = 0; i < p->n_headers; i++) {
		const struct header_template *h = &p->headers[i];
		int r;

		if (w && i > 0)
			proto_writer_raw(w, ",", 1);
		r = w ? write_header(h, vars, w, missing, sizeof(missing))
		      : template_expand_into(h->value, vars, NULL, NULL, missing, sizeof(missing));
		if (r == -ENOENT && !rel->oom) {
			explain_missing(rel, missing, msg, len);
			return PROTO_E_MISSING_SECRET;
		}
		if (r < 0 || (w && w->err)) {
			snprintf(msg, len, "profile \"%s\": cannot build header \"%s\"", p->name,
				 h->name);
			return PROTO_E_INTERNAL;
		}
	}
	return PROTO_OK;
}

int release_expand(const struct agent *a, const struct profile *p, uint64_t now, const char *token,
		   size_t token_len, struct proto_writer *w, char *msg, size_t len)
{
	struct release rel = { .a = a, .profile = p, .now = now };
	struct template_vars vars = {
		.secret = lookup_secret,
		.userdata = &rel,
		.token = token,
		.token_len = token_len,
	};
	int status = expand_headers(&rel, &vars, w, msg, len);

	conceal_all(&rel);
	return status;
}
