/* SPDX-License-Identifier: MIT */
/*
 * One relayed request, on its connection's libmicrohttpd thread (one
 * thread per connection, so waiting here stalls no one else):
 *
 *   the head   who may ask (Host, no proxy headers, the placeholder key),
 *              then the agent's headers for this URL, then the transfer
 *              handed to the upstream thread at once;
 *   the body   each piece handed on through the transfer's buffer, waiting
 *              while it is full (so the client is read no faster than the
 *              upstream takes it);
 *   the end    wait for the upstream's head, and answer with its status and
 *              headers and a body read from the transfer as it arrives.
 *
 * The request target is relayed exactly as the client sent it (libmicrohttpd
 * hands the handler an unescaped path; relay_request_begin() kept the
 * original), and libcurl is told not to normalise it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "relay_headers.h"
#include "relay_server.h"

#define RELAY_BODY_BLOCK  (64 * 1024)
#define RELAY_MAX_HEADERS 128
#define RELAY_URL_MAX     (16 * 1024)
#define CONNECT_TIMEOUT_S 30L

struct client_header {
	const char *name, *value;
	bool dropped;
};

struct client_headers {
	struct client_header h[RELAY_MAX_HEADERS];
	size_t n;
	bool too_many;
};

void *relay_request_begin(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct relay_request *q = calloc(1, sizeof(*q));

	(void)cls;
	(void)c;
	if (q)
		q->target = strdup(uri);
	return q;
}

void relay_request_end(struct relay_request *q)
{
	if (!q)
		return;
	if (q->x) {
		xfer_cancel(q->x); /* a no-op for one that is done */
		upstream_queue(q->x->upstream, q->x, UPSTREAM_CANCEL);
		xfer_unref(q->x);
	}
	free(q->target);
	free(q);
}

/* Azure's error shape: {"error": {"code": CODE, "message": MESSAGE}}. */
static enum MHD_Result send_error(struct MHD_Connection *c, struct relay_request *q,
				  unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static enum MHD_Result send_error(struct MHD_Connection *c, struct relay_request *q,
				  unsigned status, const char *code, const char *fmt, ...)
{
	char message[1024];
	struct MHD_Response *resp;
	enum MHD_Result r;
	va_list ap;
	json_t *o;
	char *body;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	o = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message);
	body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!body)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "x-aoai-relay", "refused");
	r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	q->answered = true;
	return r;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	struct client_headers *all = cls;

	(void)kind;
	if (all->n == RELAY_MAX_HEADERS) {
		all->too_many = true;
		return MHD_NO;
	}
	all->h[all->n++] = (struct client_header){ key, value ? value : "", false };
	return MHD_YES;
}

static size_t count_named(const struct client_headers *all, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < all->n; i++)
		n += strcasecmp(all->h[i].name, name) == 0;
	return n;
}

static const char *value_of(const struct client_headers *all, const char *name)
{
	size_t i;

	for (i = 0; i < all->n; i++)
		if (strcasecmp(all->h[i].name, name) == 0)
			return all->h[i].value;
	return NULL;
}

/* Whether @v is the placeholder, in time independent of its value. */
static bool is_placeholder(const struct relay *r, const char *v)
{
	size_t plen = strlen(RELAY_KEY_PREFIX);

	if (strncmp(v, RELAY_KEY_PREFIX, plen) != 0)
		return false;
	return loopback_secret_equal(v + plen, strlen(v + plen), r->placeholder + plen);
}

/* The headers that carry the placeholder: dropped, and at least one must. */
static bool take_placeholder(const struct relay *r, struct client_headers *all)
{
	bool found = false;
	const char *v;
	size_t i;

	for (i = 0; i < all->n; i++) {
		v = all->h[i].value;
		if (strcasecmp(all->h[i].name, "api-key") == 0 && is_placeholder(r, v))
			all->h[i].dropped = found = true;
		else if (strcasecmp(all->h[i].name, "Authorization") == 0 &&
			 strncasecmp(v, "Bearer ", 7) == 0 && is_placeholder(r, v + 7))
			all->h[i].dropped = found = true;
	}
	return found;
}

/* The caller and the request's form.  MHD_YES to go on with q->answered false. */
static enum MHD_Result check_request(const struct relay *r, struct MHD_Connection *c,
				     struct relay_request *q, const char *method,
				     struct client_headers *all)
{
	const char *host;

	MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, all);
	if (all->too_many)
		return send_error(c, q, 431, "RequestHeaderFieldsTooLarge",
				  "more than %d request headers", RELAY_MAX_HEADERS);
	host = value_of(all, "Host");
	if (count_named(all, "Host") != 1 ||
	    (strcasecmp(host, r->host_ip) != 0 && strcasecmp(host, r->host_name) != 0))
		return send_error(c, q, 421, "MisdirectedRequest", "this relay serves Host %s only",
				  r->host_ip);
	if (value_of(all, "Forwarded") || value_of(all, "X-Forwarded-For"))
		return send_error(c, q, 400, "BadRequest",
				  "the relay serves its own user's programs directly, not through "
				  "a proxy (Forwarded or X-Forwarded-For present)");
	if (strcmp(method, "CONNECT") == 0 || !q->target || q->target[0] != '/')
		return send_error(c, q, 400, "BadRequest",
				  "the relay takes a path (origin-form request target) only");
	if (!take_placeholder(r, all))
		return send_error(c, q, 401, "401",
				  "Access denied: send the placeholder key aoai-exec put in "
				  "AZURE_OPENAI_API_KEY (as api-key or Authorization: Bearer)");
	/* Any other upgrade (h2c) is declined by answering in HTTP/1.1, as RFC 9110
	 * section 7.8 allows: Upgrade is hop-by-hop, and goes no further. */
	if (value_of(all, "Upgrade") && strcasestr(value_of(all, "Upgrade"), "websocket"))
		return send_error(c, q, 501, "NotImplemented",
				  "the relay does not relay protocol upgrades (WebSocket, the "
				  "Realtime API); use the libcurl hook or a token profile");
	return MHD_YES;
}

/* Appends "Name: value" (or "Name;", libcurl's spelling of an empty value). */
static bool add_line(struct curl_slist **list, const char *name, const char *value)
{
	size_t n = strlen(name), v = strlen(value);
	struct curl_slist *more;
	char *line = malloc(n + v + 3);

	if (!line)
		return false;
	memcpy(line, name, n);
	if (v) {
		memcpy(line + n, ": ", 2);
		memcpy(line + n + 2, value, v + 1);
	} else {
		memcpy(line + n, ";", 2);
	}
	more = curl_slist_append(*list, line);
	explicit_bzero(line, n + v + 3);
	free(line);
	if (more)
		*list = more;
	return more != NULL;
}

/* libcurl's way to leave out a header it would add itself: "Name:". */
static bool leave_out(struct curl_slist **list, const char *line)
{
	struct curl_slist *more = curl_slist_append(*list, line);

	if (more)
		*list = more;
	return more != NULL;
}

/* Whether the request still has a header named @name. */
static bool present(const struct client_headers *all, const char *name)
{
	size_t i;

	for (i = 0; i < all->n; i++)
		if (!all->h[i].dropped && strcasecmp(all->h[i].name, name) == 0)
			return true;
	return false;
}

static void drop_named(struct client_headers *all, const char *name)
{
	size_t i;

	for (i = 0; i < all->n; i++)
		if (strcasecmp(all->h[i].name, name) == 0)
			all->h[i].dropped = true;
}

/*
 * The upstream request's headers: the client's, less what a hop must not
 * pass on, merged with the agent's as each one's exists_action says; and
 * the two libcurl would otherwise add on its own (Accept, Expect).
 */
static struct curl_slist *upstream_headers(struct client_headers *all, const struct aoai_headers *h)
{
	struct curl_slist *list = NULL;
	const char *connection = value_of(all, "Connection"), *name;
	bool ok = true;
	size_t i;

