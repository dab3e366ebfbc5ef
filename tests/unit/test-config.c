/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define TEST_PATH "/test/agent.json"
#define TEST_HOME "/home/tester"
#define GUID1     "5a3c0f1e-7b2d-4c8a-9e6f-0123456789ab"
#define GUID2     "1e6a2b3c-4d5e-6f70-8192-a3b4c5d6e7f8"
#define GUID3     "00000000-1111-2222-3333-444444444444"

/* Test JSON is written with single quotes; this turns them into double quotes. */
static char *jq(const char *sq)
{
	char *s = strdup(sq);

	assert_non_null(s);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	return s;
}

static struct config *parse_ok(const char *sq)
{
	struct config *c = NULL;
	char err[1024] = "";
	char *text = jq(sq);

	if (config_parse(text, strlen(text), TEST_PATH, &c, err, sizeof(err)) < 0)
		fail_msg("unexpected error: %s", err);
	free(text);
	assert_non_null(c);
	return c;
}

/* Asserts @err reads "PATH: WHO: key "KEY": ...WHY..." (WHO and KEY optional). */
static void check_msg(const char *err, const char *path, const char *who, const char *key,
		      const char *why)
{
	char want[512];

	snprintf(want, sizeof(want), "%s: %s%s%s%s%s", path, who ? who : "", who ? ": " : "",
		 key ? "key \"" : "", key ? key : "", key ? "\": " : "");
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("message \"%s\" does not start with \"%s\"", err, want);
	if (!strstr(err + strlen(want), why))
		fail_msg("message \"%s\" lacks \"%s\"", err, why);
}

static void expect_error(const char *sq, const char *who, const char *key, const char *why)
{
	static struct config sentinel;
	struct config *c = &sentinel;
	char err[1024] = "";
	char *text = jq(sq);
	int r;

	r = config_parse(text, strlen(text), TEST_PATH, &c, err, sizeof(err));
	if (r != -EINVAL)
		fail_msg("%s\nreturned %d (%s)", text, r, err);
	free(text);
	assert_ptr_equal(c, &sentinel); /* untouched */
	check_msg(err, TEST_PATH, who, key, why);
}

/* One profile "p" with @body, plus @extra top-level text (e.g. secrets). */
static void expect_profile_error(const char *body, const char *key, const char *why)
{
	char json[16384];

	snprintf(json, sizeof(json), "{'profiles': {'p': {%s}}}", body);
	expect_error(json, "profile \"p\"", key, why);
}

static void expect_secret_error(const char *body, const char *key, const char *why)
{
	char json[16384];

	snprintf(json, sizeof(json),
		 "{'profiles': {'tok': {'hosts': ['t.test'], 'credential': {'type': 'azure-cli'}},"
		 "              'key': {'hosts': ['k.test'], 'credential': {'type': 'api-key'}}},"
		 " 'secrets': {'s': {%s}}}",
		 body);
	expect_error(json, "secret \"s\"", key, why);
}

static const char full_config[] =
    "{"
    " 'profiles': {"
    "  'contoso': {"
    "   'hosts': ['contoso.openai.azure.com'],"
    "   'credential': { 'type': 'api-key' }"
    "  },"
    "  'vm': {"
    "   'hosts': ['*.openai.azure.com'],"
    "   'credential': { 'type': 'managed-identity', 'client_id': '" GUID1 "' }"
    "  },"
    "  'gateway': {"
    "   'hosts': ['contoso-apim.azure-api.net'],"
    "   'credential': { 'type': 'workload-identity' },"
    "   'scope': 'api://" GUID2 "/.default',"
    "   'headers': {"
    "    'Authorization': 'Bearer {token}',"
    "    'Ocp-Apim-Subscription-Key': { 'value': '{secret:apim-sub}', 'exists_action': 'skip' }"
    "   }"
    "  },"
    "  'mi-res': {"
    "   'hosts': ['res.test:8443', '[::1]:9000'],"
    "   'credential': { 'type': 'managed-identity',"
    "     'resource_id': '/subscriptions/x/resourceGroups/rg/providers/"
    "Microsoft.ManagedIdentity/userAssignedIdentities/id1',"
    "     'endpoint': 'http://169.254.169.254/metadata/identity/oauth2/token' }"
    "  },"
    "  'mi-obj': {"
    "   'hosts': ['obj.test'],"
    "   'credential': { 'type': 'managed-identity', 'object_id': '" GUID3 "',"
    "     'endpoint': 'http://127.0.0.1:8080/msi/token' }"
    "  },"
    "  'wi': {"
    "   'hosts': ['wi.test'],"
    "   'credential': { 'type': 'workload-identity', 'tenant_id': 'contoso.onmicrosoft.com',"
    "     'client_id': '" GUID1 "', 'token_file': '/var/run/secrets/azure/tokens/token',"
    "     'authority_host': 'https://login.microsoftonline.com/' },"
    "   'allow': { 'exe': ['/usr/bin/curl', '/usr/bin/python3'], 'unit': ['app.service'],"
    "     'uid': [1000, 0] }"
    "  },"
    "  'sp': {"
    "   'hosts': ['sp.test'],"
    "   'credential': { 'type': 'client-secret', 'tenant_id': '" GUID2 "',"
    "     'client_id': '" GUID3 "', 'secret': 'sp-secret' }"
    "  },"
    "  'cert': {"
    "   'hosts': ['cert.test'],"
    "   'credential': { 'type': 'client-certificate', 'tenant_id': '" GUID2 "',"
    "     'client_id': '" GUID1 "', 'certificate': '~/certs/sp.pem', 'send_chain': true }"
    "  },"
    "  'cli': {"
    "   'hosts': ['cli.test'],"
    "   'credential': { 'type': 'azure-cli', 'tenant_id': 'organizations' }"
    "  },"
    "  'keyed': {"
    "   'hosts': ['keyed.test'],"
    "   'credential': { 'type': 'api-key', 'secret': 'shared-key' },"
    "   'headers': { 'api-key': '{secret}',"
    "     'X-Extra': { 'value': 'v-{secret:apim-sub}', 'exists_action': 'append' } }"
    "  },"
    "  'filekey': {"
    "   'hosts': ['filekey.test'],"
    "   'credential': { 'type': 'api-key', 'file': '/run/keys/filekey' }"
    "  }"
    " },"
    " 'secrets': {"
    "  'apim-sub': { 'file': '~/.config/aoai/apim-sub' },"
    "  'sd': { 'credentials': 'aoai-key' },"
    "  'kv': { 'keyvault': 'https://myvault.vault.azure.net/secrets/sp-secret/0123abcd',"
    "    'via': 'vm', 'refresh': 600 },"
    "  'kv2': { 'keyvault': 'https://other.vault.azure.net/secrets/other', 'via': 'wi' }"
    " }"
    "}";

static int setup_home(void **state)
{
	(void)state;
	return setenv("HOME", TEST_HOME, 1);
}

static const struct profile *profile(const struct config *c, const char *name)
{
	const struct profile *p = config_find_profile(c, name);

	if (!p)
		fail_msg("no profile %s", name);
	return p;
}

static void check_header(const struct profile *p, size_t i, const char *name, const char *value,
			 enum exists_action action)
{
	assert_true(i < p->n_headers);
	assert_string_equal(p->headers[i].name, name);
	assert_string_equal(p->headers[i].value, value);
	assert_int_equal(p->headers[i].action, action);
}

