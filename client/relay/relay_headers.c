/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relay_headers.h"

static const char *const hop_headers[] = {
	"Connection",
	"Keep-Alive",
	"Proxy-Connection",
	"TE",
	"Trailer",
	"Transfer-Encoding",
	"Upgrade",
	"Proxy-Authenticate",
	"Proxy-Authorization",
	"Content-Length",
};

static bool name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

bool relay_header_is_hop(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(hop_headers) / sizeof(hop_headers[0]); i++)
		if (name_is(name, len, hop_headers[i]))
			return true;
	return false;
}

bool relay_connection_lists(const char *connection, const char *name, size_t len)
{
	const char *p = connection, *end;

	while (p && *p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		end = p + strcspn(p, ", \t");
		if ((size_t)(end - p) == len && len && strncasecmp(p, name, len) == 0)
			return true;
		p = end;
	}
	return false;
}

/* The name of "Name: value" (its length), and where the value starts. */
static size_t split_line(const char *line, const char **value)
{
	size_t n = strcspn(line, ":");

	*value = line + n + (line[n] == ':');
	while (**value == ' ' || **value == '\t')
		(*value)++;
	return n;
}

static long long parse_length(const char *v)
{
	char *end;
	long long n;

	if (!isdigit((unsigned char)*v))
		return -1;
	n = strtoll(v, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	return *end ? -1 : n;
}

/* The values of every Connection line, joined: what they name is not relayed. */
static char *connection_values(const struct curl_slist *lines)
{
	const struct curl_slist *l;
	const char *v;
	size_t n, vlen, total = 1, at = 0;
	char *all;

	for (l = lines; l; l = l->next)
		if (name_is(l->data, split_line(l->data, &v), "Connection"))
			total += strlen(v) + 1;
	all = calloc(1, total);
	if (!all)
		return NULL;
	for (l = lines; l; l = l->next) {
		n = split_line(l->data, &v);
		if (name_is(l->data, n, "Connection")) {
			vlen = strlen(v);
			memcpy(all + at, v, vlen);
			at += vlen;
			all[at++] = ',';
		}
	}
	return all;
}

struct curl_slist *relay_response_head(const struct curl_slist *lines, long long *length)
{
	struct curl_slist *out = NULL, *more;
	const struct curl_slist *l;
	char *connection = connection_values(lines);
	const char *v;
	bool chunked = false;
	size_t n;

	*length = -1;
	for (l = lines; l; l = l->next) {
		n = split_line(l->data, &v);
		if (!n || l->data[n] != ':' || l->data[0] == ' ' || l->data[0] == '\t')
			continue; /* not a header line (an obsolete fold, or garbage) */
		if (name_is(l->data, n, "Content-Length"))
			*length = parse_length(v);
		chunked |= name_is(l->data, n, "Transfer-Encoding");
		if (relay_header_is_hop(l->data, n) ||
		    (connection && relay_connection_lists(connection, l->data, n)))
			continue;
		more = curl_slist_append(out, l->data);
		if (!more)
			break;
		out = more;
	}
	free(connection);
	if (chunked) /* Transfer-Encoding wins (RFC 9112 section 6.3): libcurl de-chunked it */
		*length = -1;
	return out;
}