	for (i = 0; i < all->n; i++) {
		name = all->h[i].name;
		if (relay_header_is_hop(name, strlen(name)) || strcasecmp(name, "Host") == 0 ||
		    strcasecmp(name, "Expect") == 0 ||
		    (connection && relay_connection_lists(connection, name, strlen(name))))
			all->h[i].dropped = true;
	}
	for (i = 0; i < aoai_headers_count(h); i++) {
		name = aoai_header_name(h, i);
		if (aoai_header_action(h, i) == AOAI_EXISTS_SKIP && present(all, name))
			continue; /* the request's own is kept */
		if (aoai_header_action(h, i) == AOAI_EXISTS_OVERRIDE)
			drop_named(all, name);
		ok = ok && add_line(&list, name, aoai_header_value(h, i));
	}
	for (i = 0; i < all->n; i++)
		if (!all->h[i].dropped)
			ok = ok && add_line(&list, all->h[i].name, all->h[i].value);
	if (!value_of(all, "Accept"))
		ok = ok && leave_out(&list, "Accept:");
	ok = ok && leave_out(&list, "Expect:");
	if (!ok) {
		for (struct curl_slist *l = list; l; l = l->next)
			explicit_bzero(l->data, strlen(l->data));
		curl_slist_free_all(list);
		return NULL;
	}
	return list;
}

/* An agent's refusal as the client's status. */
static unsigned status_of(int err)
{
	switch (err) {
	case AOAI_E_LOCKED:
	case AOAI_E_UNAVAILABLE:
		return 503;
	case AOAI_E_DENIED:
		return 403;
	case AOAI_E_NOMATCH:
		return 400;
	default:
		return 502;
	}
}

/* Whether the request has a body, and its length (-1: chunked). */
static bool request_body(const struct client_headers *all, const char *method, long long *len)
{
	const char *cl = value_of(all, "Content-Length");
	const char *te = value_of(all, "Transfer-Encoding");

	/* Transfer-Encoding wins over Content-Length (RFC 9112 section 6.3), as in
	 * libmicrohttpd, which hands us the body de-chunked; a body-less POST still
	 * says "Content-Length: 0". */
	*len = te ? -1 : cl ? strtoll(cl, NULL, 10) : 0;
	return cl || te || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
	       strcmp(method, "PATCH") == 0;
}

static bool setup_easy(const struct relay *r, struct xfer *x, const char *url, const char *method,
		       struct client_headers *all)
{
	CURL *e = curl_easy_init();
	long long len;
	bool ok;

	x->easy = e;
	if (!e)
		return false;
	ok = curl_easy_setopt(e, CURLOPT_URL, url) == CURLE_OK;
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, r->plain_http ? "http" : "https");
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->error);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	if (r->cainfo[0])
		curl_easy_setopt(e, CURLOPT_CAINFO, r->cainfo);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->request_headers);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, xfer_header_line);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, xfer_write_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, xfer_read_body);
	curl_easy_setopt(e, CURLOPT_READDATA, x);
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (request_body(all, method, &len)) {
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	}
	if (strcmp(method, "GET") != 0)
		ok = ok && curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) == CURLE_OK;
	return ok;
}

/*
 * The URL upstream: the target as sent, but for one piece.  The Node
 * openai SDK's AzureOpenAI takes OPENAI_BASE_URL (which points the plain
 * OpenAI clients at Azure's v1 API, PREFIX/openai/v1) as its own base and
 * asks for PREFIX/openai/v1/deployments/D/...; Azure has no such v1 path,
 * and serves that request at PREFIX/openai/deployments/D/....
 */
static bool upstream_url(const struct relay *r, const char *target, char *url, size_t len)
{
	static const char v1_deployments[] = "/openai/v1/deployments/";
	const char *at = strstr(target, v1_deployments);
	const char *query = strchr(target, '?');

	if (at && (!query || at < query))
		return (size_t)snprintf(url, len, "%s%.*s/openai/deployments/%s", r->base,
					(int)(at - target), target,
					at + sizeof(v1_deployments) - 1) < len;
	return (size_t)snprintf(url, len, "%s%s", r->base, target) < len;
}

