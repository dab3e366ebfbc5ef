/* SPDX-License-Identifier: MIT */
/*
 * Reading APIM <validate-jwt> / <validate-azure-ad-token> policies: the
 * examples of Microsoft's policy reference verbatim, the documented defaults,
 * named values, and everything refused (DTDs, expressions, inline keys, typos).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

#define ERR_LEN 256

static char err[ERR_LEN];

static const struct policy_named_value aad_values[] = {
	{ "aad-tenant-id", "11111111-2222-3333-4444-555555555555" },
	{ "aad-client-application-id", "66666666-7777-8888-9999-000000000000" },
	{ "aad-audience", "api://aoai" },
};

static int parse_nv(const char *text, const struct policy_named_value *nv, size_t n,
		    struct policy *p)
{
	return policy_parse(text, strlen(text), nv, n, p, err, sizeof(err));
}

static void parse_ok(const char *text, struct policy *p)
{
	int r = parse_nv(text, aad_values, 3, p);

	if (r)
		fail_msg("policy refused: %d %s", r, err);
	assert_string_equal(err, "");
}

/* Refused with @want, a message holding @needle, and the struct zeroed. */
static void parse_fails(const char *text, int want, const char *needle)
{
	static const struct policy zero;
	struct policy p;
	int r = parse_nv(text, aad_values, 3, &p);

	if (r != want || !strstr(err, needle))
		fail_msg("want %d \"%s\", got %d \"%s\"", want, needle, r, err);
	assert_memory_equal(&p, &zero, sizeof(p));
}

/* learn.microsoft.com/azure/api-management/validate-jwt-policy, "Simple token validation". */
static const char doc_jwt_simple[] =
    "<validate-jwt header-name=\"Authorization\" require-scheme=\"Bearer\">\n"
    "    <issuer-signing-keys>\n"
    "        <key>{{jwt-signing-key}}</key>  <!-- signing key specified as a named value -->\n"
    "    </issuer-signing-keys>\n"
    "    <audiences>\n"
    "        <audience>@(context.Request.OriginalUrl.Host)</audience>  <!-- audience is set to "
    "API Management host name -->\n"
    "    </audiences>\n"
    "    <issuers>\n"
    "        <issuer>http://contoso.com/</issuer>\n"
    "    </issuers>\n"
    "</validate-jwt>\n";

/* Same page, "Microsoft Entra ID single tenant token validation". */
static const char doc_jwt_entra[] =
    "<validate-jwt header-name=\"Authorization\" failed-validation-httpcode=\"401\" "
    "failed-validation-error-message=\"Unauthorized. Access token is missing or invalid.\">\n"
    "    <openid-config url=\"https://login.microsoftonline.com/contoso.onmicrosoft.com/"
    ".well-known/openid-configuration\" />\n"
    "    <audiences>\n"
    "        <audience>00001111-aaaa-2222-bbbb-3333cccc4444</audience>\n"
    "    </audiences>\n"
    "    <required-claims>\n"
    "        <claim name=\"id\" match=\"all\">\n"
    "            <value>insert claim here</value>\n"
    "        </claim>\n"
    "    </required-claims>\n"
    "</validate-jwt>\n";

/* Same page, "Azure Active Directory B2C token validation". */
static const char doc_jwt_b2c[] =
    "<validate-jwt header-name=\"Authorization\" failed-validation-httpcode=\"401\" "
    "failed-validation-error-message=\"Unauthorized. Access token is missing or invalid.\">\n"
    "    <openid-config url=\"https://login.microsoftonline.com/tfp/contoso.onmicrosoft.com/"
    "b2c_1_signin/v2.0/.well-known/openid-configuration\" />\n"
    "    <audiences>\n"
    "        <audience>11112222-bbbb-3333-cccc-4444dddd5555</audience>\n"
    "    </audiences>\n"
    "    <required-claims>\n"
    "        <claim name=\"id\" match=\"all\">\n"
    "            <value>insert claim here</value>\n"
    "        </claim>\n"
    "    </required-claims>\n"
    "</validate-jwt>\n";

