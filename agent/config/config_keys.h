/* SPDX-License-Identifier: MIT */
/*
 * Private to the config module, its ground floor (config_keys.c): the parse
 * context and the value readers that turn every problem into one message of
 * the form
 *   PATH: profile "P": key "K": what is wrong
 * Nothing here is part of config.h's interface.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define CFG_MAX_STRING 4096 /* bytes of any string value (paths, URLs, scopes …) */
#define CFG_MAX_KEY    256  /* bytes of a dotted key as shown in messages */

/* Where the parser is: for messages only. */
struct cfg_ctx {
	const char *path; /* "<config>" when parsing text without a file */
	const char *what; /* "profile", "secret", or NULL at the top level */
	const char *name; /* the profile's or secret's name */
	char *err;
	size_t errlen;
};

/* Formats the message into ctx->err; @key may be NULL.  Returns -EINVAL. */
int cfg_error(const struct cfg_ctx *ctx, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes an out-of-memory message.  Returns -ENOMEM. */
int cfg_oom(const struct cfg_ctx *ctx);
/* Writes "@prefix.@key" (or just @key) into @buf of CFG_MAX_KEY bytes; returns @buf. */
char *cfg_key(char *buf, const char *prefix, const char *key);
/* Writes the NULL-terminated @keys as "a, b, c" into @buf (cut at @len); returns @buf. */
char *cfg_key_list(char *buf, size_t len, const char *const *keys);

/*
 * Fails on the first key of @obj not in the NULL-terminated @allowed list,
 * naming it as "@prefix.key" and listing the valid ones (a misspelt key is
 * the usual cause); @what says what the keys belong to (NULL: "unknown
 * key").  Returns 0 or -EINVAL.
 */
int cfg_check_keys(const struct cfg_ctx *ctx, json_t *obj, const char *prefix,
		   const char *const *allowed, const char *what);

/*
 * Value readers.  Each reads @obj[@key], shown in messages as
 * "@prefix.@key".  When the key is absent they return 0 and leave *ret NULL,
 * unless @required (then -EINVAL).  Strings must be non-empty, at most
 * CFG_MAX_STRING bytes and free of control characters.
 */
int cfg_string(const struct cfg_ctx *ctx, json_t *obj, const char *prefix, const char *key,
	       bool required, const char **ret);
/* The same checks on a value @v already at hand (an array element …), shown as @key. */
int cfg_string_value(const struct cfg_ctx *ctx, const char *key, json_t *v, const char **ret);
int cfg_strdup(const struct cfg_ctx *ctx, json_t *obj, const char *prefix, const char *key,
	       bool required, char **ret);
/* A secret or profile name (proto_name_valid()). */
int cfg_name(const struct cfg_ctx *ctx, json_t *obj, const char *prefix, const char *key,
	     bool required, char **ret);
/* An absolute path, or one starting with "~/" (expanded with $HOME). */
int cfg_path(const struct cfg_ctx *ctx, json_t *obj, const char *prefix, const char *key,
	     bool required, char **ret);