static void test_full_spec_profiles(void **state)
{
	struct config *c = parse_ok(full_config);
	const struct profile *p;

	(void)state;
	assert_string_equal(c->path, TEST_PATH);
	assert_int_equal(c->n_profiles, 11);
	/* file order is kept */
	assert_string_equal(c->profiles[0].name, "contoso");
	assert_string_equal(c->profiles[10].name, "filekey");

	p = profile(c, "contoso");
	assert_int_equal(p->n_hosts, 1);
	assert_string_equal(p->hosts[0].host, "contoso.openai.azure.com");
	assert_false(p->hosts[0].wildcard);
	assert_int_equal(p->hosts[0].port, 0);
	assert_int_equal(p->cred.type, CRED_API_KEY);
	assert_string_equal(p->cred.secret, "contoso");
	assert_null(p->scope);
	assert_int_equal(p->n_headers, 1);
	check_header(p, 0, "api-key", "{secret}", EXISTS_OVERRIDE);
	assert_int_equal(p->allow.n_exe + p->allow.n_unit + p->allow.n_uid, 0);

	p = profile(c, "vm");
	assert_true(p->hosts[0].wildcard);
	assert_string_equal(p->hosts[0].host, "openai.azure.com");
	assert_int_equal(p->cred.type, CRED_MANAGED_IDENTITY);
	assert_string_equal(p->cred.client_id, GUID1);
	assert_null(p->cred.object_id);
	assert_null(p->cred.endpoint);
	assert_string_equal(p->scope, CONFIG_DEFAULT_SCOPE);
	check_header(p, 0, "Authorization", "Bearer {token}", EXISTS_OVERRIDE);

	p = profile(c, "gateway");
	assert_int_equal(p->cred.type, CRED_WORKLOAD_IDENTITY);
	assert_null(p->cred.tenant_id);
	assert_null(p->cred.client_id);
	assert_string_equal(p->scope, "api://" GUID2 "/.default");
	assert_int_equal(p->n_headers, 2);
	check_header(p, 0, "Authorization", "Bearer {token}", EXISTS_OVERRIDE);
	check_header(p, 1, "Ocp-Apim-Subscription-Key", "{secret:apim-sub}", EXISTS_SKIP);
	config_free(c);
}

static void test_full_other_types(void **state)
{
	struct config *c = parse_ok(full_config);
	const struct profile *p;

	(void)state;
	p = profile(c, "mi-res");
	assert_int_equal(p->n_hosts, 2);
	assert_int_equal(p->hosts[0].port, 8443);
	assert_string_equal(p->hosts[1].host, "::1");
	assert_int_equal(p->hosts[1].port, 9000);
	assert_true(strstr(p->cred.resource_id, "/userAssignedIdentities/id1") != NULL);
	assert_string_equal(p->cred.endpoint,
			    "http://169.254.169.254/metadata/identity/oauth2/token");
	assert_null(p->cred.client_id);

	p = profile(c, "mi-obj");
	assert_string_equal(p->cred.object_id, GUID3);
	assert_string_equal(p->cred.endpoint, "http://127.0.0.1:8080/msi/token");

	p = profile(c, "wi");
	assert_string_equal(p->cred.tenant_id, "contoso.onmicrosoft.com");
	assert_string_equal(p->cred.client_id, GUID1);
	assert_string_equal(p->cred.token_file, "/var/run/secrets/azure/tokens/token");
	assert_string_equal(p->cred.authority_host, "https://login.microsoftonline.com/");
	assert_int_equal(p->allow.n_exe, 2);
	assert_string_equal(p->allow.exe[1], "/usr/bin/python3");
	assert_int_equal(p->allow.n_unit, 1);
	assert_string_equal(p->allow.unit[0], "app.service");
	assert_int_equal(p->allow.n_uid, 2);
	assert_int_equal(p->allow.uid[0], 1000);
	assert_int_equal(p->allow.uid[1], 0);
	config_free(c);
}

static void test_full_secret_types(void **state)
{
	struct config *c = parse_ok(full_config);
	const struct profile *p;

	(void)state;
	p = profile(c, "sp");
	assert_int_equal(p->cred.type, CRED_CLIENT_SECRET);
	assert_string_equal(p->cred.tenant_id, GUID2);
	assert_string_equal(p->cred.client_id, GUID3);
	assert_string_equal(p->cred.secret, "sp-secret");

	p = profile(c, "cert");
	assert_int_equal(p->cred.type, CRED_CLIENT_CERTIFICATE);
	assert_string_equal(p->cred.certificate, TEST_HOME "/certs/sp.pem");
	assert_true(p->cred.send_chain);

	p = profile(c, "cli");
	assert_int_equal(p->cred.type, CRED_AZURE_CLI);
	assert_string_equal(p->cred.tenant_id, "organizations");
	assert_string_equal(p->scope, CONFIG_DEFAULT_SCOPE);

	p = profile(c, "keyed");
	assert_string_equal(p->cred.secret, "shared-key");
	check_header(p, 0, "api-key", "{secret}", EXISTS_OVERRIDE);
	check_header(p, 1, "X-Extra", "v-{secret:apim-sub}", EXISTS_APPEND);
	config_free(c);
}

static void test_full_secrets(void **state)
{
	struct config *c = parse_ok(full_config);
	const struct secret_source *s;
	const struct profile *p;

	(void)state;
	assert_int_equal(c->n_secrets, 5); /* four listed + filekey's shorthand */
	s = config_find_secret(c, "apim-sub");
	assert_non_null(s);
	assert_int_equal(s->kind, SOURCE_FILE);
	assert_string_equal(s->path, TEST_HOME "/.config/aoai/apim-sub");
	s = config_find_secret(c, "sd");
	assert_int_equal(s->kind, SOURCE_CREDENTIALS);
	assert_string_equal(s->cred, "aoai-key");
	assert_null(s->path);
	s = config_find_secret(c, "kv");
	assert_int_equal(s->kind, SOURCE_KEYVAULT);
	assert_string_equal(s->url, "https://myvault.vault.azure.net/secrets/sp-secret/0123abcd");
	assert_string_equal(s->via, "vm");
	assert_int_equal(s->refresh, 600);
	s = config_find_secret(c, "kv2");
	assert_int_equal(s->refresh, CONFIG_DEFAULT_KEYVAULT_REFRESH);
	/* the api-key "file" shorthand */
	p = profile(c, "filekey");
	assert_string_equal(p->cred.secret, "filekey");
	s = config_find_secret(c, "filekey");
	assert_non_null(s);
	assert_int_equal(s->kind, SOURCE_FILE);
	assert_string_equal(s->path, "/run/keys/filekey");
	assert_null(config_find_secret(c, "nope"));
	assert_null(config_find_profile(c, "nope"));
	assert_null(config_find_profile(NULL, "vm"));
	assert_null(config_find_secret(c, NULL));
	assert_null(config_free(c));
}

