/* SPDX-License-Identifier: MIT */
/*
 * Configuration parsing (agent/config/config*.c): the input is the text of an
 * agent.json.  config_parse() reads nothing but its arguments and $HOME
 * (for "~/" paths), which LLVMFuzzerInitialize() pins, so runs are
 * hermetic.  A configuration that loads must hold what the rest of the
 * agent takes for granted: valid names, host patterns that survive their
 * canonical spelling, header templates that check, absolute paths.
 */
#include <errno.h>
#include <strings.h>

#include "config.h"
#include "fuzz.h"
#include "proto.h"
#include "template.h"

#define CONFIG_FUZZ_HOME "/home/fuzz"
#define CONFIG_ERR_LEN   512

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("HOME", CONFIG_FUZZ_HOME, 1);
	return 0;
}

/* A loaded pattern is canonical: formatting and parsing it again gives it back. */
static void check_host(const struct host_pattern *hp)
{
	char text[HOSTS_MAX_NAME + 16], err[128];
	struct host_pattern again;

	FUZZ_CHECK(host_pattern_format(hp, text, sizeof(text)) < (int)sizeof(text));
	FUZZ_CHECK(host_pattern_parse(text, &again, err, sizeof(err)) == 0);
	FUZZ_CHECK(host_pattern_equal(hp, &again));
}

/* Distinct names; {token} only for token types, {secret} only for api-key. */
static void check_header(const struct profile *p, size_t i)
{
	const struct header_template *h = &p->headers[i];
	bool token = cred_type_is_token(p->cred.type);
	struct template_refs refs;
	size_t j;

	FUZZ_CHECK(h->name && *h->name && h->value);
	FUZZ_CHECK((unsigned)h->action <= EXISTS_APPEND);
	for (j = 0; j < i; j++)
		FUZZ_CHECK(strcasecmp(p->headers[j].name, h->name) != 0);
	FUZZ_CHECK(template_check(h->value, &refs, NULL, 0) == 0);
	FUZZ_CHECK(!refs.token || token);
	FUZZ_CHECK(!refs.secret || !token);
}

static void check_profile(const struct config *c, const struct profile *p)
{
	size_t i;

	FUZZ_CHECK(proto_name_valid(p->name));
	FUZZ_CHECK(config_find_profile(c, p->name) == p);
	FUZZ_CHECK(p->n_hosts >= 1 && p->n_hosts <= CONFIG_MAX_HOSTS);
	for (i = 0; i < p->n_hosts; i++)
		check_host(&p->hosts[i]);
	FUZZ_CHECK((unsigned)p->cred.type < _CRED_TYPE_MAX);
	FUZZ_CHECK(!p->scope == !cred_type_is_token(p->cred.type));
	FUZZ_CHECK(p->n_headers >= 1 && p->n_headers <= CONFIG_MAX_HEADERS);
	for (i = 0; i < p->n_headers; i++)
		check_header(p, i);
	FUZZ_CHECK(p->allow.n_exe <= CONFIG_MAX_ALLOW && p->allow.n_unit <= CONFIG_MAX_ALLOW);
	FUZZ_CHECK(p->allow.n_uid <= CONFIG_MAX_ALLOW);
	FUZZ_CHECK(!p->cred.token_file || p->cred.token_file[0] == '/');
	FUZZ_CHECK(!p->cred.certificate || p->cred.certificate[0] == '/');
	FUZZ_CHECK(p->cred.type == CRED_OIDC || (!p->cred.issuer && !p->cred.n_params));
	if (p->cred.type == CRED_OIDC) {
		FUZZ_CHECK(p->cred.issuer && p->cred.client_id);
		FUZZ_CHECK(!p->cred.secret != !p->cred.certificate);
		FUZZ_CHECK(p->cred.secret || p->cred.token_endpoint_auth == TOKEN_AUTH_DISCOVER);
		for (i = 0; i < 2 * p->cred.n_params; i++)
			FUZZ_CHECK(p->cred.params[i] && *p->cred.params[i]);
	}
}

static void check_secret(const struct config *c, const struct secret_source *s)
{
	FUZZ_CHECK(proto_name_valid(s->name));
	FUZZ_CHECK(config_find_secret(c, s->name) == s);
	switch (s->kind) {
	case SOURCE_FILE:
		FUZZ_CHECK(s->path && s->path[0] == '/');
		break;
	case SOURCE_CREDENTIALS:
		FUZZ_CHECK(s->cred && *s->cred);
		break;
	case SOURCE_KEYVAULT:
		FUZZ_CHECK(s->url && s->via && config_find_profile(c, s->via));
		break;
	default:
		FUZZ_CHECK(!"unknown secret source kind");
	}
}

static void check_config(const struct config *c)
{
	size_t i;

	FUZZ_CHECK(c->path && strcmp(c->path, "fuzz.json") == 0);
	FUZZ_CHECK(c->n_profiles <= CONFIG_MAX_PROFILES);
	for (i = 0; i < c->n_profiles; i++)
		check_profile(c, &c->profiles[i]);
	FUZZ_CHECK(c->n_secrets <= CONFIG_MAX_SECRETS + c->n_profiles);
	for (i = 0; i < c->n_secrets; i++)
		check_secret(c, &c->secrets[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	char err[CONFIG_ERR_LEN];
	int r;

	memset(err, 'x', sizeof(err));
	r = config_parse((const char *)data, size, "fuzz.json", &cfg, err, sizeof(err));
	FUZZ_CHECK(fuzz_terminated(err, sizeof(err)));
	if (r == 0) {
		FUZZ_CHECK(cfg);
		check_config(cfg);
	} else {
		FUZZ_CHECK(!cfg && (r == -EINVAL || r == -ENOMEM || r == -EFBIG));
		FUZZ_CHECK(err[0] != '\0');
	}
	cfg = config_free(cfg);
	return 0;
}
