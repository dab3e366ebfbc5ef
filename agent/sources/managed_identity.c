/* SPDX-License-Identifier: MIT */
/*
 * Managed identity endpoints, chosen from the environment with
 * azure-identity's precedence (ManagedIdentityCredential): Service Fabric,
 * App Service, Azure Arc, Cloud Shell, then IMDS.  A configured "endpoint"
 * is spoken to with the IMDS protocol.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arc_challenge.h"
#include "fetch.h"
#include "source_builders.h"

#define IMDS_DEFAULT_AUTHORITY "http://169.254.169.254"
#define IMDS_TOKEN_PATH        "/metadata/identity/oauth2/token"

const char *source_name(const struct profile *p, const struct identity_env *env)
{
	switch (p->cred.type) {
	case CRED_MANAGED_IDENTITY:
		if (p->cred.endpoint)
			return "imds";
		if (env->identity_endpoint && env->identity_header)
			return env->identity_server_thumbprint ? "service-fabric" : "app-service";
		if (env->identity_endpoint && env->imds_endpoint)
			return "azure-arc";
		if (env->msi_endpoint)
			return "cloud-shell";
		return "imds";
	case CRED_WORKLOAD_IDENTITY:
		return "workload-identity";
	case CRED_CLIENT_SECRET:
		return "client-secret";
	case CRED_CLIENT_CERTIFICATE:
		return "client-certificate";
	case CRED_AZURE_CLI:
		return "azure-cli";
	case CRED_OIDC:
		return "oidc";
	case CRED_USER:
		return "user";
	default:
		return "api-key";
	}
}

/* A user-assigned identity: the configured id, else AZURE_CLIENT_ID as
 * DefaultAzureCredential uses it. */
static int add_identity(struct source_fetch *f, const struct profile *p, const char *client_key,
			const char *resource_key)
{
	const char *client_id = p->cred.client_id;
	int r = 0;

	if (!client_id && !p->cred.object_id && !p->cred.resource_id)
		client_id = f->ctx->env->client_id;
	if (client_id)
		r = fetch_add_query(f, client_key, client_id);
	else if (p->cred.object_id)
		r = fetch_add_query(f, "object_id", p->cred.object_id);
	else if (p->cred.resource_id)
		r = fetch_add_query(f, resource_key, p->cred.resource_id);
	return r;
}

static bool user_assigned(const struct profile *p)
{
	return p->cred.client_id || p->cred.object_id || p->cred.resource_id;
}

static int prepare_imds(struct source_fetch *f, const struct profile *p, const char *resource,
			struct source_error *err)
{
	const char *base = f->ctx->env->pod_identity_authority;
	char url[2048];
	size_t n;
	int r;

	base = base ? base : IMDS_DEFAULT_AUTHORITY;
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	if (p->cred.endpoint)
		snprintf(url, sizeof(url), "%s", p->cred.endpoint);
	else
		snprintf(url, sizeof(url), "%.*s%s", (int)n, base, IMDS_TOKEN_PATH);
	r = fetch_set_url(f, url, err);
	if (r == 0)
		r = fetch_add_query(f, "api-version", "2018-02-01");
	if (r == 0)
		r = fetch_add_query(f, "resource", resource);
	if (r == 0)
		r = add_identity(f, p, "client_id", "msi_res_id");
	if (r == 0)
		r = fetch_add_header(f, "Metadata", "true");
	return r;
}

static int prepare_app_service(struct source_fetch *f, const struct profile *p,
			       const char *resource, struct source_error *err)
{
	const struct identity_env *env = f->ctx->env;
	int r = fetch_set_url(f, env->identity_endpoint, err);

	if (r == 0)
		r = fetch_add_query(f, "api-version", "2019-08-01");
	if (r == 0)
		r = fetch_add_query(f, "resource", resource);
	if (r == 0)
		r = add_identity(f, p, "client_id", "mi_res_id");
	if (r == 0)
		r = fetch_add_secret_header(f, "X-IDENTITY-HEADER", env->identity_header);
	return r;
}