static void test_defaults(void **state)
{
	struct config *c;
	const struct profile *p;

	(void)state;
	c = parse_ok("{'profiles': {"
		     " 'k': {'hosts': ['k.test'], 'credential': {'type': 'api-key'}},"
		     " 'c': {'hosts': ['c.test'], 'credential': {'type': 'client-certificate',"
		     "   'tenant_id': '" GUID1 "', 'client_id': '" GUID2
		     "', 'certificate': '/c.pem'}},"
		     " 'w': {'hosts': ['w.test'], 'credential': {'type': 'workload-identity'},"
		     "   'headers': {'X-Token': '{token}'}}}}");
	p = profile(c, "k");
	assert_string_equal(p->cred.secret, "k");
	assert_null(p->scope);
	check_header(p, 0, "api-key", "{secret}", EXISTS_OVERRIDE);
	p = profile(c, "c");
	assert_false(p->cred.send_chain);
	assert_string_equal(p->scope, CONFIG_DEFAULT_SCOPE);
	check_header(p, 0, "Authorization", "Bearer {token}", EXISTS_OVERRIDE);
	p = profile(c, "w");
	/* headers given: no default added */
	assert_int_equal(p->n_headers, 1);
	check_header(p, 0, "X-Token", "{token}", EXISTS_OVERRIDE);
	assert_int_equal(c->n_secrets, 0);
	config_free(c);
}

