/* SPDX-License-Identifier: MIT */
/*
 * Reads an Azure API Management <validate-jwt> or <validate-azure-ad-token>
 * policy into struct policy, following Microsoft's policy reference
 * (learn.microsoft.com/azure/api-management/validate-jwt-policy and
 * .../validate-azure-ad-token-policy):
 *
 * validate-jwt attributes: exactly one of header-name, query-parameter-name,
 *   token-value is required (no default); failed-validation-httpcode (401),
 *   failed-validation-error-message, require-expiration-time (true),
 *   require-scheme, require-signed-tokens (true), clock-skew ("Timespan", in
 *   seconds, 0), output-token-variable-name.  Elements, in this order:
 *   openid-config url= (one or more; newer pages add validate-connectivity=),
 *   issuer-signing-keys, decryption-keys, audiences/audience ("at least one
 *   audience must be specified"), issuers/issuer, required-claims/claim
 *   name= match="all|any" (default all) separator=, with value children.
 * validate-azure-ad-token attributes: tenant-id (required: a tenant id or URL,
 *   or "organizations" / "common"), header-name (default "Authorization"),
 *   query-parameter-name, token-value, authentication-endpoint,
 *   failed-validation-httpcode, failed-validation-error-message,
 *   output-token-variable-name.  Elements: client-application-ids/application-id
 *   (required in the 2022 page; "No" since 2024, with "if a client application
 *   ID isn't provided, one or more audience claims should be specified" — we
 *   accept it missing), backend-application-ids/application-id ("only required
 *   in advanced cases"), audiences/audience, required-claims, decryption-keys.
 *
 * What cannot be applied outside API Management is an error, never skipped:
 * policy expressions (@(...) / @{...}) and inline keys.  What does not change
 * whether a token passes (failed-validation-*, output-token-variable-name,
 * require-scheme, query-parameter-name, token-value, validate-connectivity,
 * backend-application-ids) is checked for spelling, then ignored unread, so an
 * expression or an unset named value there does not stop `aoai check`.
 *
 * The document is untrusted input: no DTD (refused as soon as the parser sees
 * one), no entity loading, no network; libxml2's errors never reach stderr.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "errmsg.h"
#include "policy.h"
#include "policy_values.h"

#define MAX_CLOCK_SKEW  86400L /* a day: more is a typo, not a tolerance */
#define QUOTE_MAX       64     /* document names quoted in messages are cut here */
#define XML_MESSAGE_MAX 160    /* libxml2's message is cut here */
#define FRAGMENT_ROOT   "aoai-policy-fragment"
#define PARSE_OPTIONS                                                                    \
	(XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA | \
	 XML_PARSE_BIG_LINES)

struct parse {
	struct policy_values values;
	struct policy *p;
	const char *element; /* the policy element's name, for messages */
	char *err;
	size_t errlen;
};

/* ---- parsing the XML ---- */

/* What the error handlers saw during one parse. */
struct xml_outcome {
	long dtd_line; /* > 0: a DOCTYPE was seen there */
	int code;      /* libxml2's first error, or 0 */
	long line;
	char message[XML_MESSAGE_MAX];
};

static void on_xml_error(void *data, xmlErrorPtr e)
{
	xmlParserCtxtPtr ctxt = data;
	struct xml_outcome *out = ctxt ? ctxt->_private : NULL;
	size_t n;

	if (!out || !e || e->level < XML_ERR_ERROR || out->code)
		return;
	out->code = e->code ? e->code : -1;
	out->line = e->line;
	snprintf(out->message, sizeof(out->message), "%s", e->message ? e->message : "error");
	n = strcspn(out->message, "\r\n");
	out->message[n] = '\0';
}

/* Never reached with our handlers in place; swallows any unstructured message. */
static void on_generic_error(void *data, const char *fmt, ...)
{
	(void)data;
	(void)fmt;
}

/* A DOCTYPE is refused before its internal subset is read: no entity is ever declared. */
static void on_doctype(void *data, const xmlChar *name, const xmlChar *ext_id,
		       const xmlChar *sys_id)
{
	xmlParserCtxtPtr ctxt = data;
	struct xml_outcome *out = ctxt->_private;

	(void)name, (void)ext_id, (void)sys_id;
	out->dtd_line = ctxt->input ? ctxt->input->line : 1;
	if (out->dtd_line <= 0)
		out->dtd_line = 1;
	xmlStopParser(ctxt);
}

