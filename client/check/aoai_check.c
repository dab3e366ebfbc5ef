/* SPDX-License-Identifier: MIT */
/*
 * aoai check — decodes a JWT and validates it the way Azure API
 * Management's validate-jwt / validate-azure-ad-token policies would, one
 * line per check.  A program of its own (run by `aoai check`), because it
 * needs libcrypto, libxml2 and libcurl, which the everyday CLI does without.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "expect.h"
#include "policy.h"
#include "check_report.h"
#include "run.h"
#include "check_token.h"

#define PROG        "aoai check"
#define MAX_NAMED   64
#define MAX_MESSAGE 512

struct options {
	const char *token_arg;
	const char *profile;
	const char *policy_file;
	const char *tenant;
	struct policy_named_value named[MAX_NAMED];
	size_t n_named;
	struct strv audiences, issuers, app_ids, openid_configs, claims;
	bool json;
};

static void usage(FILE *out)
{
	fputs("Usage: aoai check [TOKEN | - | --profile P] [OPTIONS]\n"
	      "\n"
	      "Decode a JWT and validate it as API Management's validate-jwt and\n"
	      "validate-azure-ad-token policies would: signature (keys from the issuer's\n"
	      "OpenID configuration), exp/nbf, audience, issuer, client application and\n"
	      "required claims.  The token is read from stdin unless given (prefer '-':\n"
	      "an operand is visible to other processes); 'Bearer ' is accepted.\n"
	      "\n"
	      "Options:\n"
	      "  -p, --profile P          check the token the agent sends for profile P\n"
	      "      --policy FILE        apply the <validate-jwt> or <validate-azure-ad-token>\n"
	      "                           element of an APIM policy document or snippet\n"
	      "      --named-value N=V    fill {{N}} in the policy\n"
	      "      --tenant T           an Entra tenant: its v1 and v2 issuers and its keys\n"
	      "      --audience A         an accepted audience (repeatable)\n"
	      "      --issuer I           an accepted issuer (repeatable)\n"
	      "      --client-app-id ID   an accepted appid/azp (repeatable)\n"
	      "      --claim N[=V[,V]]    claim N present, with any of the values (repeatable)\n"
	      "      --openid-config URL  where the signing keys are published\n"
	      "      --json               print the result as JSON\n"
	      "  -S, --socket PATH        the agent's socket (keys are cached there)\n"
	      "  -h, --help               show this help\n"
	      "  -V, --version            print the version\n"
	      "\n"
	      "Without --openid-config, --tenant or a policy, the keys of the token's own\n"
	      "Entra issuer are used ($AZURE_AUTHORITY_HOST, else login.microsoftonline.com).\n"
	      "\n"
	      "Exit status: 0 every check passed, 1 a check failed or the token is not a JWT,\n"
	      "2 usage error; with --profile 3-7 as for 'aoai token'.\n",
	      out);
}

static int add_named(struct options *o, char *spec)
{
	char *eq = strchr(spec, '=');

	if (!eq || eq == spec)
		return cli_usage_error(PROG, "--named-value wants NAME=VALUE");
	if (o->n_named == MAX_NAMED)
		return cli_usage_error(PROG, "more than %d named values", MAX_NAMED);
	*eq = '\0';
	o->named[o->n_named++] = (struct policy_named_value){ .name = spec, .value = eq + 1 };
	return -1;
}

static int add_to(struct strv *v, const char *s)
{
	return strv_add(v, s) < 0 ? cli_error(CLI_EXIT_ERROR, "out of memory") : -1;
}

static int parse_options(int argc, char *argv[], struct options *o, const char **socket)
{
	enum {
		OPT_POLICY = 256,
		OPT_NAMED,
		OPT_TENANT,
		OPT_AUD,
		OPT_ISS,
		OPT_APP,
		OPT_CLAIM,
		OPT_OPENID,
		OPT_JSON
	};
	static const struct option options[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "named-value", required_argument, NULL, OPT_NAMED },
		{ "tenant", required_argument, NULL, OPT_TENANT },
		{ "audience", required_argument, NULL, OPT_AUD },
		{ "issuer", required_argument, NULL, OPT_ISS },
		{ "client-app-id", required_argument, NULL, OPT_APP },
		{ "claim", required_argument, NULL, OPT_CLAIM },
		{ "openid-config", required_argument, NULL, OPT_OPENID },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "socket", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c, r = -1;

	while (r < 0 && (c = getopt_long(argc, argv, "p:S:hV", options, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->profile = optarg;
			break;
		case OPT_POLICY:
			o->policy_file = optarg;
			break;
		case OPT_NAMED:
			r = add_named(o, optarg);
			break;
		case OPT_TENANT:
			o->tenant = optarg;
			break;
		case OPT_AUD:
			r = add_to(&o->audiences, optarg);
			break;
		case OPT_ISS:
			r = add_to(&o->issuers, optarg);
			break;
		case OPT_APP:
			r = add_to(&o->app_ids, optarg);
			break;
		case OPT_CLAIM:
			r = add_to(&o->claims, optarg);
			break;
		case OPT_OPENID:
			r = add_to(&o->openid_configs, optarg);
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case 'S':
			*socket = optarg;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		case 'V':
			printf("aoai-check %s\n", AOAI_VERSION);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error(PROG, NULL);
		}
	}
	if (r >= 0)
		return r;
	if (optind < argc)
		o->token_arg = argv[optind++];
	if (optind < argc)
		return cli_usage_error(PROG, "one token at a time");
	if (o->profile && o->token_arg)
		return cli_usage_error(PROG, "a token and --profile: give one");
	return -1;
}

/* The file's bytes, up to POLICY_MAX_SIZE; an exit code after saying why not. */
static int read_policy(const char *path, char **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	char *buf = f ? malloc(POLICY_MAX_SIZE + 1) : NULL;
	size_t len = buf ? fread(buf, 1, POLICY_MAX_SIZE + 1, f) : 0;
	int r = -1;

	if (!f)
		r = cli_error(CLI_EXIT_USAGE, "cannot open %s: %m", path);
	else if (!buf)
		r = cli_error(CLI_EXIT_ERROR, "out of memory");
	else if (ferror(f))
		r = cli_error(CLI_EXIT_USAGE, "cannot read %s", path);
	else if (len > POLICY_MAX_SIZE)
		r = cli_error(CLI_EXIT_USAGE, "%s: larger than %d bytes", path, POLICY_MAX_SIZE);
	if (f)
		fclose(f);
	if (r >= 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = len;
	return -1;
}

static int load_policy(const struct options *o, struct policy *p)
{
	char err[MAX_MESSAGE];
	char *text = NULL;
	size_t len;
	int r = read_policy(o->policy_file, &text, &len);

	if (r >= 0)
		return r;
	r = policy_parse(text, len, o->named, o->n_named, p, err, sizeof(err));
	free(text);
	if (r < 0)
		return cli_error(CLI_EXIT_USAGE, "%s: %s", o->policy_file, err);
	return -1;
}

/* The options' rules on top of the policy's. */
static int build_expect(const struct options *o, const struct policy *p, struct expect *e)
{
	char err[MAX_MESSAGE];
	int r = expect_init(e, o->policy_file ? p : NULL, o->tenant, err, sizeof(err));

	for (size_t i = 0; r == 0 && i < o->claims.n; i++)
		r = expect_add_claim(e, o->claims.items[i], err, sizeof(err));
	for (size_t i = 0; r == 0 && i < o->openid_configs.n; i++) {
		/* Named first: tried before any derived from --tenant. */
		r = strv_add(&e->openid_configs, o->openid_configs.items[i]);
		e->openid_given = true;
	}
	for (size_t i = 0; r == 0 && i < o->audiences.n; i++)
		r = strv_add(&e->audiences, o->audiences.items[i]);
	for (size_t i = 0; r == 0 && i < o->issuers.n; i++)
		r = strv_add(&e->issuers, o->issuers.items[i]);
	for (size_t i = 0; r == 0 && i < o->app_ids.n; i++)
		r = strv_add(&e->client_app_ids, o->app_ids.items[i]);
	if (r == -ENOMEM)
		return cli_error(CLI_EXIT_ERROR, "out of memory");
	return r < 0 ? cli_usage_error(PROG, "%s", err) : -1;
}

static int check(const struct options *o, const struct expect *e, const char *socket,
		 const struct jwt *jwt, const char *source)
{
	time_t now = time(NULL);
	struct check_run run;
	int r = check_run(jwt, e, socket, now, &run);

	if (r < 0) {
		check_run_done(&run);
		return cli_error(CLI_EXIT_ERROR, "out of memory");
	}
	if (o->json)
		r = report_json(stdout, jwt, source, o->policy_file, &run);
	else
		report_text(stdout, jwt, source, o->policy_file, &run, now);
	r = r < 0 ? CLI_EXIT_ERROR : check_run_ok(&run) ? CLI_EXIT_OK : CLI_EXIT_ERROR;
	check_run_done(&run);
	return r;
}

static int decode_and_check(const struct options *o, struct expect *e, const char *socket)
{
	struct check_token tok;
	struct jwt jwt;
	char err[MAX_MESSAGE], source[128];
	int r = check_token_read(o->token_arg, o->profile, socket, &tok);

	if (r)
		return r;
	r = jwt_decode(tok.text, tok.len, &jwt, err, sizeof(err));
	check_token_done(&tok);
	if (r < 0)
		return cli_error(CLI_EXIT_ERROR, "not a valid JWT: %s", err);
	if (o->profile)
		snprintf(source, sizeof(source), "the agent's, profile \"%s\"", o->profile);
	else
		snprintf(source, sizeof(source), "%s",
			 !o->token_arg || !strcmp(o->token_arg, "-") ? "stdin" : "argument");
	(void)expect_default_openid(e, &jwt); /* else the signature line says why not */
	r = check(o, e, socket, &jwt, source);
	jwt_done(&jwt);
	return r;
}

static void options_done(struct options *o)
{
	strv_done(&o->audiences);
	strv_done(&o->issuers);
	strv_done(&o->app_ids);
	strv_done(&o->openid_configs);
	strv_done(&o->claims);
}

int main(int argc, char *argv[])
{
	struct options o = { 0 };
	struct policy p = { 0 };
	struct expect e = { 0 };
	const char *socket = NULL;
	int r = parse_options(argc, argv, &o, &socket);

	if (r < 0 && o.policy_file)
		r = load_policy(&o, &p);
	if (r < 0)
		r = build_expect(&o, &p, &e);
	if (r < 0)
		r = decode_and_check(&o, &e, socket);
	expect_done(&e);
	policy_done(&p);
	options_done(&o);
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_error(CLI_EXIT_ERROR, "cannot write the output: %m");
	return r;
}
