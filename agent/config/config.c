/* SPDX-License-Identifier: MIT */
/*
 * Configuration (aoai-agent.json(5)): reading the file, the top level, the value
 * readers shared by the section parsers (config-profile.c,
 * config-credential.c, config-secrets.c), lookup and release.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "read_full.h"
#include "config_internal.h"
#include "proto.h"

#define CFG_NO_PATH   "<config>"
#define CFG_MAX_SHOWN 80 /* bytes of a user-written name or key quoted in a message */
#define CFG_MAX_MSG   512

static const char *const exists_action_names[] = {
	[EXISTS_OVERRIDE] = "override",
	[EXISTS_SKIP] = "skip",
	[EXISTS_APPEND] = "append",
};

const char *exists_action_name(enum exists_action action)
{
	if ((size_t)action >= sizeof(exists_action_names) / sizeof(exists_action_names[0]))
		return "unknown";
	return exists_action_names[action];
}

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

/* Checks that top-level @key, when present, is an object of at most @max entries. */
static int section(const struct cfg_ctx *ctx, json_t *root, const char *key, size_t max,
		   json_t **ret)
{
	json_t *v = json_object_get(root, key);

	if (v && !json_is_object(v))
		return cfg_error(ctx, key, "must be an object");
	if (json_object_size(v) > max)
		return cfg_error(ctx, key, "has more than %zu entries", max);
	*ret = v;
	return 0;
}

static int config_alloc(const struct cfg_ctx *ctx, const char *path, size_t n_profiles,
			size_t n_secrets, struct config **ret)
{
	struct config *c = calloc(1, sizeof(*c));

	if (!c)
		return cfg_oom(ctx);
	if (path && !(c->path = strdup(path)))
		goto oom;
	if (n_profiles > 0 && !(c->profiles = calloc(n_profiles, sizeof(*c->profiles))))
		goto oom;
	/* Every api-key profile may turn its "file" into a secret source: room for all. */
	if (n_secrets + n_profiles > 0 &&
	    !(c->secrets = calloc(n_secrets + n_profiles, sizeof(*c->secrets))))
		goto oom;
	*ret = c;
	return 0;
oom:
	config_free(c);
	return cfg_oom(ctx);
}

static int parse_profiles(const struct cfg_ctx *top, json_t *profiles, struct config *c)
{
	struct cfg_ctx ctx = *top;
	const char *name;
	json_t *v, *hostset;
	int r = 0;

	if (!profiles)
		return 0;
	/* canonical host pattern → name of the profile that lists it */
	hostset = json_object();
	if (!hostset)
		return cfg_oom(top);
	ctx.what = "profile";
	json_object_foreach(profiles, name, v)
	{
		struct profile *p = &c->profiles[c->n_profiles++];

		ctx.name = name;
		if (!proto_name_valid(name))
			r = cfg_error(&ctx, NULL,
				      "invalid name (1 to %d letters, digits, '.', '_' or '-')",
				      PROTO_MAX_NAME);
		else if (!(p->name = strdup(name)))
			r = cfg_oom(&ctx);
		else
			r = cfg_parse_profile(&ctx, v, c, p, hostset);
		if (r < 0)
			break;
	}
	json_decref(hostset);
	return r;
}

/* "store": {"kdf": "moderate" | "interactive" | "sensitive"}. */
static int parse_store(const struct cfg_ctx *ctx, json_t *root, struct config *c)
{
	static const char *const keys[] = { "kdf", NULL };
	static const char *const strengths[] = {
		[STORE_KDF_MODERATE] = "moderate",
		[STORE_KDF_INTERACTIVE] = "interactive",
		[STORE_KDF_SENSITIVE] = "sensitive",
	};
	json_t *store = json_object_get(root, "store");
	const char *kdf = NULL;
	int r;

	if (!store)
		return 0;
	if (!json_is_object(store))
		return cfg_error(ctx, "store", "must be an object");
	r = cfg_check_keys(ctx, store, "store", keys, NULL);
	if (r == 0)
		r = cfg_string(ctx, store, "store", "kdf", false, &kdf);
	for (size_t i = 0; r == 0 && kdf && i < sizeof(strengths) / sizeof(strengths[0]); i++)
		if (strcmp(kdf, strengths[i]) == 0) {
			c->store_kdf = (enum store_strength)i;
			return 0;
		}
	if (r == 0 && kdf)
		return cfg_error(ctx, "store.kdf",
				 "must be \"moderate\", \"interactive\" or \"sensitive\"");
	return r;
}

