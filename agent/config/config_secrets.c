/* SPDX-License-Identifier: MIT */
/*
 * The top-level "secrets" (aoai-agent.json(5)): named values read from a file, from
 * systemd's $CREDENTIALS_DIRECTORY, or from Azure Key Vault with a token
 * profile ("via") or the secret's own token "credential".  Only where to
 * find them lives here; the values never do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "curl_dl.h"
#include "config_keys.h"
#include "config_credential.h"
#include "config_secrets.h"
#include "proto.h"

#define CFG_MIN_REFRESH         5L
#define CFG_MAX_REFRESH         (365L * 24 * 3600)
#define CFG_MAX_CREDENTIAL_NAME 255
#define KEYVAULT_PATH_PREFIX    "/secrets/"
#define KEYVAULT_MAX_NAME       127
#define KEYVAULT_MAX_VERSION    64
#define CFG_MAX_URL_MSG         160

static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/* Key Vault's DNS suffixes in the public and sovereign clouds. */
static const char *const keyvault_suffixes[] = {
	".vault.azure.net",
	".vault.azure.cn",
	".vault.usgovcloudapi.net",
	".vault.microsoftazure.de",
	NULL,
};

/* True when the first @n bytes of @s are all letters, digits or in @extra. */
static bool chars_only(const char *s, size_t n, const char *extra)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!s[i] || (!strchr(alnum, s[i]) && !strchr(extra, s[i])))
			return false;
	return true;
}

/* A systemd credential name: a plain file name in $CREDENTIALS_DIRECTORY. */
static bool credential_name_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= CFG_MAX_CREDENTIAL_NAME && chars_only(s, n, "._-") &&
	       strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static bool keyvault_host_valid(const char *host)
{
	size_t i, hlen = strlen(host), slen;

	for (i = 0; keyvault_suffixes[i]; i++) {
		slen = strlen(keyvault_suffixes[i]);
		if (hlen > slen && strcmp(host + hlen - slen, keyvault_suffixes[i]) == 0)
			return true;
	}
	return false;
}

/* "/secrets/NAME" or "/secrets/NAME/VERSION", as Key Vault spells them. */
static bool keyvault_path_valid(const char *path)
{
	const char *name, *slash;
	size_t n;

	if (strncmp(path, KEYVAULT_PATH_PREFIX, strlen(KEYVAULT_PATH_PREFIX)) != 0)
		return false;
	name = path + strlen(KEYVAULT_PATH_PREFIX);
	slash = strchr(name, '/');
	n = slash ? (size_t)(slash - name) : strlen(name);
	if (n == 0 || n > KEYVAULT_MAX_NAME || !chars_only(name, n, "-"))
		return false;
	if (!slash)
		return true;
	n = strlen(slash + 1);
	return n > 0 && n <= KEYVAULT_MAX_VERSION && chars_only(slash + 1, n, "");
}

/* The parts of the URL besides scheme and host: the path, and nothing extra. */
static int keyvault_url_rest(const struct cfg_ctx *ctx, const char *url)
{
	static const CURLUPart extra[] = { CURLUPART_USER, CURLUPART_QUERY, CURLUPART_FRAGMENT };
	char *part = NULL;
	size_t i;
	char why[CURL_DL_MAX_ERROR];
	int r = 0;
	CURLU *u;

	if (curl_dl_open(why, sizeof(why)) < 0)
		return cfg_error(ctx, "keyvault", "%s", why);
	u = sym_curl_url();
	if (!u)
		return cfg_oom(ctx);
	if (sym_curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    sym_curl_url_get(u, CURLUPART_PATH, &part, 0) != CURLUE_OK ||
	    !keyvault_path_valid(part))
		r = cfg_error(ctx, "keyvault",
			      "must be a secret URL ending in /secrets/NAME[/VERSION]");
	for (i = 0; r >= 0 && i < sizeof(extra) / sizeof(extra[0]); i++) {
		sym_curl_free(part);
		part = NULL;
		if (sym_curl_url_get(u, extra[i], &part, 0) == CURLUE_OK)
			r = cfg_error(ctx, "keyvault",
				      "must not carry a user name, query or fragment");
	}
	sym_curl_free(part);
	sym_curl_url_cleanup(u);
	return r;
}

static int keyvault_url_check(const struct cfg_ctx *ctx, const char *url)
{
	char msg[CFG_MAX_URL_MSG];
	struct url_target t;
	int r;

	r = url_target_parse(url, &t, msg, sizeof(msg));
	if (r == -ENOMEM)
		return cfg_oom(ctx);
	if (r < 0)
		return cfg_error(ctx, "keyvault", "%s", msg);
	/* Loopback is for local stand-ins of Key Vault (tests, demo). */
	if (!t.loopback && (!t.https || !keyvault_host_valid(t.host)))
		return cfg_error(
		    ctx, "keyvault",
		    "must be https://NAME.vault.azure.net/secrets/SECRET[/VERSION] (or "
		    "another cloud's vault domain)");
	return keyvault_url_rest(ctx, url);
}

