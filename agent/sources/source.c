/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "source_builders.h"

#define DEFAULT_SUFFIX "/.default"

/* Managed identity and the CLI speak v1 "resources": the scope without
 * its "/.default". */
static void scope_to_resource(const char *scope, char *out, size_t len)
{
	size_t n = strlen(scope), s = strlen(DEFAULT_SUFFIX);

	if (n > s && strcmp(scope + n - s, DEFAULT_SUFFIX) == 0)
		n -= s;
	snprintf(out, len, "%.*s", (int)n, scope);
}

int source_start(const struct source_ctx *ctx, const struct profile *p, const char *scope,
		 source_done_fn done, void *userdata, struct source_fetch **ret,
		 struct source_error *err)
{
	struct source_fetch *f = calloc(1, sizeof(*f));
	char resource[1024];
	int r;

	if (!f) {
		snprintf(err->message, sizeof(err->message), "out of memory");
		return -ENOMEM;
	}
	f->ctx = ctx;
	f->name = source_name(p, ctx->env);
	f->done = done;
	f->userdata = userdata;
	scope_to_resource(scope, resource, sizeof(resource));
	switch (p->cred.type) {
	case CRED_MANAGED_IDENTITY:
		r = managed_identity_prepare(f, p, resource, err);
		break;
	case CRED_AZURE_CLI:
		r = azure_cli_start(f, p, resource, err);
		break;
	case CRED_OIDC:
		r = oidc_start(f, p, scope, err);
		break;
	case CRED_USER:
		r = person_entra_prepare(f, p, scope, err);
		break;
	default:
		r = entra_prepare(f, p, scope, err);
		break;
	}
	if (r == 0 && p->cred.type != CRED_AZURE_CLI && p->cred.type != CRED_OIDC)
		r = fetch_send(f, err);
	if (r < 0) {
		source_cancel(f);
		return r;
	}
	*ret = f;
	return 0;
}
