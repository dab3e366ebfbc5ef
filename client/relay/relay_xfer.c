/* SPDX-License-Identifier: MIT */
/*
 * The two sides of a relayed transfer (relay_xfer.h).  The client thread
 * waits in slices of XFER_POLL_MS: between them it looks at its socket, as
 * nothing else would tell it that the client hung up while the upstream is
 * silent (a stalled stream, or a model still thinking).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay_headers.h"
#include "relay_xfer.h"

#define XFER_POLL_MS 250

struct xfer *xfer_new(int client_fd)
{
	struct xfer *x = calloc(1, sizeof(*x));
	pthread_condattr_t attr;

	if (!x)
		return NULL;
	x->up = malloc(XFER_BUF);
	x->down = malloc(XFER_BUF);
	if (!x->up || !x->down) {
		free(x->up);
		free(x->down);
		free(x);
		return NULL;
	}
	x->down_cap = XFER_BUF;
	x->refs = 1;
	x->length = -1;
	x->client_fd = client_fd;
	pthread_mutex_init(&x->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&x->cond, &attr);
	pthread_condattr_destroy(&attr);
	return x;
}

void xfer_ref(struct xfer *x)
{
	pthread_mutex_lock(&x->lock);
	x->refs++;
	pthread_mutex_unlock(&x->lock);
}

static void slist_wipe_free(struct curl_slist *l)
{
	struct curl_slist *i;

	for (i = l; i; i = i->next)
		explicit_bzero(i->data, strlen(i->data));
	curl_slist_free_all(l);
}

void xfer_unref(struct xfer *x)
{
	unsigned left;

	pthread_mutex_lock(&x->lock);
	left = --x->refs;
	pthread_mutex_unlock(&x->lock);
	if (left)
		return;
	if (x->easy)
		curl_easy_cleanup(x->easy);
	slist_wipe_free(x->request_headers);
	curl_slist_free_all(x->head);
	curl_slist_free_all(x->lines);
	free(x->up);
	free(x->down);
	pthread_cond_destroy(&x->cond);
	pthread_mutex_destroy(&x->lock);
	free(x);
}

size_t xfer_read_body(char *buf, size_t size, size_t n, void *userdata)
{
	struct xfer *x = userdata;
	size_t max = size * n, r;

	pthread_mutex_lock(&x->lock);
	if (x->cancel) {
		r = CURL_READFUNC_ABORT;
	} else if (x->up_len) {
		r = max < x->up_len ? max : x->up_len;
		memcpy(buf, x->up + x->up_off, r);
		x->up_off += r;
		x->up_len -= r;
		if (!x->up_len)
			x->up_off = 0;
		pthread_cond_broadcast(&x->cond);
	} else if (x->up_eof) {
		r = 0;
	} else {
		x->up_paused = true;
		r = CURL_READFUNC_PAUSE;
	}
	pthread_mutex_unlock(&x->lock);
	return r;
}

/* Room for @len more bytes in @down, moving what is there to the front. */
static bool down_room(struct xfer *x, size_t len)
{
	char *bigger;

	if (x->down_off && x->down_off + x->down_len + len > x->down_cap) {
		memmove(x->down, x->down + x->down_off, x->down_len);
		x->down_off = 0;
	}
	if (x->down_len + len <= x->down_cap)
		return true;
	if (x->down_len)
		return false;
	/* One piece larger than the buffer (libcurl's are at most 16 KiB): take it whole. */
	bigger = realloc(x->down, len);
	if (!bigger)
		return false;
	x->down = bigger;
	x->down_cap = len;
	return true;
}

size_t xfer_write_body(char *data, size_t size, size_t n, void *userdata)
{
	struct xfer *x = userdata;
	size_t len = size * n, r;

	pthread_mutex_lock(&x->lock);
	if (x->cancel) {
		r = 0; /* a short write: libcurl ends the transfer */
	} else if (!down_room(x, len)) {
		x->down_paused = true;
		r = CURL_WRITEFUNC_PAUSE;
	} else {
		memcpy(x->down + x->down_off + x->down_len, data, len);
		x->down_len += len;
		pthread_cond_broadcast(&x->cond);
		r = len;
	}
	pthread_mutex_unlock(&x->lock);
	return r;
}

/* The blank line after a head: a final one (not 1xx) is the response's. */
static void head_complete(struct xfer *x)
{
	long status = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200) {
		curl_slist_free_all(x->lines);
		x->lines = NULL;
		return;
	}
	pthread_mutex_lock(&x->lock);
	x->status = status;
	x->head = relay_response_head(x->lines, &x->length);
	curl_slist_free_all(x->lines);
	x->lines = NULL;
	x->head_done = true;
	pthread_cond_broadcast(&x->cond);
	pthread_mutex_unlock(&x->lock);
}

