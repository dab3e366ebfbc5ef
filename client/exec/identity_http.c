/* SPDX-License-Identifier: MIT */
/*
 * One request to the identity endpoint (identity.c has the protocol): the
 * checks, in the order a client that is not ours fails them, then the
 * token from the agent.  Runs on libmicrohttpd's connection threads, which
 * share one agent connection (agent_link.c); the configuration is read-only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "identity_http.h"

#define RESOURCE_MAX    (1024 - sizeof("/.default") + 1) /* the scope the agent accepts */
#define DEFAULT_SUFFIX  "/.default"
#define JSON_TYPE       "application/json; charset=utf-8"
#define HEADER_IDENTITY "X-IDENTITY-HEADER"

/* Query parameters that choose another identity than the profile's. */
static const char *const identity_selectors[] = { "client_id", "object_id", "mi_res_id",
						  "msi_res_id", "principal_id" };

struct lookup {
	const char *key;
	unsigned count;
	const char *value; /* the first */
};

static enum MHD_Result count_value(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct lookup *l = cls;

	(void)kind;
	if (key && strcasecmp(key, l->key) == 0) {
		if (l->count++ == 0)
			l->value = value;
	}
	return MHD_YES;
}

/* How often @key occurs among the request's values of @kind; *ret_value the first. */
static unsigned lookup(struct MHD_Connection *c, enum MHD_ValueKind kind, const char *key,
		       const char **ret_value)
{
	struct lookup l = { .key = key };

	MHD_get_connection_values(c, kind, count_value, &l);
	if (ret_value)
		*ret_value = l.value;
	return l.count;
}

static void wipe_free_string(void *p)
{
	if (p) {
		explicit_bzero(p, strlen(p));
		free(p);
	}
}

static enum MHD_Result send_body(struct MHD_Connection *c, unsigned status, char *body)
{
	struct MHD_Response *resp;
	enum MHD_Result r;

	resp = MHD_create_response_from_buffer_with_free_callback(strlen(body), body,
								  wipe_free_string);
	if (!resp) {
		wipe_free_string(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, JSON_TYPE);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return r;
}

/* App Service's error body: {"statusCode": N, "message": "…"}. */
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	char message[1024], *body;
	va_list ap;
	json_t *obj;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	obj = json_pack("{s:i, s:s}", "statusCode", (int)status, "message", message);
	body = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (!body)
		return MHD_NO;
	return send_body(c, status, body);
}

/* The caller: this listener, directly, with the header.  0, or the status sent. */
static unsigned check_caller(struct MHD_Connection *c, const struct identity_config *cfg,
			     const char **ret_message)
{
	const char *host = NULL, *given = NULL;

	if (lookup(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST, &host) != 1 ||
	    strcmp(host, cfg->host) != 0) {
		*ret_message = "refused: the Host header must name this endpoint";
		return MHD_HTTP_FORBIDDEN;
	}
	if (lookup(c, MHD_HEADER_KIND, "X-Forwarded-For", NULL) != 0 ||
	    lookup(c, MHD_HEADER_KIND, "Forwarded", NULL) != 0) {
		*ret_message = "refused: forwarded requests are not served";
		return MHD_HTTP_FORBIDDEN;
	}
	if (lookup(c, MHD_HEADER_KIND, HEADER_IDENTITY, &given) != 1 ||
	    !loopback_secret_equal(given, strlen(given), cfg->header)) {
		*ret_message = "missing or wrong " HEADER_IDENTITY " header";
		return MHD_HTTP_UNAUTHORIZED;
	}
	if (lookup(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH, NULL) != 0 ||
	    lookup(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING, NULL) != 0) {
		*ret_message = "a token request has no body";
		return MHD_HTTP_BAD_REQUEST;
	}
	return 0;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < '!' || *s > '~')
			return false;
	return true;
}

/* The query: api-version 2019-08-01 and one resource.  0, or the status sent. */
static unsigned check_query(struct MHD_Connection *c, const char **ret_resource,
			    const char **ret_message)
{
	const char *version = NULL, *resource = NULL;
	size_t i;

	if (lookup(c, MHD_GET_ARGUMENT_KIND, "api-version", &version) != 1 || !version ||
	    strcmp(version, IDENTITY_API_VERSION) != 0) {
		*ret_message = "api-version must be " IDENTITY_API_VERSION;
		return MHD_HTTP_BAD_REQUEST;
	}
	if (lookup(c, MHD_GET_ARGUMENT_KIND, "resource", &resource) != 1 || !resource ||
	    !*resource || strlen(resource) > RESOURCE_MAX || !printable(resource)) {
		*ret_message = "one resource of printable ASCII (at most 1015 bytes) is required";
		return MHD_HTTP_BAD_REQUEST;
	}
	for (i = 0; i < sizeof(identity_selectors) / sizeof(identity_selectors[0]); i++) {
		if (lookup(c, MHD_GET_ARGUMENT_KIND, identity_selectors[i], NULL) != 0) {
			*ret_message = "this endpoint serves the identity of its aoai-exec profile "
				       "only: choose the profile with aoai-exec -p, not with "
				       "client_id, object_id or mi_res_id";
			return MHD_HTTP_BAD_REQUEST;
		}
	}
	*ret_resource = resource;
	return 0;
}

