/* SPDX-License-Identifier: MIT */
/*
 * The upstream thread (relay_upstream.h).  libcurl's callbacks run here,
 * inside curl_multi_perform() and curl_easy_pause(), and take the
 * transfer's lock; so the thread never holds a lock of its own while it
 * calls libcurl.  A queued transfer carries a reference until its ops are
 * done; one in the multi handle carries another until it is removed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "relay_upstream.h"

#define UPSTREAM_POLL_MS 1000

struct relay_upstream {
	CURLM *multi;
	pthread_t thread;
	pthread_mutex_t lock; /* the queue and @stop */
	struct xfer *queue;
	bool stop;
	struct xfer *active; /* in the multi handle (the thread's own list) */
};

void upstream_queue(struct relay_upstream *u, struct xfer *x, enum upstream_op op)
{
	bool queued;

	pthread_mutex_lock(&u->lock);
	queued = x->ops != 0;
	x->ops |= op;
	if (!queued) {
		xfer_ref(x);
		x->next_queued = u->queue;
		u->queue = x;
	}
	pthread_mutex_unlock(&u->lock);
	curl_multi_wakeup(u->multi);
}

static void remove_from_multi(struct relay_upstream *u, struct xfer *x, CURLcode result)
{
	curl_multi_remove_handle(u->multi, x->easy);
	*(x->prev_active ? &x->prev_active->next_active : &u->active) = x->next_active;
	if (x->next_active)
		x->next_active->prev_active = x->prev_active;
	xfer_finish(x, result);
	xfer_unref(x); /* the multi handle's */
}

static void run_ops(struct relay_upstream *u, struct xfer *x, unsigned ops)
{
	if (ops & UPSTREAM_ADD) {
		if (curl_multi_add_handle(u->multi, x->easy) == CURLM_OK) {
			x->in_multi = true;
			x->prev_active = NULL;
			x->next_active = u->active;
			if (u->active)
				u->active->prev_active = x;
			u->active = x;
		} else {
			xfer_finish(x, CURLE_OUT_OF_MEMORY);
			xfer_unref(x);
		}
	}
	if (!x->in_multi)
		return;
	if (ops & UPSTREAM_CANCEL)
		remove_from_multi(u, x, CURLE_ABORTED_BY_CALLBACK);
	else if (ops & UPSTREAM_RESUME)
		curl_easy_pause(x->easy, CURLPAUSE_CONT);
}

/* Takes the queue, then acts on it without the lock. */
static void drain_queue(struct relay_upstream *u)
{
	struct xfer *x, *next;
	unsigned ops;

	pthread_mutex_lock(&u->lock);
	x = u->queue;
	u->queue = NULL;
	pthread_mutex_unlock(&u->lock);
	for (; x; x = next) {
		pthread_mutex_lock(&u->lock);
		next = x->next_queued;
		ops = x->ops;
		x->ops = 0;
		pthread_mutex_unlock(&u->lock);
		run_ops(u, x, ops);
		xfer_unref(x); /* the queue's */
	}
}

static void reap_finished(struct relay_upstream *u)
{
	struct xfer *x;
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(u->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		remove_from_multi(u, x, m->data.result);
	}
}

static bool stopping(struct relay_upstream *u)
{
	bool stop;

	pthread_mutex_lock(&u->lock);
	stop = u->stop;
	pthread_mutex_unlock(&u->lock);
	return stop;
}

/* What is still in the multi handle when the relay stops. */
static void cancel_all(struct relay_upstream *u)
{
	while (u->active)
		remove_from_multi(u, u->active, CURLE_ABORTED_BY_CALLBACK);
}

static void *upstream_main(void *arg)
{
	struct relay_upstream *u = arg;
	int running;

	while (!stopping(u)) {
		drain_queue(u);
		curl_multi_perform(u->multi, &running);
		reap_finished(u);
		curl_multi_poll(u->multi, NULL, 0, UPSTREAM_POLL_MS, NULL);
	}
	drain_queue(u);
	cancel_all(u);
	return NULL;
}

int upstream_start(struct relay_upstream **ret)
{
	struct relay_upstream *u = calloc(1, sizeof(*u));
	int r;

	if (!u)
		return -ENOMEM;
	u->multi = curl_multi_init();
	if (!u->multi) {
		free(u);
		return -ENOMEM;
	}
	pthread_mutex_init(&u->lock, NULL);
	r = pthread_create(&u->thread, NULL, upstream_main, u);
	if (r != 0) {
		curl_multi_cleanup(u->multi);
		pthread_mutex_destroy(&u->lock);
		free(u);
		return -r;
	}
	*ret = u;
	return 0;
}

struct relay_upstream *upstream_stop(struct relay_upstream *u)
{
	if (!u)
		return NULL;
	pthread_mutex_lock(&u->lock);
	u->stop = true;
	pthread_mutex_unlock(&u->lock);
	curl_multi_wakeup(u->multi);
	pthread_join(u->thread, NULL);
	curl_multi_cleanup(u->multi);
	pthread_mutex_destroy(&u->lock);
	free(u);
	return NULL;
}
