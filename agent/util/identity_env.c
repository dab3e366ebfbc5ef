/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "identity_env.h"

static const struct {
	const char *name;
	size_t offset;
} variables[] = {
	{ "IDENTITY_ENDPOINT", offsetof(struct identity_env, identity_endpoint) },
	{ "IDENTITY_HEADER", offsetof(struct identity_env, identity_header) },
	{ "IMDS_ENDPOINT", offsetof(struct identity_env, imds_endpoint) },
	{ "MSI_ENDPOINT", offsetof(struct identity_env, msi_endpoint) },
	{ "MSI_SECRET", offsetof(struct identity_env, msi_secret) },
	{ "IDENTITY_SERVER_THUMBPRINT", offsetof(struct identity_env, identity_server_thumbprint) },
	{ "AZURE_POD_IDENTITY_AUTHORITY_HOST",
	  offsetof(struct identity_env, pod_identity_authority) },
	{ "AZURE_CLIENT_ID", offsetof(struct identity_env, client_id) },
	{ "AZURE_TENANT_ID", offsetof(struct identity_env, tenant_id) },
	{ "AZURE_FEDERATED_TOKEN_FILE", offsetof(struct identity_env, federated_token_file) },
	{ "AZURE_AUTHORITY_HOST", offsetof(struct identity_env, authority_host) },
	{ "AOAI_ARC_KEY_DIR", offsetof(struct identity_env, arc_key_dir) },
};

#define FIELD(env, i) ((char **)(void *)((char *)(env) + variables[i].offset))

int identity_env_read(struct identity_env *env)
{
	memset(env, 0, sizeof(*env));
	for (size_t i = 0; i < sizeof(variables) / sizeof(variables[0]); i++) {
		const char *v = secure_getenv(variables[i].name);

		if (!v || !*v)
			continue;
		*FIELD(env, i) = strdup(v);
		if (!*FIELD(env, i)) {
			identity_env_clear(env);
			return -ENOMEM;
		}
	}
	return 0;
}

/* IDENTITY_HEADER and MSI_SECRET are credentials: wipe them. */
void identity_env_clear(struct identity_env *env)
{
	for (size_t i = 0; i < sizeof(variables) / sizeof(variables[0]); i++) {
		char *v = *FIELD(env, i);

		if (v) {
			sodium_memzero(v, strlen(v));
			free(v);
		}
	}
	memset(env, 0, sizeof(*env));
}