/* One parse of @len bytes; returns the document or NULL with *out telling why. */
static xmlDocPtr parse_buffer(const char *buf, size_t len, struct xml_outcome *out)
{
	xmlStructuredErrorFunc saved_serror = xmlStructuredError;
	void *saved_sctx = xmlStructuredErrorContext;
	xmlGenericErrorFunc saved_generic = xmlGenericError;
	void *saved_gctx = xmlGenericErrorContext;
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc = NULL;

	memset(out, 0, sizeof(*out));
	ctxt = xmlCreateMemoryParserCtxt(buf, (int)len);
	if (!ctxt)
		return NULL;
	ctxt->_private = out;
	ctxt->sax->serror = on_xml_error;
	ctxt->sax->internalSubset = on_doctype;
	ctxt->sax->externalSubset = NULL;
	ctxt->sax->warning = NULL;
	xmlCtxtUseOptions(ctxt, PARSE_OPTIONS);
	/* Errors raised without the context (encoding, memory) go to these thread-local hooks. */
	xmlSetStructuredErrorFunc(ctxt, on_xml_error);
	xmlSetGenericErrorFunc(NULL, on_generic_error);
	xmlParseDocument(ctxt);
	xmlSetStructuredErrorFunc(saved_sctx, saved_serror);
	xmlSetGenericErrorFunc(saved_gctx, saved_generic);
	if (ctxt->wellFormed && !out->dtd_line && !out->code)
		doc = ctxt->myDoc;
	else
		xmlFreeDoc(ctxt->myDoc);
	if (!doc && !out->code && !out->dtd_line)
		out->code = -1;
	ctxt->myDoc = NULL;
	xmlFreeParserCtxt(ctxt);
	return doc;
}

/*
 * A snippet as the docs print it may be several elements side by side
 * (<base /><validate-jwt>…): parsed as a document that is "extra content",
 * so it is parsed again as the content of a synthetic root.  The root's tags
 * add no newline, so line numbers stay the file's own.  A whole document (or
 * one element) parses the first time, XML declaration included.
 */
static int parse_xml(const char *text, size_t len, xmlDocPtr *ret, char *err, size_t errlen)
{
	static const char open[] = "<" FRAGMENT_ROOT ">", close[] = "</" FRAGMENT_ROOT ">";
	struct xml_outcome out;
	char *wrapped;

	*ret = parse_buffer(text, len, &out);
	if (!*ret && out.code == XML_ERR_DOCUMENT_END && !out.dtd_line) {
		wrapped = malloc(sizeof(open) + len + sizeof(close));
		if (!wrapped)
			return errmsg(err, errlen, -ENOMEM, "policy: out of memory");
		memcpy(wrapped, open, sizeof(open) - 1);
		memcpy(wrapped + sizeof(open) - 1, text, len);
		memcpy(wrapped + sizeof(open) - 1 + len, close, sizeof(close));
		*ret = parse_buffer(wrapped, sizeof(open) - 1 + len + sizeof(close) - 1, &out);
		free(wrapped);
	}
	if (*ret)
		return 0;
	if (out.dtd_line)
		return errmsg(err, errlen, -EINVAL,
			      "line %ld: <!DOCTYPE>: DTDs are not accepted in a policy",
			      out.dtd_line);
	if (out.code == XML_ERR_NO_MEMORY)
		return errmsg(err, errlen, -ENOMEM, "policy: out of memory");
	if (out.code > 0)
		errmsg(err, errlen, 0, "line %ld: not well-formed XML: %s", out.line, out.message);
	else
		errmsg(err, errlen, 0, "policy: not well-formed XML");
	return -EINVAL;
}

/* ---- finding the policy element ---- */

static bool is_policy_element(xmlNodePtr n)
{
	return n->type == XML_ELEMENT_NODE && !n->ns &&
	       (xmlStrEqual(n->name, BAD_CAST "validate-jwt") ||
		xmlStrEqual(n->name, BAD_CAST "validate-azure-ad-token"));
}

