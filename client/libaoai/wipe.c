/* SPDX-License-Identifier: MIT */
/*
 * Secrets inside jansson documents.  A request carries a secret or a
 * passphrase and a "headers" reply carries credentials; jansson stores each
 * string in memory of its own and frees it without wiping, so libaoai wipes
 * those strings in place before dropping a document.  What it cannot reach is
 * jansson's internal scratch memory (the parser's token buffer): that would
 * take json_set_alloc_funcs(), a process-wide hook a library must not
 * install behind its host's back.
 */
#include <stdlib.h>
#include <string.h>

#include "aoai.h"
#include "aoai_conn.h"

void wipe_json(json_t *json)
{
	const char *key;
	json_t *value;
	size_t i;

	if (json_is_string(json)) {
		/* jansson allocated this buffer; it is const only to its users. */
		explicit_bzero((char *)json_string_value(json), json_string_length(json));
	} else if (json_is_array(json)) {
		json_array_foreach(json, i, value) wipe_json(value);
	} else if (json_is_object(json)) {
		json_object_foreach(json, key, value) wipe_json(value);
	}
}

json_t *wipe_json_decref(json_t *json)
{
	wipe_json(json);
	json_decref(json);
	return NULL;
}

char *wipe_str_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
	return NULL;
}

int wipe_json_dump(const json_t *json, char **ret_text, size_t *ret_len)
{
	size_t len;
	char *text;

	len = json_dumpb(json, NULL, 0, JSON_COMPACT);
	if (len == 0)
		return AOAI_E_NOMEM;
	text = malloc(len + 1);
	if (!text)
		return AOAI_E_NOMEM;
	if (json_dumpb(json, text, len, JSON_COMPACT) != len) {
		explicit_bzero(text, len);
		free(text);
		return AOAI_E_NOMEM;
	}
	text[len] = '\0';
	*ret_text = text;
	if (ret_len)
		*ret_len = len;
	return 0;
}
