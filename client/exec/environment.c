/* SPDX-License-Identifier: MIT */
/*
 * The child's environment.  A copy of ours with every variable that could
 * give the child a credential other than the agent's removed — the Azure
 * SDKs' credential chains (EnvironmentCredential, WorkloadIdentityCredential,
 * the managed-identity endpoints of App Service, Service Fabric, Arc, Cloud
 * Shell, Azure ML, Pod Identity) and the openai SDKs' keys — so that a stale
 * key cannot win over the agent's (aws-vault does the same with AWS_*).
 * Strings are ours, and all are wiped when the environment is freed: one of
 * them may be an API key.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"

extern char **environ;

struct env {
	char **vars; /* "NAME=VALUE", NULL-terminated */
	size_t n, cap;
};

/* Variables that select or carry a credential.  Listed in aoai-exec(1), ENVIRONMENT, as well. */
static const char *const scrubbed[] = {
	/* openai / Azure OpenAI SDKs */
	"AZURE_OPENAI_API_KEY",
	"AZURE_OPENAI_AD_TOKEN",
	"AZURE_OPENAI_KEY",
	"OPENAI_API_KEY",
	/* azure-identity EnvironmentCredential, WorkloadIdentityCredential */
	"AZURE_CLIENT_ID",
	"AZURE_TENANT_ID",
	"AZURE_CLIENT_SECRET",
	"AZURE_CLIENT_CERTIFICATE_PATH",
	"AZURE_CLIENT_CERTIFICATE_PASSWORD",
	"AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
	"AZURE_USERNAME",
	"AZURE_PASSWORD",
	"AZURE_FEDERATED_TOKEN_FILE",
	/* which credentials DefaultAzureCredential tries */
	"AZURE_TOKEN_CREDENTIALS",
	/* managed-identity endpoints */
	"IDENTITY_ENDPOINT",
	"IDENTITY_HEADER",
	"IDENTITY_SERVER_THUMBPRINT",
	"IMDS_ENDPOINT",
	"MSI_ENDPOINT",
	"MSI_SECRET",
	"AZURE_POD_IDENTITY_AUTHORITY_HOST",
	"DEFAULT_IDENTITY_CLIENT_ID",
};

static size_t name_len(const char *var)
{
	const char *eq = strchr(var, '=');

	return eq ? (size_t)(eq - var) : strlen(var);
}

static ssize_t find(const struct env *e, const char *name)
{
	size_t len = strlen(name), i;

	for (i = 0; i < e->n; i++)
		if (name_len(e->vars[i]) == len && strncmp(e->vars[i], name, len) == 0)
			return (ssize_t)i;
	return -1;
}

static char *wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
	return NULL;
}

static int append(struct env *e, char *var)
{
	char **grown;

	if (e->n + 2 > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;

		grown = realloc(e->vars, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		e->vars = grown;
		e->cap = cap;
	}
	e->vars[e->n++] = var;
	e->vars[e->n] = NULL;
	return 0;
}

struct env *env_new(void)
{
	struct env *e = calloc(1, sizeof(*e));
	char **v, *copy;

	if (!e)
		return NULL;
	for (v = environ; v && *v; v++) {
		if (!strchr(*v, '='))
			continue;
		copy = strdup(*v);
		if (!copy || append(e, copy) < 0) {
			wipe_free(copy);
			return env_free(e);
		}
	}
	return e;
}

struct env *env_free(struct env *e)
{
	size_t i;

	if (!e)
		return NULL;
	for (i = 0; i < e->n; i++)
		wipe_free(e->vars[i]);
	free(e->vars);
	free(e);
	return NULL;
}

void env_unset(struct env *e, const char *name)
{
	ssize_t i;

	while ((i = find(e, name)) >= 0) {
		wipe_free(e->vars[i]);
		memmove(e->vars + i, e->vars + i + 1, (e->n - (size_t)i) * sizeof(*e->vars));
		e->n--;
	}
}

int env_set(struct env *e, const char *name, const char *value)
{
	char *var;
	size_t nl = strlen(name), vl = strlen(value);

	var = malloc(nl + 1 + vl + 1);
	if (!var)
		return -ENOMEM;
	memcpy(var, name, nl);
	var[nl] = '=';
	memcpy(var + nl + 1, value, vl + 1);
	env_unset(e, name);
	if (append(e, var) < 0) {
		wipe_free(var);
		return -ENOMEM;
	}
	return 0;
}

const char *env_get(const struct env *e, const char *name)
{
	ssize_t i = find(e, name);

	return i < 0 ? NULL : e->vars[i] + strlen(name) + 1;
}

void env_scrub(struct env *e)
{
	size_t i;

	for (i = 0; i < sizeof(scrubbed) / sizeof(scrubbed[0]); i++)
		env_unset(e, scrubbed[i]);
}

char **env_array(struct env *e)
{
	static char *empty[] = { NULL };

	return e->vars ? e->vars : empty;
}

/* Whether the comma-separated @list names @host. */
static bool list_names(const char *list, const char *host)
{
	size_t n = strlen(host), k;

	for (const char *p = list; *p; p += k + (p[k] == ',')) {
		p += strspn(p, " ");
		k = strcspn(p, ",");
		if (k >= n && strncmp(p, host, n) == 0 && strspn(p + n, " ") == k - n)
			return true;
	}
	return false;
}

int env_bypass_proxy(struct env *e)
{
	static const char *const names[] = { "no_proxy", "NO_PROXY" };
	static const char *const hosts[] = { "127.0.0.1", "localhost" };
	char *value;
	size_t i, j;
	int r;

	for (i = 0; i < 2; i++) {
		value = strdup(env_get(e, names[i]) ?: "");
		for (j = 0; value && j < 2; j++) {
			char *more = NULL;

			if (list_names(value, hosts[j]))
				continue;
			if (asprintf(&more, "%s%s%s", value, *value ? "," : "", hosts[j]) < 0)
				more = NULL;
			free(value);
			value = more;
		}
		r = value ? env_set(e, names[i], value) : -ENOMEM;
		free(value);
		if (r < 0)
			return r;
	}
	return 0;
}