/* The next node in document order, not descending into policy elements. */
static xmlNodePtr next_node(xmlNodePtr n, xmlNodePtr root)
{
	if (n->children && n->type == XML_ELEMENT_NODE && !is_policy_element(n))
		return n->children;
	while (n && n != root && !n->next)
		n = n->parent;
	return n && n != root ? n->next : NULL;
}

/* The docs allow both policies in the inbound section only. */
static const char *misplaced_in(xmlNodePtr n)
{
	static const char *const sections[] = { "backend", "outbound", "on-error" };

	for (n = n->parent; n && n->type == XML_ELEMENT_NODE; n = n->parent)
		for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
			if (xmlStrEqual(n->name, BAD_CAST sections[i]))
				return sections[i];
	return NULL;
}

static int find_policy(xmlDocPtr doc, xmlNodePtr *ret, char *err, size_t errlen)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), found[3] = { NULL, NULL, NULL };
	size_t n = 0;
	const char *section;

	for (xmlNodePtr c = root; c; c = next_node(c, root))
		if (is_policy_element(c) && n++ < 3)
			found[n - 1] = c;
	if (n == 0)
		return errmsg(err, errlen, -EINVAL,
			      "policy: no <validate-jwt> or <validate-azure-ad-token> element");
	if (n > 1)
		return errmsg(err, errlen, -EINVAL,
			      "policy: %zu validate elements (<%s> line %ld, <%s> line %ld%s); "
			      "`aoai check` applies exactly one",
			      n, found[0]->name, xmlGetLineNo(found[0]), found[1]->name,
			      xmlGetLineNo(found[1]), n > 2 ? ", ..." : "");
	section = misplaced_in(found[0]);
	if (section)
		return errmsg(err, errlen, -EINVAL,
			      "line %ld: <%s> is inside <%s>; API Management allows it in "
			      "<inbound> only",
			      xmlGetLineNo(found[0]), found[0]->name, section);
	*ret = found[0];
	return 0;
}

/* ---- attributes ---- */

enum attr_kind {
	ATTR_IGNORED, /* does not change whether a token passes */
	ATTR_HEADER,
	ATTR_QUERY,
	ATTR_TOKEN_VALUE,
	ATTR_REQUIRE_EXP,
	ATTR_REQUIRE_SIGNED,
	ATTR_CLOCK_SKEW,
	ATTR_TENANT,
	ATTR_AUTH_ENDPOINT,
};

struct attr_rule {
	const char *name;
	enum attr_kind kind;
};

static const struct attr_rule jwt_attrs[] = {
	{ "header-name", ATTR_HEADER },
	{ "query-parameter-name", ATTR_QUERY },
	{ "token-value", ATTR_TOKEN_VALUE },
	{ "failed-validation-httpcode", ATTR_IGNORED },
	{ "failed-validation-error-message", ATTR_IGNORED },
	{ "require-expiration-time", ATTR_REQUIRE_EXP },
	{ "require-scheme", ATTR_IGNORED }, /* `aoai check` is handed the token itself */
	{ "require-signed-tokens", ATTR_REQUIRE_SIGNED },
	{ "clock-skew", ATTR_CLOCK_SKEW },
	{ "output-token-variable-name", ATTR_IGNORED },
	{ NULL, ATTR_IGNORED },
};

static const struct attr_rule aad_attrs[] = {
	{ "tenant-id", ATTR_TENANT },
	{ "header-name", ATTR_HEADER },
	{ "query-parameter-name", ATTR_QUERY },
	{ "token-value", ATTR_TOKEN_VALUE },
	{ "authentication-endpoint", ATTR_AUTH_ENDPOINT },
	{ "failed-validation-httpcode", ATTR_IGNORED },
	{ "failed-validation-error-message", ATTR_IGNORED },
	{ "output-token-variable-name", ATTR_IGNORED },
	{ NULL, ATTR_IGNORED },
};

static const struct attr_rule *find_rule(const struct attr_rule *rules, const xmlChar *name)
{
	for (; rules->name; rules++)
		if (xmlStrEqual(name, BAD_CAST rules->name))
			return rules;
	return NULL;
}

