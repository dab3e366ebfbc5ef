/* SPDX-License-Identifier: MIT */
/*
 * The "headers" request of a plain URL, built on the caller's stack.
 *
 * URLs are printable ASCII in practice, and in JSON those bytes stand for
 * themselves except '"' and '\'.  Such a URL is copied between the
 * request's fixed head and tail in one pass, with no allocation and no
 * UTF-8 check (ASCII is valid UTF-8); anything else is left to
 * json_mini_headers_request(), which escapes and validates.
 */
#include <string.h>

#include "hook.h"

#define REQUEST_HEAD "{\"v\":1,\"op\":\"headers\",\"url\":\""
#define REQUEST_TAIL "\"}"

size_t headers_request_plain(const char *url, char *buf, size_t cap)
{
	size_t head = sizeof(REQUEST_HEAD) - 1, tail = sizeof(REQUEST_TAIL) - 1, i;
	char *p = buf + head;

	for (i = 0; url[i]; i++) {
		unsigned char c = (unsigned char)url[i];

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\' || head + i + tail >= cap)
			return 0;
		p[i] = (char)c;
	}
	memcpy(buf, REQUEST_HEAD, head);
	memcpy(p + i, REQUEST_TAIL, tail);
	return head + i + tail;
}
