/* SPDX-License-Identifier: MIT */
/*
 * Keeping injected values out of debug output.
 *
 * With CURLOPT_VERBOSE, libcurl hands every request's header block to the
 * debug callback (curl -v, --trace-ascii, GIT_TRACE_CURL, the application's
 * own logger) or, without one, prints it to CURLOPT_STDERR.  The hook's
 * callback sits in front of both: in a copy of the data it replaces the
 * value of each header line it injected, then calls the application's
 * callback, or prints exactly as libcurl's default printer does.  As a
 * safety net for a header block libcurl logged in pieces, any remaining
 * occurrence of an injected value is masked too.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hook.h"

#define REDACTED "[redacted by aoai]"
/* Shorter values are not searched for: they could mask unrelated text. */
#define MASK_MIN_VALUE 8

static bool injected_name(const struct record *rec, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < rec->ninjected; i++)
		if (rec->injected[i].name_len == len &&
		    strncasecmp(rec->injected[i].name, name, len) == 0)
			return true;
	return false;
}

/* Copies @line (with its end of line), its value replaced when it is ours. */
static char *copy_line(const struct record *rec, const char *line, size_t len, char *out)
{
	const char *colon = memchr(line, ':', len);
	size_t eol = 0;

	if (!colon || !injected_name(rec, line, (size_t)(colon - line))) {
		memcpy(out, line, len);
		return out + len;
	}
	if (len >= 1 && line[len - 1] == '\n')
		eol = len >= 2 && line[len - 2] == '\r' ? 2 : 1;
	memcpy(out, line, (size_t)(colon - line) + 1);
	out += colon - line + 1;
	memcpy(out, " " REDACTED, sizeof(REDACTED));
	out += sizeof(REDACTED);
	memcpy(out, line + len - eol, eol);
	return out + eol;
}

static void mask_values(const struct record *rec, char *buf, size_t len)
{
	const struct injected *in;
	char *p;
	size_t i;

	for (i = 0; i < rec->ninjected; i++) {
		in = &rec->injected[i];
		if (in->value_len < MASK_MIN_VALUE)
			continue;
		p = buf;
		while ((p = memmem(p, len - (size_t)(p - buf), in->value, in->value_len))) {
			memset(p, '*', in->value_len);
			p += in->value_len;
		}
	}
}

/* A redacted copy of @data (free() it), or NULL when out of memory. */
static char *redacted_copy(const struct record *rec, const char *data, size_t size, bool headers,
			   size_t *ret_size)
{
	const char *p = data, *end = data + size, *nl;
	size_t lines = 1;
	char *copy, *o;

	for (nl = data; (nl = memchr(nl, '\n', (size_t)(end - nl))); nl++)
		lines++;
	/* A redacted line grows by at most the marker and its space. */
	copy = malloc(size + (headers ? lines * sizeof(REDACTED) : 0) + 1);
	if (!copy)
		return NULL;
	o = copy;
	if (!headers) {
		memcpy(copy, data, size);
		o += size;
	}
	while (headers && p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		nl = nl ? nl + 1 : end;
		o = copy_line(rec, p, (size_t)(nl - p), o);
		p = nl;
	}
	mask_values(rec, copy, (size_t)(o - copy));
	*ret_size = (size_t)(o - copy);
	return copy;
}

/* What libcurl prints when the application has no debug callback (Curl_debug). */
static void default_print(const struct record *rec, curl_infotype type, const char *data,
			  size_t size)
{
	FILE *out = rec->app_stderr ? rec->app_stderr : stderr;
	const char *prefix;

	switch (type) {
	case CURLINFO_TEXT:
		prefix = "* ";
		break;
	case CURLINFO_HEADER_IN:
		prefix = "< ";
		break;
	case CURLINFO_HEADER_OUT:
		prefix = "> ";
		break;
	default:
		return;
	}
	fwrite(prefix, 2, 1, out);
	fwrite(data, size, 1, out);
}

int redact_debug_callback(CURL *handle, curl_infotype type, char *data, size_t size, void *userp)
{
	const struct record *rec = userp;
	char *copy = NULL;
	int r = 0;

	if (rec->ninjected && (type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT)) {
		copy = redacted_copy(rec, data, size, type == CURLINFO_HEADER_OUT, &size);
		/* Saying nothing beats saying the secret. */
		if (!copy)
			return 0;
		data = copy;
	}
	if (rec->app_debug)
		r = rec->app_debug(handle, type, data, size, rec->app_debug_data);
	else
		default_print(rec, type, data, size);
	free(copy);
	return r;
}
