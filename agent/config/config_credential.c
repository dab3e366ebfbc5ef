/* SPDX-License-Identifier: MIT */
/*
 * A profile's "credential" (aoai-agent.json(5)).  Each type is a row of cred_specs:
 * the string fields it takes (with their format and whether they are
 * required) and an optional hook for what does not fit a field.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_keys.h"
#include "config_credential.h"

#define CRED_PREFIX        "credential"
#define GUID_LEN           36
#define TENANT_MAX         253
#define IMDS_HOST          "169.254.169.254"
#define RESOURCE_ID_PREFIX "/subscriptions/"
#define CFG_MAX_URL_MSG    160
#define CRED_MAX_KEYS      8  /* "type", a type's fields and its extra keys */
#define CRED_MAX_PARAMS    16 /* oidc "params" */

enum field_kind {
	FIELD_GUID,
	FIELD_TENANT,      /* GUID or domain */
	FIELD_NAME,        /* a secret name */
	FIELD_PATH,        /* absolute or ~/ */
	FIELD_RESOURCE_ID, /* /subscriptions/… */
	FIELD_ENDPOINT,    /* managed identity: https, or http to loopback or IMDS */
	FIELD_AUTHORITY,   /* https, or http to loopback */
	FIELD_TEXT,        /* any string (an oidc client_id) */
};

struct field {
	const char *key;
	enum field_kind kind;
	bool required;
	size_t offset; /* of a char * in struct credential */
};

#define FIELD(k, kd, req, member)                             \
	{                                                     \
		.key = (k), .kind = (kd), .required = (req),  \
		.offset = offsetof(struct credential, member) \
	}
#define FIELD_END           \
	{                   \
		.key = NULL \
	}

struct cred_spec {
	const char *name;
	const struct field *fields;
	const char *const *extra; /* more keys (NULL-terminated), read by @post */
	int (*post)(const struct cfg_ctx *ctx, json_t *v, struct config *c, struct profile *p);
};

static const struct field api_key_fields[] = {
	FIELD("secret", FIELD_NAME, false, secret),
	FIELD_END,
};
static const struct field managed_identity_fields[] = {
	FIELD("client_id", FIELD_GUID, false, client_id),
	FIELD("object_id", FIELD_GUID, false, object_id),
	FIELD("resource_id", FIELD_RESOURCE_ID, false, resource_id),
	FIELD("endpoint", FIELD_ENDPOINT, false, endpoint),
	FIELD_END,
};
static const struct field workload_identity_fields[] = {
	FIELD("tenant_id", FIELD_TENANT, false, tenant_id),
	FIELD("client_id", FIELD_GUID, false, client_id),
	FIELD("token_file", FIELD_PATH, false, token_file),
	FIELD("authority_host", FIELD_AUTHORITY, false, authority_host),
	FIELD_END,
};
static const struct field client_secret_fields[] = {
	FIELD("tenant_id", FIELD_TENANT, true, tenant_id),
	FIELD("client_id", FIELD_GUID, true, client_id),
	FIELD("secret", FIELD_NAME, true, secret),
	FIELD("authority_host", FIELD_AUTHORITY, false, authority_host),
	FIELD_END,
};
static const struct field client_certificate_fields[] = {
	FIELD("tenant_id", FIELD_TENANT, true, tenant_id),
	FIELD("client_id", FIELD_GUID, true, client_id),
	FIELD("certificate", FIELD_PATH, true, certificate),
	FIELD("authority_host", FIELD_AUTHORITY, false, authority_host),
	FIELD_END,
};
static const struct field oidc_fields[] = {
	FIELD("issuer", FIELD_AUTHORITY, true, issuer),
	FIELD("client_id", FIELD_TEXT, true, client_id),
	FIELD("secret", FIELD_NAME, false, secret),
	FIELD("certificate", FIELD_PATH, false, certificate),
	FIELD_END,
};
static const struct field user_fields[] = {
	FIELD("tenant_id", FIELD_TENANT, false, tenant_id),
	FIELD("client_id", FIELD_GUID, false, client_id),
	FIELD("authority_host", FIELD_AUTHORITY, false, authority_host),
	FIELD_END,
};
static const char *const api_key_extra[] = { "file", NULL };
static const char *const user_extra[] = { "flow", NULL };
static const char *const client_certificate_extra[] = { "send_chain", NULL };
static const char *const oidc_extra[] = { "token_endpoint_auth", "params", "flow", NULL };
static const struct field azure_cli_fields[] = {
	FIELD("tenant_id", FIELD_TENANT, false, tenant_id),
	FIELD_END,
};