/* Same page, "Authorize access to operations based on token claims": two top-level elements. */
static const char doc_jwt_claims[] =
    "<validate-jwt header-name=\"Authorization\" require-scheme=\"Bearer\" "
    "output-token-variable-name=\"jwt\">\n"
    "    <issuer-signing-keys>\n"
    "        <key>{{jwt-signing-key}}</key> <!-- signing key is stored in a named value -->\n"
    "    </issuer-signing-keys>\n"
    "    <audiences>\n"
    "        <audience>@(context.Request.OriginalUrl.Host)</audience>\n"
    "    </audiences>\n"
    "    <issuers>\n"
    "        <issuer>contoso.com</issuer>\n"
    "    </issuers>\n"
    "    <required-claims>\n"
    "        <claim name=\"group\" match=\"any\">\n"
    "            <value>finance</value>\n"
    "            <value>logistics</value>\n"
    "        </claim>\n"
    "    </required-claims>\n"
    "</validate-jwt>\n"
    "<choose>\n"
    "    <when condition=\"@(context.Request.Method == &quot;POST&quot; &amp;&amp; "
    "!((Jwt)context.Variables[&quot;jwt&quot;]).Claims[&quot;group&quot;]"
    ".Contains(&quot;finance&quot;))\">\n"
    "        <return-response>\n"
    "            <set-status code=\"403\" reason=\"Forbidden\" />\n"
    "        </return-response>\n"
    "    </when>\n"
    "</choose>\n";

/* learn.microsoft.com/azure/api-management/validate-azure-ad-token-policy, "Simple token validation". */
static const char doc_aad_simple[] =
    "<validate-azure-ad-token tenant-id=\"{{aad-tenant-id}}\">\n"
    "    <client-application-ids>\n"
    "        <application-id>{{aad-client-application-id}}</application-id>\n"
    "    </client-application-ids>\n"
    "</validate-azure-ad-token>\n";

/* Same page, "Validate that audience and claim are correct". */
static const char doc_aad_claims[] =
    "<validate-azure-ad-token tenant-id=\"{{aad-tenant-id}}\" output-token-variable-name=\"jwt\">\n"
    "    <client-application-ids>\n"
    "        <application-id>{{aad-client-application-id}}</application-id>\n"
    "    </client-application-ids>\n"
    "    <audiences>\n"
    "        <audience>@(context.Request.OriginalUrl.Host)</audience>\n"
    "    </audiences>\n"
    "    <required-claims>\n"
    "        <claim name=\"ctry\" match=\"any\">\n"
    "            <value>US</value>\n"
    "        </claim>\n"
    "    </required-claims>\n"
    "</validate-azure-ad-token>\n";

/* Same page, "Microsoft Entra ID customer tenant token validation": its placeholders are not XML. */
static const char doc_jwt_customer[] =
    "<validate-jwt header-name=\"Authorization\" failed-validation-httpcode=\"401\" "
    "failed-validation-error-message=\"Unauthorized. Access token is missing or invalid.\">\n"
    "\t<openid-config url=\"https://<tenant-name>.ciamlogin.com/<tenant-id>/v2.0/"
    ".well-known/openid-configuration\" />\n"
    "\t<required-claims>\n"
    "\t\t<claim name=\"azp\" match=\"all\">\n"
    "\t\t\t<value>insert claim here</value>\n"
    "\t\t</claim>\n"
    "\t</required-claims>\n"
    "</validate-jwt>\n";

static void doc_customer_placeholders(void **state)
{
	(void)state;
	parse_fails(doc_jwt_customer, -EINVAL,
		    "line 2: not well-formed XML: Unescaped '<' not allowed in attributes values");
}

static void doc_entra(void **state)
{
	struct policy p;

	(void)state;
	parse_ok(doc_jwt_entra, &p);
	assert_string_equal(p.element, "validate-jwt");
	assert_string_equal(p.header_name, "Authorization");
	assert_int_equal(p.clock_skew, 0);
	assert_true(p.require_expiration_time);
	assert_true(p.require_signed_tokens);
	assert_null(p.tenant_id);
	assert_int_equal(p.n_openid_configs, 1);
	assert_string_equal(p.openid_configs[0], "https://login.microsoftonline.com/"
						 "contoso.onmicrosoft.com/.well-known/"
						 "openid-configuration");
	assert_int_equal(p.n_audiences, 1);
	assert_string_equal(p.audiences[0], "00001111-aaaa-2222-bbbb-3333cccc4444");
	assert_int_equal(p.n_issuers, 0);
	assert_int_equal(p.n_claims, 1);
	assert_string_equal(p.claims[0].name, "id");
	assert_int_equal(p.claims[0].match, JWT_MATCH_ALL);
	assert_null(p.claims[0].separator);
	assert_int_equal(p.claims[0].n_values, 1);
	assert_string_equal(p.claims[0].values[0], "insert claim here");
	policy_done(&p);
	assert_null(p.element);
	policy_done(&p); /* zeroed: a no-op */
}