/* The expanded value of attribute @a of @node, named in messages as "<node> name=". */
static int attr_value(struct parse *st, xmlNodePtr node, xmlAttrPtr a, char **ret)
{
	char what[2 * QUOTE_MAX + 8];
	xmlChar *raw = xmlNodeGetContent((xmlNodePtr)a);
	int r;

	if (!raw)
		return errmsg(st->err, st->errlen, -ENOMEM, "policy: out of memory");
	snprintf(what, sizeof(what), "<%.*s> %.*s=", QUOTE_MAX, node->name, QUOTE_MAX, a->name);
	r = policy_values_expand(&st->values, (const char *)raw, xmlGetLineNo(node), what, ret,
				 st->err, st->errlen);
	xmlFree(raw);
	return r;
}

/*
 * "true" / "false" as .NET's bool.Parse reads them, which APIM uses for its
 * boolean attributes: case-insensitive (the docs only show lower case).
 */
static int parse_bool(struct parse *st, const char *v, long line, const char *attr, bool *ret)
{
	if (!strcasecmp(v, "true") || !strcasecmp(v, "false")) {
		*ret = !strcasecmp(v, "true");
		return 0;
	}
	return errmsg(st->err, st->errlen, -EINVAL, "line %ld: <%s> %s= must be true or false",
		      line, st->element, attr);
}

/* Whole seconds, digits only: "Timespan ... allowed clock skew in seconds", default 0. */
static int parse_clock_skew(struct parse *st, const char *v, long line, long *ret)
{
	long n = 0;
	size_t i;

	for (i = 0; v[i] >= '0' && v[i] <= '9' && n <= MAX_CLOCK_SKEW; i++)
		n = n * 10 + (v[i] - '0');
	if (i == 0 || v[i] != '\0' || n > MAX_CLOCK_SKEW)
		return errmsg(st->err, st->errlen, -EINVAL,
			      "line %ld: <%s> clock-skew= must be whole seconds from 0 to %ld",
			      line, st->element, MAX_CLOCK_SKEW);
	*ret = n;
	return 0;
}

static int apply_attr(struct parse *st, enum attr_kind kind, char *v, long line, const char *name)
{
	struct policy *p = st->p;
	int r = 0;

	switch (kind) {
	case ATTR_HEADER:
		free(p->header_name);
		p->header_name = v;
		return 0;
	case ATTR_TENANT:
		p->tenant_id = v;
		return 0;
	case ATTR_AUTH_ENDPOINT:
		p->authentication_endpoint = v;
		return 0;
	case ATTR_REQUIRE_EXP:
		r = parse_bool(st, v, line, name, &p->require_expiration_time);
		break;
	case ATTR_REQUIRE_SIGNED:
		r = parse_bool(st, v, line, name, &p->require_signed_tokens);
		break;
	case ATTR_CLOCK_SKEW:
		r = parse_clock_skew(st, v, line, &p->clock_skew);
		break;
	default:
		break;
	}
	free(v);
	return r;
}

static int say_empty(struct parse *st, long line, const char *what)
{
	return errmsg(st->err, st->errlen, -EINVAL, "line %ld: %s is empty", line, what);
}

/* Where the token comes from: one of header-name, query-parameter-name, token-value. */
static int check_token_source(struct parse *st, xmlNodePtr node, unsigned sources)
{
	bool aad = !strcmp(st->element, "validate-azure-ad-token");
	long line = xmlGetLineNo(node);

	if (sources & (sources - 1))
		return errmsg(
		    st->err, st->errlen, -EINVAL,
		    "line %ld: <%s>: give only one of header-name, query-parameter-name and "
		    "token-value",
		    line, st->element);
	if (!sources && !aad)
		return errmsg(
		    st->err, st->errlen, -EINVAL,
		    "line %ld: <validate-jwt>: one of header-name, query-parameter-name or "
		    "token-value is required",
		    line);
	if (!sources) /* validate-azure-ad-token: "header-name ... Default: Authorization" */
		st->p->header_name = strdup("Authorization");
	if (!sources && !st->p->header_name)
		return errmsg(st->err, st->errlen, -ENOMEM, "policy: out of memory");
	if (st->p->header_name && !*st->p->header_name)
		return say_empty(st, line, "header-name=");
	return 0;
}

