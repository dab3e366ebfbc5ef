/* SPDX-License-Identifier: MIT */
/*
 * Which headers a relay passes on (RFC 9110 section 7.6.1): never the
 * hop-by-hop ones, nor any a Connection header names; never the framing
 * (Content-Length, Transfer-Encoding), which each hop sets for itself.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

/* Whether @name (@len bytes) is hop-by-hop or framing, whatever Connection says. */
bool relay_header_is_hop(const char *name, size_t len);
/* Whether the Connection header value @connection lists @name (@len bytes). */
bool relay_connection_lists(const char *connection, const char *name, size_t len);
/*
 * The "Name: value" lines of @lines to send on, in order; the
 * Content-Length in *@length (-1 without one, or with an unreadable one).
 * NULL: none, or out of memory (the head is then relayed without them).
 */
struct curl_slist *relay_response_head(const struct curl_slist *lines, long long *length);
