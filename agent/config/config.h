/* SPDX-License-Identifier: MIT */
/*
 * The agent's configuration (aoai-agent.json(5)): profiles and named secret sources,
 * parsed and fully validated from JSON.  A struct config is immutable once
 * loaded; reload builds a new one and swaps it in.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "hosts.h"

#define CONFIG_MAX_PROFILES             1024
#define CONFIG_MAX_SECRETS              1024
#define CONFIG_MAX_HOSTS                64 /* per profile */
#define CONFIG_MAX_HEADERS              16 /* per profile */
#define CONFIG_MAX_ALLOW                64 /* entries per allow list */
#define CONFIG_MAX_FILE                 (1024 * 1024)
#define CONFIG_DEFAULT_SCOPE            "https://cognitiveservices.azure.com/.default"
#define CONFIG_DEFAULT_KEYVAULT_REFRESH 3600 /* seconds */

enum cred_type {
	CRED_API_KEY,
	CRED_MANAGED_IDENTITY,
	CRED_WORKLOAD_IDENTITY,
	CRED_CLIENT_SECRET,
	CRED_CLIENT_CERTIFICATE,
	CRED_AZURE_CLI,
	CRED_OIDC,
	CRED_USER,
	_CRED_TYPE_MAX,
};

/* How an oidc client with a secret authenticates at the token endpoint. */
enum token_auth {
	TOKEN_AUTH_DISCOVER, /* the first of the two the discovery document lists, else basic */
	TOKEN_AUTH_BASIC,    /* client_secret_basic */
	TOKEN_AUTH_POST,     /* client_secret_post */
};

/* How `aoai login` signs a person in ("flow"); DEFAULT lets the client choose. */
enum signin_flow {
	SIGNIN_FLOW_DEFAULT,
	SIGNIN_FLOW_DEVICE_CODE,
	SIGNIN_FLOW_BROWSER,
};

#define CONFIG_USER_TENANT    "organizations"
#define CONFIG_USER_CLIENT_ID "04b07795-8ddb-461a-bbee-02f9e1bf7b46" /* the Azure CLI's */

enum exists_action {
	EXISTS_OVERRIDE,
	EXISTS_SKIP,
	EXISTS_APPEND,
};

/* Credential parameters; which fields are set depends on the type. */
struct credential {
	enum cred_type type;
	char *secret;         /* api-key, client-secret, oidc: name of the secret */
	char *client_id;      /* managed-identity, workload-identity, client-*, oidc */
	char *object_id;      /* managed-identity */
	char *resource_id;    /* managed-identity */
	char *endpoint;       /* managed-identity: overrides the environment */
	char *tenant_id;      /* workload-identity, client-* */
	char *token_file;     /* workload-identity */
	char *authority_host; /* workload-identity, client-* */
	char *certificate;    /* client-certificate, oidc: PEM path with key */
	bool send_chain;      /* client-certificate */
	char *issuer;         /* oidc: the provider, found by discovery */
	enum token_auth token_endpoint_auth; /* oidc with a secret */
	char **params;         /* oidc: extra token request parameters, name then value, … */
	size_t n_params;       /* names (params holds twice as many strings) */
	enum signin_flow flow; /* user, public oidc */
};

/* One output header; value is a template with {secret}, {secret:NAME}, {token}. */
struct header_template {
	char *name;
	char *value;
	enum exists_action action;
};

/* "allow": who may obtain this profile's credential.  Empty lists = anyone. */
struct allow {
	char **exe;
	size_t n_exe;
	char **unit;
	size_t n_unit;
	unsigned *uid;
	size_t n_uid;
};

struct profile {
	char *name;
	struct host_pattern *hosts;
	size_t n_hosts;
	struct credential cred;
	char *scope; /* token types: never NULL (default scope); api-key: NULL */
	struct header_template *headers; /* never empty: defaults filled in */
	size_t n_headers;
	struct allow allow;
	char *relay_listen; /* "relay.listen", canonical "127.x.y.z:PORT"; NULL: no relay */
};

enum secret_source_kind {
	SOURCE_FILE,
	SOURCE_CREDENTIALS,
	SOURCE_KEYVAULT,
};

/* A named secret the configuration defines (top-level "secrets"). */
struct secret_source {
	char *name;
	enum secret_source_kind kind;
	char *path; /* file: expanded (~ resolved); credentials: NULL */
	char *cred; /* credentials: the credential name */
	char *url;  /* keyvault: secret URL */
	char *via;  /* keyvault: token profile name, or NULL with @credential */
	/* keyvault: the secret's own token credential instead of "via"; its
	 * token is the agent's alone (keyvault.c), never a client's */
	struct credential *credential;
	long refresh; /* keyvault: seconds */
};

/* Argon2id strength for new store passphrases ("store": {"kdf": …}). */
enum store_strength {
	STORE_KDF_MODERATE, /* the default: 3 passes over 256 MiB */
	STORE_KDF_INTERACTIVE,
	STORE_KDF_SENSITIVE,
};

struct config {
	char *path; /* NULL when built without a file */
	enum store_strength store_kdf;
	struct profile *profiles;
	size_t n_profiles;
	struct secret_source *secrets;
	size_t n_secrets;
};

/* Returns the config-file spelling of @type ("api-key" …). */
const char *cred_type_name(enum cred_type type);
/* True for every type that yields a bearer token (all but api-key). */
bool cred_type_is_token(enum cred_type type);
/* True when the credential signs a person in (`aoai login`): user, and oidc
 * with neither secret nor certificate (a public client). */
bool credential_is_person(const struct credential *cr);
const char *signin_flow_name(enum signin_flow flow);
const char *exists_action_name(enum exists_action action);

/*
 * Parses and validates configuration text.  @path is used in messages (and
 * stored in the result) and may be NULL.  Returns 0 and sets *ret, or a
 * negative errno (-EINVAL for invalid content, -ENOMEM) with a message in
 * @err of the form "PATH: profile \"P\": key \"K\": what is wrong".
 */
int config_parse(const char *text, size_t len, const char *path, struct config **ret, char *err,
		 size_t errlen);
/*
 * Reads @path (at most CONFIG_MAX_FILE bytes) and parses it.  Returns
 * -ENOENT when the file does not exist (callers decide whether that is an
 * error), other negative errno with a message in @err.
 */
int config_load(const char *path, struct config **ret, char *err, size_t errlen);
/* An empty configuration (no file).  NULL on ENOMEM. */
struct config *config_new_empty(void);
/* Frees @c; accepts NULL; returns NULL. */
struct config *config_free(struct config *c);

/* Deep-copies @src into @dst (zeroed first).  0 or -ENOMEM (then @dst holds nothing). */
int credential_copy(struct credential *dst, const struct credential *src);
/* True when @a and @b ask for the same identity the same way. */
bool credential_equal(const struct credential *a, const struct credential *b);
/* Frees the strings of @cr (not @cr itself). */
void credential_done(struct credential *cr);

/* The profile named @name, or NULL. */
const struct profile *config_find_profile(const struct config *c, const char *name);
/* The secret source named @name, or NULL. */
const struct secret_source *config_find_secret(const struct config *c, const char *name);
