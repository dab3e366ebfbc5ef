/* SPDX-License-Identifier: MIT */
/* Percent-encoding (url_escape.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "url_escape.h"

#define URL_ESCAPE_WIDTH 3 /* "%XX" */

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

char *url_escape(const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out, *o;

	if (len == 0)
		len = strlen(s);
	if (len > (SIZE_MAX - 1) / URL_ESCAPE_WIDTH)
		return NULL;
	out = malloc(len * URL_ESCAPE_WIDTH + 1);
	if (!out)
		return NULL;
	o = out;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (unreserved(c)) {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 0xf];
		}
	}
	*o = '\0';
	return out;
}

char *url_escape_free(char *esc)
{
	if (esc) {
		sodium_memzero(esc, strlen(esc));
		free(esc);
	}
	return NULL;
}