/* "x:" for a name with a namespace prefix, which no policy attribute or element has. */
static const char *prefix_of(const xmlNs *ns)
{
	return ns && ns->prefix ? (const char *)ns->prefix : "";
}

static int say_unknown_attr(struct parse *st, long line, const char *element, xmlAttrPtr a)
{
	return errmsg(st->err, st->errlen, -EINVAL,
		      "line %ld: <%.*s> has no attribute %.*s%s%.*s (a typo?)", line, QUOTE_MAX,
		      element, QUOTE_MAX, prefix_of(a->ns), a->ns ? ":" : "", QUOTE_MAX, a->name);
}

static int read_policy_attrs(struct parse *st, xmlNodePtr node)
{
	const struct attr_rule *rules =
	    !strcmp(st->element, "validate-jwt") ? jwt_attrs : aad_attrs;
	unsigned sources = 0;
	long line = xmlGetLineNo(node);
	char *v;
	int r;

	for (xmlAttrPtr a = node->properties; a; a = a->next) {
		const struct attr_rule *rule = a->ns ? NULL : find_rule(rules, a->name);

		if (!rule)
			return say_unknown_attr(st, line, st->element, a);
		sources |= rule->kind == ATTR_HEADER        ? 1u
			   : rule->kind == ATTR_QUERY       ? 2u
			   : rule->kind == ATTR_TOKEN_VALUE ? 4u
							    : 0u;
		if (rule->kind == ATTR_IGNORED || rule->kind == ATTR_QUERY ||
		    rule->kind == ATTR_TOKEN_VALUE)
			continue;
		r = attr_value(st, node, a, &v);
		if (r)
			return r;
		r = apply_attr(st, rule->kind, v, line, rule->name);
		if (r)
			return r;
	}
	if (rules == aad_attrs && (!st->p->tenant_id || !*st->p->tenant_id))
		return errmsg(st->err, st->errlen, -EINVAL,
			      "line %ld: <validate-azure-ad-token>: tenant-id= is %s", line,
			      st->p->tenant_id ? "empty" : "required");
	return check_token_source(st, node, sources);
}

/* ---- child elements ---- */

static bool is_blank(const xmlChar *s)
{
	return !s || !s[strspn((const char *)s, " \t\r\n")];
}

/* Comments and layout are allowed between elements; anything else is a mistake. */
static int check_other_node(struct parse *st, xmlNodePtr parent, xmlNodePtr n)
{
	if (n->type == XML_COMMENT_NODE || (n->type == XML_TEXT_NODE && is_blank(n->content)))
		return 0;
	return errmsg(st->err, st->errlen, -EINVAL,
		      "line %ld: <%.*s> holds %s where only elements belong",
		      xmlGetLineNo(n->type == XML_TEXT_NODE ? parent : n), QUOTE_MAX, parent->name,
		      n->type == XML_TEXT_NODE ? "text" : "a node");
}

static int say_unknown_element(struct parse *st, xmlNodePtr parent, xmlNodePtr n)
{
	return errmsg(st->err, st->errlen, -EINVAL,
		      "line %ld: <%.*s> has no element <%.*s%s%.*s> (a typo?)", xmlGetLineNo(n),
		      QUOTE_MAX, parent->name, QUOTE_MAX, prefix_of(n->ns), n->ns ? ":" : "",
		      QUOTE_MAX, n->name);
}

static int no_attributes(struct parse *st, xmlNodePtr n)
{
	return n->properties
		   ? say_unknown_attr(st, xmlGetLineNo(n), (const char *)n->name, n->properties)
		   : 0;
}