static void test_store(void **state)
{
	static const struct {
		const char *text;
		enum store_strength want;
	} ok[] = {
		{ "{}", STORE_KDF_MODERATE },
		{ "{'store': {}}", STORE_KDF_MODERATE },
		{ "{'store': {'kdf': 'moderate'}}", STORE_KDF_MODERATE },
		{ "{'store': {'kdf': 'interactive'}}", STORE_KDF_INTERACTIVE },
		{ "{'store': {'kdf': 'sensitive'}}", STORE_KDF_SENSITIVE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct config *c = parse_ok(ok[i].text);

		assert_int_equal(c->store_kdf, ok[i].want);
		config_free(c);
	}
	expect_error("{'store': []}", NULL, "store", "must be an object");
	expect_error("{'store': {'kdf': 'fast'}}", NULL, "store.kdf", "must be \"moderate\"");
	expect_error("{'store': {'kdf': 3}}", NULL, "store.kdf", "must be a string");
	expect_error("{'store': {'path': '/x'}}", NULL, "store.path", "unknown key (valid: kdf)");
}

static void test_empty_and_names(void **state)
{
	struct config *c = NULL;
	char err[256];

	(void)state;
	assert_int_equal(config_parse("{}", 2, NULL, &c, err, sizeof(err)), 0);
	assert_null(c->path);
	assert_int_equal(c->n_profiles, 0);
	assert_int_equal(c->n_secrets, 0);
	c = config_free(c);
	assert_int_equal(
	    config_parse("{'profiles': {}, 'secrets': {}}", 31, NULL, &c, err, sizeof(err)),
	    -EINVAL); /* single quotes are not JSON */
	assert_true(strncmp(err, "<config>:1:", 11) == 0);
	c = parse_ok("{'profiles': {}, 'secrets': {}}");
	config_free(c);
	c = config_new_empty();
	assert_non_null(c);
	assert_int_equal(c->n_profiles, 0);
	assert_null(config_find_profile(c, "x"));
	config_free(c);
	assert_null(config_free(NULL));

	assert_string_equal(cred_type_name(CRED_API_KEY), "api-key");
	assert_string_equal(cred_type_name(CRED_MANAGED_IDENTITY), "managed-identity");
	assert_string_equal(cred_type_name(CRED_WORKLOAD_IDENTITY), "workload-identity");
	assert_string_equal(cred_type_name(CRED_CLIENT_SECRET), "client-secret");
	assert_string_equal(cred_type_name(CRED_CLIENT_CERTIFICATE), "client-certificate");
	assert_string_equal(cred_type_name(CRED_AZURE_CLI), "azure-cli");
	assert_false(cred_type_is_token(CRED_API_KEY));
	for (int t = CRED_MANAGED_IDENTITY; t < _CRED_TYPE_MAX; t++)
		assert_true(cred_type_is_token((enum cred_type)t));
	assert_false(cred_type_is_token(_CRED_TYPE_MAX));
	assert_string_equal(exists_action_name(EXISTS_OVERRIDE), "override");
	assert_string_equal(exists_action_name(EXISTS_SKIP), "skip");
	assert_string_equal(exists_action_name(EXISTS_APPEND), "append");
}

static void test_json_syntax(void **state)
{
	static const char text[] = "{\n  \"profiles\": {\n    \"a\": ,\n  }\n}\n";
	static const char dup[] = "{\"profiles\": {\"a\": {}, \"a\": {}}}";
	struct config *c = NULL;
	char err[512] = "";

	(void)state;
	assert_int_equal(config_parse(text, strlen(text), TEST_PATH, &c, err, sizeof(err)),
			 -EINVAL);
	assert_null(c);
	assert_true(strncmp(err, TEST_PATH ":3:", strlen(TEST_PATH ":3:")) == 0);
	assert_int_equal(config_parse(dup, strlen(dup), TEST_PATH, &c, err, sizeof(err)), -EINVAL);
	assert_true(strncmp(err, TEST_PATH ":1:", strlen(TEST_PATH ":1:")) == 0);
	assert_non_null(strstr(err, "duplicate"));
	assert_int_equal(config_parse("", 0, TEST_PATH, &c, err, sizeof(err)), -EINVAL);
	assert_true(strncmp(err, TEST_PATH ":1:", strlen(TEST_PATH ":1:")) == 0);
	assert_int_equal(config_parse("{\"a\": \"\\u0000\"}", 15, TEST_PATH, &c, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(config_parse("{}", CONFIG_MAX_FILE + 1, TEST_PATH, &c, err, sizeof(err)),
			 -EFBIG);
	assert_null(c);
	expect_error("[]", NULL, NULL, "top level must be a JSON object");
}

static void test_errors_top(void **state)
{
	(void)state;
	expect_error("{'profilez': {}}", NULL, "profilez",
		     "unknown key (valid: profiles, secrets, store)");
	expect_error("{'profiles': []}", NULL, "profiles", "must be an object");
	expect_error("{'secrets': 'x'}", NULL, "secrets", "must be an object");
	expect_error("{'profiles': {'p': []}}", "profile \"p\"", NULL, "must be an object");
	expect_error("{'profiles': {'bad/name': {}}}", "profile \"bad/name\"", NULL,
		     "invalid name");
	expect_error("{'profiles': {'': {}}}", "profile \"\"", NULL, "invalid name");
	expect_error("{'secrets': {'a b': {}}}", "secret \"a b\"", NULL, "invalid name");
	expect_error("{'secrets': {'s': 1}}", "secret \"s\"", NULL, "must be an object");
	/* names with quotes or controls are shown defused */
	expect_error("{'profiles': {'x\\\"\\n': {}}}", "profile \"x??\"", NULL, "invalid name");
}

#define HOSTS   "'hosts': ['a.test'], "
#define API_KEY "'credential': {'type': 'api-key'}"
#define TOKEN   "'credential': {'type': 'azure-cli'}"

struct bad {
	const char *body;
	const char *key;
	const char *why;
};

static const struct bad bad_profiles[] = {
	{ HOSTS API_KEY ", 'hostz': []", "hostz",
	  "unknown key (valid: hosts, credential, scope, headers, allow, relay)" },
	{ API_KEY, "hosts", "is required" },
	{ "'hosts': 'a.test', " API_KEY, "hosts", "must be an array" },
	{ "'hosts': [], " API_KEY, "hosts", "must not be empty" },
	{ "'hosts': [1], " API_KEY, "hosts[0]", "must be a string" },
	{ "'hosts': ['a.test', '*'], " API_KEY, "hosts[1]", "lone '*'" },
	{ "'hosts': ['a.test', 'b_c.test'], " API_KEY, "hosts[1]", "invalid character" },
	{ "'hosts': ['a.test', 'b.test', 'A.TEST'], " API_KEY, "hosts[2]",
	  "\"a.test\" is listed twice" },
	/* A URL stands for its host and port, and nothing more may come with it. */
	{ "'hosts': ['a.test', 'https://A.test/'], " API_KEY, "hosts[1]",
	  "\"a.test\" is listed twice" },
	{ "'hosts': ['https://b.test:8443/openai/v1'], " API_KEY, "hosts[0]",
	  "expected a host name, got a URL with a path, query or fragment: write "
	  "\"b.test:8443\"" },
	{ HOSTS "'scope': 'x'", "credential", "is required" },
	{ HOSTS "'credential': 'api-key'", "credential", "must be an object" },
	{ HOSTS "'credential': {}", "credential.type", "is required" },
	{ HOSTS "'credential': {'type': 3}", "credential.type", "must be a string" },
	{ HOSTS "'credential': {'type': 'password'}", "credential.type", "must be one of" },
	{ HOSTS "'credential': {'type': 'api-key', 'client_id': '" GUID1 "'}",
	  "credential.client_id",
	  "unknown key for credential type \"api-key\" (valid: type, secret, file)" },
	{ HOSTS "'credential': {'type': 'api-key', 'secret': 'a/b'}", "credential.secret",
	  "must be a name" },
	{ HOSTS "'credential': {'type': 'api-key', 'secret': ''}", "credential.secret",
	  "must not be empty" },
	{ HOSTS "'credential': {'type': 'api-key', 'file': 'keys/k'}", "credential.file",
	  "absolute path" },
	{ HOSTS "'credential': {'type': 'api-key', 'file': '~bob/k'}", "credential.file",
	  "absolute path" },
	{ HOSTS "'credential': {'type': 'api-key', 'file': '/k', 'secret': 'k'}", "credential.file",
	  "cannot be combined with \"secret\"" },
	{ HOSTS "'credential': {'type': 'managed-identity', 'client_id': '5a3c'}",
	  "credential.client_id", "must be a GUID" },
	{ HOSTS "'credential': {'type': 'managed-identity', 'client_id': '" GUID1 "x'}",
	  "credential.client_id", "must be a GUID" },
	{ HOSTS "'credential': {'type': 'managed-identity', 'object_id': 'zzzzzzzz-1111-2222-3333-"
		"444444444444'}",
	  "credential.object_id", "must be a GUID" },
	{ HOSTS "'credential': {'type': 'managed-identity', 'client_id': '" GUID1
		"', 'object_id': '" GUID2 "'}",
	  "credential.object_id", "only one of" },
	{ HOSTS "'credential': {'type': 'managed-identity', 'client_id': '" GUID1
		"', 'resource_id': '/subscriptions/x'}",
	  "credential.resource_id", "only one of" },
	{ HOSTS "'credential': {'type': 'managed-identity', 'resource_id': 'id1'}",
	  "credential.resource_id", "Azure resource ID" },
	{ HOSTS "'credential': {'type': 'managed-identity', 'endpoint': 'http://imds.test/token'}",
	  "credential.endpoint", "must be https" },
	{ HOSTS "'credential': {'type': 'managed-identity', 'endpoint': 'ftp://x.test/'}",
	  "credential.endpoint", "scheme" },
	{ HOSTS "'credential': {'type': 'managed-identity', 'endpoint': '/token'}",
	  "credential.endpoint", "absolute" },
	{ HOSTS "'credential': {'type': 'managed-identity', 'endpoint': true}",
	  "credential.endpoint", "must be a string" },
	{ HOSTS "'credential': {'type': 'managed-identity', 'tenant_id': 'x'}",
	  "credential.tenant_id",
	  "unknown key for credential type \"managed-identity\" (valid: type, client_id, "
	  "object_id, "
	  "resource_id, endpoint)" },
	{ HOSTS "'credential': {'type': 'workload-identity', 'authority_host': "
		"'http://169.254.169.254/'}",
	  "credential.authority_host", "must be https" },
	{ HOSTS "'credential': {'type': 'workload-identity', 'tenant_id': 'a b'}",
	  "credential.tenant_id", "must be a GUID or a domain name" },
	{ HOSTS "'credential': {'type': 'workload-identity', 'token_file': 5}",
	  "credential.token_file", "must be a string" },
	{ HOSTS "'credential': {'type': 'workload-identity', 'client_id': 'me'}",
	  "credential.client_id", "must be a GUID" },
	{ HOSTS "'credential': {'type': 'client-secret', 'client_id': '" GUID1 "', 'secret': 's'}",
	  "credential.tenant_id", "is required" },
	{ HOSTS "'credential': {'type': 'client-secret', 'tenant_id': '" GUID1 "', 'secret': 's'}",
	  "credential.client_id", "is required" },
	{ HOSTS "'credential': {'type': 'client-secret', 'tenant_id': '" GUID1
		"', 'client_id': '" GUID2 "'}",
	  "credential.secret", "is required" },
	{ HOSTS "'credential': {'type': 'client-secret', 'tenant_id': '" GUID1
		"', 'client_id': '" GUID2 "', 'secret': 's', 'file': '/x'}",
	  "credential.file",
	  "unknown key for credential type \"client-secret\" (valid: type, tenant_id, client_id, "
	  "secret, authority_host)" },
	{ HOSTS "'credential': {'type': 'client-certificate', 'tenant_id': '" GUID1
		"', 'client_id': '" GUID2 "'}",
	  "credential.certificate", "is required" },
	{ HOSTS "'credential': {'type': 'client-certificate', 'tenant_id': '" GUID1
		"', 'client_id': '" GUID2 "', 'certificate': '/c.pem', 'send_chain': 'yes'}",
	  "credential.send_chain", "true or false" },
	{ HOSTS "'credential': {'type': 'client-certificate', 'tenant_id': '" GUID1
		"', 'client_id': '" GUID2 "', 'certificate': '/c.pem', 'chain': true}",
	  "credential.chain",
	  "(valid: type, tenant_id, client_id, certificate, authority_host, send_chain)" },
	{ HOSTS "'credential': {'type': 'oidc', 'issuer': 'http://idp.example', 'client_id': 'c', "
		"'secret': 's'}",
	  "credential.issuer", "must be https" },
	{ HOSTS "'credential': {'type': 'oidc', 'issuer': 'https://idp.example', 'client_id': 'c', "
		"'secret': 's', 'flow': 'device-code'}",
	  "credential.flow", "applies to signing a person in" },
	{ HOSTS "'credential': {'type': 'oidc', 'issuer': 'https://idp.example', 'client_id': 'c', "
		"'flow': 'password'}",
	  "credential.flow", "must be \"device-code\" or \"browser\"" },
	{ HOSTS "'credential': {'type': 'user', 'flow': 'web'}", "credential.flow",
	  "must be \"device-code\" or \"browser\"" },
	{ HOSTS "'credential': {'type': 'user', 'client_id': 'az'}", "credential.client_id",
	  "GUID" },
	{ HOSTS "'credential': {'type': 'user', 'secret': 's'}", "credential.secret",
	  "(valid: type, tenant_id, client_id, authority_host, flow)" },
	{ HOSTS "'credential': {'type': 'user', 'authority_host': 'http://login.example'}",
	  "credential.authority_host", "https" },
	{ HOSTS "'credential': {'type': 'oidc', 'issuer': 'https://idp.example', 'client_id': 'c', "
		"'secret': 's', 'certificate': '/c.pem'}",
	  "credential.certificate", "cannot be combined with \"secret\"" },
	{ HOSTS "'credential': {'type': 'oidc', 'issuer': 'https://idp.example', 'client_id': 'c', "
		"'secret': 's', 'params': {'scope': 'x'}}",
	  "credential.params.scope", "is set by the agent itself" },
	{ HOSTS "'credential': {'type': 'oidc', 'issuer': 'https://idp.example', 'client_id': 'c', "
		"'secret': 's', 'params': {'audience': 1}}",
	  "credential.params.audience", "string" },
	{ HOSTS "'credential': {'type': 'oidc', 'issuer': 'https://idp.example', 'client_id': 'c', "
		"'secret': 's', 'token_endpoint_auth': 'private_key_jwt'}",
	  "credential.token_endpoint_auth", "client_secret_basic" },
	{ HOSTS "'credential': {'type': 'oidc', 'issuer': 'https://idp.example', 'client_id': 'c', "
		"'certificate': '/c.pem', 'token_endpoint_auth': 'client_secret_post'}",
	  "credential.token_endpoint_auth", "applies to a \"secret\" only" },
	{ HOSTS "'credential': {'type': 'azure-cli', 'client_id': '" GUID1 "'}",
	  "credential.client_id",
	  "unknown key for credential type \"azure-cli\" (valid: type, tenant_id)" },
	{ HOSTS API_KEY ", 'scope': 'https://x/.default'", "scope", "only token credential types" },
	{ HOSTS TOKEN ", 'scope': 7", "scope", "must be a string" },
	{ HOSTS TOKEN ", 'scope': ''", "scope", "must not be empty" },
	{ HOSTS TOKEN ", 'headers': []", "headers", "must be an object" },
	{ HOSTS TOKEN ", 'headers': {}", "headers", "must not be empty" },
	{ HOSTS TOKEN ", 'headers': {'Bad Header': '{token}'}", "headers.Bad Header",
	  "not a valid header name" },
	{ HOSTS TOKEN ", 'headers': {'': '{token}'}", "headers.", "not a valid header name" },
	{ HOSTS TOKEN ", 'headers': {'X-A': '{token}', 'x-a': 'b'}", "headers.x-a",
	  "same header as \"X-A\"" },
	{ HOSTS TOKEN ", 'headers': {'X-A': 1}", "headers.X-A",
	  "must be a template string or an object" },
	{ HOSTS TOKEN ", 'headers': {'X-A': {'value': '{token}', 'when': 'x'}}", "headers.X-A.when",
	  "unknown key (valid: value, exists_action)" },
	{ HOSTS TOKEN ", 'headers': {'X-A': {'exists_action': 'skip'}}", "headers.X-A.value",
	  "is required" },
	{ HOSTS TOKEN ", 'headers': {'X-A': {'value': '{token}', 'exists_action': 'replace'}}",
	  "headers.X-A.exists_action", "\"override\", \"skip\" or \"append\"" },
	{ HOSTS TOKEN ", 'headers': {'X-A': {'value': '{token}', 'exists_action': true}}",
	  "headers.X-A.exists_action", "must be a string" },
	{ HOSTS TOKEN ", 'headers': {'X-A': 'Bearer {tok}'}", "headers.X-A",
	  "'{' at offset 7 does not start" },
	{ HOSTS TOKEN ", 'headers': {'X-A': {'value': '{secret:a/b}'}}", "headers.X-A.value",
	  "NAME may only hold" },
	{ HOSTS TOKEN ", 'headers': {'X-A': 'a\\u0001b'}", "headers.X-A", "control characters" },
	{ HOSTS TOKEN ", 'headers': {'X-A': 'a\\r\\nX-B: c'}", "headers.X-A",
	  "control characters" },
	{ HOSTS API_KEY ", 'headers': {'Authorization': 'Bearer {token}'}", "headers.Authorization",
	  "{token} is only available to token credential types" },
	{ HOSTS TOKEN ", 'headers': {'api-key': '{secret}'}", "headers.api-key",
	  "{secret} is only available to api-key profiles" },
	{ HOSTS TOKEN ", 'allow': []", "allow", "must be an object" },
	{ HOSTS TOKEN ", 'allow': {'pid': [1]}", "allow.pid",
	  "unknown key (valid: exe, unit, uid)" },
	{ HOSTS TOKEN ", 'allow': {'exe': '/usr/bin/curl'}", "allow.exe", "must be an array" },
	{ HOSTS TOKEN ", 'allow': {'exe': []}", "allow.exe", "must not be empty" },
	{ HOSTS TOKEN ", 'allow': {'exe': ['/bin/a', 'curl']}", "allow.exe[1]", "absolute path" },
	{ HOSTS TOKEN ", 'allow': {'exe': [3]}", "allow.exe[0]", "must be a string" },
	{ HOSTS TOKEN ", 'allow': {'unit': ['app']}", "allow.unit[0]", "systemd unit name" },
	{ HOSTS TOKEN ", 'allow': {'unit': ['a/b.service']}", "allow.unit[0]",
	  "systemd unit name" },
	{ HOSTS TOKEN ", 'allow': {'uid': [-1]}", "allow.uid[0]", "user id" },
	{ HOSTS TOKEN ", 'allow': {'uid': [0, '1000']}", "allow.uid[1]", "user id" },
	{ HOSTS TOKEN ", 'allow': {'uid': [4294967295]}", "allow.uid[0]", "user id" },
	{ HOSTS TOKEN ", 'allow': {'uid': [1.5]}", "allow.uid[0]", "user id" },
};

static void test_errors_profile(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_profiles) / sizeof(bad_profiles[0]); i++)
		expect_profile_error(bad_profiles[i].body, bad_profiles[i].key,
				     bad_profiles[i].why);
}

static const struct bad bad_secrets[] = {
	{ "'files': '/x'", "files",
	  "unknown key (valid: file, credentials, keyvault, via, refresh, credential)" },
	{ "", NULL, "needs one of" },
	{ "'file': '/x', 'credentials': 'c'", "credentials", "only one of" },
	{ "'file': '/x', 'keyvault': 'https://v.vault.azure.net/secrets/a', 'via': 'tok'",
	  "keyvault", "only one of" },
	{ "'file': 1", "file", "must be a string" },
	{ "'file': 'x'", "file", "absolute path" },
	{ "'file': '/x', 'via': 'tok'", "via", "only valid with \"keyvault\"" },
	{ "'credentials': 'c', 'refresh': 60", "refresh", "only valid with \"keyvault\"" },
	{ "'credentials': 'a/b'", "credentials", "credential name" },
	{ "'credentials': '..'", "credentials", "credential name" },
	{ "'credentials': 'a b'", "credentials", "credential name" },
	{ "'keyvault': 'http://v.vault.azure.net/secrets/a', 'via': 'tok'", "keyvault",
	  "must be https://" },
	{ "'keyvault': 'https://evil.test/secrets/a', 'via': 'tok'", "keyvault",
	  "must be https://" },
	{ "'keyvault': 'https://vault.azure.net/secrets/a', 'via': 'tok'", "keyvault",
	  "must be https://" },
	{ "'keyvault': 'https://v.vault.azure.net/keys/a', 'via': 'tok'", "keyvault",
	  "/secrets/NAME" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/', 'via': 'tok'", "keyvault",
	  "/secrets/NAME" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a_b', 'via': 'tok'", "keyvault",
	  "/secrets/NAME" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a/b/c', 'via': 'tok'", "keyvault",
	  "/secrets/NAME" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a?api-version=7.4', 'via': 'tok'",
	  "keyvault", "query" },
	{ "'keyvault': 'https://u@v.vault.azure.net/secrets/a', 'via': 'tok'", "keyvault",
	  "user name" },
	{ "'keyvault': 'not a url', 'via': 'tok'", "keyvault", "absolute" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a'", "via", "is required" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a', 'via': 'a/b'", "via",
	  "must be a name" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a', 'via': 'nope'", "via",
	  "there is no profile \"nope\"" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a', 'via': 'key'", "via",
	  "profile \"key\" has credential type \"api-key\", which yields no token" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a', 'via': 'tok', 'refresh': '60'",
	  "refresh", "integer" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a', 'via': 'tok', 'refresh': 4",
	  "refresh", "from 5" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a', 'via': 'tok', 'refresh': 1e3",
	  "refresh", "integer" },
	/* an inline "credential" instead of "via" */
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a', 'via': 'tok',"
	  " 'credential': {'type': 'azure-cli'}",
	  "credential", "cannot be combined with \"via\"" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a', 'credential': {'type': 'api-key'}",
	  "credential.type", "yields no token" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a', 'credential': {'type': 'oidc', "
	  "'issuer': 'https://idp.example.com', 'client_id': 'c', 'secret': 'x'}",
	  "credential.type", "\"oidc\" yields no token for Key Vault" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a',"
	  " 'credential': {'type': 'api-key', 'file': '/x'}",
	  "credential.type", "yields no token" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a', 'credential': {'type': 'magic'}",
	  "credential.type", "must be one of" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a', 'credential': {}", "credential.type",
	  "is required" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a', 'credential': 'azure-cli'",
	  "credential", "must be an object" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a',"
	  " 'credential': {'type': 'managed-identity', 'client_id': 'nope'}",
	  "credential.client_id", "must be a GUID" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a',"
	  " 'credential': {'type': 'azure-cli', 'client_id': '" GUID1 "'}",
	  "credential.client_id", "unknown key for credential type \"azure-cli\"" },
	{ "'file': '/x', 'credential': {'type': 'azure-cli'}", "credential",
	  "only valid with \"keyvault\"" },
	{ "'keyvault': 'https://v.vault.azure.net/secrets/a', 'credential': {'type': "
	  "'client-secret',"
	  " 'tenant_id': 'contoso.com', 'client_id': '" GUID1 "', 'secret': 's'}",
	  "credential.secret", "circular: names this secret itself" },
};