static int api_key_post(const struct cfg_ctx *ctx, json_t *v, struct config *c, struct profile *p);
static int managed_identity_post(const struct cfg_ctx *ctx, json_t *v, struct config *c,
				 struct profile *p);
static int client_certificate_post(const struct cfg_ctx *ctx, json_t *v, struct config *c,
				   struct profile *p);
static int oidc_post(const struct cfg_ctx *ctx, json_t *v, struct config *c, struct profile *p);
static int user_post(const struct cfg_ctx *ctx, json_t *v, struct config *c, struct profile *p);

static const struct cred_spec cred_specs[_CRED_TYPE_MAX] = {
	[CRED_API_KEY] = { "api-key", api_key_fields, api_key_extra, api_key_post },
	[CRED_MANAGED_IDENTITY] = { "managed-identity", managed_identity_fields, NULL,
				    managed_identity_post },
	[CRED_WORKLOAD_IDENTITY] = { "workload-identity", workload_identity_fields, NULL, NULL },
	[CRED_CLIENT_SECRET] = { "client-secret", client_secret_fields, NULL, NULL },
	[CRED_CLIENT_CERTIFICATE] = { "client-certificate", client_certificate_fields,
				      client_certificate_extra, client_certificate_post },
	[CRED_AZURE_CLI] = { "azure-cli", azure_cli_fields, NULL, NULL },
	[CRED_OIDC] = { "oidc", oidc_fields, oidc_extra, oidc_post },
	[CRED_USER] = { "user", user_fields, user_extra, user_post },
};

const char *cred_type_name(enum cred_type type)
{
	if ((size_t)type >= _CRED_TYPE_MAX)
		return "unknown";
	return cred_specs[type].name;
}

bool cred_type_is_token(enum cred_type type)
{
	return (size_t)type < _CRED_TYPE_MAX && type != CRED_API_KEY;
}

bool credential_is_person(const struct credential *cr)
{
	return cr->type == CRED_USER || (cr->type == CRED_OIDC && !cr->secret && !cr->certificate);
}

const char *signin_flow_name(enum signin_flow flow)
{
	return flow == SIGNIN_FLOW_DEVICE_CODE ? "device-code"
	       : flow == SIGNIN_FLOW_BROWSER   ? "browser"
					       : "default";
}

