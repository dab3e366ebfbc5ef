/* SPDX-License-Identifier: MIT */
/*
 * One relayed request, shared by the libmicrohttpd thread of its client
 * connection and the upstream thread that drives libcurl.  The two meet
 * only here, under the lock: the request body flows through @up, the
 * response body through @down, each bounded (XFER_BUF), so a transfer of
 * any size holds at most that much in either direction; a full buffer
 * pauses the side that fills it (libcurl's pause, or the client thread
 * waiting, which stops it reading its socket).
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#define XFER_BUF (64 * 1024)

struct relay_upstream;

struct xfer {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* any change below */
	unsigned refs; /* the client's request, its response, the upstream thread, the queue */

	char *up; /* request body on its way out: [up_off, up_off + up_len) */
	size_t up_off, up_len;
	bool up_eof;    /* the client sent all of it */
	bool up_paused; /* libcurl waits for more */

	char *down; /* response body on its way back */
	size_t down_off, down_len, down_cap;
	bool down_paused;

	bool head_done; /* the final response head is in: status, head, length */
	long status;
	struct curl_slist *head;  /* "Name: value" lines to relay */
	long long length;         /* Content-Length, or -1 */
	struct curl_slist *lines; /* the head being read (upstream thread only) */

	bool done; /* libcurl has finished with it: result says how */
	CURLcode result;
	char error[CURL_ERROR_SIZE];
	bool cancel; /* the client is gone: stop */

	int client_fd; /* polled only, to notice a client that went away */

	/* Set up before it is handed over, then the upstream thread's. */
	CURL *easy;
	struct curl_slist *request_headers; /* carry the key: wiped when freed */
	struct relay_upstream *upstream;
	unsigned ops; /* queued for the upstream thread (under its queue lock) */
	struct xfer *next_queued;
	bool in_multi;
	struct xfer *prev_active, *next_active; /* the upstream thread's list */
};

/* A new transfer with one reference (the client's request).  NULL: out of memory. */
struct xfer *xfer_new(int client_fd);
void xfer_ref(struct xfer *x);
/* Drops a reference; the last frees it. */
void xfer_unref(struct xfer *x);

/* The libcurl callbacks, on the upstream thread. */
size_t xfer_read_body(char *buf, size_t size, size_t n, void *userdata);
size_t xfer_write_body(char *data, size_t size, size_t n, void *userdata);
size_t xfer_header_line(char *line, size_t size, size_t n, void *userdata);
/* libcurl has finished the transfer with @result. */
void xfer_finish(struct xfer *x, CURLcode result);

/*
 * The client side.  xfer_feed() takes some of @data into @up, waiting while
 * it is full, and returns how much; all of it once the transfer is over
 * (the upstream answered early, or failed): the rest is dropped.
 * *@resume: libcurl waits for this data and must be told to go on.
 */
size_t xfer_feed(struct xfer *x, const char *data, size_t len, bool *resume);
void xfer_end_body(struct xfer *x, bool *resume);
/* Waits for the response head or the end.  false: the client went away. */
bool xfer_wait_head(struct xfer *x);
/*
 * Up to @max bytes of the response body into @buf; blocks until there is
 * some.  Returns the count, 0 at its end, -1 when it broke off (upstream
 * failure, or the client went away).
 */
long xfer_take_body(struct xfer *x, char *buf, size_t max, bool *resume);
/* The client is gone: the upstream side stops. */
void xfer_cancel(struct xfer *x);
