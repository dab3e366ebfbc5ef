/* SPDX-License-Identifier: MIT */
/*
 * loadgen — drives one aoai-agent with many clients at once, for the load
 * test (tests/integration/test_load.py):
 *
 *   busy  threads, each on one persistent libaoai connection, asking for the
 *         headers of --url back to back for --duration seconds;
 *   idle  connections opened first and held silent, then each asked for
 *         "status" once at the end (the agent must still serve them);
 *   slow  connections that send a "status" request one byte per
 *         --slow-interval-ms, which the agent must cut off (partial frame
 *         timeout) with an error reply.
 *
 * Prints one JSON object: counts, failures, latency percentiles of the busy
 * requests (microseconds) and what happened to the idle and slow clients.
 * It never prints a header value.  Every wait is bounded.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "aoai.h"

#define MAX_CLIENTS       4096
#define MAX_IDLE          60000
#define MAX_SLOW          1024
#define IO_TIMEOUT_SEC    10   /* any single socket operation */
#define SLOW_GRACE_SEC    20   /* slow clients must be cut off within this */
#define REPLY_MAX         4096 /* the replies read here are short */
#define BUSY_STACK        (256 * 1024)
#define STATUS_REQUEST    "{\"v\":1,\"op\":\"status\"}"
#define STATUS_REQUEST_SZ (sizeof(STATUS_REQUEST) - 1)

struct options {
	const char *socket;
	const char *url;
	unsigned clients, idle, slow;
	unsigned duration, slow_interval_ms;
};

struct busy {
	pthread_t thread;
	const struct options *o;
	uint32_t *lat; /* microseconds per request */
	size_t n, cap;
	unsigned long failures;
	unsigned long err_io, err_noagent; /* of the failures: broken connection, no agent */
	char first_error[160];
};

struct slow_result {
	unsigned refused; /* got an error reply, then a close */
	unsigned closed;  /* closed without a reply */
	unsigned other;   /* a success reply, or still open at the deadline */
	char message[160];
};

static atomic_bool stop_busy;
static atomic_uint busy_running; /* the run ends early once none is left */

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Each connection is a descriptor here too: use the whole hard limit. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void record(struct busy *b, uint64_t usec)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		uint32_t *n = realloc(b->lat, cap * sizeof(*n));

		if (!n)
			return; /* a lost sample, not a failed request */
		b->lat = n;
		b->cap = cap;
	}
	b->lat[b->n++] = usec > UINT32_MAX ? UINT32_MAX : (uint32_t)usec;
}

static void busy_fail(struct busy *b, const char *what, int r, struct aoai_conn *c)
{
	b->err_io += r == AOAI_E_IO;
	b->err_noagent += r == AOAI_E_NOAGENT;
	if (b->failures++ == 0)
		snprintf(b->first_error, sizeof(b->first_error), "%s: %s (%s)", what,
			 aoai_strerror(r), c ? aoai_conn_message(c) : "");
}

/* One persistent connection asking for headers until told to stop. */
static void *busy_main(void *arg)
{
	struct busy *b = arg;
	struct aoai_conn *c = NULL;
	int r = aoai_connect(b->o->socket, &c);

	if (r < 0) {
		busy_fail(b, "connect", r, NULL);
		return NULL;
	}
	while (!atomic_load(&stop_busy)) {
		struct aoai_headers *h = NULL;
		uint64_t t0 = now_usec();

		r = aoai_get_headers(c, b->o->url, &h);
		if (r == 0 && aoai_headers_count(h) > 0)
			record(b, now_usec() - t0);
		else
			busy_fail(b, "headers", r == 0 ? AOAI_E_PROTOCOL : r, c);
		aoai_headers_free(h);
		if (r == AOAI_E_IO || r == AOAI_E_PROTOCOL)
			break; /* the connection is gone: counted, stop */
	}
	aoai_close(c);
	return NULL;
}

static void *busy_thread(void *arg)
{
	busy_main(arg);
	atomic_fetch_sub(&busy_running, 1);
	return NULL;
}

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = IO_TIMEOUT_SEC };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* connect() waits while the backlog is full: bounded by SO_SNDTIMEO. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static void frame_header(size_t len, uint8_t hdr[4])
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

/* Reads one reply frame (bounded by SO_RCVTIMEO) into @buf.  Returns its
 * length, 0 on a clean close before any byte, or -1. */