static void doc_b2c(void **state)
{
	struct policy p;

	(void)state;
	parse_ok(doc_jwt_b2c, &p);
	assert_string_equal(p.audiences[0], "11112222-bbbb-3333-cccc-4444dddd5555");
	assert_non_null(strstr(p.openid_configs[0], "/b2c_1_signin/v2.0/"));
	policy_done(&p);
}

static void doc_inline_keys(void **state)
{
	(void)state;
	parse_fails(doc_jwt_simple, -EOPNOTSUPP,
		    "line 2: <issuer-signing-keys>: keys given inline are not supported; use "
		    "<openid-config>");
	parse_fails(doc_jwt_claims, -EOPNOTSUPP, "line 2: <issuer-signing-keys>");
	parse_fails("<validate-jwt header-name=\"a\">\n<decryption-keys><key>x</key>"
		    "</decryption-keys></validate-jwt>",
		    -EOPNOTSUPP, "line 2: <decryption-keys>: keys given inline");
}

/* The claims example with an OpenID configuration in place of its key and expression. */
static void doc_claims_any(void **state)
{
	static const char text[] =
	    "<validate-jwt header-name=\"Authorization\" require-scheme=\"Bearer\" "
	    "output-token-variable-name=\"jwt\">\n"
	    "  <openid-config url=\"https://login.example/.well-known/openid-configuration\"/>\n"
	    "  <audiences><audience>{{aad-audience}}</audience></audiences>\n"
	    "  <issuers><issuer>contoso.com</issuer></issuers>\n"
	    "  <required-claims>\n"
	    "    <claim name=\"group\" match=\"any\">\n"
	    "      <value>finance</value>\n"
	    "      <value>logistics</value>\n"
	    "    </claim>\n"
	    "  </required-claims>\n"
	    "</validate-jwt>\n"
	    "<choose><when condition=\"@(true)\"><return-response/></when></choose>\n";
	struct policy p;

	(void)state;
	parse_ok(text, &p);
	assert_string_equal(p.audiences[0], "api://aoai");
	assert_string_equal(p.issuers[0], "contoso.com");
	assert_int_equal(p.claims[0].match, JWT_MATCH_ANY);
	assert_int_equal(p.claims[0].n_values, 2);
	assert_string_equal(p.claims[0].values[1], "logistics");
	policy_done(&p);
}

static void doc_aad(void **state)
{
	struct policy p;

	(void)state;
	parse_ok(doc_aad_simple, &p);
	assert_string_equal(p.element, "validate-azure-ad-token");
	assert_string_equal(p.tenant_id, "11111111-2222-3333-4444-555555555555");
	assert_string_equal(p.header_name, "Authorization"); /* the documented default */
	assert_null(p.authentication_endpoint);
	assert_int_equal(p.n_client_app_ids, 1);
	assert_string_equal(p.client_app_ids[0], "66666666-7777-8888-9999-000000000000");
	assert_int_equal(p.n_audiences, 0);
	assert_true(p.require_expiration_time);
	assert_true(p.require_signed_tokens);
	policy_done(&p);
}

static void doc_aad_expression(void **state)
{
	(void)state;
	parse_fails(doc_aad_claims, -EOPNOTSUPP,
		    "line 6: <audience>: policy expressions cannot be evaluated outside API "
		    "Management");
}

static void aad_full(void **state)
{
	static const char text[] =
	    "<validate-azure-ad-token tenant-id=\"contoso.onmicrosoft.com\" "
	    "header-name=\"X-Token\" authentication-endpoint=\"login.microsoftonline.us\">\n"
	    "  <client-application-ids><application-id>a</application-id>"
	    "<application-id>b</application-id></client-application-ids>\n"
	    "  <backend-application-ids><application-id>@(ignored)</application-id>"
	    "</backend-application-ids>\n"
	    "  <audiences><audience>{{aad-audience}}</audience></audiences>\n"
	    "  <required-claims><claim name=\"roles\" match=\"all\" separator=\",\">"
	    "<value>Reader</value></claim></required-claims>\n"
	    "</validate-azure-ad-token>";
	struct policy p;

	(void)state;
	parse_ok(text, &p);
	assert_string_equal(p.header_name, "X-Token");
	assert_string_equal(p.authentication_endpoint, "login.microsoftonline.us");
	assert_int_equal(p.n_client_app_ids, 2);
	assert_string_equal(p.client_app_ids[1], "b");
	assert_string_equal(p.claims[0].separator, ",");
	policy_done(&p);
}

