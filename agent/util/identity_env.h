/* SPDX-License-Identifier: MIT */
/*
 * The Azure Identity SDK environment variables, read once at start: the
 * agent picks token sources from them with the SDKs' precedence, and the
 * configuration's keys override them.
 */
#pragma once

struct identity_env {
	char *identity_endpoint;          /* IDENTITY_ENDPOINT */
	char *identity_header;            /* IDENTITY_HEADER */
	char *imds_endpoint;              /* IMDS_ENDPOINT */
	char *msi_endpoint;               /* MSI_ENDPOINT */
	char *msi_secret;                 /* MSI_SECRET */
	char *identity_server_thumbprint; /* IDENTITY_SERVER_THUMBPRINT */
	char *pod_identity_authority;     /* AZURE_POD_IDENTITY_AUTHORITY_HOST */
	char *client_id;                  /* AZURE_CLIENT_ID */
	char *tenant_id;                  /* AZURE_TENANT_ID */
	char *federated_token_file;       /* AZURE_FEDERATED_TOKEN_FILE */
	char *authority_host;             /* AZURE_AUTHORITY_HOST */
	char *arc_key_dir;                /* AOAI_ARC_KEY_DIR: where Azure Arc's key files may be */
};

/* Reads the variables (unset or empty ones stay NULL).  Returns 0 or -ENOMEM. */
int identity_env_read(struct identity_env *env);
void identity_env_clear(struct identity_env *env);