/* The text of a leaf element, trimmed of the layout around it, expanded. */
static int leaf_text(struct parse *st, xmlNodePtr n, char **ret)
{
	char what[QUOTE_MAX + 8];
	xmlChar *raw;
	size_t start, end;
	int r;

	for (xmlNodePtr c = n->children; c; c = c->next)
		if (c->type != XML_TEXT_NODE && c->type != XML_COMMENT_NODE)
			return errmsg(st->err, st->errlen, -EINVAL,
				      "line %ld: <%.*s> holds only text", xmlGetLineNo(c),
				      QUOTE_MAX, n->name);
	raw = xmlNodeGetContent(n);
	if (!raw)
		raw = xmlStrdup(BAD_CAST "");
	if (!raw)
		return errmsg(st->err, st->errlen, -ENOMEM, "policy: out of memory");
	start = strspn((const char *)raw, " \t\r\n");
	for (end = strlen((const char *)raw); end > start && strchr(" \t\r\n", raw[end - 1]); end--)
		;
	raw[end] = '\0';
	snprintf(what, sizeof(what), "<%.*s>", QUOTE_MAX, n->name);
	r = policy_values_expand(&st->values, (const char *)raw + start, xmlGetLineNo(n), what, ret,
				 st->err, st->errlen);
	xmlFree(raw);
	if (!r && !**ret) {
		free(*ret);
		*ret = NULL;
		return say_empty(st, xmlGetLineNo(n), what);
	}
	return r;
}

static int push(char ***items, size_t *n, char *v)
{
	char **grown = realloc(*items, (*n + 1) * sizeof(**items));

	if (!grown)
		return -ENOMEM;
	*items = grown;
	(*items)[(*n)++] = v;
	return 0;
}

static int push_or_say(struct parse *st, char ***items, size_t *n, char *v)
{
	if (push(items, n, v) == 0)
		return 0;
	free(v);
	return errmsg(st->err, st->errlen, -ENOMEM, "policy: out of memory");
}

/*
 * <audiences><audience>…</audience>… and its kin: @item elements only, at
 * least one ("At least one audience must be specified", "At least one
 * application-id must be specified").  With @items NULL the list is checked
 * and dropped unexpanded (backend-application-ids).
 */
static int read_list(struct parse *st, xmlNodePtr list, const char *item, char ***items, size_t *n)
{
	size_t count = 0;
	char *v;
	int r = no_attributes(st, list);

	for (xmlNodePtr c = list->children; !r && c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE) {
			r = check_other_node(st, list, c);
			continue;
		}
		if (c->ns || !xmlStrEqual(c->name, BAD_CAST item))
			return say_unknown_element(st, list, c);
		count++;
		r = no_attributes(st, c);
		if (r || !items)
			continue;
		r = leaf_text(st, c, &v);
		if (!r)
			r = push_or_say(st, items, n, v);
	}
	if (!r && !count) {
		errmsg(st->err, st->errlen, 0, "line %ld: <%s> needs at least one <%s>",
		       xmlGetLineNo(list), list->name, item);
		r = -EINVAL;
	}
	return r;
}

static int read_audiences(struct parse *st, xmlNodePtr n)
{
	return read_list(st, n, "audience", &st->p->audiences, &st->p->n_audiences);
}

static int read_issuers(struct parse *st, xmlNodePtr n)
{
	return read_list(st, n, "issuer", &st->p->issuers, &st->p->n_issuers);
}

static int read_client_apps(struct parse *st, xmlNodePtr n)
{
	return read_list(st, n, "application-id", &st->p->client_app_ids, &st->p->n_client_app_ids);
}

/* "only required in advanced cases": the token's audience is what `aoai check` looks at. */
static int read_backend_apps(struct parse *st, xmlNodePtr n)
{
	return read_list(st, n, "application-id", NULL, NULL);
}

static int read_inline_keys(struct parse *st, xmlNodePtr n)
{
	return errmsg(st->err, st->errlen, -EOPNOTSUPP,
		      "line %ld: <%s>: keys given inline are not supported; use <openid-config>",
		      xmlGetLineNo(n), n->name);
}

/* <openid-config url="…" validate-connectivity="true|false"/>, one or more. */
static int read_openid_config(struct parse *st, xmlNodePtr n)
{
	char *url = NULL;
	int r = 0;

	for (xmlAttrPtr a = n->properties; !r && a; a = a->next) {
		if (!a->ns && xmlStrEqual(a->name, BAD_CAST "validate-connectivity"))
			continue;
		if (a->ns || !xmlStrEqual(a->name, BAD_CAST "url"))
			return free(url), say_unknown_attr(st, xmlGetLineNo(n), "openid-config", a);
		r = attr_value(st, n, a, &url);
	}
	for (xmlNodePtr c = n->children; !r && c; c = c->next)
		r = c->type == XML_ELEMENT_NODE ? say_unknown_element(st, n, c)
						: check_other_node(st, n, c);
	if (!r && (!url || !*url)) {
		errmsg(st->err, st->errlen, 0,
		       "line %ld: <openid-config> needs a url=", xmlGetLineNo(n));
		r = -EINVAL;
	}
	if (r)
		return free(url), r;
	return push_or_say(st, &st->p->openid_configs, &st->p->n_openid_configs, url);
}

