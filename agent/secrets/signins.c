/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto.h"
#include "signins.h"

struct signin_entry {
	struct signin_entry *next;
	char profile[PROTO_MAX_NAME + 1];
	struct signin in;
};

struct signins {
	struct signin_entry *entries;
	unsigned n;
	signins_hook_fn hook;
	void *hook_data;
};

void signins_set_hook(struct signins *s, signins_hook_fn fn, void *data)
{
	s->hook = fn;
	s->hook_data = data;
}

static void changed(const struct signins *s, bool persisted)
{
	if (persisted && s->hook)
		s->hook(s->hook_data);
}

int signins_new(struct signins **ret)
{
	struct signins *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

static void wipe_token(struct signin *in)
{
	sodium_free(in->refresh_token); /* wipes */
	in->refresh_token = NULL;
	in->len = 0;
}

struct signins *signins_free(struct signins *s)
{
	struct signin_entry *e, *next;

	if (!s)
		return NULL;
	for (e = s->entries; e; e = next) {
		next = e->next;
		wipe_token(&e->in);
		free(e);
	}
	free(s);
	return NULL;
}

static struct signin_entry *find(const struct signins *s, const char *profile)
{
	struct signin_entry *e = s->entries;

	while (e && strcmp(e->profile, profile) != 0)
		e = e->next;
	return e;
}

int signins_put(struct signins *s, const char *profile, const char *binding, const char *rt,
		size_t len, const char *account)
{
	struct signin_entry *e = find(s, profile);
	char *copy = sodium_malloc(len + 1);

	if (!copy)
		return -ENOMEM;
	if (!e && (s->n >= SIGNINS_MAX || !(e = calloc(1, sizeof(*e))))) {
		sodium_free(copy);
		return s->n >= SIGNINS_MAX ? -ENOSPC : -ENOMEM;
	}
	if (!e->profile[0]) {
		snprintf(e->profile, sizeof(e->profile), "%s", profile);
		e->next = s->entries;
		s->entries = e;
		s->n++;
	}
	memcpy(copy, rt, len);
	copy[len] = '\0';
	sodium_mprotect_noaccess(copy);
	wipe_token(&e->in);
	e->in.refresh_token = copy;
	e->in.len = len;
	if (strcmp(e->in.binding, binding) != 0)
		e->in.account[0] = '\0';
	snprintf(e->in.binding, sizeof(e->in.binding), "%s", binding);
	if (account && *account)
		snprintf(e->in.account, sizeof(e->in.account), "%s", account);
	e->in.why[0] = '\0';
	changed(s, e->in.persisted);
	return 0;
}

int signins_persist(struct signins *s, const char *profile, bool persisted)
{
	struct signin_entry *e = find(s, profile);
	bool was;

	if (!e)
		return -ENOENT;
	was = e->in.persisted;
	e->in.persisted = persisted;
	changed(s, was || persisted);
	return 0;
}

void signins_foreach(const struct signins *s,
		     void (*fn)(void *data, const char *profile, const struct signin *in),
		     void *data)
{
	for (const struct signin_entry *e = s->entries; e; e = e->next)
		fn(data, e->profile, &e->in);
}

void signin_reveal(const struct signin *in)
{
	if (in->refresh_token)
		sodium_mprotect_readonly(in->refresh_token);
}

void signin_conceal(const struct signin *in)
{
	if (in->refresh_token)
		sodium_mprotect_noaccess(in->refresh_token);
}

const struct signin *signins_find(const struct signins *s, const char *profile, const char *binding)
{
	const struct signin_entry *e = find(s, profile);

	if (!e || !e->in.refresh_token || strcmp(e->in.binding, binding) != 0)
		return NULL;
	return &e->in;
}

const struct signin *signins_peek(const struct signins *s, const char *profile)
{
	const struct signin_entry *e = find(s, profile);

	return e ? &e->in : NULL;
}

void signins_require(struct signins *s, const char *profile, const char *why)
{
	struct signin_entry *e = find(s, profile);

	if (!e)
		return;
	wipe_token(&e->in);
	snprintf(e->in.why, sizeof(e->in.why), "%s", why);
	changed(s, e->in.persisted);
	e->in.persisted = false;
}

static bool forget(struct signins *s, const char *profile, bool tell)
{
	struct signin_entry **pp = &s->entries, *e;
	bool persisted;

	while (*pp && strcmp((*pp)->profile, profile) != 0)
		pp = &(*pp)->next;
	if (!(e = *pp))
		return false;
	*pp = e->next;
	persisted = e->in.persisted;
	wipe_token(&e->in);
	free(e);
	s->n--;
	if (tell)
		changed(s, persisted);
	return true;
}

bool signins_forget(struct signins *s, const char *profile)
{
	return forget(s, profile, true);
}

unsigned signins_prune(struct signins *s,
		       bool (*keep)(const char *profile, const char *binding, void *data),
		       void *data)
{
	struct signin_entry *e = s->entries, *next;
	unsigned n = 0;

	for (; e; e = next) {
		next = e->next;
		if (!keep(e->profile, e->in.binding, data))
			n += signins_forget(s, e->profile);
	}
	return n;
}

unsigned signins_forget_all(struct signins *s)
{
	unsigned n = s->n;

	while (s->entries)
		forget(s, s->entries->profile, false);
	return n;
}