static void aad_rules(void **state)
{
	struct policy p;

	(void)state;
	parse_fails("<validate-azure-ad-token><audiences><audience>x</audience></audiences>"
		    "</validate-azure-ad-token>",
		    -EINVAL, "line 1: <validate-azure-ad-token>: tenant-id= is required");
	parse_fails("<validate-azure-ad-token tenant-id=\"\"/>", -EINVAL, "tenant-id= is empty");
	/* validate-jwt's own attributes and elements are not validate-azure-ad-token's */
	parse_fails("<validate-azure-ad-token tenant-id=\"t\" clock-skew=\"5\"/>", -EINVAL,
		    "<validate-azure-ad-token> has no attribute clock-skew");
	parse_fails("<validate-azure-ad-token tenant-id=\"t\"><issuers><issuer>x</issuer>"
		    "</issuers></validate-azure-ad-token>",
		    -EINVAL, "has no element <issuers>");
	parse_fails("<validate-jwt header-name=\"a\"><client-application-ids/></validate-jwt>",
		    -EINVAL, "<validate-jwt> has no element <client-application-ids>");
	parse_fails("<validate-azure-ad-token tenant-id=\"t\"><client-application-ids>"
		    "</client-application-ids></validate-azure-ad-token>",
		    -EINVAL, "<client-application-ids> needs at least one <application-id>");
	/* the default header only when no other source is named (found by fuzz-policy) */
	parse_ok("<validate-azure-ad-token tenant-id=\"t\" token-value=\"x\"/>", &p);
	assert_null(p.header_name);
	policy_done(&p);
	parse_ok("<validate-azure-ad-token tenant-id=\"t\" query-parameter-name=\"q\"/>", &p);
	assert_null(p.header_name);
	policy_done(&p);
	parse_fails("<validate-azure-ad-token tenant-id=\"t\" query-parameter-name=\"q\" "
		    "header-name=\"h\"/>",
		    -EINVAL, "give only one of header-name, query-parameter-name and token-value");
}

static void jwt_defaults_and_attributes(void **state)
{
	struct policy p;

	(void)state;
	parse_ok("<validate-jwt header-name=\"Authorization\" clock-skew=\"300\" "
		 "require-expiration-time=\"false\" require-signed-tokens=\"False\"/>",
		 &p);
	assert_int_equal(p.clock_skew, 300);
	assert_false(p.require_expiration_time);
	assert_false(p.require_signed_tokens);
	assert_int_equal(p.n_openid_configs + p.n_audiences + p.n_issuers + p.n_claims, 0);
	policy_done(&p);
	parse_ok("<validate-jwt query-parameter-name=\"access_token\" "
		 "require-expiration-time=\"TRUE\"/>",
		 &p);
	assert_null(p.header_name);
	assert_true(p.require_expiration_time);
	policy_done(&p);
	/* token-value is an expression as a rule: where the token comes from is not checked */
	parse_ok(
	    "<validate-jwt token-value=\"@(context.Variables[&quot;t&quot;])\" "
	    "failed-validation-error-message=\"@(x)\" output-token-variable-name=\"{{unset}}\"/>",
	    &p);
	assert_null(p.header_name);
	policy_done(&p);
	parse_fails("<validate-jwt/>", -EINVAL,
		    "one of header-name, query-parameter-name or token-value is required");
	parse_fails("<validate-jwt header-name=\"\"/>", -EINVAL, "header-name= is empty");
}

static void openid_configs(void **state)
{
	struct policy p;

	(void)state;
	parse_ok("<validate-jwt header-name=\"a\">\n"
		 "<openid-config url=\"https://a/.well-known/openid-configuration\" "
		 "validate-connectivity=\"true\"/>\n"
		 "<openid-config url=\"https://b/.well-known/openid-configuration\"/>\n"
		 "</validate-jwt>",
		 &p);
	assert_int_equal(p.n_openid_configs, 2);
	assert_string_equal(p.openid_configs[1], "https://b/.well-known/openid-configuration");
	policy_done(&p);
	parse_fails("<validate-jwt header-name=\"a\">\n<openid-config/></validate-jwt>", -EINVAL,
		    "line 2: <openid-config> needs a url=");
	parse_fails("<validate-jwt header-name=\"a\">\n<openid-config uri=\"x\"/></validate-jwt>",
		    -EINVAL, "line 2: <openid-config> has no attribute uri");
}

