/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>

#include <sodium.h>

#include "curl_dl.h"
#include "http.h"
#include "stack_scrub.h"
#include "openssl_dl.h"

struct http {
	sd_event *event;
	CURLM *multi;
	sd_event_source *timer;
	struct http_request *requests; /* in flight */
};

struct http_request {
	struct http *http;
	struct http_request *next, *prev;
	CURL *easy;
	struct curl_slist *headers;
	char *body; /* our copy of the POST body, wiped */
	size_t body_len;
	char *resp; /* response body, wiped */
	size_t resp_len, resp_cap;
	bool too_big;
	char retry_after[HTTP_MAX_HEADER_VALUE];
	char www_authenticate[HTTP_MAX_HEADER_VALUE];
	char pinned_sha1[2 * 20 + 1];
	char error[CURL_ERROR_SIZE];
	http_done_fn done;
	void *userdata;
};

/* Our headers may carry a secret (an identity header, Azure Arc's key):
 * libcurl's copies are freed without a wipe. */
static void wipe_headers(struct curl_slist *l)
{
	for (; l; l = l->next)
		sodium_memzero(l->data, strlen(l->data));
}

static void request_free(struct http_request *r)
{
	struct http *h = r->http;

	if (r->prev)
		r->prev->next = r->next;
	else
		h->requests = r->next;
	if (r->next)
		r->next->prev = r->prev;
	sym_curl_multi_remove_handle(h->multi, r->easy);
	sym_curl_easy_cleanup(r->easy);
	wipe_headers(r->headers);
	sym_curl_slist_free_all(r->headers);
	if (r->body)
		sodium_memzero(r->body, r->body_len);
	if (r->resp)
		sodium_memzero(r->resp, r->resp_cap);
	free(r->body);
	free(r->resp);
	free(r);
}

void http_cancel(struct http_request *r)
{
	if (r)
		request_free(r);
}

/* Grows the response buffer by copying, so no unwiped copy is left. */
static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
	struct http_request *r = userdata;
	size_t len = size * n, want;
	char *grown;

	if (r->resp_len + len + 1 > HTTP_MAX_RESPONSE) {
		r->too_big = true;
		return 0; /* aborts the transfer */
	}
	want = r->resp_len + len + 1;
	if (want > r->resp_cap) {
		want = want < 4096                    ? 4096
		       : want * 2 > HTTP_MAX_RESPONSE ? HTTP_MAX_RESPONSE
						      : want * 2;
		grown = malloc(want);
		if (!grown)
			return 0;
		if (r->resp) {
			memcpy(grown, r->resp, r->resp_len);
			sodium_memzero(r->resp, r->resp_cap);
			free(r->resp);
		}
		r->resp = grown;
		r->resp_cap = want;
	}
	memcpy(r->resp + r->resp_len, data, len);
	r->resp_len += len;
	r->resp[r->resp_len] = '\0';
	return len;
}

/* Keeps the two response headers token sources act on. */
static size_t on_header(char *data, size_t size, size_t n, void *userdata)
{
	struct http_request *r = userdata;
	size_t len = size * n;
	static const struct {
		const char *name;
		size_t offset;
	} wanted[] = {
		{ "retry-after:", offsetof(struct http_request, retry_after) },
		{ "www-authenticate:", offsetof(struct http_request, www_authenticate) },
	};

	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		size_t nlen = strlen(wanted[i].name);
		char *dst = (char *)r + wanted[i].offset;
		size_t vlen;
		const char *v;

		if (len <= nlen || strncasecmp(data, wanted[i].name, nlen) != 0)
			continue;
		v = data + nlen;
		vlen = len - nlen;
		while (vlen > 0 && (*v == ' ' || *v == '\t'))
			v++, vlen--;
		while (vlen > 0 && isspace((unsigned char)v[vlen - 1]))
			vlen--;
		if (vlen >= HTTP_MAX_HEADER_VALUE)
			vlen = HTTP_MAX_HEADER_VALUE - 1;
		memcpy(dst, v, vlen);
		dst[vlen] = '\0';
	}
	return len;
}

/* Service Fabric's endpoint presents a self-signed certificate identified
 * by its SHA-1 thumbprint: accept exactly that certificate, nothing else
 * (the SDKs disable verification altogether). */
