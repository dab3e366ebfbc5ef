/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <sodium.h>

#include "kdf.h"

struct kdf_job {
	struct kdf_job *next;
	char *passphrase; /* sodium memory */
	size_t len;
	struct store_kdf params;
	unsigned char *key; /* sodium memory */
	bool ok;
	bool cancelled; /* touched on the loop thread only */
	kdf_done_fn done;
	void *userdata;
};

struct kdf {
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	pthread_t thread;
	bool started;
	bool stopping;
	struct kdf_job *queue, **queue_tail; /* waiting for the worker */
	struct kdf_job *finished;            /* waiting for the loop */
	int efd;
	sd_event_source *source;
};

static struct kdf_job *job_free(struct kdf_job *j)
{
	if (j) {
		sodium_free(j->passphrase);
		sodium_free(j->key);
		free(j);
	}
	return NULL;
}

static void derive(struct kdf_job *j)
{
	j->ok = crypto_pwhash(j->key, STORE_KEY_LEN, j->passphrase, j->len, j->params.salt,
			      j->params.opslimit, (size_t)j->params.memlimit,
			      crypto_pwhash_ALG_ARGON2ID13) == 0;
	sodium_free(j->passphrase);
	j->passphrase = NULL;
}

static void *worker(void *arg)
{
	struct kdf *k = arg;
	const uint64_t one = 1;

	pthread_mutex_lock(&k->mutex);
	for (;;) {
		struct kdf_job *j;

		while (!k->queue && !k->stopping)
			pthread_cond_wait(&k->cond, &k->mutex);
		if (k->stopping)
			break;
		j = k->queue;
		k->queue = j->next;
		if (!k->queue)
			k->queue_tail = &k->queue;
		pthread_mutex_unlock(&k->mutex);
		derive(j);
		pthread_mutex_lock(&k->mutex);
		j->next = k->finished;
		k->finished = j;
		(void)!write(k->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&k->mutex);
	return NULL;
}

static int on_finished(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct kdf *k = userdata;
	struct kdf_job *list;
	uint64_t n;

	(void)s;
	(void)revents;
	(void)!read(fd, &n, sizeof(n));
	pthread_mutex_lock(&k->mutex);
	list = k->finished;
	k->finished = NULL;
	pthread_mutex_unlock(&k->mutex);
	while (list) {
		struct kdf_job *j = list;

		list = j->next;
		if (!j->cancelled)
			j->done(j->userdata, j->ok ? j->key : NULL);
		job_free(j);
	}
	return 0;
}

int kdf_new(sd_event *event, struct kdf **ret)
{
	struct kdf *k = calloc(1, sizeof(*k));
	int r;

	if (!k)
		return -ENOMEM;
	pthread_mutex_init(&k->mutex, NULL);
	pthread_cond_init(&k->cond, NULL);
	k->queue_tail = &k->queue;
	k->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (k->efd < 0) {
		r = -errno;
		kdf_free(k);
		return r;
	}
	r = sd_event_add_io(event, &k->source, k->efd, EPOLLIN, on_finished, k);
	if (r < 0) {
		kdf_free(k);
		return r;
	}
	*ret = k;
	return 0;
}

static void free_list(struct kdf_job *j)
{
	while (j) {
		struct kdf_job *next = j->next;

		job_free(j);
		j = next;
	}
}

struct kdf *kdf_free(struct kdf *k)
{
	if (!k)
		return NULL;
	if (k->started) {
		pthread_mutex_lock(&k->mutex);
		k->stopping = true;
		pthread_cond_signal(&k->cond);
		pthread_mutex_unlock(&k->mutex);
		pthread_join(k->thread, NULL);
	}
	free_list(k->queue);
	free_list(k->finished);
	sd_event_source_disable_unref(k->source);
	if (k->efd >= 0)
		close(k->efd);
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->mutex);
	free(k);
	return NULL;
}

/* The worker starts with the first job: most agents never derive a key. */
static int start_worker(struct kdf *k)
{
	sigset_t all, old;
	int r;

	if (k->started)
		return 0;
	/* Signals stay with the loop's signalfd, never the worker. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&k->thread, NULL, worker, k);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	k->started = r == 0;
	return r;
}

int kdf_derive(struct kdf *k, const char *passphrase, size_t len, const struct store_kdf *params,
	       kdf_done_fn done, void *userdata, struct kdf_job **ret)
{
	struct kdf_job *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return -ENOMEM;
	j->passphrase = sodium_malloc(len ? len : 1);
	j->key = sodium_malloc(STORE_KEY_LEN);
	r = j->passphrase && j->key ? start_worker(k) : -ENOMEM;
	if (r < 0) {
		job_free(j);
		return r;
	}
	memcpy(j->passphrase, passphrase, len);
	j->len = len;
	j->params = *params;
	j->done = done;
	j->userdata = userdata;
	pthread_mutex_lock(&k->mutex);
	*k->queue_tail = j;
	k->queue_tail = &j->next;
	pthread_cond_signal(&k->cond);
	pthread_mutex_unlock(&k->mutex);
	if (ret)
		*ret = j;
	return 0;
}

void kdf_cancel(struct kdf_job *job)
{
	if (job)
		job->cancelled = true;
}