/*
 * "credential": what a profile's takes, for a token type only; parsed by
 * the profile parser into a profile that exists only for the parse.
 */
static int parse_vault_credential(const struct cfg_ctx *ctx, json_t *v, struct config *c,
				  struct secret_source *s)
{
	json_t *type = json_object_get(v, "type");
	struct profile tmp = { .name = s->name };
	int r;

	/* Refused before parsing: an api-key "file" would define a secret. */
	if (json_is_object(v) && json_is_string(type) &&
	    (strcmp(json_string_value(type), cred_type_name(CRED_API_KEY)) == 0 ||
	     strcmp(json_string_value(type), cred_type_name(CRED_OIDC)) == 0 ||
	     strcmp(json_string_value(type), cred_type_name(CRED_USER)) == 0))
		return cfg_error(ctx, "credential.type",
				 "\"%s\" yields no token for Key Vault; use an Entra ID type "
				 "(managed-identity, workload-identity, client-secret, "
				 "client-certificate, azure-cli)",
				 json_string_value(type));
	r = cfg_parse_credential(ctx, v, c, &tmp);
	if (r >= 0 && !(s->credential = malloc(sizeof(*s->credential))))
		r = cfg_oom(ctx);
	if (r < 0) {
		credential_done(&tmp.cred);
		return r;
	}
	*s->credential = tmp.cred;
	return 0;
}

/* Where the token for Key Vault comes from: exactly one of "via" and "credential". */
static int parse_vault_token(const struct cfg_ctx *ctx, json_t *v, struct config *c,
			     struct secret_source *s)
{
	json_t *cred = json_object_get(v, "credential");

	if (cred && json_object_get(v, "via"))
		return cfg_error(ctx, "credential",
				 "cannot be combined with \"via\": give one of them");
	if (!cred && !json_object_get(v, "via"))
		return cfg_error(ctx, "via",
				 "is required (or an inline \"credential\") with \"keyvault\"");
	if (cred)
		return parse_vault_credential(ctx, cred, c, s);
	return cfg_name(ctx, v, NULL, "via", true, &s->via);
}

static int parse_keyvault(const struct cfg_ctx *ctx, json_t *v, struct config *c,
			  struct secret_source *s)
{
	json_t *refresh = json_object_get(v, "refresh");
	json_int_t n = CONFIG_DEFAULT_KEYVAULT_REFRESH;
	const char *url;
	int r;

	s->kind = SOURCE_KEYVAULT;
	r = cfg_string(ctx, v, NULL, "keyvault", true, &url);
	if (r >= 0)
		r = keyvault_url_check(ctx, url);
	if (r >= 0 && !(s->url = strdup(url)))
		r = cfg_oom(ctx);
	if (r >= 0)
		r = parse_vault_token(ctx, v, c, s);
	if (r < 0)
		return r;
	if (refresh && !json_is_integer(refresh))
		return cfg_error(ctx, "refresh", "must be an integer number of seconds");
	if (refresh)
		n = json_integer_value(refresh);
	if (n < CFG_MIN_REFRESH || n > CFG_MAX_REFRESH)
		return cfg_error(ctx, "refresh", "must be from %ld to %ld seconds", CFG_MIN_REFRESH,
				 CFG_MAX_REFRESH);
	s->refresh = (long)n;
	return 0;
}

static int parse_credentials(const struct cfg_ctx *ctx, json_t *v, struct secret_source *s)
{
	const char *name;
	int r;

	s->kind = SOURCE_CREDENTIALS;
	r = cfg_string(ctx, v, NULL, "credentials", true, &name);
	if (r < 0)
		return r;
	if (!credential_name_valid(name))
		return cfg_error(
		    ctx, "credentials",
		    "must be a credential name (letters, digits, '.', '_', '-'; no '/')");
	s->cred = strdup(name);
	return s->cred ? 0 : cfg_oom(ctx);
}

static int parse_secret(const struct cfg_ctx *ctx, json_t *v, struct config *c,
			struct secret_source *s)
{
	static const char *const keys[] = { "file",    "credentials", "keyvault", "via",
					    "refresh", "credential",  NULL };
	static const char *const kv_only[] = { "via", "credential", "refresh" };
	bool file, creds, kv;
	int r;