static int verify_pinned(X509_STORE_CTX *store, void *arg)
{
	const struct http_request *r = arg;
	X509 *cert = sym_X509_STORE_CTX_get0_cert(store);
	unsigned char digest[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int len = 0;

	if (!cert || sym_X509_digest(cert, sym_EVP_sha1(), digest, &len) != 1 || len != 20)
		return 0;
	sodium_bin2hex(hex, sizeof(hex), digest, len);
	return strcasecmp(hex, r->pinned_sha1) == 0;
}

/* Every TLS connection: OpenSSL wipes its copy of each record it decrypted
 * (a response carries an access token) once libcurl has read it.  libcurl
 * has loaded OpenSSL by now; without its functions no connection is made. */
static CURLcode on_ssl_ctx(CURL *easy, void *ssl_ctx, void *userdata)
{
	const struct http_request *r = userdata;

	(void)easy;
	if (openssl_dl_open(NULL, 0) < 0)
		return CURLE_SSL_ENGINE_INITFAILED;
#ifdef SSL_OP_CLEANSE_PLAINTEXT
	sym_SSL_CTX_set_options(ssl_ctx, SSL_OP_CLEANSE_PLAINTEXT);
#endif
	if (r->pinned_sha1[0])
		sym_SSL_CTX_set_cert_verify_callback(ssl_ctx, verify_pinned, userdata);
	return CURLE_OK;
}

static void finish(struct http *h, CURL *easy, CURLcode code);

static void drain(struct http *h)
{
	CURLMsg *msg;
	int left;

	while ((msg = sym_curl_multi_info_read(h->multi, &left)))
		if (msg->msg == CURLMSG_DONE)
			finish(h, msg->easy_handle, msg->data.result);
}

static int on_socket_event(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct http *h = userdata;
	int flags = 0, running;

	(void)s;
	if (revents & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	sym_curl_multi_socket_action(h->multi, fd, flags, &running);
	drain(h);
	stack_scrub(); /* libcurl and OpenSSL sent or read a request here */
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct http *h = userdata;
	int running;

	(void)s;
	(void)usec;
	sym_curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	drain(h);
	stack_scrub();
	return 0;
}

/* libcurl tells which sockets to watch; each gets an sd-event source,
 * remembered with curl_multi_assign(). */
static int watch_socket(CURL *easy, curl_socket_t fd, int what, void *userdata, void *socketp)
{
	struct http *h = userdata;
	sd_event_source *src = socketp;
	uint32_t events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		sd_event_source_disable_unref(src);
		sym_curl_multi_assign(h->multi, fd, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (src)
		return sd_event_source_set_io_events(src, events) < 0 ? -1 : 0;
	if (sd_event_add_io(h->event, &src, fd, events, on_socket_event, h) < 0)
		return -1;
	sym_curl_multi_assign(h->multi, fd, src);
	return 0;
}

static int set_timer(CURLM *multi, long timeout_ms, void *userdata)
{
	struct http *h = userdata;
	int r;

	(void)multi;
	if (timeout_ms < 0)
		return sd_event_source_set_enabled(h->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
	r = sd_event_source_set_time_relative(h->timer, (uint64_t)timeout_ms * 1000);
	if (r >= 0)
		r = sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
	return r < 0 ? -1 : 0;
}

/* Retry-After: delta-seconds or an HTTP-date. */
int64_t http_retry_after(const char *v)
{
	struct tm tm = { 0 };
	char *end;
	long long secs;

	if (!*v)
		return -1;
	secs = strtoll(v, &end, 10);
	if (end != v && *end == '\0')
		return secs < 0 ? 0 : secs;
	end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end || *end)
		return -1;
	secs = (long long)timegm(&tm) - (long long)time(NULL);
	return secs < 0 ? 0 : secs;
}

/* libcurl's free() gets no size: glibc knows it. */
static void wiping_free(void *p)
{
	if (p) {
		sodium_memzero(p, malloc_usable_size(p));
		free(p);
	}
}

/* Grows by copying, so the old block is wiped, not left behind. */
static void *wiping_realloc(void *p, size_t n)
{
	size_t old;
	void *grown;

	if (!p)
		return malloc(n);
	old = malloc_usable_size(p);
	if (n <= old)
		return p; /* fits: nothing is copied */
	grown = malloc(n);
	if (!grown)
		return NULL;
	memcpy(grown, p, old);
	wiping_free(p);
	return grown;
}

void http_global_init(void)
{
	curl_dl_use_memory(malloc, wiping_free, wiping_realloc, strdup, calloc);
}

int http_new(sd_event *event, struct http **ret)
{
	struct http *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	h->event = sd_event_ref(event);
	/* libcurl's timeouts are in milliseconds and it often asks for 0 ("act
	 * now"): sd-event's default 250 ms slack would stall a lone fetch. */
	r = sd_event_add_time_relative(event, &h->timer, CLOCK_MONOTONIC, UINT64_MAX / 2,
				       HTTP_TIMER_ACCURACY_USEC, on_timer, h);
	if (r >= 0)
		r = sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
	if (r < 0) {
		http_free(h);
		return r;
	}
	*ret = h;
	return 0;
}

/* The first request loads libcurl and makes the multi handle: an agent
 * that never fetches never maps libcurl. */
static int multi_open(struct http *h)
{
	if (h->multi)
		return 0;
	if (curl_dl_open(NULL, 0) < 0)
		return -ELIBACC;
	h->multi = sym_curl_multi_init();
	if (!h->multi)
		return -ENOMEM;
	sym_curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, watch_socket);
	sym_curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	sym_curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, set_timer);
	sym_curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	return 0;
}

const char *http_strerror(int r)
{
	static __thread char why[CURL_DL_MAX_ERROR];

	if (r != -ELIBACC || curl_dl_open(why, sizeof(why)) == 0)
		return strerror(-r);
	return why;
}

struct http *http_free(struct http *h)
{
	if (!h)
		return NULL;
	while (h->requests)
		request_free(h->requests);
	if (h->multi)
		sym_curl_multi_cleanup(h->multi);
	sd_event_source_disable_unref(h->timer);
	sd_event_unref(h->event);
	free(h);
	return NULL;
}

static void finish(struct http *h, CURL *easy, CURLcode code)
{
	struct http_request *r = NULL;
	struct http_response resp = { 0 };

	(void)h;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
	if (!r)
		return;
	if (r->too_big) {
		code = CURLE_FILESIZE_EXCEEDED;
		snprintf(r->error, sizeof(r->error), "response larger than %d bytes",
			 HTTP_MAX_RESPONSE);
	}
	resp.curl_code = (int)code;
	resp.error = code == CURLE_OK ? "" : r->error[0] ? r->error : sym_curl_easy_strerror(code);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp.status);
	resp.body = r->resp ? r->resp : "";
	resp.body_len = r->resp_len;
	resp.retry_after = r->retry_after;
	resp.www_authenticate = r->www_authenticate;
	r->done(&resp, r->userdata);
	request_free(r);
}

