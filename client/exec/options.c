/* SPDX-License-Identifier: MIT */
/*
 * The command line of aoai-exec.  Options end at "--" or at the first word
 * that is not one ("+" in the getopt string), so that COMMAND's own options
 * are never taken for ours.
 */
#include <getopt.h>
#include <stdio.h>

#include "exec.h"
#include "proto.h"

static const char usage_text[] =
    "Usage: aoai-exec [-p PROFILE] [--no-relay | --key-in-env | --relay] [--no-env]\n"
    "                 [--no-preload] [--no-identity] [--] COMMAND [ARGS]\n"
    "\n"
    "Runs COMMAND with the credentials of an aoai-agent profile wired in:\n"
    "  - for an api-key profile, a relay on 127.0.0.1 for as long as COMMAND runs:\n"
    "    AZURE_OPENAI_ENDPOINT and OPENAI_BASE_URL point at it, and\n"
    "    AZURE_OPENAI_API_KEY and OPENAI_API_KEY hold a placeholder that only the\n"
    "    relay accepts; it forwards each request to the profile's host with the\n"
    "    real key, which COMMAND never sees;\n"
    "  - the libcurl hook libaoai-preload.so first in LD_PRELOAD;\n"
    "  - for a token profile, a managed-identity endpoint on 127.0.0.1 for as\n"
    "    long as COMMAND runs (IDENTITY_ENDPOINT, IDENTITY_HEADER: App Service,\n"
    "    api-version 2019-08-01), so DefaultAzureCredential and\n"
    "    ManagedIdentityCredential get fresh tokens from the agent.\n"
    "Variables that would hand COMMAND another credential (AZURE_CLIENT_SECRET,\n"
    "OPENAI_API_KEY, MSI_ENDPOINT ...) are removed; AOAI_EXEC is set to the profile.\n"
    "\n"
    "The profile: PROFILE, else the one covering the host of $AZURE_OPENAI_ENDPOINT,\n"
    "else the agent's only profile.\n"
    "\n"
    "Options:\n"
    "  -p, --profile PROFILE  the profile to use\n"
    "      --no-relay         no relay: AZURE_OPENAI_ENDPOINT is the profile's host,\n"
    "                         and no key is set (the hook still adds it)\n"
    "      --key-in-env       the old way: the API key itself in AZURE_OPENAI_API_KEY,\n"
    "                         no relay (warns: every process of yours can read it)\n"
    "      --relay            a token profile: the relay too (its placeholder as the key)\n"
    "      --no-env           no credential of any kind in the environment: no relay\n"
    "      --no-preload       leave LD_PRELOAD alone\n"
    "      --no-identity      no managed-identity endpoint\n"
    "  -h, --help             show this help\n"
    "  -V, --version          print the version\n"
    "\n"
    "Exit status: COMMAND's, or 128+N when it died of signal N; 126 when it\n"
    "cannot be run, 127 when it is not found.  Before COMMAND runs, aoai's codes:\n"
    "  1  other failure (the agent's reason is printed; also: nested aoai-exec)\n"
    "  2  usage error, or several profiles and none chosen\n"
    "  3  no agent reachable\n"
    "  4  no profile covers AZURE_OPENAI_ENDPOINT\n"
    "  5  the agent is locked\n"
    "  6  the credential is unavailable\n"
    "  7  the profile does not allow this client\n";

int options_parse(int argc, char *argv[], struct exec_options *o)
{
	static const struct option options[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "no-env", no_argument, NULL, 'E' },
		{ "no-relay", no_argument, NULL, 'R' },
		{ "key-in-env", no_argument, NULL, 'K' },
		{ "relay", no_argument, NULL, 'r' },
		{ "no-preload", no_argument, NULL, 'P' },
		{ "no-identity", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+p:hV", options, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->profile = optarg;
			break;
		case 'E':
			o->no_env = true;
			break;
		case 'R':
			o->no_relay = true;
			break;
		case 'K':
			o->key_in_env = true;
			break;
		case 'r':
			o->relay = true;
			break;
		case 'P':
			o->no_preload = true;
			break;
		case 'I':
			o->no_identity = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return CLI_EXIT_OK;
		case 'V':
			printf("aoai-exec %s\n", AOAI_VERSION);
			return CLI_EXIT_OK;
		default:
			return exec_usage_error(NULL);
		}
	}
	if (optind >= argc)
		return exec_usage_error("missing COMMAND");
	if (o->no_relay + o->key_in_env + o->relay > 1)
		return exec_usage_error("--no-relay, --key-in-env and --relay exclude each other");
	if (o->profile && !proto_name_valid(o->profile))
		return exec_usage_error("invalid profile name '%s': use 1-64 of A-Z a-z 0-9 . _ -",
					o->profile);
	o->command = argv + optind;
	return -1;
}