	if (!json_is_object(v))
		return cfg_error(
		    ctx, NULL, "must be an object with \"file\", \"credentials\" or \"keyvault\"");
	r = cfg_check_keys(ctx, v, NULL, keys, NULL);
	if (r < 0)
		return r;
	file = json_object_get(v, "file");
	creds = json_object_get(v, "credentials");
	kv = json_object_get(v, "keyvault");
	if (!file && !creds && !kv)
		return cfg_error(ctx, NULL,
				 "needs one of \"file\", \"credentials\" or \"keyvault\"");
	if (file + creds + kv > 1)
		return cfg_error(
		    ctx, kv ? "keyvault" : "credentials",
		    "only one of \"file\", \"credentials\" and \"keyvault\" may be given");
	if (kv)
		return parse_keyvault(ctx, v, c, s);
	for (size_t i = 0; i < sizeof(kv_only) / sizeof(kv_only[0]); i++)
		if (json_object_get(v, kv_only[i]))
			return cfg_error(ctx, kv_only[i], "is only valid with \"keyvault\"");
	if (creds)
		return parse_credentials(ctx, v, s);
	s->kind = SOURCE_FILE;
	return cfg_path(ctx, v, NULL, "file", true, &s->path);
}

int cfg_parse_secrets(const struct cfg_ctx *top, json_t *secrets, struct config *c)
{
	struct cfg_ctx ctx = *top;
	const char *name;
	json_t *v;
	int r;

	ctx.what = "secret";
	json_object_foreach(secrets, name, v)
	{
		struct secret_source *s = &c->secrets[c->n_secrets++];

		ctx.name = name;
		if (!proto_name_valid(name))
			return cfg_error(&ctx, NULL,
					 "invalid name (1 to %d letters, digits, '.', '_' or '-')",
					 PROTO_MAX_NAME);
		s->name = strdup(name);
		if (!s->name)
			return cfg_oom(&ctx);
		r = parse_secret(&ctx, v, c, s);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The credential that gets @src its Key Vault token: inline or the via profile's. */
static const struct credential *vault_credential(const struct config *c,
						 const struct secret_source *src)
{
	const struct profile *p;

	if (src->credential)
		return src->credential;
	p = config_find_profile(c, src->via);
	return p ? &p->cred : NULL;
}

/*
 * The token for Key Vault must not wait for the very secret it fetches:
 * follows client-secret credentials whose secret is itself in a vault.
 */
static int check_cycle(const struct cfg_ctx *ctx, const struct config *c,
		       const struct secret_source *s)
{
	const struct secret_source *cur = s, *prev;
	const struct credential *cred;

	for (size_t steps = 0; steps < c->n_secrets; steps++) {
		cred = vault_credential(c, cur);
		if (!cred || cred->type != CRED_CLIENT_SECRET)
			return 0;
		prev = cur;
		cur = config_find_secret(c, cred->secret);
		if (!cur || cur->kind != SOURCE_KEYVAULT)
			return 0;
		if (cur != s)
			continue;
		if (s->credential && prev == s)
			return cfg_error(ctx, "credential.secret",
					 "circular: names this secret itself");
		if (prev->credential)
			return cfg_error(ctx, s->credential ? "credential.secret" : "via",
					 "circular: the credential of secret \"%s\" needs this "
					 "secret",
					 prev->name);
		return cfg_error(ctx, s->credential ? "credential.secret" : "via",
				 "circular: the token of profile \"%s\" needs this secret",
				 prev->via);
	}
	return 0;
}

/* "via" names a token profile. */
static int check_via(const struct cfg_ctx *ctx, const struct config *c,
		     const struct secret_source *s)
{
	const struct profile *p = config_find_profile(c, s->via);

	if (!p)
		return cfg_error(ctx, "via", "there is no profile \"%s\"", s->via);
	if (!cred_type_is_token(p->cred.type))
		return cfg_error(ctx, "via",
				 "profile \"%s\" has credential type \"%s\", which yields no token",
				 s->via, cred_type_name(p->cred.type));
	if (p->cred.type == CRED_OIDC)
		return cfg_error(ctx, "via",
				 "profile \"%s\" gets its token from another OpenID Connect "
				 "provider, not from Entra ID as Key Vault needs",
				 s->via);
	return 0;
}

int cfg_check_secrets(const struct cfg_ctx *top, const struct config *c)
{
	struct cfg_ctx ctx = *top;
	size_t i;
	int r;

	ctx.what = "secret";
	for (i = 0; i < c->n_secrets; i++) {
		if (c->secrets[i].kind != SOURCE_KEYVAULT)
			continue;
		ctx.name = c->secrets[i].name;
		r = c->secrets[i].via ? check_via(&ctx, c, &c->secrets[i]) : 0;
		if (r >= 0)
			r = check_cycle(&ctx, c, &c->secrets[i]);
		if (r < 0)
			return r;
	}
	return 0;
}
