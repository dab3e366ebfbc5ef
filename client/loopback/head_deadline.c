/* SPDX-License-Identifier: MIT */
/*
 * The watchdog of head_deadline.h: a fixed table (no allocation after
 * head_deadline_new()), one lock, and one thread that sleeps on a condition
 * variable until the earliest armed deadline, on the monotonic clock.
 * Adding or rearming wakes it, since it may be sleeping without a deadline.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "head_deadline.h"

#define NO_DEADLINE UINT64_MAX

struct head_deadline_entry {
	int fd; /* -1: a free place */
	bool armed;
	uint64_t due_ms; /* CLOCK_MONOTONIC */
};

struct head_deadline {
	pthread_mutex_t lock; /* guards everything below, and every shutdown() */
	pthread_cond_t wake;
	pthread_t thread;
	bool stop;
	unsigned timeout_ms;
	size_t capacity;
	struct head_deadline_entry entries[];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Shuts down the connections past their deadline; the earliest deadline left. */
static uint64_t expire(struct head_deadline *hd, uint64_t now)
{
	uint64_t next = NO_DEADLINE;
	size_t i;

	for (i = 0; i < hd->capacity; i++) {
		struct head_deadline_entry *e = &hd->entries[i];

		if (e->fd < 0 || !e->armed)
			continue;
		if (e->due_ms <= now) {
			/* Not close(): the fd is the server's, which sees EOF and closes it. */
			shutdown(e->fd, SHUT_RDWR);
			e->armed = false;
		} else if (e->due_ms < next) {
			next = e->due_ms;
		}
	}
	return next;
}

static void *watch(void *arg)
{
	struct head_deadline *hd = arg;
	struct timespec ts;
	uint64_t next;

	pthread_mutex_lock(&hd->lock);
	while (!hd->stop) {
		next = expire(hd, now_ms());
		if (next == NO_DEADLINE) {
			pthread_cond_wait(&hd->wake, &hd->lock);
			continue;
		}
		ts.tv_sec = (time_t)(next / 1000);
		ts.tv_nsec = (long)(next % 1000) * 1000000;
		pthread_cond_timedwait(&hd->wake, &hd->lock, &ts);
	}
	pthread_mutex_unlock(&hd->lock);
	return NULL;
}

/* The lock and a condition variable that waits on the monotonic clock. */
static int init_sync(struct head_deadline *hd)
{
	pthread_condattr_t attr;
	int r;

	r = pthread_condattr_init(&attr);
	if (r != 0)
		return -r;
	r = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (r == 0)
		r = pthread_cond_init(&hd->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (r != 0)
		return -r;
	r = pthread_mutex_init(&hd->lock, NULL);
	if (r != 0) {
		pthread_cond_destroy(&hd->wake);
		return -r;
	}
	return 0;
}

int head_deadline_new(size_t capacity, unsigned timeout_ms, struct head_deadline **ret)
{
	struct head_deadline *hd;
	size_t i;
	int r;

	if (capacity == 0 || capacity > (SIZE_MAX - sizeof(*hd)) / sizeof(hd->entries[0]))
		return -EINVAL;
	hd = calloc(1, sizeof(*hd) + capacity * sizeof(hd->entries[0]));
	if (!hd)
		return -ENOMEM;
	hd->capacity = capacity;
	hd->timeout_ms = timeout_ms;
	for (i = 0; i < capacity; i++)
		hd->entries[i].fd = -1;
	r = init_sync(hd);
	if (r < 0) {
		free(hd);
		return r;
	}
	r = pthread_create(&hd->thread, NULL, watch, hd);
	if (r != 0) {
		pthread_cond_destroy(&hd->wake);
		pthread_mutex_destroy(&hd->lock);
		free(hd);
		return -r;
	}
	*ret = hd;
	return 0;
}

struct head_deadline *head_deadline_free(struct head_deadline *hd)
{
	if (!hd)
		return NULL;
	pthread_mutex_lock(&hd->lock);
	hd->stop = true;
	pthread_cond_signal(&hd->wake);
	pthread_mutex_unlock(&hd->lock);
	pthread_join(hd->thread, NULL);
	pthread_cond_destroy(&hd->wake);
	pthread_mutex_destroy(&hd->lock);
	free(hd);
	return NULL;
}

/* Called with the lock held. */
static void arm(struct head_deadline *hd, struct head_deadline_entry *e)
{
	e->armed = true;
	e->due_ms = now_ms() + hd->timeout_ms;
	pthread_cond_signal(&hd->wake);
}

int head_deadline_add(struct head_deadline *hd, int fd, struct head_deadline_entry **ret_entry)
{
	size_t i;

	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&hd->lock);
	for (i = 0; i < hd->capacity; i++) {
		if (hd->entries[i].fd < 0) {
			hd->entries[i].fd = fd;
			arm(hd, &hd->entries[i]);
			pthread_mutex_unlock(&hd->lock);
			*ret_entry = &hd->entries[i];
			return 0;
		}
	}
	pthread_mutex_unlock(&hd->lock);
	return -ENOSPC;
}

void head_deadline_disarm(struct head_deadline *hd, struct head_deadline_entry *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&hd->lock);
	e->armed = false;
	pthread_mutex_unlock(&hd->lock);
}

void head_deadline_rearm(struct head_deadline *hd, struct head_deadline_entry *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&hd->lock);
	if (e->fd >= 0)
		arm(hd, e);
	pthread_mutex_unlock(&hd->lock);
}

void head_deadline_remove(struct head_deadline *hd, struct head_deadline_entry *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&hd->lock);
	e->fd = -1;
	e->armed = false;
	pthread_mutex_unlock(&hd->lock);
}