static void test_errors_secret(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_secrets) / sizeof(bad_secrets[0]); i++)
		expect_secret_error(bad_secrets[i].body, bad_secrets[i].key, bad_secrets[i].why);
}

static void test_keyvault_ok(void **state)
{
	struct config *c;

	(void)state;
	/* sovereign clouds, versions, and loopback stand-ins for tests */
	c = parse_ok(
	    "{'profiles': {'t': {'hosts': ['t.test'], 'credential': {'type': 'azure-cli'}}},"
	    " 'secrets': {"
	    "  'a': {'keyvault': 'https://v.vault.azure.cn/secrets/a-b/0123abcdef', 'via': 't'},"
	    "  'b': {'keyvault': 'http://127.0.0.1:8200/secrets/b', 'via': 't', 'refresh': 60},"
	    "  'c': {'keyvault': 'HTTPS://V.VAULT.AZURE.NET/secrets/c', 'via': 't'}}}");
	assert_int_equal(config_find_secret(c, "b")->refresh, 60);
	config_free(c);
}

static void test_oidc_ok(void **state)
{
	struct credential copy;
	const struct profile *p;
	struct config *c;

	(void)state;
	c = parse_ok("{'profiles': {"
		     " 'a': {'hosts': ['a.test'], 'scope': 'read write', 'credential': {'type': "
		     "'oidc', 'issuer': 'https://idp.example.com/', 'client_id': 'app@idp',"
		     " 'secret': 'k', 'token_endpoint_auth': 'client_secret_post',"
		     " 'params': {'audience': 'https://api.test/', 'organization': 'org_1'}}},"
		     " 'b': {'hosts': ['b.test'], 'credential': {'type': 'oidc', 'issuer': "
		     "'http://127.0.0.1:8080/realms/x', 'client_id': 'app', 'certificate': "
		     "'/etc/app.pem'}}}}");
	p = config_find_profile(c, "a");
	assert_int_equal(p->cred.type, CRED_OIDC);
	assert_string_equal(cred_type_name(CRED_OIDC), "oidc");
	assert_string_equal(p->cred.issuer, "https://idp.example.com/");
	assert_string_equal(p->cred.client_id, "app@idp");
	assert_string_equal(p->scope, "read write");
	assert_int_equal(p->cred.token_endpoint_auth, TOKEN_AUTH_POST);
	assert_int_equal(p->cred.n_params, 2);
	assert_string_equal(p->cred.params[0], "audience");
	assert_string_equal(p->cred.params[1], "https://api.test/");
	assert_string_equal(p->cred.params[3], "org_1");
	assert_int_equal(credential_copy(&copy, &p->cred), 0);
	assert_true(credential_equal(&copy, &p->cred));
	free(copy.params[3]);
	copy.params[3] = strdup("org_2");
	assert_false(credential_equal(&copy, &p->cred));
	credential_done(&copy);
	p = config_find_profile(c, "b");
	assert_string_equal(p->scope, ""); /* no default scope for another provider */
	assert_string_equal(p->cred.certificate, "/etc/app.pem");
	assert_int_equal(p->cred.token_endpoint_auth, TOKEN_AUTH_DISCOVER);
	config_free(c);
	/* Key Vault takes Entra ID tokens: not through an oidc profile */
	expect_error("{'profiles': {'o': {'hosts': ['o.test'], 'credential': {'type': 'oidc', "
		     "'issuer': 'https://idp.example.com', 'client_id': 'c', 'secret': 'x'}}},"
		     " 'secrets': {'s': {'keyvault': 'https://v.vault.azure.net/secrets/a',"
		     " 'via': 'o'}}}",
		     "secret \"s\"", "via", "another OpenID Connect provider");
	expect_error(
	    "{'profiles': {'o': {'hosts': ['o.test'], 'credential': {'type': 'oidc', "
	    "'issuer': 'https://idp.example.com/?x=1', 'client_id': 'c', 'secret': 'x'}}}}",
	    "profile \"o\"", "credential.issuer", "no query or fragment");
}