static int refuse_user_assigned(struct source_fetch *f, const struct profile *p,
				struct source_error *err)
{
	if (!user_assigned(p))
		return 0;
	fetch_error(f, err, 0, false, "a user-assigned identity cannot be selected here");
	return -EINVAL;
}

static int prepare_arc(struct source_fetch *f, const struct profile *p, const char *resource,
		       struct source_error *err)
{
	const char *dir = f->ctx->env->arc_key_dir;
	int r = refuse_user_assigned(f, p, err);

	if (r == 0)
		r = fetch_set_url(f, f->ctx->env->identity_endpoint, err);
	if (r == 0)
		r = fetch_add_query(f, "api-version", "2020-06-01");
	if (r == 0)
		r = fetch_add_query(f, "resource", resource);
	if (r == 0)
		r = fetch_add_header(f, "Metadata", "true");
	f->arc = true;
	snprintf(f->arc_dir, sizeof(f->arc_dir), "%s", dir ? dir : ARC_DEFAULT_KEY_DIR);
	return r;
}

static int prepare_cloud_shell(struct source_fetch *f, const struct profile *p,
			       const char *resource, struct source_error *err)
{
	const char *client_id = p->cred.client_id;
	int r;

	if (f->ctx->env->msi_secret) {
		fetch_error(f, err, 0, false,
			    "MSI_ENDPOINT with MSI_SECRET (Azure ML) is not supported");
		return -EOPNOTSUPP;
	}
	r = fetch_set_url(f, f->ctx->env->msi_endpoint, err);
	if (r == 0)
		r = fetch_add_form(f, "resource", resource, strlen(resource));
	if (r == 0 && client_id)
		r = fetch_add_form(f, "client_id", client_id, strlen(client_id));
	if (r == 0)
		r = fetch_add_header(f, "Metadata", "true");
	return r;
}

/* Service Fabric's endpoint is https with a self-signed certificate; it is
 * pinned to IDENTITY_SERVER_THUMBPRINT. */
static int prepare_service_fabric(struct source_fetch *f, const struct profile *p,
				  const char *resource, struct source_error *err)
{
	const struct identity_env *env = f->ctx->env;
	int r = refuse_user_assigned(f, p, err);

	if (r == 0 && strlen(env->identity_server_thumbprint) != 40) {
		fetch_error(f, err, 0, false,
			    "IDENTITY_SERVER_THUMBPRINT is not a SHA-1 thumbprint");
		r = -EINVAL;
	}
	if (r == 0)
		r = fetch_set_url(f, env->identity_endpoint, err);
	if (r == 0 && f->allow_http) {
		fetch_error(f, err, 0, false, "IDENTITY_ENDPOINT must be https");
		r = -EINVAL;
	}
	if (r == 0)
		r = fetch_add_query(f, "api-version", "2019-07-01-preview");
	if (r == 0)
		r = fetch_add_query(f, "resource", resource);
	if (r == 0)
		r = fetch_add_secret_header(f, "Secret", env->identity_header);
	snprintf(f->pinned_sha1, sizeof(f->pinned_sha1), "%s", env->identity_server_thumbprint);
	return r;
}

int managed_identity_prepare(struct source_fetch *f, const struct profile *p, const char *resource,
			     struct source_error *err)
{
	int r;

	if (strcmp(f->name, "service-fabric") == 0)
		r = prepare_service_fabric(f, p, resource, err);
	else if (strcmp(f->name, "app-service") == 0)
		r = prepare_app_service(f, p, resource, err);
	else if (strcmp(f->name, "azure-arc") == 0)
		r = prepare_arc(f, p, resource, err);
	else if (strcmp(f->name, "cloud-shell") == 0)
		r = prepare_cloud_shell(f, p, resource, err);
	else
		r = prepare_imds(f, p, resource, err);
	if (r == -ENOMEM || r == -E2BIG)
		fetch_error(f, err, 0, false, "cannot build the request: %s", strerror(-r));
	return r;
}