static bool guid_valid(const char *s)
{
	size_t i;

	if (strlen(s) != GUID_LEN)
		return false;
	for (i = 0; i < GUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

/* A tenant GUID, or a domain such as "contoso.onmicrosoft.com" (or "organizations"). */
static bool tenant_valid(const char *s)
{
	static const char chars[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-";
	size_t n = strlen(s);

	return n <= TENANT_MAX && strspn(s, chars) == n && s[0] != '.' && s[0] != '-';
}

static bool resource_id_valid(const char *s)
{
	return strncasecmp(s, RESOURCE_ID_PREFIX, strlen(RESOURCE_ID_PREFIX)) == 0 &&
	       s[strlen(RESOURCE_ID_PREFIX)] && !strchr(s, ' ');
}

/* Token endpoints: plain http only to loopback (and, for managed identity, IMDS). */
static int check_url(const struct cfg_ctx *ctx, const char *key, const char *s, bool imds)
{
	char msg[CFG_MAX_URL_MSG];
	struct url_target t;
	int r;

	r = url_target_parse(s, &t, msg, sizeof(msg));
	if (r == -ENOMEM)
		return cfg_oom(ctx);
	if (r < 0)
		return cfg_error(ctx, key, "%s", msg);
	if (t.https || t.loopback || (imds && strcmp(t.host, IMDS_HOST) == 0))
		return 0;
	if (imds)
		return cfg_error(ctx, key,
				 "must be https (plain http only to loopback or " IMDS_HOST ")");
	return cfg_error(ctx, key, "must be https (plain http only to loopback)");
}

static int check_field(const struct cfg_ctx *ctx, const char *key, enum field_kind kind,
		       const char *s)
{
	switch (kind) {
	case FIELD_GUID:
		return guid_valid(s) ? 0 : cfg_error(ctx, key, "must be a GUID");
	case FIELD_TENANT:
		return tenant_valid(s) ? 0 : cfg_error(ctx, key, "must be a GUID or a domain name");
	case FIELD_RESOURCE_ID:
		return resource_id_valid(s)
			   ? 0
			   : cfg_error(ctx, key,
				       "must be an Azure resource ID (\"" RESOURCE_ID_PREFIX
				       "…\")");
	case FIELD_ENDPOINT:
		return check_url(ctx, key, s, true);
	case FIELD_AUTHORITY:
		return check_url(ctx, key, s, false);
	case FIELD_NAME:
	case FIELD_PATH:
	case FIELD_TEXT:
		break;
	}
	return 0;
}

static int read_field(const struct cfg_ctx *ctx, json_t *v, const struct field *f,
		      struct credential *cred)
{
	char **slot = (char **)(void *)((char *)cred + f->offset);
	char key[CFG_MAX_KEY];
	const char *s;
	int r;

	if (f->kind == FIELD_PATH)
		return cfg_path(ctx, v, CRED_PREFIX, f->key, f->required, slot);
	if (f->kind == FIELD_NAME)
		return cfg_name(ctx, v, CRED_PREFIX, f->key, f->required, slot);
	r = cfg_string(ctx, v, CRED_PREFIX, f->key, f->required, &s);
	if (r < 0 || !s)
		return r;
	r = check_field(ctx, cfg_key(key, CRED_PREFIX, f->key), f->kind, s);
	if (r < 0)
		return r;
	*slot = strdup(s);
	return *slot ? 0 : cfg_oom(ctx);
}

static bool spec_has_key(const struct cred_spec *spec, const char *key)
{
	const struct field *f;

	if (strcmp(key, "type") == 0)
		return true;
	for (size_t i = 0; spec->extra && spec->extra[i]; i++)
		if (strcmp(key, spec->extra[i]) == 0)
			return true;
	for (f = spec->fields; f->key; f++)
		if (strcmp(f->key, key) == 0)
			return true;
	return false;
}

/* "type, FIELDS…, EXTRA" for a message about a key that is none of them. */
static char *spec_keys(const struct cred_spec *spec, char *buf, size_t len)
{
	const char *keys[CRED_MAX_KEYS + 1] = { "type" };
	size_t n = 1;

	for (const struct field *f = spec->fields; f->key && n < CRED_MAX_KEYS; f++)
		keys[n++] = f->key;
	for (size_t i = 0; spec->extra && spec->extra[i] && n < CRED_MAX_KEYS; i++)
		keys[n++] = spec->extra[i];
	keys[n] = NULL;
	return cfg_key_list(buf, len, keys);
}

static int check_cred_keys(const struct cfg_ctx *ctx, json_t *v, const struct cred_spec *spec)
{
	char k[CFG_MAX_KEY], valid[CFG_MAX_KEY];
	const char *key;
	json_t *val;

	json_object_foreach(v, key, val)
	{
		if (!spec_has_key(spec, key))
			return cfg_error(ctx, cfg_key(k, CRED_PREFIX, key),
					 "unknown key for credential type \"%s\" (valid: %s)",
					 spec->name, spec_keys(spec, valid, sizeof(valid)));
	}
	return 0;
}

int cfg_parse_credential(const struct cfg_ctx *ctx, json_t *v, struct config *c, struct profile *p)
{
	const struct cred_spec *spec = NULL;
	const struct field *f;
	const char *type;
	size_t i;
	int r;

	if (!v)
		return cfg_error(ctx, CRED_PREFIX, "is required");
	if (!json_is_object(v))
		return cfg_error(ctx, CRED_PREFIX, "must be an object with a \"type\"");
	r = cfg_string(ctx, v, CRED_PREFIX, "type", true, &type);
	if (r < 0)
		return r;
	for (i = 0; i < _CRED_TYPE_MAX && !spec; i++)
		if (strcmp(type, cred_specs[i].name) == 0)
			spec = &cred_specs[i];
	if (!spec)
		return cfg_error(ctx, CRED_PREFIX ".type",
				 "must be one of api-key, managed-identity, workload-identity, "
				 "client-secret, client-certificate, azure-cli, oidc, user");
	p->cred.type = (enum cred_type)(spec - cred_specs);
	r = check_cred_keys(ctx, v, spec);
	for (f = spec->fields; r >= 0 && f->key; f++)
		r = read_field(ctx, v, f, &p->cred);
	if (r >= 0 && spec->post)
		r = spec->post(ctx, v, c, p);
	return r;
}

/* "file": PATH is shorthand for a file secret named after the profile. */
static int api_key_post(const struct cfg_ctx *ctx, json_t *v, struct config *c, struct profile *p)
{
	struct secret_source *s;
	char *file = NULL;
	int r;

	r = cfg_path(ctx, v, CRED_PREFIX, "file", false, &file);
	if (r < 0)
		return r;
	if (!file) {
		if (!p->cred.secret && !(p->cred.secret = strdup(p->name)))
			return cfg_oom(ctx);
		return 0;
	}
	if (p->cred.secret)
		r = cfg_error(ctx, CRED_PREFIX ".file", "cannot be combined with \"secret\"");
	else if (config_find_secret(c, p->name))
		r = cfg_error(ctx, CRED_PREFIX ".file",
			      "would define secret \"%s\", which \"secrets\" already defines",
			      p->name);
	if (r < 0) {
		free(file);
		return r;
	}
	/* config_parse() reserved a slot per profile for this. */
	s = &c->secrets[c->n_secrets++];
	s->kind = SOURCE_FILE;
	s->path = file;
	s->name = strdup(p->name);
	p->cred.secret = strdup(p->name);
	return s->name && p->cred.secret ? 0 : cfg_oom(ctx);
}

static int managed_identity_post(const struct cfg_ctx *ctx, json_t *v, struct config *c,
				 struct profile *p)
{
	const struct credential *cr = &p->cred;

	(void)v;
	(void)c;
	if ((cr->client_id != NULL) + (cr->object_id != NULL) + (cr->resource_id != NULL) > 1)
		return cfg_error(
		    ctx, cr->resource_id ? CRED_PREFIX ".resource_id" : CRED_PREFIX ".object_id",
		    "only one of client_id, object_id and resource_id may be given");
	return 0;
}

static int client_certificate_post(const struct cfg_ctx *ctx, json_t *v, struct config *c,
				   struct profile *p)
{
	json_t *chain = json_object_get(v, "send_chain");

	(void)c;
	if (!chain)
		return 0;
	if (!json_is_boolean(chain))
		return cfg_error(ctx, CRED_PREFIX ".send_chain", "must be true or false");
	p->cred.send_chain = json_is_true(chain);
	return 0;
}

/* The token request's own parameters, which "params" may not set. */
static bool param_reserved(const char *name)
{
	static const char *const reserved[] = {
		"grant_type", "client_id",        "client_secret",
		"scope",      "client_assertion", "client_assertion_type",
		NULL
	};

	for (size_t i = 0; reserved[i]; i++)
		if (strcmp(name, reserved[i]) == 0)
			return true;
	return false;
}

/* Sent as it is in the form body: only characters that need no encoding. */
static bool param_name_valid(const char *name)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789._-~";
	size_t n = strlen(name);

	return n > 0 && n <= CFG_MAX_KEY / 2 && strspn(name, chars) == n;
}

/* "params": an object of extra token request parameters, string values only. */
static int oidc_params(const struct cfg_ctx *ctx, json_t *params, struct credential *cr)
{
	char k[CFG_MAX_KEY];
	const char *name, *s;
	json_t *val;
	int r;

	if (!json_is_object(params))
		return cfg_error(ctx, CRED_PREFIX ".params",
				 "must be an object of parameter name to string value");
	if (json_object_size(params) > CRED_MAX_PARAMS)
		return cfg_error(ctx, CRED_PREFIX ".params", "has more than %d entries",
				 CRED_MAX_PARAMS);
	cr->params = calloc(2 * json_object_size(params) + 1, sizeof(*cr->params));
	if (!cr->params)
		return cfg_oom(ctx);
	json_object_foreach(params, name, val)
	{
		cfg_key(k, CRED_PREFIX ".params", name);
		if (!param_name_valid(name))
			return cfg_error(ctx, k,
					 "is not a valid parameter name (1 to %d letters, digits, "
					 "'.', '_', '-' or '~')",
					 CFG_MAX_KEY / 2);
		if (param_reserved(name))
			return cfg_error(ctx, k, "is set by the agent itself");
		r = cfg_string_value(ctx, k, val, &s);
		if (r < 0)
			return r;
		cr->params[2 * cr->n_params] = strdup(name);
		cr->params[2 * cr->n_params + 1] = strdup(s);
		cr->n_params++; /* before checking: credential_done() frees both */
		if (!cr->params[2 * cr->n_params - 2] || !cr->params[2 * cr->n_params - 1])
			return cfg_oom(ctx);
	}
	return 0;
}

static int oidc_auth(const struct cfg_ctx *ctx, json_t *v, struct credential *cr)
{
	const char *s;
	int r = cfg_string(ctx, v, CRED_PREFIX, "token_endpoint_auth", false, &s);

	if (r < 0 || !s)
		return r;
	if (!cr->secret)
		return cfg_error(ctx, CRED_PREFIX ".token_endpoint_auth",
				 "applies to a \"secret\" only (a certificate signs a "
				 "private_key_jwt assertion)");
	if (strcmp(s, "client_secret_basic") == 0)
		cr->token_endpoint_auth = TOKEN_AUTH_BASIC;
	else if (strcmp(s, "client_secret_post") == 0)
		cr->token_endpoint_auth = TOKEN_AUTH_POST;
	else
		return cfg_error(ctx, CRED_PREFIX ".token_endpoint_auth",
				 "must be \"client_secret_basic\" or \"client_secret_post\"");
	return 0;
}

/* "flow": "device-code" or "browser", for the person types only. */
static int read_flow(const struct cfg_ctx *ctx, json_t *v, struct credential *cr)
{
	const char *s;
	int r = cfg_string(ctx, v, CRED_PREFIX, "flow", false, &s);

	if (r < 0 || !s)
		return r;
	if (!credential_is_person(cr))
		return cfg_error(ctx, CRED_PREFIX ".flow",
				 "applies to signing a person in (a client with neither "
				 "\"secret\" nor \"certificate\")");
	if (strcmp(s, "device-code") == 0)
		cr->flow = SIGNIN_FLOW_DEVICE_CODE;
	else if (strcmp(s, "browser") == 0)
		cr->flow = SIGNIN_FLOW_BROWSER;
	else
		return cfg_error(ctx, CRED_PREFIX ".flow",
				 "must be \"device-code\" or \"browser\"");
	return 0;
}

/* A person signed in at Entra ID: the defaults azure-identity's interactive
 * credentials use. */
static int user_post(const struct cfg_ctx *ctx, json_t *v, struct config *c, struct profile *p)
{
	struct credential *cr = &p->cred;

	(void)c;
	if (!cr->tenant_id && !(cr->tenant_id = strdup(CONFIG_USER_TENANT)))
		return cfg_oom(ctx);
	if (!cr->client_id && !(cr->client_id = strdup(CONFIG_USER_CLIENT_ID)))
		return cfg_oom(ctx);
	return read_flow(ctx, v, cr);
}

/* A machine client (one of "secret" and "certificate") or, with neither, a
 * public client signing a person in. */
static int oidc_post(const struct cfg_ctx *ctx, json_t *v, struct config *c, struct profile *p)
{
	json_t *params = json_object_get(v, "params");
	struct credential *cr = &p->cred;
	int r;

	(void)c;
	/* Discovery 1.0 §4: an issuer has no query or fragment. */
	if (strpbrk(cr->issuer, "?#"))
		return cfg_error(ctx, CRED_PREFIX ".issuer", "must have no query or fragment");
	if (cr->secret && cr->certificate)
		return cfg_error(ctx, CRED_PREFIX ".certificate",
				 "cannot be combined with \"secret\": give one of them");
	r = oidc_auth(ctx, v, cr);
	if (r >= 0)
		r = read_flow(ctx, v, cr);
	if (r >= 0 && params)
		r = oidc_params(ctx, params, cr);
	return r;
}