static ssize_t read_frame(int fd, char *buf, size_t cap)
{
	uint8_t hdr[4];
	size_t got = 0, len;

	while (got < sizeof(hdr)) {
		ssize_t n = recv(fd, hdr + got, sizeof(hdr) - got, 0);

		if (n <= 0)
			return n == 0 && got == 0 ? 0 : -1;
		got += (size_t)n;
	}
	len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len >= cap)
		return -1;
	for (got = 0; got < len;) {
		ssize_t n = recv(fd, buf + got, len - got, 0);

		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

static bool reply_ok(const char *reply)
{
	return strstr(reply, "\"ok\":true") || strstr(reply, "\"ok\": true");
}

/* Asks an idle connection for "status".  Returns true when it is served. */
static bool status_ok(int fd)
{
	uint8_t frame[4 + STATUS_REQUEST_SZ];
	char reply[REPLY_MAX];

	frame_header(STATUS_REQUEST_SZ, frame);
	memcpy(frame + 4, STATUS_REQUEST, STATUS_REQUEST_SZ);
	if (send(fd, frame, sizeof(frame), MSG_NOSIGNAL) != (ssize_t)sizeof(frame))
		return false;
	return read_frame(fd, reply, sizeof(reply)) > 0 && reply_ok(reply);
}

/* Slow clients: all in this thread, one byte each per interval. */
struct slow {
	pthread_t thread;
	const struct options *o;
	int fds[MAX_SLOW];
	size_t sent[MAX_SLOW];
	struct slow_result res;
};

/* The agent spoke or hung up on slow client @i: classify it, close it. */
static void slow_finish(struct slow *s, unsigned i)
{
	char reply[REPLY_MAX];
	ssize_t n = read_frame(s->fds[i], reply, sizeof(reply));

	if (n > 0 && !reply_ok(reply)) {
		s->res.refused++;
		if (!s->res.message[0])
			snprintf(s->res.message, sizeof(s->res.message), "%.150s", reply);
	} else if (n == 0) {
		s->res.closed++;
	} else {
		s->res.other++;
	}
	close(s->fds[i]);
	s->fds[i] = -1;
}

/* Sends the next byte of every open slow client; returns how many are open. */
static unsigned slow_step(struct slow *s, const uint8_t *frame, size_t len)
{
	unsigned open = 0;

	for (unsigned i = 0; i < s->o->slow; i++) {
		struct pollfd p = { .fd = s->fds[i], .events = POLLIN };

		if (s->fds[i] < 0)
			continue;
		if (poll(&p, 1, 0) > 0) {
			slow_finish(s, i);
			continue;
		}
		if (s->sent[i] < len &&
		    send(s->fds[i], frame + s->sent[i], 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
			s->sent[i]++;
		open++;
	}
	return open;
}

static void *slow_main(void *arg)
{
	struct slow *s = arg;
	uint8_t frame[4 + STATUS_REQUEST_SZ];
	uint64_t deadline = now_usec() + (uint64_t)SLOW_GRACE_SEC * 1000000;
	struct timespec pause = { .tv_sec = s->o->slow_interval_ms / 1000,
				  .tv_nsec = (long)(s->o->slow_interval_ms % 1000) * 1000000 };

	frame_header(STATUS_REQUEST_SZ, frame);
	memcpy(frame + 4, STATUS_REQUEST, STATUS_REQUEST_SZ);
	while (slow_step(s, frame, sizeof(frame)) > 0 && now_usec() < deadline)
		nanosleep(&pause, NULL); /* the pace of the trickle, not a synchronisation */
	for (unsigned i = 0; i < s->o->slow; i++)
		if (s->fds[i] >= 0) {
			s->res.other++;
			close(s->fds[i]);
		}
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t percentile(const uint32_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

/* Prints a JSON string of @s (ASCII from the agent or libaoai). */
static void print_str(const char *key, const char *s)
{
	printf("\"%s\":\"", key);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f)
			putchar(*s);
	}
	printf("\"");
}

static void report(struct busy *b, unsigned nb, unsigned idle_ok, unsigned idle_open,
		   const struct slow *s, double secs)
{
	size_t total = 0, k = 0;
	unsigned long failures = 0, err_io = 0, err_noagent = 0;
	const char *first = "";
	uint32_t *all;

	for (unsigned i = 0; i < nb; i++) {
		total += b[i].n;
		failures += b[i].failures;
		err_io += b[i].err_io;
		err_noagent += b[i].err_noagent;
		if (!*first && b[i].failures)
			first = b[i].first_error;
	}
	all = malloc((total ? total : 1) * sizeof(*all));
	if (!all)
		exit(2);
	for (unsigned i = 0; i < nb; i++) {
		memcpy(all + k, b[i].lat, b[i].n * sizeof(*all));
		k += b[i].n;
	}
	qsort(all, total, sizeof(*all), cmp_u32);
	printf("{\"requests\":%zu,\"failures\":%lu,\"failures_io\":%lu,\"failures_noagent\":%lu,",
	       total, failures, err_io, err_noagent);
	print_str("first_error", first);
	printf(",\"seconds\":%.2f,\"rate\":%.0f,\"p50_us\":%u,\"p90_us\":%u,\"p99_us\":%u,"
	       "\"max_us\":%u,\"idle\":%u,\"idle_open\":%u,\"idle_ok\":%u,\"slow\":%u,"
	       "\"slow_refused\":%u,\"slow_closed\":%u,\"slow_other\":%u,",
	       secs, secs > 0 ? (double)total / secs : 0.0, percentile(all, total, 0.50),
	       percentile(all, total, 0.90), percentile(all, total, 0.99),
	       total ? all[total - 1] : 0, s->o->idle, idle_open, idle_ok, s->o->slow,
	       s->res.refused, s->res.closed, s->res.other);
	print_str("slow_message", s->res.message);
	printf("}\n");
	free(all);
}

static void usage(void)
{
	fprintf(stderr, "usage: loadgen --socket PATH --url URL [--clients N] [--duration SEC]\n"
			"               [--idle N] [--slow N] [--slow-interval-ms MS]\n");
	exit(2);
}

static unsigned num(const char *s, unsigned max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v > max)
		usage();
	return (unsigned)v;
}

static void parse(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "url", required_argument, NULL, 'u' },
		{ "clients", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "idle", required_argument, NULL, 'i' },
		{ "slow", required_argument, NULL, 'w' },
		{ "slow-interval-ms", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*o = (struct options){ .clients = 200, .duration = 20, .slow_interval_ms = 1000 };
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o->socket = optarg;
			break;
		case 'u':
			o->url = optarg;
			break;
		case 'c':
			o->clients = num(optarg, MAX_CLIENTS);
			break;
		case 'd':
			o->duration = num(optarg, 3600);
			break;
		case 'i':
			o->idle = num(optarg, MAX_IDLE);
			break;
		case 'w':
			o->slow = num(optarg, MAX_SLOW);
			break;
		case 'm':
			o->slow_interval_ms = num(optarg, 60000);
			break;
		default:
			usage();
		}
	}
	if (!o->socket || !o->url || optind != argc)
		usage();
}