size_t xfer_header_line(char *line, size_t size, size_t n, void *userdata)
{
	struct xfer *x = userdata;
	size_t len = size * n;
	char buf[8192];
	struct curl_slist *l;

	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (!len) {
		head_complete(x);
		return size * n;
	}
	if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
		curl_slist_free_all(x->lines); /* a new head (after a 1xx) */
		x->lines = NULL;
		return size * n;
	}
	if (len >= sizeof(buf))
		return 0; /* a header this long is not relayed: fail the transfer */
	memcpy(buf, line, len);
	buf[len] = '\0';
	l = curl_slist_append(x->lines, buf);
	if (!l)
		return 0;
	x->lines = l;
	return size * n;
}

void xfer_finish(struct xfer *x, CURLcode result)
{
	pthread_mutex_lock(&x->lock);
	x->done = true;
	x->result = result;
	x->in_multi = false;
	pthread_cond_broadcast(&x->cond);
	pthread_mutex_unlock(&x->lock);
}

/*
 * Whether the client is gone: its connection broken, or, with @sent_all
 * (the request is in, so a client that shuts its sending side has hung
 * up), closed.  While the body is still coming, a closed sending side may
 * yet have data in flight; then only a broken connection counts.
 */
static bool client_gone(int fd, bool sent_all)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };
	short gone = POLLHUP | POLLERR | POLLNVAL | (sent_all ? POLLRDHUP : 0);

	return poll(&p, 1, 0) > 0 && (p.revents & gone);
}

/* Waits one slice (lock held).  false: the client went away meanwhile. */
static bool wait_slice(struct xfer *x)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_nsec += XFER_POLL_MS * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	if (pthread_cond_timedwait(&x->cond, &x->lock, &t) != ETIMEDOUT)
		return true;
	return !client_gone(x->client_fd, x->up_eof);
}

size_t xfer_feed(struct xfer *x, const char *data, size_t len, bool *resume)
{
	size_t room, k = 0;

	*resume = false;
	pthread_mutex_lock(&x->lock);
	while (!k && !x->done && !x->cancel) {
		if (x->up_off && x->up_off + x->up_len == XFER_BUF) {
			memmove(x->up, x->up + x->up_off, x->up_len);
			x->up_off = 0;
		}
		room = XFER_BUF - x->up_off - x->up_len;
		if (!room) {
			if (!wait_slice(x))
				break;
			continue;
		}
		k = len < room ? len : room;
		memcpy(x->up + x->up_off + x->up_len, data, k);
		x->up_len += k;
		*resume = x->up_paused;
		x->up_paused = false;
	}
	if (!k) /* the transfer is over, or the client gone: the rest is dropped */
		k = len;
	pthread_mutex_unlock(&x->lock);
	return k;
}

void xfer_end_body(struct xfer *x, bool *resume)
{
	pthread_mutex_lock(&x->lock);
	x->up_eof = true;
	*resume = x->up_paused;
	x->up_paused = false;
	pthread_mutex_unlock(&x->lock);
}

bool xfer_wait_head(struct xfer *x)
{
	bool here = true;

	pthread_mutex_lock(&x->lock);
	while (here && !x->head_done && !x->done)
		here = wait_slice(x);
	pthread_mutex_unlock(&x->lock);
	return here;
}

long xfer_take_body(struct xfer *x, char *buf, size_t max, bool *resume)
{
	long r;

	*resume = false;
	pthread_mutex_lock(&x->lock);
	for (;;) {
		if (x->down_len) {
			r = (long)(max < x->down_len ? max : x->down_len);
			memcpy(buf, x->down + x->down_off, (size_t)r);
			x->down_off += (size_t)r;
			x->down_len -= (size_t)r;
			if (!x->down_len)
				x->down_off = 0;
			*resume = x->down_paused;
			x->down_paused = false;
			break;
		}
		if (x->done) {
			r = x->result == CURLE_OK ? 0 : -1;
			break;
		}
		if (x->cancel || !wait_slice(x)) {
			r = -1;
			break;
		}
	}
	pthread_mutex_unlock(&x->lock);
	return r;
}

void xfer_cancel(struct xfer *x)
{
	pthread_mutex_lock(&x->lock);
	x->cancel = true;
	pthread_cond_broadcast(&x->cond);
	pthread_mutex_unlock(&x->lock);
}