static int copy_body(struct http_request *r, const struct http_options *o)
{
	if (!o->body)
		return 0;
	r->body = malloc(o->body_len + 1);
	if (!r->body)
		return -ENOMEM;
	memcpy(r->body, o->body, o->body_len);
	r->body[o->body_len] = '\0';
	r->body_len = o->body_len;
	return 0;
}

/* Identity endpoints are reached directly, never by following redirects,
 * and only over the protocols the caller vetted. */
static int configure(struct http_request *r, const struct http_options *o)
{
	CURL *e = r->easy;
	CURLcode ctx_fn;
	int bad = 0;

	for (size_t i = 0; i < HTTP_MAX_HEADERS && o->headers[i]; i++) {
		struct curl_slist *l = sym_curl_slist_append(r->headers, o->headers[i]);

		if (!l)
			return -ENOMEM;
		r->headers = l;
	}
	bad |= curl_easy_setopt(e, CURLOPT_URL, o->url);
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, o->allow_http ? "http,https" : "https");
	bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	/* Plain http goes only to loopback or IMDS, both on this machine:
	 * never through a proxy from the environment (IMDS refuses proxied
	 * requests; a proxy would see the Metadata and secret headers). */
	if (o->allow_http)
		bad |= curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
				o->timeout_ms ? o->timeout_ms : (long)HTTP_DEFAULT_TIMEOUT_MS);
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->error);
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "aoai-agent/" AOAI_VERSION);
	if (strcmp(o->method, "POST") == 0) {
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)r->body_len);
	}
	/* Only an OpenSSL libcurl takes it: pinning needs it, the wipe is a bonus. */
	ctx_fn = curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
	if (ctx_fn == CURLE_OK)
		ctx_fn = curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, r);
	if (o->pinned_sha1) {
		snprintf(r->pinned_sha1, sizeof(r->pinned_sha1), "%s", o->pinned_sha1);
		bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
		bad |= ctx_fn;
	}
	return bad ? -EINVAL : 0;
}

int http_start(struct http *h, const struct http_options *o, http_done_fn done, void *userdata,
	       struct http_request **ret)
{
	struct http_request *r;
	int err = multi_open(h);

	if (err < 0)
		return err;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->http = h;
	r->done = done;
	r->userdata = userdata;
	r->next = h->requests;
	if (h->requests)
		h->requests->prev = r;
	h->requests = r;
	r->easy = sym_curl_easy_init();
	err = r->easy ? copy_body(r, o) : -ENOMEM;
	if (err == 0)
		err = configure(r, o);
	if (err == 0 && sym_curl_multi_add_handle(h->multi, r->easy) != CURLM_OK)
		err = -ENOMEM;
	if (err < 0) {
		request_free(r);
		return err;
	}
	if (ret)
		*ret = r;
	return 0;
}