/* The scope for a v1 resource: R/.default ("https://x/" and "https://x" alike). */
static char *scope_of(const char *resource)
{
	size_t n = strlen(resource), sl = strlen(DEFAULT_SUFFIX);
	char *scope;

	if (n >= sl && strcmp(resource + n - sl, DEFAULT_SUFFIX) == 0)
		return strdup(resource);
	if (n > 1 && resource[n - 1] == '/')
		n--;
	if (asprintf(&scope, "%.*s%s", (int)n, resource, DEFAULT_SUFFIX) < 0)
		return NULL;
	return scope;
}

/* The status for an agent failure: 503 when waiting may help, else 403 / 500. */
static unsigned status_of(int err)
{
	switch (err) {
	case AOAI_E_NOAGENT:
	case AOAI_E_IO:
	case AOAI_E_LOCKED:
	case AOAI_E_UNAVAILABLE:
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	case AOAI_E_DENIED:
		return MHD_HTTP_FORBIDDEN;
	case AOAI_E_INVALID:
		return MHD_HTTP_BAD_REQUEST;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

/* Printable ASCII @s, '"' and '\' escaped, appended at @out (NULL: just counted). */
static size_t put_escaped(char *out, const char *s)
{
	size_t n = 0;

	for (; *s; s++) {
		if (*s == '"' || *s == '\\') {
			if (out)
				out[n] = '\\';
			n++;
		}
		if (out)
			out[n] = *s;
		n++;
	}
	return n;
}

/* The 200 body, in memory the response wipes when it is done.  NULL: no memory. */
static char *token_body(const struct aoai_token *t, const char *resource)
{
	static const char f1[] = "{\"access_token\":\"", f2[] = "\",\"expires_on\":\"",
			  f3[] = "\",\"resource\":\"", f4[] = "\",\"token_type\":\"", f5[] = "\"}";
	char expires[24], *body, *p;
	size_t len;

	snprintf(expires, sizeof(expires), "%lld", aoai_token_expires_on(t));
	len = sizeof(f1) + sizeof(f2) + sizeof(f3) + sizeof(f4) + sizeof(f5) + strlen(expires) +
	      put_escaped(NULL, aoai_token_value(t)) + put_escaped(NULL, resource) +
	      put_escaped(NULL, aoai_token_type(t));
	p = body = malloc(len);
	if (!body)
		return NULL;
#define PUT(s) (memcpy(p, (s), strlen(s)), p += strlen(s))
	PUT(f1);
	p += put_escaped(p, aoai_token_value(t));
	PUT(f2);
	PUT(expires);
	PUT(f3);
	p += put_escaped(p, resource);
	PUT(f4);
	p += put_escaped(p, aoai_token_type(t));
	PUT(f5);
#undef PUT
	*p = '\0';
	return body;
}

static enum MHD_Result send_token(struct MHD_Connection *c, const struct identity_config *cfg,
				  const char *resource)
{
	struct aoai_token *t = NULL;
	char *scope = scope_of(resource), *body, why[768];
	int err;

	if (!scope)
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	err = agent_link_get_token(cfg->agent, cfg->profile, scope, &t, why, sizeof(why));
	free(scope);
	if (err < 0) {
		exec_warn("identity endpoint: no token for profile \"%s\": %s", cfg->profile, why);
		return send_error(c, status_of(err), "aoai-agent: %s", why);
	}
	body = token_body(t, resource);
	aoai_token_free(t);
	if (!body)
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	return send_body(c, MHD_HTTP_OK, body);
}

enum MHD_Result identity_http_handle(void *cls, struct MHD_Connection *connection, const char *url,
				     const char *method, const char *version,
				     const char *upload_data, size_t *upload_data_size,
				     void **req_cls)
{
	const struct identity_config *cfg = cls;
	const char *message = NULL, *resource = NULL;
	unsigned status;

	(void)version;
	(void)upload_data;
	(void)req_cls;
	if (*upload_data_size != 0)
		return MHD_NO; /* checked on the first call: a body is refused before it is read */
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return send_error(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET is served");
	if (strcmp(url, IDENTITY_PATH) != 0)
		return send_error(connection, MHD_HTTP_NOT_FOUND, "no such path");
	status = check_caller(connection, cfg, &message);
	if (status == 0)
		status = check_query(connection, &resource, &message);
	if (status != 0)
		return send_error(connection, status, "%s", message);
	return send_token(connection, cfg, resource);
}
