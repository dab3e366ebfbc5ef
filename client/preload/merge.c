/* SPDX-License-Identifier: MIT */
/*
 * Merging the agent's headers into the application's list.
 *
 * The result is a new list: the application's own is never modified or
 * freed (it may be static, shared between handles, or freed by the
 * application right after the transfer).  The new list is made with the
 * handle's libcurl's curl_slist_append, so that libcurl's allocator owns
 * its strings; merge_free() wipes them before handing them back, since some
 * hold credentials.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hook.h"

bool merge_line_is(const char *line, const char *name, size_t name_len)
{
	/* libcurl's custom header syntax: "Name: value", or "Name;" for an empty one. */
	return strncasecmp(line, name, name_len) == 0 &&
	       (line[name_len] == ':' || line[name_len] == ';');
}

static bool list_has(const struct curl_slist *list, const char *name)
{
	size_t len = strlen(name);

	for (; list; list = list->next)
		if (list->data && merge_line_is(list->data, name, len))
			return true;
	return false;
}

/* An application line that an "override" header of the agent replaces. */
static bool overridden(const char *line, const struct agent_header *hdrs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (hdrs[i].action == EXISTS_OVERRIDE &&
		    merge_line_is(line, hdrs[i].name, strlen(hdrs[i].name)))
			return true;
	return false;
}

/* Appends a copy of @line; on failure *list is left as it was. */
static int append_line(slist_append_fn append, struct curl_slist **list, const char *line)
{
	struct curl_slist *l = append(*list, line);

	if (!l)
		return -ENOMEM;
	*list = l;
	return 0;
}

/* Appends "Name: value" ("Name;" when empty) and notes where it lives for redaction. */
static int append_header(slist_append_fn append, struct curl_slist **list,
			 const struct agent_header *h, struct injected *ret)
{
	size_t nlen = strlen(h->name), len = nlen + 2 + h->value_len + 1;
	struct curl_slist *tail;
	char *line;
	int r;

	line = malloc(len);
	if (!line)
		return -ENOMEM;
	memcpy(line, h->name, nlen);
	if (h->value_len) {
		memcpy(line + nlen, ": ", 2);
		memcpy(line + nlen + 2, h->value, h->value_len);
		line[nlen + 2 + h->value_len] = '\0';
	} else {
		memcpy(line + nlen, ";", 2);
	}
	r = append_line(append, list, line);
	explicit_bzero(line, len);
	free(line);
	if (r < 0)
		return r;
	for (tail = *list; tail->next; tail = tail->next)
		;
	ret->name = tail->data;
	ret->name_len = nlen;
	ret->value = h->value_len ? tail->data + nlen + 2 : "";
	ret->value_len = h->value_len;
	return 0;
}

int merge_headers(enum hook_flavour fl, const struct curl_slist *app,
		  const struct agent_header *hdrs, size_t n, struct curl_slist **ret_list,
		  struct injected *ret_inj, size_t *ret_ninj)
{
	slist_append_fn append = (slist_append_fn)curl_real(fl, REAL_SLIST_APPEND);
	struct curl_slist *list = NULL;
	const struct curl_slist *l;
	size_t i, ninj = 0;

	if (!append)
		return -ENOSYS;
	for (l = app; l; l = l->next)
		if (l->data && !overridden(l->data, hdrs, n) && append_line(append, &list, l->data))
			goto fail;
	for (i = 0; i < n && i < HOOK_MAX_HEADERS; i++) {
		if (hdrs[i].action == EXISTS_SKIP && list_has(app, hdrs[i].name))
			continue;
		if (append_header(append, &list, &hdrs[i], &ret_inj[ninj]) < 0)
			goto fail;
		ninj++;
	}
	*ret_list = list;
	*ret_ninj = ninj;
	return 0;
fail:
	merge_free(fl, list);
	memset(ret_inj, 0, sizeof(*ret_inj) * HOOK_MAX_HEADERS);
	return -ENOMEM;
}

struct curl_slist *merge_free(enum hook_flavour fl, struct curl_slist *list)
{
	slist_free_all_fn free_all = (slist_free_all_fn)curl_real(fl, REAL_SLIST_FREE_ALL);
	struct curl_slist *l;

	if (!list)
		return NULL;
	for (l = list; l; l = l->next)
		if (l->data)
			explicit_bzero(l->data, strlen(l->data));
	/* Without its libcurl's free the list is leaked, never freed by another allocator. */
	if (free_all)
		free_all(list);
	return NULL;
}