static void named_values(void **state)
{
	static const struct policy_named_value nv[] = {
		{ "a", "A" },
		{ "b.c_d-1", "{{a}}" }, /* a value is not expanded again */
		{ "empty", "" },
		{ "expr", "@(context.Request.OriginalUrl.Host)" },
	};
	static const char text[] = "<validate-jwt header-name=\"{{a}}{{a}}\">\n"
				   "<audiences>\n"
				   "<audience>x{{a}}y{{b.c_d-1}}z</audience>\n"
				   "<audience>{{{a}}}</audience>\n"
				   "<audience>{{not a name}}{{}}{{a</audience>\n"
				   "<audience>pre{{empty}}</audience>\n"
				   "</audiences></validate-jwt>";
	struct policy p;

	(void)state;
	assert_int_equal(parse_nv(text, nv, 4, &p), 0);
	assert_string_equal(p.header_name, "AA");
	assert_string_equal(p.audiences[0], "xAy{{a}}z");
	assert_string_equal(p.audiences[1], "{A}");
	assert_string_equal(p.audiences[2], "{{not a name}}{{}}{{a");
	assert_string_equal(p.audiences[3], "pre");
	policy_done(&p);
	assert_int_equal(parse_nv("<validate-jwt header-name=\"a\">\n<issuers><issuer>{{missing}}"
				  "</issuer></issuers></validate-jwt>",
				  nv, 4, &p),
			 -ENOENT);
	assert_string_equal(err, "line 2: <issuer>: named value {{missing}} is not given; pass "
				 "--named-value missing=VALUE");
	/* A named value holding an expression is one, as API Management evaluates it. */
	assert_int_equal(parse_nv("<validate-jwt header-name=\"{{expr}}\"/>", nv, 4, &p),
			 -EOPNOTSUPP);
	assert_non_null(strstr(err, "line 1: <validate-jwt> header-name=: policy expressions"));
	/* A value that only a named value fills, left empty. */
	assert_int_equal(parse_nv("<validate-jwt header-name=\"a\"><issuers><issuer>{{empty}}"
				  "</issuer></issuers></validate-jwt>",
				  nv, 4, &p),
			 -EINVAL);
	assert_string_equal(err, "line 1: <issuer> is empty");
}

/* Named values that would blow the policy up are refused, not allocated. */
static void named_values_bounded(void **state)
{
	struct policy_named_value nv = { "big", NULL };
	size_t big = POLICY_MAX_SIZE / 2, refs = 16, cap = 64 + refs * 32, len;
	char *value = malloc(big + 1), *text = malloc(cap);
	struct policy p;

	(void)state;
	memset(value, 'v', big);
	value[big] = '\0';
	nv.value = value;
	len = (size_t)snprintf(text, cap, "<validate-jwt header-name=\"a\"><audiences>");
	for (size_t i = 0; i < refs; i++)
		len += (size_t)snprintf(text + len, cap - len, "<audience>{{big}}</audience>");
	snprintf(text + len, cap - len, "</audiences></validate-jwt>");
	assert_int_equal(parse_nv(text, &nv, 1, &p), -EMSGSIZE);
	assert_non_null(strstr(err, "named values make the policy larger than"));
	free(value);
	free(text);
}

