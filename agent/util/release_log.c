/* SPDX-License-Identifier: MIT */
/*
 * Formatted by hand rather than with printf: the record is written for
 * every release, and vsnprintf() was an eighth of a request's cost.
 */
#include <stdbool.h>
#include <string.h>

#include "release_log.h"

/* Text that is cut, never overrun, at its buffer's end; always terminated. */
struct text {
	char *buf;
	size_t len, cap;
};

static void put_str(struct text *t, const char *s)
{
	size_t n = strlen(s ? s : "?");

	if (n > t->cap - 1 - t->len)
		n = t->cap - 1 - t->len;
	memcpy(t->buf + t->len, s ? s : "?", n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void put_num(struct text *t, long long v)
{
	char digits[24], *p = digits + sizeof(digits);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	*--p = '\0';
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) > 0);
	if (v < 0)
		*--p = '-';
	put_str(t, p);
}

size_t release_text(const struct release_event *e, char *buf, size_t len)
{
	struct text t = { .buf = buf, .cap = len };

	if (len == 0)
		return 0;
	buf[0] = '\0';
	put_str(&t, "release profile=");
	put_str(&t, e->profile);
	if (e->host) {
		put_str(&t, " host=");
		put_str(&t, e->host);
		put_str(&t, ":");
		put_num(&t, e->port);
	} else {
		put_str(&t, " token scope=");
		put_str(&t, e->scope);
	}
	put_str(&t, " pid=");
	put_num(&t, e->peer_pid);
	put_str(&t, " uid=");
	put_num(&t, e->peer_uid);
	put_str(&t, " exe=");
	put_str(&t, e->peer_exe);
	put_str(&t, " result=");
	put_str(&t, e->result);
	return t.len;
}

/* Starts field @key in @f's buffer; the value follows with put_*(). */
static void field_begin(struct release_fields *f, struct text *t, const char *key)
{
	f->iov[f->n].iov_base = t->buf + t->len;
	put_str(t, key);
	put_str(t, "=");
}

/* Ends the field: its iovec spans it, and a NUL (outside it) follows. */
static void field_end(struct release_fields *f, struct text *t)
{
	f->iov[f->n].iov_len = (size_t)(t->buf + t->len - (char *)f->iov[f->n].iov_base);
	f->n++;
	if (t->len < t->cap - 1)
		t->len++; /* past the NUL */
}

void release_fields(const struct release_event *e, struct release_fields *f)
{
	struct text t = { .buf = f->buf, .cap = sizeof(f->buf) };

	f->n = 0;
	field_begin(f, &t, "AOAI_PROFILE");
	put_str(&t, e->profile);
	field_end(f, &t);
	if (e->host) {
		field_begin(f, &t, "AOAI_HOST");
		put_str(&t, e->host);
		put_str(&t, ":");
		put_num(&t, e->port);
		field_end(f, &t);
	}
	if (e->scope) {
		field_begin(f, &t, "AOAI_SCOPE");
		put_str(&t, e->scope);
		field_end(f, &t);
	}
	field_begin(f, &t, "AOAI_PEER_PID");
	put_num(&t, e->peer_pid);
	field_end(f, &t);
	field_begin(f, &t, "AOAI_PEER_UID");
	put_num(&t, e->peer_uid);
	field_end(f, &t);
	field_begin(f, &t, "AOAI_PEER_EXE");
	put_str(&t, e->peer_exe);
	field_end(f, &t);
	field_begin(f, &t, "AOAI_RESULT");
	put_str(&t, e->result);
	field_end(f, &t);
}
