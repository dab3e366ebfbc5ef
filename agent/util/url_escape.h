/* SPDX-License-Identifier: MIT */
/*
 * Percent-encoding of form values and query parameters (RFC 3986 §2.1):
 * what curl_easy_escape() does, without loading libcurl to build a request
 * or mask a secret in a message.
 */
#pragma once

#include <stddef.h>

/*
 * @len bytes of @s (strlen(@s) when 0), every byte but the unreserved
 * characters A-Z a-z 0-9 - . _ ~ written as %XX (upper case).  Returns a
 * string for url_escape_free(); NULL when out of memory.
 */
char *url_escape(const char *s, size_t len);
/* Wipes (the value may be a secret) and frees.  Accepts NULL; returns NULL. */
char *url_escape_free(char *esc);