static void full_document(void **state)
{
	static const char text[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
				   "<policies>\n"
				   "  <inbound>\n"
				   "    <base />\n"
				   "    <choose>\n"
				   "      <when condition=\"@(true)\">\n"
				   "        <validate-jwt header-name=\"Authorization\">\n"
				   "          <audiences><audience>x</audience></audiences>\n"
				   "        </validate-jwt>\n"
				   "      </when>\n"
				   "    </choose>\n"
				   "  </inbound>\n"
				   "  <backend><base /></backend>\n"
				   "  <outbound><base /></outbound>\n"
				   "  <on-error><base /></on-error>\n"
				   "</policies>\n";
	struct policy p;

	(void)state;
	parse_ok(text, &p);
	assert_string_equal(p.audiences[0], "x");
	policy_done(&p);
	parse_fails("<policies><inbound/><outbound>\n<validate-jwt header-name=\"a\"/>"
		    "</outbound></policies>",
		    -EINVAL, "line 2: <validate-jwt> is inside <outbound>");
}

static void fragments(void **state)
{
	struct policy p;

	(void)state;
	parse_ok("<base />\n<validate-azure-ad-token tenant-id=\"t\"/>\n<set-header name=\"x\"/>",
		 &p);
	assert_string_equal(p.tenant_id, "t");
	policy_done(&p);
	parse_ok("  <!-- a comment -->\n<validate-jwt header-name=\"a\"/>\n", &p);
	policy_done(&p);
	/* line numbers are the file's own in a fragment too */
	parse_fails("<base/>\n<validate-jwt header-name=\"a\">\n\n<audiences></validate-jwt>",
		    -EINVAL, "line 4: not well-formed XML: ");
}

static void count_of_elements(void **state)
{
	(void)state;
	parse_fails("<policies><inbound><base/></inbound></policies>", -EINVAL,
		    "policy: no <validate-jwt> or <validate-azure-ad-token> element");
	parse_fails("<base/><base/>", -EINVAL, "no <validate-jwt> or <validate-azure-ad-token>");
	parse_fails("", -EINVAL, "policy: empty");
	parse_fails(" \n", -EINVAL, "line 2: not well-formed XML: Start tag expected");
	parse_fails(
	    "<validate-jwt header-name=\"a\"/>\n\n<validate-azure-ad-token tenant-id=\"t\"/>",
	    -EINVAL,
	    "2 validate elements (<validate-jwt> line 1, <validate-azure-ad-token> line 3)");
	parse_fails("<inbound><validate-jwt header-name=\"a\"><validate-jwt/></validate-jwt>"
		    "<validate-jwt/>\n<validate-jwt/></inbound>",
		    -EINVAL,
		    "3 validate elements (<validate-jwt> line 1, <validate-jwt> line 1, ...)");
}

static void dtd_refused(void **state)
{
	static const char laughs[] =
	    "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE lolz [\n"
	    " <!ENTITY lol \"lol\">\n"
	    " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	    " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
	    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	    " <!ENTITY lol9 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	    "]>\n"
	    "<validate-jwt header-name=\"a\"><issuers><issuer>&lol9;</issuer></issuers>"
	    "</validate-jwt>\n";
	static const char xxe[] = "<!DOCTYPE v [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>\n"
				  "<validate-jwt header-name=\"a\"><issuers><issuer>&xxe;</issuer>"
				  "</issuers></validate-jwt>";

	(void)state;
	parse_fails(laughs, -EINVAL, "line 2: <!DOCTYPE>: DTDs are not accepted");
	parse_fails(xxe, -EINVAL, "line 1: <!DOCTYPE>: DTDs are not accepted");
	assert_null(strstr(err, "root:"));
	parse_fails("<!DOCTYPE validate-jwt SYSTEM \"http://example.com/x.dtd\">"
		    "<validate-jwt header-name=\"a\"/>",
		    -EINVAL, "DTDs are not accepted");
	/* an entity that no DTD declares is an XML error, never a lookup */
	parse_fails("<validate-jwt header-name=\"a\"><issuers><issuer>&xxe;</issuer></issuers>"
		    "</validate-jwt>",
		    -EINVAL, "not well-formed XML: Entity 'xxe' not defined");
	/* a DOCTYPE after the first element, inside a fragment */
	parse_fails("<base/>\n<!DOCTYPE x [<!ENTITY a \"b\">]><validate-jwt header-name=\"a\"/>",
		    -EINVAL, "line 2: not well-formed XML");
}

static void expressions(void **state)
{
	(void)state;
	parse_fails("<validate-jwt header-name=\"a\" clock-skew=\"@(300)\"/>", -EOPNOTSUPP,
		    "line 1: <validate-jwt> clock-skew=: policy expressions cannot be evaluated "
		    "outside API Management");
	parse_fails("<validate-jwt header-name=\"a\">\n<required-claims><claim name=\"r\">\n"
		    "<value> @{ return \"x\"; }</value></claim></required-claims></validate-jwt>",
		    -EOPNOTSUPP, "line 3: <value>: policy expressions");
	parse_fails("<validate-azure-ad-token tenant-id=\"@(context.Variables[&quot;t&quot;])\"/>",
		    -EOPNOTSUPP, "<validate-azure-ad-token> tenant-id=: policy expressions");
}

static void clock_skew(void **state)
{
	static const char *const bad[] = {
		"-1", "", " 5", "5 ", "+5", "1e3", "0x10", "5s", "86401", "99999999999999999999999"
	};
	char text[128];
	struct policy p;

	(void)state;
	parse_ok("<validate-jwt header-name=\"a\" clock-skew=\"86400\"/>", &p);
	assert_int_equal(p.clock_skew, 86400);
	policy_done(&p);
	parse_ok("<validate-jwt header-name=\"a\" clock-skew=\"007\"/>", &p);
	assert_int_equal(p.clock_skew, 7);
	policy_done(&p);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "<validate-jwt header-name=\"a\" clock-skew=\"%s\"/>",
			 bad[i]);
		parse_fails(text, -EINVAL,
			    "line 1: <validate-jwt> clock-skew= must be whole seconds from 0 to "
			    "86400");
	}
}

