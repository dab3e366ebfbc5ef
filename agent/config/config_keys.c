/* SPDX-License-Identifier: MIT */
/*
 * The ground floor of the config parsers: messages ("PATH: profile "P":
 * key "K": what is wrong"), key checks and the value readers every section
 * uses (config_keys.h).  Calls no other file of the config module.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_keys.h"
#include "proto.h"

#define CFG_MAX_SHOWN 80 /* bytes of a user-written name or key quoted in a message */
#define CFG_MAX_MSG   512

/* Copies user-written @s for a message: bounded, quotes and controls replaced. */
static void shown(char *buf, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		buf[i] = (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\') ? '?' : s[i];
	}
	buf[i] = '\0';
	if (s[i] && i >= 3)
		memcpy(buf + i - 3, "...", 3);
}

int cfg_error(const struct cfg_ctx *ctx, const char *key, const char *fmt, ...)
{
	char msg[CFG_MAX_MSG], name[CFG_MAX_SHOWN + 1], k[CFG_MAX_KEY];
	char where[CFG_MAX_SHOWN + 32] = "", keypart[CFG_MAX_KEY + 16] = "";
	va_list ap;

	if (!ctx->err || ctx->errlen == 0)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ctx->what) {
		shown(name, sizeof(name), ctx->name ? ctx->name : "");
		snprintf(where, sizeof(where), "%s \"%s\": ", ctx->what, name);
	}
	if (key) {
		shown(k, sizeof(k), key);
		snprintf(keypart, sizeof(keypart), "key \"%s\": ", k);
	}
	snprintf(ctx->err, ctx->errlen, "%s: %s%s%s", ctx->path, where, keypart, msg);
	return -EINVAL;
}

int cfg_oom(const struct cfg_ctx *ctx)
{
	if (ctx->err && ctx->errlen > 0)
		snprintf(ctx->err, ctx->errlen, "%s: out of memory", ctx->path);
	return -ENOMEM;
}

char *cfg_key(char *buf, const char *prefix, const char *key)
{
	if (prefix)
		snprintf(buf, CFG_MAX_KEY, "%s.%s", prefix, key);
	else
		snprintf(buf, CFG_MAX_KEY, "%s", key);
	return buf;
}

char *cfg_key_list(char *buf, size_t len, const char *const *keys)
{
	size_t used = 0;
	int n;

	buf[0] = '\0';
	for (size_t i = 0; keys[i] && used < len; i++) {
		n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", keys[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

int cfg_check_keys(const struct cfg_ctx *ctx, json_t *obj, const char *prefix,
		   const char *const *allowed, const char *what)
{
	char k[CFG_MAX_KEY], valid[CFG_MAX_KEY];
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(obj, key, v)
	{
		for (i = 0; allowed[i] && strcmp(allowed[i], key) != 0; i++)
			;
		if (allowed[i])
			continue;
		cfg_key_list(valid, sizeof(valid), allowed);
		if (what)
			return cfg_error(ctx, cfg_key(k, prefix, key),
					 "unknown key for %s (valid: %s)", what, valid);
		return cfg_error(ctx, cfg_key(k, prefix, key), "unknown key (valid: %s)", valid);
	}
	return 0;
}

int cfg_string_value(const struct cfg_ctx *ctx, const char *key, json_t *v, const char **ret)
{
	const char *s;
	size_t i, len;

	if (!json_is_string(v))
		return cfg_error(ctx, key, "must be a string");
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0)
		return cfg_error(ctx, key, "must not be empty");
	if (len > CFG_MAX_STRING)
		return cfg_error(ctx, key, "is longer than %d bytes", CFG_MAX_STRING);
	/* Also catches an embedded NUL, should jansson ever be told to allow one. */
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return cfg_error(ctx, key, "must not contain control characters");
	*ret = s;
	return 0;
}

int cfg_string(const struct cfg_ctx *ctx, json_t *obj, const char *prefix, const char *key,
	       bool required, const char **ret)
{
	json_t *v = json_object_get(obj, key);
	char k[CFG_MAX_KEY];

	cfg_key(k, prefix, key);
	if (!v) {
		if (required)
			return cfg_error(ctx, k, "is required");
		*ret = NULL;
		return 0;
	}
	return cfg_string_value(ctx, k, v, ret);
}

int cfg_strdup(const struct cfg_ctx *ctx, json_t *obj, const char *prefix, const char *key,
	       bool required, char **ret)
{
	const char *s;
	char *dup = NULL;
	int r;

	r = cfg_string(ctx, obj, prefix, key, required, &s);
	if (r < 0)
		return r;
	if (s && !(dup = strdup(s)))
		return cfg_oom(ctx);
	*ret = dup;
	return 0;
}

int cfg_name(const struct cfg_ctx *ctx, json_t *obj, const char *prefix, const char *key,
	     bool required, char **ret)
{
	char k[CFG_MAX_KEY];
	const char *s;
	char *dup = NULL;
	int r;

	r = cfg_string(ctx, obj, prefix, key, required, &s);
	if (r < 0)
		return r;
	if (s && !proto_name_valid(s))
		return cfg_error(ctx, cfg_key(k, prefix, key),
				 "must be a name of 1 to %d letters, digits, '.', '_' or '-'",
				 PROTO_MAX_NAME);
	if (s && !(dup = strdup(s)))
		return cfg_oom(ctx);
	*ret = dup;
	return 0;
}

int cfg_path(const struct cfg_ctx *ctx, json_t *obj, const char *prefix, const char *key,
	     bool required, char **ret)
{
	const char *s, *home = "";
	char k[CFG_MAX_KEY], *out;
	size_t len;
	int r;

	r = cfg_string(ctx, obj, prefix, key, required, &s);
	if (r < 0 || !s) {
		if (r >= 0)
			*ret = NULL;
		return r;
	}
	cfg_key(k, prefix, key);
	if (strncmp(s, "~/", 2) == 0) {
		home = secure_getenv("HOME");
		if (!home || home[0] != '/')
			return cfg_error(ctx, k,
					 "starts with \"~/\" but $HOME is not an absolute path");
		s++;
	} else if (s[0] != '/') {
		return cfg_error(ctx, k, "must be an absolute path (or start with \"~/\")");
	}
	len = strlen(home) + strlen(s);
	if (len > CFG_MAX_STRING)
		return cfg_error(ctx, k, "is longer than %d bytes", CFG_MAX_STRING);
	out = malloc(len + 1);
	if (!out)
		return cfg_oom(ctx);
	snprintf(out, len + 1, "%s%s", home, s);
	*ret = out;
	return 0;
}
