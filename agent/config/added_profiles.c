/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "added_profiles.h"
#include "proto.h"

/* Every added profile sends its secret the way an api-key profile does by
 * default; the template is shared and never freed. */
static char api_key_header[] = "api-key";
static char api_key_value[] = "{secret}";
static struct header_template api_key_template = {
	.name = api_key_header,
	.value = api_key_value,
	.action = EXISTS_OVERRIDE,
};

/* The profile's pointers refer to the entry's own storage. */
struct added_profile {
	struct profile profile;
	struct host_pattern host;
	char name[PROTO_MAX_NAME + 1];
};

struct added_profiles {
	struct added_profile **items;
	size_t n;
	unsigned long generation; /* bumped by every change of the list */
};

struct added_profiles *added_profiles_new(void)
{
	return calloc(1, sizeof(struct added_profiles));
}

struct added_profiles *added_profiles_free(struct added_profiles *list)
{
	if (!list)
		return NULL;
	for (size_t i = 0; i < list->n; i++)
		free(list->items[i]);
	free(list->items);
	free(list);
	return NULL;
}

static struct added_profile *find(const struct added_profiles *list, const char *name, size_t *idx)
{
	for (size_t i = 0; i < list->n; i++)
		if (strcmp(list->items[i]->name, name) == 0) {
			if (idx)
				*idx = i;
			return list->items[i];
		}
	return NULL;
}

static struct added_profile *entry_new(const char *name)
{
	struct added_profile *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->profile.name = e->name;
	e->profile.hosts = &e->host;
	e->profile.n_hosts = 1;
	e->profile.cred.type = CRED_API_KEY;
	e->profile.cred.secret = e->name;
	e->profile.headers = &api_key_template;
	e->profile.n_headers = 1;
	return e;
}

int added_profiles_set(struct added_profiles *list, const char *name,
		       const struct host_pattern *host)
{
	struct added_profile *e = find(list, name, NULL);
	struct added_profile **items;

	if (!e) {
		if (list->n == ADDED_PROFILES_MAX)
			return -ENOSPC;
		items = reallocarray(list->items, list->n + 1, sizeof(*items));
		if (!items)
			return -ENOMEM;
		list->items = items;
		e = entry_new(name);
		if (!e)
			return -ENOMEM;
		list->items[list->n++] = e;
	}
	e->host = *host;
	list->generation++;
	return 0;
}

int added_profiles_remove(struct added_profiles *list, const char *name)
{
	size_t i;
	struct added_profile *e = find(list, name, &i);

	if (!e)
		return -ENOENT;
	free(e);
	memmove(&list->items[i], &list->items[i + 1], (list->n - i - 1) * sizeof(*list->items));
	list->n--;
	list->generation++;
	return 0;
}

unsigned long added_profiles_generation(const struct added_profiles *list)
{
	return list->generation;
}

size_t added_profiles_count(const struct added_profiles *list)
{
	return list->n;
}

const struct profile *added_profiles_at(const struct added_profiles *list, size_t i)
{
	return i < list->n ? &list->items[i]->profile : NULL;
}