static void booleans(void **state)
{
	(void)state;
	parse_fails("<validate-jwt header-name=\"a\" require-expiration-time=\"yes\"/>", -EINVAL,
		    "line 1: <validate-jwt> require-expiration-time= must be true or false");
	parse_fails("<validate-jwt header-name=\"a\" require-signed-tokens=\"1\"/>", -EINVAL,
		    "require-signed-tokens= must be true or false");
	parse_fails("<validate-jwt header-name=\"a\" require-signed-tokens=\" true\"/>", -EINVAL,
		    "must be true or false");
}

static void match_values(void **state)
{
	struct policy p;

	(void)state;
	parse_ok("<validate-jwt header-name=\"a\"><required-claims>"
		 "<claim name=\"r\" match=\"any\"><value>x</value></claim>"
		 "<claim name=\"s\" match=\"all\"><value>x</value><value>y</value></claim>"
		 "<claim name=\"t\"><value>x</value></claim>"
		 "<claim name=\"u\"/>"
		 "</required-claims></validate-jwt>",
		 &p);
	assert_int_equal(p.n_claims, 4);
	assert_int_equal(p.claims[0].match, JWT_MATCH_ANY);
	assert_int_equal(p.claims[1].match, JWT_MATCH_ALL);
	assert_int_equal(p.claims[2].match, JWT_MATCH_ALL); /* the documented default */
	assert_int_equal(p.claims[3].n_values, 0);
	policy_done(&p);
	parse_fails("<validate-jwt header-name=\"a\"><required-claims>\n"
		    "<claim name=\"r\" match=\"some\"><value>x</value></claim>"
		    "</required-claims></validate-jwt>",
		    -EINVAL, "line 2: <claim> match= must be all or any");
	parse_fails(
	    "<validate-jwt header-name=\"a\"><required-claims>\n"
	    "<claim match=\"any\"><value>x</value></claim></required-claims></validate-jwt>",
	    -EINVAL, "line 2: <claim> needs a name=");
	parse_fails("<validate-jwt header-name=\"a\"><required-claims>\n"
		    "<claim name=\"r\"><values>x</values></claim></required-claims></validate-jwt>",
		    -EINVAL, "line 2: <claim> has no element <values> (a typo?)");
}

static void typos(void **state)
{
	(void)state;
	/* libxml2 dates an element by the line its start tag ends on */
	parse_fails("<validate-jwt header-name=\"a\"\n require-expiration=\"false\"/>", -EINVAL,
		    "line 2: <validate-jwt> has no attribute require-expiration (a typo?)");
	parse_fails("<validate-jwt header-name=\"a\">\n<audience>x</audience></validate-jwt>",
		    -EINVAL, "line 2: <validate-jwt> has no element <audience> (a typo?)");
	parse_fails("<validate-jwt header-name=\"a\">\n<audiences><audiance>x</audiance>"
		    "</audiences></validate-jwt>",
		    -EINVAL, "line 2: <audiences> has no element <audiance>");
	parse_fails("<validate-jwt header-name=\"a\"><audiences>\n<audience id=\"1\">x</audience>"
		    "</audiences></validate-jwt>",
		    -EINVAL, "line 2: <audience> has no attribute id");
	parse_fails("<validate-jwt header-name=\"a\">\nstray text</validate-jwt>", -EINVAL,
		    "line 1: <validate-jwt> holds text where only elements belong");
	parse_fails("<validate-jwt header-name=\"a\"><audiences><audience>x<b/></audience>"
		    "</audiences></validate-jwt>",
		    -EINVAL, "<audience> holds only text");
	parse_fails("<validate-jwt header-name=\"a\"><audiences/></validate-jwt>", -EINVAL,
		    "<audiences> needs at least one <audience>");
	parse_fails("<validate-jwt header-name=\"a\"><audiences><audience>a</audience></audiences>"
		    "\n<audiences><audience>b</audience></audiences></validate-jwt>",
		    -EINVAL, "line 2: <audiences> given twice (first line 1)");
	parse_fails("<p xmlns:x=\"urn:x\"><validate-jwt header-name=\"a\" x:clock-skew=\"1\"/></p>",
		    -EINVAL, "line 1: <validate-jwt> has no attribute x:clock-skew (a typo?)");
	parse_fails("<p xmlns:x=\"urn:x\"><validate-jwt header-name=\"a\"><x:audiences/>"
		    "</validate-jwt></p>",
		    -EINVAL, "line 1: <validate-jwt> has no element <x:audiences> (a typo?)");
	parse_fails("<validate-jwt header-name=\"a\"><issuers><issuer>  </issuer></issuers>"
		    "</validate-jwt>",
		    -EINVAL, "<issuer> is empty");
}