/* match="all|any", case as .NET reads enums in APIM (assumed insensitive, like booleans). */
static int claim_attr(struct parse *st, xmlNodePtr n, xmlAttrPtr a, struct policy_claim *c)
{
	char *v;
	int r;

	if (a->ns ||
	    (!xmlStrEqual(a->name, BAD_CAST "name") && !xmlStrEqual(a->name, BAD_CAST "match") &&
	     !xmlStrEqual(a->name, BAD_CAST "separator")))
		return say_unknown_attr(st, xmlGetLineNo(n), "claim", a);
	r = attr_value(st, n, a, &v);
	if (r)
		return r;
	if (xmlStrEqual(a->name, BAD_CAST "name"))
		return c->name = v, 0;
	if (xmlStrEqual(a->name, BAD_CAST "separator"))
		return c->separator = v, *v ? 0 : say_empty(st, xmlGetLineNo(n), "separator=");
	r = !strcasecmp(v, "all")   ? (c->match = JWT_MATCH_ALL, 0)
	    : !strcasecmp(v, "any") ? (c->match = JWT_MATCH_ANY, 0)
				    : -EINVAL;
	free(v);
	if (r)
		errmsg(st->err, st->errlen, 0, "line %ld: <claim> match= must be all or any",
		       xmlGetLineNo(n));
	return r;
}

static int read_claim(struct parse *st, xmlNodePtr n, struct policy_claim *c)
{
	int r = 0;
	char *v;

	c->match = JWT_MATCH_ALL; /* "Default: all" */
	for (xmlAttrPtr a = n->properties; !r && a; a = a->next)
		r = claim_attr(st, n, a, c);
	if (!r && (!c->name || !*c->name)) {
		errmsg(st->err, st->errlen, 0, "line %ld: <claim> needs a name=", xmlGetLineNo(n));
		r = -EINVAL;
	}
	for (xmlNodePtr v_node = n->children; !r && v_node; v_node = v_node->next) {
		if (v_node->type != XML_ELEMENT_NODE) {
			r = check_other_node(st, n, v_node);
			continue;
		}
		if (v_node->ns || !xmlStrEqual(v_node->name, BAD_CAST "value"))
			return say_unknown_element(st, n, v_node);
		r = no_attributes(st, v_node);
		if (!r)
			r = leaf_text(st, v_node, &v);
		if (!r)
			r = push_or_say(st, &c->values, &c->n_values, v);
	}
	return r;
}

static void claim_done(struct policy_claim *c)
{
	for (size_t i = 0; i < c->n_values; i++)
		free(c->values[i]);
	free(c->values);
	free(c->name);
	free(c->separator);
	memset(c, 0, sizeof(*c));
}

static int read_claims(struct parse *st, xmlNodePtr list)
{
	struct policy *p = st->p;
	struct policy_claim *grown;
	int r = no_attributes(st, list);

	for (xmlNodePtr c = list->children; !r && c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE) {
			r = check_other_node(st, list, c);
			continue;
		}
		if (c->ns || !xmlStrEqual(c->name, BAD_CAST "claim"))
			return say_unknown_element(st, list, c);
		grown = realloc(p->claims, (p->n_claims + 1) * sizeof(*p->claims));
		if (!grown)
			return errmsg(st->err, st->errlen, -ENOMEM, "policy: out of memory");
		p->claims = grown;
		memset(&p->claims[p->n_claims], 0, sizeof(*p->claims));
		r = read_claim(st, c, &p->claims[p->n_claims++]);
	}
	return r;
}