static void test_keyvault_cycle(void **state)
{
	(void)state;
	/* sp's client secret comes from the vault through sp itself */
	expect_error("{'profiles': {'sp': {'hosts': ['sp.test'], 'credential': {'type': "
		     "'client-secret', 'tenant_id': 'contoso.com', 'client_id': '" GUID1 "',"
		     " 'secret': 'kv'}}},"
		     " 'secrets': {'kv': {'keyvault': 'https://v.vault.azure.net/secrets/kv',"
		     " 'via': 'sp'}}}",
		     "secret \"kv\"", "via", "circular");
	/* two steps: kv1 via sp1 whose secret kv2 is fetched via sp2 whose secret is kv1 */
	expect_error(
	    "{'profiles': {"
	    " 'sp1': {'hosts': ['1.test'], 'credential': {'type': 'client-secret',"
	    "   'tenant_id': 'contoso.com', 'client_id': '" GUID1 "', 'secret': 'kv2'}},"
	    " 'sp2': {'hosts': ['2.test'], 'credential': {'type': 'client-secret',"
	    "   'tenant_id': 'contoso.com', 'client_id': '" GUID1 "', 'secret': 'kv1'}}},"
	    " 'secrets': {"
	    "  'kv1': {'keyvault': 'https://v.vault.azure.net/secrets/one', 'via': 'sp1'},"
	    "  'kv2': {'keyvault': 'https://v.vault.azure.net/secrets/two', 'via': 'sp2'}}}",
	    "secret \"kv1\"", "via", "circular");
}

