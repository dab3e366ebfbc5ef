/* SPDX-License-Identifier: MIT */
/*
 * Microsoft Entra ID's token endpoint (v2.0, client credentials grant) for
 * workload identity (a federated token file), client secrets and client
 * certificates (a signed JWT assertion).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "read_full.h"
#include "assertion.h"
#include "fetch.h"
#include "source_builders.h"
#include "secrets.h"

#define ENTRA_DEFAULT_AUTHORITY "https://login.microsoftonline.com"
#define MAX_FEDERATED_TOKEN     65536

static const char *first(const char *a, const char *b)
{
	return a ? a : b;
}

static int token_url(struct source_fetch *f, const struct profile *p, const char *tenant,
		     struct source_error *err)
{
	const char *authority = first(p->cred.authority_host,
				      first(f->ctx->env->authority_host, ENTRA_DEFAULT_AUTHORITY));
	size_t n = strlen(authority);
	char url[2048];

	while (n > 0 && authority[n - 1] == '/')
		n--;
	snprintf(url, sizeof(url), "%.*s/%s/oauth2/v2.0/token", (int)n, authority, tenant);
	return fetch_set_url(f, url, err);
}

/* Kubernetes rotates the projected token: read it afresh for every fetch. */
static int read_federated_token(struct source_fetch *f, const char *path, char **ret,
				size_t *ret_len, struct source_error *err)
{
	char *buf = sodium_malloc(MAX_FEDERATED_TOKEN + 1);
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		n = -errno;
	else if (!buf)
		n = -ENOMEM;
	else
		n = read_full(fd, buf, MAX_FEDERATED_TOKEN + 1);
	if (fd >= 0)
		close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	if (n <= 0 || n > MAX_FEDERATED_TOKEN) {
		fetch_error(f, err, 0, false, "federated token file %s: %s", path,
			    n == 0  ? "empty"
			    : n > 0 ? "too large"
				    : strerror((int)-n));
		sodium_free(buf);
		return -EINVAL;
	}
	*ret = buf;
	*ret_len = (size_t)n;
	return 0;
}

static int add_assertion(struct source_fetch *f, const char *assertion, size_t len)
{
	int r = fetch_add_form(f, "client_assertion_type", SOURCE_ASSERTION_TYPE,
			       strlen(SOURCE_ASSERTION_TYPE));

	return r ? r : fetch_add_secret_form(f, "client_assertion", assertion, len);
}

static int add_workload_credential(struct source_fetch *f, const struct profile *p,
				   struct source_error *err)
{
	const char *file = first(p->cred.token_file, f->ctx->env->federated_token_file);
	char *token = NULL;
	size_t len = 0;
	int r;

	if (!file) {
		fetch_error(f, err, 0, false, "no token file (AZURE_FEDERATED_TOKEN_FILE)");
		return -EINVAL;
	}
	r = read_federated_token(f, file, &token, &len, err);
	if (r == 0)
		r = add_assertion(f, token, len);
	sodium_free(token);
	return r;
}

const struct secret *source_find_secret(struct source_fetch *f, const char *name,
					struct source_error *err)
{
	uint64_t now = clock_now();
	const struct secret *s = secrets_find(f->ctx->secrets, name, now);
	char why[SECRET_MAX_ERROR + 8];

	if (!s || !s->value) {
		secrets_why_missing(f->ctx->secrets, name, now, why, sizeof(why));
		fetch_error(f, err, 0, false, "secret \"%s\"%s", name, why);
		return NULL;
	}
	return s;
}

static int add_client_secret(struct source_fetch *f, const struct profile *p,
			     struct source_error *err)
{
	const struct secret *s = source_find_secret(f, p->cred.secret, err);
	int r;

	if (!s)
		return -ENOENT;
	secret_reveal(s);
	r = fetch_add_secret_form(f, "client_secret", (const char *)s->value, s->len);
	secret_conceal(s);
	return r;
}

int source_add_certificate_assertion(struct source_fetch *f, const struct credential *cr,
				     const char *client_id, struct source_error *err)
{
	struct assertion_cert *cert = NULL;
	char *jwt = NULL, why[256];
	int r = assertion_cert_load(cr->certificate, &cert, why, sizeof(why));

	if (r == 0)
		r = assertion_build(cert, ASSERTION_RS256, cr->send_chain, client_id, f->url,
				    (int64_t)time(NULL), &jwt, why, sizeof(why));
	if (r < 0) {
		fetch_error(f, err, 0, false, "%s", why);
	} else {
		r = add_assertion(f, jwt, strlen(jwt));
		sodium_memzero(jwt, strlen(jwt));
	}
	free(jwt);
	assertion_cert_free(cert);
	return r;
}

int entra_prepare(struct source_fetch *f, const struct profile *p, const char *scope,
		  struct source_error *err)
{
	const char *tenant = first(p->cred.tenant_id, f->ctx->env->tenant_id);
	const char *client_id = first(p->cred.client_id, f->ctx->env->client_id);
	int r;

	if (!tenant || !client_id) {
		fetch_error(f, err, 0, false, "no %s (AZURE_%s)",
			    tenant ? "client_id" : "tenant_id", tenant ? "CLIENT_ID" : "TENANT_ID");
		return -EINVAL;
	}
	r = token_url(f, p, tenant, err);
	if (r == 0)
		r = fetch_add_form(f, "client_id", client_id, strlen(client_id));
	if (r == 0)
		r = fetch_add_form(f, "scope", scope, strlen(scope));
	if (r == 0)
		r = fetch_add_form(f, "grant_type", "client_credentials", 18);
	if (r == 0 && p->cred.type == CRED_WORKLOAD_IDENTITY)
		r = add_workload_credential(f, p, err);
	else if (r == 0 && p->cred.type == CRED_CLIENT_SECRET)
		r = add_client_secret(f, p, err);
	else if (r == 0)
		r = source_add_certificate_assertion(f, &p->cred, client_id, err);
	if (r == -ENOMEM || r == -E2BIG)
		fetch_error(f, err, 0, false, "cannot build the request: %s", strerror(-r));
	return r;
}
