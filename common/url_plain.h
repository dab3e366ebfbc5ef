/* SPDX-License-Identifier: MIT */
/*
 * The plain URLs clients send ("https://contoso.openai.azure.com/openai/..."),
 * read without libcurl: url_target_parse() asks here first and gives every
 * other URL to libcurl (url_plain.c says which are plain, and why the answer
 * is libcurl's).
 */
#pragma once

#include <stdbool.h>

#include "hosts.h"
#include "url_authority.h"

/*
 * True when @url is in the plain subset: @ret and @ret_a then hold exactly
 * what libcurl's path (url_target_parse_libcurl) hands back for it.  False,
 * with @ret and @ret_a untouched, for any other URL, valid or not: the caller
 * asks libcurl, whose answer or error stands.
 */
bool url_plain_parse(const char *url, struct url_target *ret, struct url_authority *ret_a);