/* Asks the agent and hands the transfer to the upstream thread. */
static enum MHD_Result start_upstream(struct relay *r, struct MHD_Connection *c,
				      struct relay_request *q, const char *method,
				      struct client_headers *all)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct aoai_headers *h = NULL;
	char url[RELAY_URL_MAX], why[512];
	int err;

	if (!upstream_url(r, q->target, url, sizeof(url)))
		return send_error(c, q, 414, "URITooLong", "the request target is too long");
	err = agent_link_get_headers(r->agent, url, &h, why, sizeof(why));
	if (err < 0)
		return send_error(c, q, status_of(err), "AgentRefused", "aoai-agent: %s", why);
	if (strcmp(aoai_headers_profile(h), r->profile) != 0) {
		snprintf(why, sizeof(why), "aoai-agent answered for profile \"%s\", not \"%s\"",
			 aoai_headers_profile(h), r->profile);
		aoai_headers_free(h);
		return send_error(c, q, 502, "AgentRefused", "%s", why);
	}
	q->x = xfer_new(info ? info->connect_fd : -1);
	if (q->x) {
		q->x->upstream = r->upstream;
		q->x->request_headers = upstream_headers(all, h);
	}
	aoai_headers_free(h);
	if (!q->x || !q->x->request_headers || !setup_easy(r, q->x, url, method, all))
		return send_error(c, q, 500, "InternalError", "out of memory");
	xfer_ref(q->x); /* the multi handle's, from the moment it is added */
	upstream_queue(r->upstream, q->x, UPSTREAM_ADD);
	return MHD_YES;
}

static ssize_t read_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct xfer *x = cls;
	bool resume;
	long n;

	(void)pos;
	n = xfer_take_body(x, buf, max, &resume);
	if (resume)
		upstream_queue(x->upstream, x, UPSTREAM_RESUME);
	if (n > 0)
		return n;
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	xfer_cancel(x);
	upstream_queue(x->upstream, x, UPSTREAM_CANCEL);
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void release_body(void *cls)
{
	xfer_unref(cls);
}

/* The upstream's answer: its status and head now, its body as it comes. */
static enum MHD_Result respond(struct relay *r, struct MHD_Connection *c, struct relay_request *q)
{
	struct xfer *x = q->x;
	struct MHD_Response *resp;
	struct curl_slist *l;
	enum MHD_Result ret;
	char *colon;

	if (!x->head_done)
		return send_error(c, q, 502, "BadGateway", "the relay got no answer from %s: %s",
				  r->base, x->error[0] ? x->error : curl_easy_strerror(x->result));
	if (x->status == 204 || x->status == 304) {
		/* No body, and no framing for one: libmicrohttpd would frame an unknown size
		 * as chunked.  (libcurl has read the nothing there was.) */
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	} else {
		resp = MHD_create_response_from_callback(
		    x->length >= 0 ? (uint64_t)x->length : MHD_SIZE_UNKNOWN, RELAY_BODY_BLOCK,
		    read_body, x, release_body);
		if (resp)
			xfer_ref(x);
	}
	if (!resp)
		return MHD_NO;
	for (l = x->head; l; l = l->next) {
		colon = strchr(l->data, ':');
		*colon = '\0';
		MHD_add_response_header(resp, l->data, colon + 1 + strspn(colon + 1, " \t"));
		*colon = ':';
	}
	ret = MHD_queue_response(c, (unsigned)x->status, resp);
	MHD_destroy_response(resp);
	q->answered = true;
	return ret;
}

/* A piece of the request body, handed on (waiting while the buffer is full). */
static void feed_body(struct xfer *x, const char *data, size_t len)
{
	bool resume;
	size_t k;

	while (len) {
		k = xfer_feed(x, data, len, &resume);
		if (resume)
			upstream_queue(x->upstream, x, UPSTREAM_RESUME);
		data += k;
		len -= k;
	}
}

enum MHD_Result relay_request_handle(void *cls, struct MHD_Connection *c, const char *url,
				     const char *method, const char *version,
				     const char *upload_data, size_t *upload_data_size,
				     void **req_cls)
{
	struct relay *r = cls;
	struct relay_request *q = *req_cls;
	struct client_headers all = { .n = 0 };
	bool resume;

	(void)url;
	(void)version;
	if (!q)
		return MHD_NO; /* out of memory when the request began */
	if (!q->started) {
		q->started = true;
		if (check_request(r, c, q, method, &all) != MHD_YES || q->answered)
			return q->answered ? MHD_YES : MHD_NO;
		return start_upstream(r, c, q, method, &all);
	}
	if (q->answered) {
		*upload_data_size = 0; /* the rest of a refused request's body */
		return MHD_YES;
	}
	if (*upload_data_size) {
		feed_body(q->x, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	xfer_end_body(q->x, &resume);
	if (resume)
		upstream_queue(r->upstream, q->x, UPSTREAM_RESUME);
	if (!xfer_wait_head(q->x))
		return MHD_NO; /* the client hung up: relay_request_end() cancels */
	return respond(r, c, q);
}