static void test_keyvault_credential(void **state)
{
	const struct secret_source *s;
	struct config *c;

	(void)state;
	c = parse_ok("{'secrets': {"
		     "  'mi': {'keyvault': 'https://v.vault.azure.net/secrets/a',"
		     "         'credential': {'type': 'managed-identity', 'client_id': '" GUID1
		     "'}},"
		     "  'sp': {'keyvault': 'https://v.vault.azure.net/secrets/b',"
		     "         'credential': {'type': 'client-secret', 'tenant_id': 'contoso.com',"
		     "                        'client_id': '" GUID2 "', 'secret': 'plain'}},"
		     "  'plain': {'file': '/run/sp-secret'}}}");
	/* no phantom profile: the credential belongs to the secret */
	assert_int_equal(c->n_profiles, 0);
	s = config_find_secret(c, "mi");
	assert_non_null(s);
	assert_null(s->via);
	assert_non_null(s->credential);
	assert_int_equal(s->credential->type, CRED_MANAGED_IDENTITY);
	assert_string_equal(s->credential->client_id, GUID1);
	assert_int_equal(s->refresh, CONFIG_DEFAULT_KEYVAULT_REFRESH);
	s = config_find_secret(c, "sp");
	assert_int_equal(s->credential->type, CRED_CLIENT_SECRET);
	assert_string_equal(s->credential->secret, "plain");
	config_free(c);
}

static void test_keyvault_credential_cycle(void **state)
{
	(void)state;
	/* a's credential needs b, which is fetched with a's credential's secret a */
	expect_error("{'secrets': {"
		     "  'a': {'keyvault': 'https://v.vault.azure.net/secrets/a',"
		     "        'credential': {'type': 'client-secret', 'tenant_id': 'contoso.com',"
		     "                       'client_id': '" GUID1 "', 'secret': 'b'}},"
		     "  'b': {'keyvault': 'https://v.vault.azure.net/secrets/b',"
		     "        'credential': {'type': 'client-secret', 'tenant_id': 'contoso.com',"
		     "                       'client_id': '" GUID1 "', 'secret': 'a'}}}}",
		     "secret \"a\"", "credential.secret",
		     "circular: the credential of secret \"b\" needs this secret");
	/* mixed: kv via sp, whose secret is fetched with an inline credential needing kv */
	expect_error(
	    "{'profiles': {'sp': {'hosts': ['sp.test'], 'credential': {'type': "
	    "'client-secret', 'tenant_id': 'contoso.com', 'client_id': '" GUID1 "',"
	    " 'secret': 'inner'}}},"
	    " 'secrets': {"
	    "  'kv': {'keyvault': 'https://v.vault.azure.net/secrets/kv', 'via': 'sp'},"
	    "  'inner': {'keyvault': 'https://v.vault.azure.net/secrets/inner',"
	    "            'credential': {'type': 'client-secret', 'tenant_id': 'contoso.com',"
	    "                           'client_id': '" GUID1 "', 'secret': 'kv'}}}}",
	    "secret \"kv\"", "via", "circular: the credential of secret \"inner\"");
}

static void test_credential_copy(void **state)
{
	struct credential a = { 0 }, b;
	struct config *c;

	(void)state;
	c = parse_ok("{'secrets': {'s': {'keyvault': 'https://v.vault.azure.net/secrets/a',"
		     " 'credential': {'type': 'workload-identity', 'tenant_id': 'contoso.com',"
		     " 'client_id': '" GUID1 "', 'token_file': '/var/run/token'}}}}");
	assert_int_equal(credential_copy(&b, config_find_secret(c, "s")->credential), 0);
	config_free(c); /* the copy stands alone */
	assert_string_equal(b.token_file, "/var/run/token");
	assert_true(credential_equal(&b, &b));
	assert_int_equal(credential_copy(&a, &b), 0);
	assert_true(credential_equal(&a, &b));
	free(a.client_id);
	a.client_id = strdup(GUID2);
	assert_false(credential_equal(&a, &b));
	credential_done(&a);
	credential_done(&b);
}

static void test_duplicate_hosts(void **state)
{
	struct config *c;

	(void)state;
	expect_error("{'profiles': {"
		     " 'first': {'hosts': ['x.test', '*.y.test'], " API_KEY "},"
		     " 'second': {'hosts': ['z.test', '*.Y.TEST'], " TOKEN "}}}",
		     "profile \"second\"", "hosts[1]",
		     "\"*.y.test\" is already listed in profile \"first\"");
	expect_error("{'profiles': {"
		     " 'a': {'hosts': ['[::1]:8443'], " API_KEY "},"
		     " 'b': {'hosts': ['[0:0::1]:8443'], " API_KEY "}}}",
		     "profile \"b\"", "hosts[0]",
		     "\"[::1]:8443\" is already listed in profile \"a\"");
	/* same host with another port, or exact vs wildcard: not duplicates */
	c = parse_ok("{'profiles': {"
		     " 'a': {'hosts': ['x.test', 'x.test:8443', '*.x.test'], " API_KEY "},"
		     " 'b': {'hosts': ['x.test:9443', 'y.x.test'], " API_KEY "}}}");
	assert_int_equal(c->profiles[0].n_hosts, 3);
	config_free(c);
	/* A URL copied from the portal: its host, and its port when not the default. */
	c = parse_ok(
	    "{'profiles': {'a': {'hosts': ['https://x.test/', 'https://x.test:8443'], " API_KEY
	    "}}}");
	assert_string_equal(c->profiles[0].hosts[0].host, "x.test");
	assert_int_equal(c->profiles[0].hosts[0].port, 0);
	assert_int_equal(c->profiles[0].hosts[1].port, 8443);
	config_free(c);
}

static void test_file_shorthand(void **state)
{
	struct config *c;

	(void)state;
	c = parse_ok("{'profiles': {'k': {'hosts': ['k.test'], 'credential': {'type': 'api-key',"
		     " 'file': '~/keys/k'}}}}");
	assert_int_equal(c->n_secrets, 1);
	assert_string_equal(c->secrets[0].name, "k");
	assert_int_equal(c->secrets[0].kind, SOURCE_FILE);
	assert_string_equal(c->secrets[0].path, TEST_HOME "/keys/k");
	assert_string_equal(c->profiles[0].cred.secret, "k");
	config_free(c);
	expect_error("{'profiles': {'k': {'hosts': ['k.test'], 'credential': {'type': 'api-key',"
		     " 'file': '/k'}}}, 'secrets': {'k': {'credentials': 'k'}}}",
		     "profile \"k\"", "credential.file", "\"secrets\" already defines");
}

