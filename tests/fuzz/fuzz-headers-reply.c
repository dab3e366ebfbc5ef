/* SPDX-License-Identifier: MIT */
/*
 * The "headers" reply reader (protocol/headers_reply.c over json_mini.c, as
 * libaoai and the hook read replies) against jansson: an object jansson
 * accepts with JSON_REJECT_DUPLICATES (nested less deep than json_mini's
 * limit, no NUL byte) is accepted too, and every member the reader knows is
 * recorded with jansson's type and, for strings, its exact bytes; elements of
 * "headers" are counted beyond the reader's room.  The reader may accept more
 * than jansson (duplicate unknown members, numbers out of jansson's range),
 * never less.
 */
#include <errno.h>

#include <jansson.h>

#include "fuzz.h"
#include "headers_reply.h"

#define ROOM      4  /* header elements kept, so that longer arrays test the count */
#define MAX_DEPTH 16 /* well inside json_mini's JSON_MINI_MAX_DEPTH */

/* Nesting depth of @v; each value visited once. */
static size_t depth_of(const json_t *v)
{
	size_t d = 0, sub, i;
	const char *key;
	json_t *item;

	if (json_is_array(v)) {
		json_array_foreach(v, i, item)
		{
			sub = depth_of(item);
			d = sub > d ? sub : d;
		}
	} else if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, item)
		{
			sub = depth_of(item);
			d = sub > d ? sub : d;
		}
	} else {
		return 0;
	}
	return d + 1;
}

static enum reply_type type_of(const json_t *v)
{
	if (!v)
		return REPLY_ABSENT;
	if (json_is_integer(v) && json_integer_value(v) == 1)
		return REPLY_ONE;
	switch (json_typeof(v)) {
	case JSON_NULL:
		return REPLY_NULL;
	case JSON_TRUE:
		return REPLY_TRUE;
	case JSON_FALSE:
		return REPLY_FALSE;
	case JSON_INTEGER:
	case JSON_REAL:
		return REPLY_NUMBER;
	case JSON_STRING:
		return REPLY_STRING;
	case JSON_ARRAY:
		return REPLY_ARRAY;
	case JSON_OBJECT:
		return REPLY_OBJECT;
	}
	return REPLY_ABSENT;
}

static void check_field(const struct reply_field *f, const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	FUZZ_CHECK(f->type == type_of(v));
	if (f->type != REPLY_STRING)
		return;
	FUZZ_CHECK(f->len == json_string_length(v));
	FUZZ_CHECK(memcmp(f->s, json_string_value(v), f->len) == 0 && f->s[f->len] == '\0');
}

static void check_headers(const struct headers_reply *r, const json_t *list)
{
	size_t i;

	if (!json_is_array(list)) {
		FUZZ_CHECK(r->nheaders == 0);
		return;
	}
	FUZZ_CHECK(r->nheaders == json_array_size(list));
	for (i = 0; i < r->nheaders && i < ROOM; i++) {
		const json_t *item = json_array_get(list, i);

		FUZZ_CHECK(r->h[i].object == json_is_object(item));
		check_field(&r->h[i].name, item, "name");
		check_field(&r->h[i].value, item, "value");
		check_field(&r->h[i].exists_action, item, "exists_action");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reply_header items[ROOM];
	struct headers_reply r = { .cap = ROOM, .h = items };
	char *buf = malloc(size ? size : 1);
	json_t *doc;
	int rc;

	FUZZ_CHECK(buf);
	if (size > 0)
		memcpy(buf, data, size);
	rc = headers_reply_read(buf, size, &r);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG);
	FUZZ_CHECK(r.cap == ROOM && r.h == items);
	/* jansson 2.14 skips a NUL byte right after a number or literal. */
	doc = memchr(data, '\0', size)
		  ? NULL
		  : json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(doc) && depth_of(doc) <= MAX_DEPTH) {
		FUZZ_CHECK(rc == 0);
		check_field(&r.v, doc, "v");
		check_field(&r.ok, doc, "ok");
		check_field(&r.error, doc, "error");
		check_field(&r.message, doc, "message");
		check_field(&r.profile, doc, "profile");
		FUZZ_CHECK(r.headers.type == type_of(json_object_get(doc, "headers")));
		check_headers(&r, json_object_get(doc, "headers"));
	}
	json_decref(doc);
	free(buf);
	return 0;
}
