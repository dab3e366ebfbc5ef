/* SPDX-License-Identifier: MIT */
/*
 * The parsed configuration as data (config.h): names of enums, release,
 * copy and comparison of credentials, lookups.  Used by the parsers and by
 * the rest of the agent; calls no other file of the config module.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static const char *const exists_action_names[] = {
	[EXISTS_OVERRIDE] = "override",
	[EXISTS_SKIP] = "skip",
	[EXISTS_APPEND] = "append",
};

const char *exists_action_name(enum exists_action action)
{
	if ((size_t)action >= sizeof(exists_action_names) / sizeof(exists_action_names[0]))
		return "unknown";
	return exists_action_names[action];
}

struct config *config_new_empty(void)
{
	return calloc(1, sizeof(struct config));
}

static void strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void credential_done(struct credential *cr)
{
	free(cr->secret);
	free(cr->client_id);
	free(cr->object_id);
	free(cr->resource_id);
	free(cr->endpoint);
	free(cr->tenant_id);
	free(cr->token_file);
	free(cr->authority_host);
	free(cr->certificate);
	free(cr->issuer);
	strv_free(cr->params, 2 * cr->n_params);
}

static bool str_equal(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int params_copy(struct credential *dst, const struct credential *src)
{
	if (src->n_params == 0)
		return 0;
	dst->params = calloc(2 * src->n_params, sizeof(*dst->params));
	if (!dst->params)
		return -ENOMEM;
	dst->n_params = src->n_params;
	for (size_t i = 0; i < 2 * src->n_params; i++)
		if (!(dst->params[i] = strdup(src->params[i])))
			return -ENOMEM;
	return 0;
}

static bool params_equal(const struct credential *a, const struct credential *b)
{
	if (a->n_params != b->n_params)
		return false;
	for (size_t i = 0; i < 2 * a->n_params; i++)
		if (strcmp(a->params[i], b->params[i]) != 0)
			return false;
	return true;
}

int credential_copy(struct credential *dst, const struct credential *src)
{
	const char *const from[] = { src->secret,      src->client_id,      src->object_id,
				     src->resource_id, src->endpoint,       src->tenant_id,
				     src->token_file,  src->authority_host, src->certificate,
				     src->issuer };
	char **const to[] = { &dst->secret,      &dst->client_id,      &dst->object_id,
			      &dst->resource_id, &dst->endpoint,       &dst->tenant_id,
			      &dst->token_file,  &dst->authority_host, &dst->certificate,
			      &dst->issuer };
	int r = 0;

	memset(dst, 0, sizeof(*dst));
	dst->type = src->type;
	dst->send_chain = src->send_chain;
	dst->token_endpoint_auth = src->token_endpoint_auth;
	dst->flow = src->flow;
	for (size_t i = 0; r == 0 && i < sizeof(from) / sizeof(from[0]); i++)
		if (from[i] && !(*to[i] = strdup(from[i])))
			r = -ENOMEM;
	if (r == 0)
		r = params_copy(dst, src);
	if (r < 0) {
		credential_done(dst);
		memset(dst, 0, sizeof(*dst));
	}
	return r;
}

bool credential_equal(const struct credential *a, const struct credential *b)
{
	return a->type == b->type && a->send_chain == b->send_chain &&
	       str_equal(a->secret, b->secret) && str_equal(a->client_id, b->client_id) &&
	       str_equal(a->object_id, b->object_id) && str_equal(a->resource_id, b->resource_id) &&
	       str_equal(a->endpoint, b->endpoint) && str_equal(a->tenant_id, b->tenant_id) &&
	       str_equal(a->token_file, b->token_file) &&
	       str_equal(a->authority_host, b->authority_host) &&
	       str_equal(a->certificate, b->certificate) && str_equal(a->issuer, b->issuer) &&
	       a->token_endpoint_auth == b->token_endpoint_auth && a->flow == b->flow &&
	       params_equal(a, b);
}

static void profile_done(struct profile *p)
{
	size_t i;

	free(p->name);
	free(p->hosts);
	credential_done(&p->cred);
	free(p->scope);
	for (i = 0; p->headers && i < p->n_headers; i++) {
		free(p->headers[i].name);
		free(p->headers[i].value);
	}
	free(p->headers);
	strv_free(p->allow.exe, p->allow.n_exe);
	strv_free(p->allow.unit, p->allow.n_unit);
	free(p->allow.uid);
	free(p->relay_listen);
}

static void secret_source_done(struct secret_source *s)
{
	free(s->name);
	free(s->path);
	free(s->cred);
	free(s->url);
	free(s->via);
	if (s->credential)
		credential_done(s->credential);
	free(s->credential);
}

struct config *config_free(struct config *c)
{
	size_t i;

	if (!c)
		return NULL;
	for (i = 0; c->profiles && i < c->n_profiles; i++)
		profile_done(&c->profiles[i]);
	for (i = 0; c->secrets && i < c->n_secrets; i++)
		secret_source_done(&c->secrets[i]);
	free(c->profiles);
	free(c->secrets);
	free(c->path);
	free(c);
	return NULL;
}

const struct profile *config_find_profile(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; c && name && i < c->n_profiles; i++)
		if (c->profiles[i].name && strcmp(c->profiles[i].name, name) == 0)
			return &c->profiles[i];
	return NULL;
}

const struct secret_source *config_find_secret(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; c && name && i < c->n_secrets; i++)
		if (c->secrets[i].name && strcmp(c->secrets[i].name, name) == 0)
			return &c->secrets[i];
	return NULL;
}