static void test_home_unset(void **state)
{
	(void)state;
	unsetenv("HOME");
	expect_secret_error("'file': '~/x'", "file", "$HOME");
	setenv("HOME", "relative", 1);
	expect_secret_error("'file': '~/x'", "file", "$HOME");
	setenv("HOME", TEST_HOME, 1);
}

/* Builds {"profiles"|"secrets": {n entries}} in a malloc'ed buffer. */
static char *many(const char *section, size_t n)
{
	size_t cap = 64 + n * 128, len = 0;
	char *s = malloc(cap);

	assert_non_null(s);
	len += (size_t)snprintf(s + len, cap - len, "{\"%s\": {", section);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(section, "profiles") == 0)
			len += (size_t)snprintf(s + len, cap - len,
						"%s\"p%zu\": {\"hosts\": [\"h%zu.test\"], "
						"\"credential\": {\"type\": \"api-key\"}}",
						i ? "," : "", i, i);
		else
			len += (size_t)snprintf(s + len, cap - len,
						"%s\"s%zu\": {\"file\": \"/s\"}", i ? "," : "", i);
	}
	snprintf(s + len, cap - len, "}}");
	return s;
}

static void test_limits(void **state)
{
	struct config *c = NULL;
	char err[512], body[8192];
	size_t len = 0;
	char *text;

	(void)state;
	text = many("profiles", CONFIG_MAX_PROFILES);
	c = parse_ok(text);
	assert_int_equal(c->n_profiles, CONFIG_MAX_PROFILES);
	c = config_free(c);
	free(text);
	text = many("profiles", CONFIG_MAX_PROFILES + 1);
	assert_int_equal(config_parse(text, strlen(text), TEST_PATH, &c, err, sizeof(err)),
			 -EINVAL);
	check_msg(err, TEST_PATH, NULL, "profiles", "more than 1024");
	free(text);
	text = many("secrets", CONFIG_MAX_SECRETS + 1);
	assert_int_equal(config_parse(text, strlen(text), TEST_PATH, &c, err, sizeof(err)),
			 -EINVAL);
	check_msg(err, TEST_PATH, NULL, "secrets", "more than 1024");
	free(text);
	/* hosts, headers and allow lists */
	len = (size_t)snprintf(body, sizeof(body), "'hosts': [");
	for (int i = 0; i <= CONFIG_MAX_HOSTS; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len, "%s'h%d.test'",
					i ? "," : "", i);
	snprintf(body + len, sizeof(body) - len, "], " API_KEY);
	expect_profile_error(body, "hosts", "more than 64");
	len = (size_t)snprintf(body, sizeof(body), HOSTS TOKEN ", 'headers': {");
	for (int i = 0; i <= CONFIG_MAX_HEADERS; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len, "%s'X-%d': 'v'",
					i ? "," : "", i);
	snprintf(body + len, sizeof(body) - len, "}");
	expect_profile_error(body, "headers", "more than 16");
	len = (size_t)snprintf(body, sizeof(body), HOSTS TOKEN ", 'allow': {'exe': [");
	for (int i = 0; i <= CONFIG_MAX_ALLOW; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len, "%s'/bin/%d'", i ? "," : "",
					i);
	snprintf(body + len, sizeof(body) - len, "]}");
	expect_profile_error(body, "allow.exe", "more than 64");
}

static char tmpdir[64];

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_load(void **state)
{
	char path[128], link[128], err[512] = "";
	struct config *c = NULL;
	const char *good = "{\"profiles\": {\"k\": {\"hosts\": [\"k.test\"],"
			   " \"credential\": {\"type\": \"api-key\"}}}}";

	(void)state;
	snprintf(path, sizeof(path), "%s/agent.json", tmpdir);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), -ENOENT);
	assert_null(c);
	assert_non_null(strstr(err, path));
	write_file(path, good, strlen(good));
	assert_int_equal(config_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c->path, path);
	assert_int_equal(c->n_profiles, 1);
	c = config_free(c);
	/* symlinks are followed */
	snprintf(link, sizeof(link), "%s/link.json", tmpdir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(config_load(link, &c, err, sizeof(err)), 0);
	c = config_free(c);
	/* errors name the file, syntax errors give line and column */
	write_file(path, "{\n\"profiles\": {\n\"k\": {\"hosts\": [\"k.test\",]}}}", 44);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), -EINVAL);
	assert_true(strncmp(err, path, strlen(path)) == 0);
	assert_int_equal(err[strlen(path)], ':');
	assert_true(strncmp(err + strlen(path), ":3:", 3) == 0);
	assert_null(c);
	unlink(link);
	unlink(path);
}

static void test_load_bad_files(void **state)
{
	char path[128], err[512] = "";
	struct config *c = NULL;
	char *big;

	(void)state;
	/* a directory */
	assert_int_equal(config_load(tmpdir, &c, err, sizeof(err)), -EINVAL);
	check_msg(err, tmpdir, NULL, NULL, "not a regular file");
	/* a FIFO is refused without blocking */
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), -EINVAL);
	check_msg(err, path, NULL, NULL, "not a regular file");
	unlink(path);
	/* too large */
	snprintf(path, sizeof(path), "%s/big.json", tmpdir);
	big = malloc(CONFIG_MAX_FILE + 1);
	assert_non_null(big);
	memset(big, ' ', CONFIG_MAX_FILE + 1);
	big[0] = '{';
	big[CONFIG_MAX_FILE - 1] = '}';
	write_file(path, big, CONFIG_MAX_FILE);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), 0); /* exactly the limit */
	c = config_free(c);
	write_file(path, big, CONFIG_MAX_FILE + 1);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), -EFBIG);
	check_msg(err, path, NULL, NULL, "larger than");
	free(big);
	unlink(path);
	assert_null(c);
	assert_int_equal(config_load(NULL, &c, err, sizeof(err)), -EINVAL);
}

static int setup_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-config-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	return setup_home(state);
}

static int teardown_tmpdir(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_spec_profiles),
		cmocka_unit_test(test_full_other_types),
		cmocka_unit_test(test_full_secret_types),
		cmocka_unit_test(test_full_secrets),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_and_names),
		cmocka_unit_test(test_json_syntax),
		cmocka_unit_test(test_errors_top),
		cmocka_unit_test(test_errors_profile),
		cmocka_unit_test(test_errors_secret),
		cmocka_unit_test(test_oidc_ok),
		cmocka_unit_test(test_keyvault_ok),
		cmocka_unit_test(test_keyvault_cycle),
		cmocka_unit_test(test_keyvault_credential),
		cmocka_unit_test(test_keyvault_credential_cycle),
		cmocka_unit_test(test_credential_copy),
		cmocka_unit_test(test_duplicate_hosts),
		cmocka_unit_test(test_file_shorthand),
		cmocka_unit_test(test_home_unset),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_bad_files),
	};

	return cmocka_run_group_tests_name("config", tests, setup_tmpdir, teardown_tmpdir);
}