struct element_rule {
	const char *name;
	int (*read)(struct parse *st, xmlNodePtr n);
	bool jwt, aad; /* allowed in validate-jwt, in validate-azure-ad-token */
	bool repeats;  /* may be given more than once */
};

static const struct element_rule elements[] = {
	{ "openid-config", read_openid_config, true, false, true },
	{ "issuer-signing-keys", read_inline_keys, true, false, false },
	{ "decryption-keys", read_inline_keys, true, true, false },
	{ "client-application-ids", read_client_apps, false, true, false },
	{ "backend-application-ids", read_backend_apps, false, true, false },
	{ "audiences", read_audiences, true, true, false },
	{ "issuers", read_issuers, true, false, false },
	{ "required-claims", read_claims, true, true, false },
};

#define N_ELEMENTS (sizeof(elements) / sizeof(elements[0]))

static int read_children(struct parse *st, xmlNodePtr node)
{
	bool aad = !strcmp(st->element, "validate-azure-ad-token");
	long seen[N_ELEMENTS] = { 0 };
	size_t i;
	int r = 0;

	for (xmlNodePtr c = node->children; !r && c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE) {
			r = check_other_node(st, node, c);
			continue;
		}
		for (i = 0; i < N_ELEMENTS; i++)
			if (!c->ns && xmlStrEqual(c->name, BAD_CAST elements[i].name) &&
			    (aad ? elements[i].aad : elements[i].jwt))
				break;
		if (i == N_ELEMENTS)
			return say_unknown_element(st, node, c);
		if (seen[i] && !elements[i].repeats)
			return errmsg(st->err, st->errlen, -EINVAL,
				      "line %ld: <%s> given twice (first line %ld)",
				      xmlGetLineNo(c), elements[i].name, seen[i]);
		seen[i] = xmlGetLineNo(c);
		r = elements[i].read(st, c);
	}
	return r;
}

/* ---- the whole ---- */

static int read_policy(struct parse *st, xmlNodePtr node)
{
	struct policy *p = st->p;
	int r;

	p->element = strdup((const char *)node->name);
	if (!p->element)
		return errmsg(st->err, st->errlen, -ENOMEM, "policy: out of memory");
	st->element = p->element;
	p->clock_skew = 0;                 /* "Default: 0 seconds" */
	p->require_expiration_time = true; /* "Default: true"; Entra tokens always expire */
	p->require_signed_tokens = true;   /* "Default: true"; Entra tokens are always signed */
	r = read_policy_attrs(st, node);
	if (!r)
		r = read_children(st, node);
	return r;
}

int policy_parse(const char *text, size_t len, const struct policy_named_value *nv, size_t n_nv,
		 struct policy *ret, char *err, size_t errlen)
{
	struct parse st = { { nv, n_nv, 0 }, ret, "", err, errlen };
	xmlDocPtr doc = NULL;
	xmlNodePtr node = NULL; /* set by find_policy() */
	int r;

	if (errlen)
		err[0] = '\0';
	memset(ret, 0, sizeof(*ret));
	if (len > POLICY_MAX_SIZE)
		return errmsg(err, errlen, -EMSGSIZE,
			      "policy: %zu bytes, more than the %d accepted", len, POLICY_MAX_SIZE);
	if (!text || !len)
		return errmsg(err, errlen, -EINVAL, "policy: empty");
	xmlInitParser(); /* idempotent; the library's own globals, never cleaned up here */
	r = parse_xml(text, len, &doc, err, errlen);
	if (!r)
		r = find_policy(doc, &node, err, errlen);
	if (!r)
		r = read_policy(&st, node);
	xmlFreeDoc(doc);
	if (r)
		policy_done(ret);
	return r;
}

static void free_list(char **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

void policy_done(struct policy *p)
{
	if (!p)
		return;
	free(p->element);
	free(p->header_name);
	free(p->tenant_id);
	free(p->authentication_endpoint);
	free_list(p->openid_configs, p->n_openid_configs);
	free_list(p->issuers, p->n_issuers);
	free_list(p->audiences, p->n_audiences);
	free_list(p->client_app_ids, p->n_client_app_ids);
	for (size_t i = 0; i < p->n_claims; i++)
		claim_done(&p->claims[i]);
	free(p->claims);
	memset(p, 0, sizeof(*p));
}
