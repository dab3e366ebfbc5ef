/* SPDX-License-Identifier: MIT */
/*
 * Configuration (aoai-agent.json(5)): reading the file and the top level.
 * The top of the config module: it calls the section parsers
 * (config_secrets.c, config_profile.c), which call config_credential.c;
 * all of them use the value readers of config_keys.c and the release and
 * lookups of config_model.c.  Nothing below calls back up here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "read_full.h"
#include "config.h"
#include "config_keys.h"
#include "config_profile.h"
#include "config_secrets.h"
#include "proto.h"

#define CFG_NO_PATH "<config>"

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