static int config_build(const struct cfg_ctx *ctx, json_t *root, const char *path,
			struct config **ret)
{
	static const char *const keys[] = { "profiles", "secrets", "store", NULL };
	json_t *profiles = NULL, *secrets = NULL;
	struct config *c = NULL;
	int r;

	if (!json_is_object(root))
		return cfg_error(ctx, NULL, "the top level must be a JSON object");
	r = cfg_check_keys(ctx, root, NULL, keys, NULL);
	if (r >= 0)
		r = section(ctx, root, "profiles", CONFIG_MAX_PROFILES, &profiles);
	if (r >= 0)
		r = section(ctx, root, "secrets", CONFIG_MAX_SECRETS, &secrets);
	if (r >= 0)
		r = config_alloc(ctx, path, json_object_size(profiles), json_object_size(secrets),
				 &c);
	/* Secrets first: an api-key "file" must not shadow a secret defined there. */
	if (r >= 0 && secrets)
		r = cfg_parse_secrets(ctx, secrets, c);
	if (r >= 0)
		r = parse_profiles(ctx, profiles, c);
	if (r >= 0)
		r = cfg_check_secrets(ctx, c);
	if (r >= 0)
		r = parse_store(ctx, root, c);
	if (r < 0) {
		config_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

int config_parse(const char *text, size_t len, const char *path, struct config **ret, char *err,
		 size_t errlen)
{
	struct cfg_ctx ctx = { .path = path ? path : CFG_NO_PATH, .err = err, .errlen = errlen };
	json_error_t jerr;
	json_t *root;
	int r;

	if (err && errlen > 0)
		err[0] = '\0';
	if (len > CONFIG_MAX_FILE) {
		cfg_error(&ctx, NULL, "is larger than %d bytes", CONFIG_MAX_FILE);
		return -EFBIG;
	}
	root = json_loadb(text ? text : "", text ? len : 0, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (json_error_code(&jerr) == json_error_out_of_memory)
			return cfg_oom(&ctx);
		if (err && errlen > 0)
			snprintf(err, errlen, "%s:%d:%d: %s", ctx.path, jerr.line, jerr.column,
				 jerr.text);
		return -EINVAL;
	}
	r = config_build(&ctx, root, path, ret);
	json_decref(root);
	return r;
}

static int io_error(const struct cfg_ctx *ctx, int r, const char *what)
{
	if (ctx->err && ctx->errlen > 0)
		snprintf(ctx->err, ctx->errlen, "%s: %s: %s", ctx->path, what, strerror(-r));
	return r;
}

/* Reads all of @fd, at most CONFIG_MAX_FILE bytes (-EFBIG beyond). */
static int read_bounded(int fd, char **ret, size_t *ret_len)
{
	char *buf = malloc(CONFIG_MAX_FILE + 1);
	ssize_t len;

	if (!buf)
		return -ENOMEM;
	len = read_full(fd, buf, CONFIG_MAX_FILE + 1);
	if (len < 0) {
		free(buf);
		return (int)len;
	}
	if (len > CONFIG_MAX_FILE) {
		free(buf);
		return -EFBIG;
	}
	*ret = buf;
	*ret_len = (size_t)len;
	return 0;
}

/* Gives the read error @r its message. */
static int read_error(const struct cfg_ctx *ctx, int r)
{
	if (r == -EFBIG)
		cfg_error(ctx, NULL, "is larger than %d bytes", CONFIG_MAX_FILE);
	else if (r == -ENOMEM)
		cfg_oom(ctx);
	else if (r < 0)
		io_error(ctx, r, "cannot read");
	return r;
}

static int read_file(const struct cfg_ctx *ctx, const char *path, char **ret, size_t *ret_len)
{
	struct stat st;
	int fd, r;

	/* Symlinks are fine; O_NONBLOCK so that a FIFO cannot hang us before it is refused. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return io_error(ctx, -errno, "cannot open");
	if (fstat(fd, &st) < 0)
		r = io_error(ctx, -errno, "cannot stat");
	else if (!S_ISREG(st.st_mode))
		r = cfg_error(ctx, NULL, "not a regular file");
	else
		r = read_error(ctx, read_bounded(fd, ret, ret_len));
	close(fd);
	return r;
}

int config_load(const char *path, struct config **ret, char *err, size_t errlen)
{
	struct cfg_ctx ctx = { .path = path ? path : CFG_NO_PATH, .err = err, .errlen = errlen };
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (err && errlen > 0)
		err[0] = '\0';
	if (!path)
		return cfg_error(&ctx, NULL, "no configuration file given");
	r = read_file(&ctx, path, &buf, &len);
	if (r < 0)
		return r;
	r = config_parse(buf, len, path, ret, err, errlen);
	free(buf);
	return r;
}

struct config *config_new_empty(void)
{
	return calloc(1, sizeof(struct config));
}

static void strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void credential_done(struct credential *cr)
{
	free(cr->secret);
	free(cr->client_id);
	free(cr->object_id);
	free(cr->resource_id);
	free(cr->endpoint);
	free(cr->tenant_id);
	free(cr->token_file);
	free(cr->authority_host);
	free(cr->certificate);
}

static bool str_equal(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int credential_copy(struct credential *dst, const struct credential *src)
{
	const char *const from[] = { src->secret,      src->client_id,      src->object_id,
				     src->resource_id, src->endpoint,       src->tenant_id,
				     src->token_file,  src->authority_host, src->certificate };
	char **const to[] = { &dst->secret,      &dst->client_id,      &dst->object_id,
			      &dst->resource_id, &dst->endpoint,       &dst->tenant_id,
			      &dst->token_file,  &dst->authority_host, &dst->certificate };

	memset(dst, 0, sizeof(*dst));
	dst->type = src->type;
	dst->send_chain = src->send_chain;
	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++)
		if (from[i] && !(*to[i] = strdup(from[i]))) {
			credential_done(dst);
			memset(dst, 0, sizeof(*dst));
			return -ENOMEM;
		}
	return 0;
}

bool credential_equal(const struct credential *a, const struct credential *b)
{
	return a->type == b->type && a->send_chain == b->send_chain &&
	       str_equal(a->secret, b->secret) && str_equal(a->client_id, b->client_id) &&
	       str_equal(a->object_id, b->object_id) && str_equal(a->resource_id, b->resource_id) &&
	       str_equal(a->endpoint, b->endpoint) && str_equal(a->tenant_id, b->tenant_id) &&
	       str_equal(a->token_file, b->token_file) &&
	       str_equal(a->authority_host, b->authority_host) &&
	       str_equal(a->certificate, b->certificate);
}

static void profile_done(struct profile *p)
{
	size_t i;

	free(p->name);
	free(p->hosts);
	credential_done(&p->cred);
	free(p->scope);
	for (i = 0; p->headers && i < p->n_headers; i++) {
		free(p->headers[i].name);
		free(p->headers[i].value);
	}
	free(p->headers);
	strv_free(p->allow.exe, p->allow.n_exe);
	strv_free(p->allow.unit, p->allow.n_unit);
	free(p->allow.uid);
}

static void secret_source_done(struct secret_source *s)
{
	free(s->name);
	free(s->path);
	free(s->cred);
	free(s->url);
	free(s->via);
	if (s->credential)
		credential_done(s->credential);
	free(s->credential);
}

struct config *config_free(struct config *c)
{
	size_t i;

	if (!c)
		return NULL;
	for (i = 0; c->profiles && i < c->n_profiles; i++)
		profile_done(&c->profiles[i]);
	for (i = 0; c->secrets && i < c->n_secrets; i++)
		secret_source_done(&c->secrets[i]);
	free(c->profiles);
	free(c->secrets);
	free(c->path);
	free(c);
	return NULL;
}

const struct profile *config_find_profile(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; c && name && i < c->n_profiles; i++)
		if (c->profiles[i].name && strcmp(c->profiles[i].name, name) == 0)
			return &c->profiles[i];
	return NULL;
}

const struct secret_source *config_find_secret(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; c && name && i < c->n_secrets; i++)
		if (c->secrets[i].name && strcmp(c->secrets[i].name, name) == 0)
			return &c->secrets[i];
	return NULL;
}
