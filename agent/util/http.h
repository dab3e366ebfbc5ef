/* SPDX-License-Identifier: MIT */
/*
 * HTTP requests for token sources: libcurl's multi interface driven by the
 * agent's sd-event loop, so no request ever blocks another client.  Bodies
 * are bounded and wiped (they carry tokens and client secrets).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#define HTTP_MAX_RESPONSE        (256 * 1024)
#define HTTP_TIMER_ACCURACY_USEC 1000 /* libcurl asks in milliseconds */
#define HTTP_MAX_HEADERS         8
#define HTTP_DEFAULT_TIMEOUT_MS  30000
#define HTTP_MAX_HEADER_VALUE    512

struct http;
struct http_request;

struct http_options {
	const char *method; /* "GET" or "POST" */
	const char *url;
	const char *headers[HTTP_MAX_HEADERS]; /* "Name: value", NULL-terminated */
	const char *body;                      /* POST body or NULL; copied and wiped */
	size_t body_len;
	long timeout_ms; /* 0: HTTP_DEFAULT_TIMEOUT_MS */
	bool allow_http; /* plain http permitted (loopback / IMDS only: the caller checks) */
	const char *pinned_sha1; /* accept only a server certificate with this SHA-1
				  * thumbprint (hex), instead of CA verification */
};

/* What a finished request produced.  Valid only during the callback. */
struct http_response {
	int curl_code;     /* CURLE_OK, or the transport failure */
	const char *error; /* transport error text, "" when curl_code is CURLE_OK */
	long status;       /* HTTP status, 0 when none was received */
	const char *body;  /* NUL-terminated (the body itself may be shorter) */
	size_t body_len;
	const char *retry_after;      /* header value or "" */
	const char *www_authenticate; /* header value or "" */
};

typedef void (*http_done_fn)(const struct http_response *resp, void *userdata);

/*
 * Gives libcurl, when the first request loads it (curl_dl.h), an allocator
 * that wipes what libcurl frees: it builds each request (headers and a
 * small body together: an identity header, a client secret) in buffers of
 * its own.  Call it once, at start, before any thread.
 */
void http_global_init(void);

/* Creates the client on @event.  Returns 0 or a negative errno. */
int http_new(sd_event *event, struct http **ret);
/* Cancels every request (without callbacks) and frees.  Accepts NULL. */
struct http *http_free(struct http *h);

/*
 * Starts a request; @done runs exactly once from the event loop when it
 * ends, unless it is cancelled first.  Returns 0 and sets *ret (may be NULL
 * if the caller never cancels), or a negative errno: -ELIBACC when libcurl
 * cannot be loaded.  The first request loads libcurl.
 */
int http_start(struct http *h, const struct http_options *o, http_done_fn done, void *userdata,
	       struct http_request **ret);
/* What went wrong for http_start()'s @r: for -ELIBACC, which library is
 * missing and what to install; else strerror(). */
const char *http_strerror(int r);
/* Cancels a request that has not finished; its callback will not run. */
void http_cancel(struct http_request *r);

/* A Retry-After value (delta-seconds or an HTTP-date) in seconds from now;
 * -1 when empty or unreadable. */
int64_t http_retry_after(const char *v);