static void text_trimmed_and_entities(void **state)
{
	struct policy p;

	(void)state;
	parse_ok("<validate-jwt header-name=\"a\"><issuers>\n<issuer>\n  https://x/?a=1&amp;b=2 "
		 "\n</issuer>\n<issuer><![CDATA[c<d]]></issuer><issuer>&#x41;</issuer></issuers>"
		 "</validate-jwt>",
		 &p);
	assert_string_equal(p.issuers[0], "https://x/?a=1&b=2");
	assert_string_equal(p.issuers[1], "c<d");
	assert_string_equal(p.issuers[2], "A");
	policy_done(&p);
}

static void malformed(void **state)
{
	(void)state;
	parse_fails("<validate-jwt header-name=\"a\">\n<audiences>\n</validate-jwt>", -EINVAL,
		    "line 3: not well-formed XML: Opening and ending tag mismatch");
	parse_fails("<validate-jwt header-name=\"a\" header-name=\"b\"/>", -EINVAL,
		    "line 1: not well-formed XML: Attribute header-name redefined");
	parse_fails("<validate-jwt header-name='a'>\n\n\n<", -EINVAL, "line 4: not well-formed");
	parse_fails("just text", -EINVAL, "line 1: not well-formed XML");
	parse_fails(
	    "<a:validate-jwt header-name=\"a\"/>", -EINVAL,
	    "line 1: not well-formed XML: Namespace prefix a on validate-jwt is not defined");
}

static void oversized(void **state)
{
	size_t len = POLICY_MAX_SIZE + 1;
	char *text = malloc(len);
	struct policy p;

	(void)state;
	memset(text, ' ', len);
	assert_int_equal(policy_parse(text, len, NULL, 0, &p, err, sizeof(err)), -EMSGSIZE);
	assert_string_equal(err, "policy: 1048577 bytes, more than the 1048576 accepted");
	free(text);
}

/* A message never quotes a long name whole, and fits any buffer. */
static void messages_bounded(void **state)
{
	char text[4096], small[8];
	struct policy p;
	int n;

	(void)state;
	n = snprintf(text, sizeof(text), "<validate-jwt header-name=\"a\"><");
	memset(text + n, 'x', 1000);
	snprintf(text + n + 1000, sizeof(text) - (size_t)n - 1000, "/></validate-jwt>");
	assert_int_equal(parse_nv(text, NULL, 0, &p), -EINVAL);
	assert_true(strlen(err) < 160);
	assert_int_equal(policy_parse(text, strlen(text), NULL, 0, &p, small, sizeof(small)),
			 -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(policy_parse(doc_jwt_entra, strlen(doc_jwt_entra), NULL, 0, &p, NULL, 0),
			 0);
	policy_done(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(doc_entra),
		cmocka_unit_test(doc_b2c),
		cmocka_unit_test(doc_customer_placeholders),
		cmocka_unit_test(doc_inline_keys),
		cmocka_unit_test(doc_claims_any),
		cmocka_unit_test(doc_aad),
		cmocka_unit_test(doc_aad_expression),
		cmocka_unit_test(aad_full),
		cmocka_unit_test(aad_rules),
		cmocka_unit_test(jwt_defaults_and_attributes),
		cmocka_unit_test(openid_configs),
		cmocka_unit_test(named_values),
		cmocka_unit_test(named_values_bounded),
		cmocka_unit_test(full_document),
		cmocka_unit_test(fragments),
		cmocka_unit_test(count_of_elements),
		cmocka_unit_test(dtd_refused),
		cmocka_unit_test(expressions),
		cmocka_unit_test(clock_skew),
		cmocka_unit_test(booleans),
		cmocka_unit_test(match_values),
		cmocka_unit_test(typos),
		cmocka_unit_test(text_trimmed_and_entities),
		cmocka_unit_test(malformed),
		cmocka_unit_test(oversized),
		cmocka_unit_test(messages_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