/* Opens the idle connections; returns how many opened. */
static unsigned open_idle(const struct options *o, int *fds)
{
	unsigned n = 0;

	for (unsigned i = 0; i < o->idle; i++) {
		fds[i] = raw_connect(o->socket);
		if (fds[i] >= 0)
			n++;
	}
	return n;
}

static unsigned check_idle(const struct options *o, int *fds)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < o->idle; i++)
		if (fds[i] >= 0) {
			ok += status_ok(fds[i]);
			close(fds[i]);
		}
	return ok;
}

static int start_slow(struct slow *s)
{
	for (unsigned i = 0; i < s->o->slow; i++)
		s->fds[i] = raw_connect(s->o->socket); /* a failure counts as "other" */
	for (unsigned i = 0; i < s->o->slow; i++)
		if (s->fds[i] < 0) {
			s->fds[i] = -1;
			s->res.other++;
		}
	return pthread_create(&s->thread, NULL, slow_main, s);
}

/* Starts the busy threads; returns how many started. */
static unsigned start_busy(const struct options *o, struct busy *b)
{
	pthread_attr_t attr;
	unsigned n = 0;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, BUSY_STACK);
	for (; n < o->clients; n++) {
		b[n].o = o;
		atomic_fetch_add(&busy_running, 1);
		if (pthread_create(&b[n].thread, &attr, busy_thread, &b[n]) != 0) {
			atomic_fetch_sub(&busy_running, 1);
			break;
		}
	}
	pthread_attr_destroy(&attr);
	return n;
}

int main(int argc, char **argv)
{
	static struct slow slow;
	struct options o;
	struct busy *b;
	int *idle;
	unsigned nb, idle_open, idle_ok;
	uint64_t t0, t1;
	const struct timespec tick = { .tv_nsec = 50 * 1000000 };

	parse(argc, argv, &o);
	raise_fd_limit();
	b = calloc(o.clients ? o.clients : 1, sizeof(*b));
	idle = calloc(o.idle ? o.idle : 1, sizeof(*idle));
	if (!b || !idle)
		return 2;
	idle_open = open_idle(&o, idle);
	slow.o = &o;
	if (start_slow(&slow) != 0)
		return 2;
	t0 = now_usec();
	nb = start_busy(&o, b);
	/* The length of the run, cut short when every busy client has failed
	 * (the agent died): polling a counter, no more. */
	while (now_usec() - t0 < (uint64_t)o.duration * 1000000 && atomic_load(&busy_running) > 0)
		nanosleep(&tick, NULL);
	atomic_store(&stop_busy, true);
	for (unsigned i = 0; i < nb; i++)
		pthread_join(b[i].thread, NULL);
	t1 = now_usec();
	for (unsigned i = nb; i < o.clients; i++)
		b[i].failures = 1; /* a client that never ran */
	idle_ok = check_idle(&o, idle);
	pthread_join(slow.thread, NULL);
	report(b, o.clients, idle_ok, idle_open, &slow, (double)(t1 - t0) / 1e6);
	for (unsigned i = 0; i < o.clients; i++)
		free(b[i].lat);
	free(b);
	free(idle);
	return 0;
}
