/* SPDX-License-Identifier: MIT */
/*
 * aoai-bench — the client side of `make bench`.  One program times the same
 * request against three servers so that the harness's own cost is the same
 * in every figure:
 *
 *   aoai   a "headers" request through libaoai to a real aoai-agent
 *   floor  a frame of the same size to bench/floor-server (the floor)
 *   ssh    SSH2_AGENTC_REQUEST_IDENTITIES (11) to ssh-agent, reply 12
 *
 * Tests: latency (one persistent connection, every request timed),
 * throughput (C threads, one connection each, for a fixed time), connect
 * (connect, one request, close), and for aoai: probe (the real request and
 * reply frame sizes) and add (N fake secrets, for the memory figures).
 * Prints one JSON object on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aoai.h"
#include "benchlib.h"

#define MAX_CLIENTS 256
#define MAX_COUNT   10000000
#define MAX_WINDOWS 15
#define REPLY_CAP   BENCH_MAX_FRAME
#define SSH_REQ_IDS 11 /* SSH2_AGENTC_REQUEST_IDENTITIES */
#define SSH_ANSWER  12 /* SSH2_AGENT_IDENTITIES_ANSWER */
#define DEFAULT_URL                                                      \
	"https://bench.openai.azure.com/openai/deployments/gpt-4o/chat/" \
	"completions?api-version=2024-10-21"

enum mode { MODE_AOAI, MODE_FLOOR, MODE_SSH };

struct opts {
	enum mode mode;
	const char *test;
	const char *sock;
	const char *url;
	int cpu;        /* -1: not pinned */
	long count;     /* timed requests (latency, connect) or secrets (add) */
	long warmup;    /* untimed requests first */
	int clients;    /* throughput threads */
	double secs;    /* throughput measuring window */
	int windows;    /* throughput windows, the median reported */
	size_t req_len; /* floor request payload */
};

/* One connection in whichever mode. */
struct client {
	const struct opts *o;
	struct aoai_conn *conn;
	int fd;
	uint8_t *frame;
	size_t frame_len;
	uint8_t *reply;
};

static void die(const char *what, int err)
{
	fprintf(stderr, "aoai-bench: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* libaoai's codes overlap -errno values: a client's errors say which they are. */
static void die_client(const struct opts *o, const char *what, int err)
{
	if (o->mode != MODE_AOAI)
		die(what, err);
	fprintf(stderr, "aoai-bench: %s: %s\n", what, aoai_strerror(err));
	exit(1);
}

/* The request frame the raw modes send, built once per client. */
static int build_frame(struct client *c)
{
	size_t payload = c->o->mode == MODE_SSH ? 1 : c->o->req_len;

	c->frame_len = 4 + payload;
	c->frame = malloc(c->frame_len);
	c->reply = malloc(REPLY_CAP);
	if (!c->frame || !c->reply)
		return -ENOMEM;
	bench_put_len(c->frame, (uint32_t)payload);
	if (c->o->mode == MODE_SSH)
		c->frame[4] = SSH_REQ_IDS;
	else
		memset(c->frame + 4, 'x', payload);
	return 0;
}

static int client_open(struct client *c)
{
	if (c->o->mode == MODE_AOAI)
		return aoai_connect(c->o->sock, &c->conn);
	c->fd = bench_connect(c->o->sock);
	return c->fd < 0 ? c->fd : 0;
}

static void client_close(struct client *c)
{
	c->conn = aoai_close(c->conn);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* One request and its reply, checked.  Returns 0 or an error. */
static int client_request(struct client *c)
{
	struct aoai_headers *h = NULL;
	int r;

	if (c->o->mode == MODE_AOAI) {
		r = aoai_get_headers(c->conn, c->o->url, &h);
		if (r == 0 && aoai_headers_count(h) == 0)
			r = AOAI_E_PROTOCOL;
		aoai_headers_free(h);
		return r;
	}
	r = bench_roundtrip(c->fd, c->frame, c->frame_len, c->reply, REPLY_CAP);
	if (r < 0)
		return r;
	if (r == 0 || (c->o->mode == MODE_SSH && c->reply[0] != SSH_ANSWER))
		return -EPROTO;
	return 0;
}

static void client_init(struct client *c, const struct opts *o)
{
	*c = (struct client){ .o = o, .fd = -1 };
	if (o->mode != MODE_AOAI && build_frame(c) < 0)
		die("client", -ENOMEM);
}

static void print_quantiles(const struct opts *o, uint64_t *ns, size_t n, double mean)
{
	bench_sort(ns, n);
	printf(
	    "{\"mode\": \"%s\", \"test\": \"%s\", \"pinned\": %s, \"n\": %zu, \"mean_us\": %.3f, "
	    "\"p50_us\": %.3f, \"p90_us\": %.3f, \"p99_us\": %.3f, \"p999_us\": %.3f, "
	    "\"max_us\": %.3f}\n",
	    o->mode == MODE_AOAI    ? "aoai"
	    : o->mode == MODE_FLOOR ? "floor"
				    : "ssh",
	    o->test, o->cpu >= 0 ? "true" : "false", n, mean / 1e3,
	    bench_quantile(ns, n, 0.50) / 1e3, bench_quantile(ns, n, 0.90) / 1e3,
	    bench_quantile(ns, n, 0.99) / 1e3, bench_quantile(ns, n, 0.999) / 1e3,
	    bench_quantile(ns, n, 1.0) / 1e3);
}

/* Every request on one persistent connection, each timed on its own. */
static void run_latency(const struct opts *o)
{
	struct client c;
	uint64_t *ns, t0, sum = 0;
	long i;
	int r;

	client_init(&c, o);
	ns = calloc((size_t)o->count, sizeof(*ns));
	if (!ns)
		die("samples", -ENOMEM);
	if ((r = client_open(&c)) < 0)
		die_client(o, "connect", r);
	for (i = 0; i < o->warmup; i++)
		if ((r = client_request(&c)) < 0)
			die_client(o, "warm-up request", r);
	for (i = 0; i < o->count; i++) {
		t0 = bench_now_ns();
		r = client_request(&c);
		ns[i] = bench_now_ns() - t0;
		if (r < 0)
			die_client(o, "request", r);
		sum += ns[i];
	}
	client_close(&c);
	print_quantiles(o, ns, (size_t)o->count, (double)sum / (double)o->count);
	free(ns);
}

/* What a short-lived client pays: connect, one request, close. */
static void run_connect(const struct opts *o)
{
	struct client c;
	uint64_t *ns, t0, sum = 0;
	long i;
	int r;

	client_init(&c, o);
	ns = calloc((size_t)o->count, sizeof(*ns));
	if (!ns)
		die("samples", -ENOMEM);
	for (i = -o->warmup; i < o->count; i++) {
		t0 = bench_now_ns();
		if ((r = client_open(&c)) < 0)
			die_client(o, "connect", r);
		if ((r = client_request(&c)) < 0)
			die_client(o, "request", r);
		client_close(&c);
		if (i < 0)
			continue;
		ns[i] = bench_now_ns() - t0;
		sum += ns[i];
	}
	print_quantiles(o, ns, (size_t)o->count, (double)sum / (double)o->count);
	free(ns);
}

/* Throughput: the main thread opens the window; workers only count. */
enum phase { PHASE_WARMUP, PHASE_RUN, PHASE_STOP };

struct worker {
	pthread_t tid;
	const struct opts *o;
	pthread_barrier_t *ready;
	_Atomic int *phase;
	_Atomic uint64_t done;
	int err;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct client c;
	int r;

	bench_pin(w->o->cpu);
	client_init(&c, w->o);
	w->err = client_open(&c);
	pthread_barrier_wait(w->ready);
	if (w->err < 0)
		return NULL;
	/* Bounded by the main thread's clock: it sets PHASE_STOP after the window. */
	while (atomic_load_explicit(w->phase, memory_order_relaxed) != PHASE_STOP) {
		r = client_request(&c);
		if (r < 0) {
			w->err = r;
			break;
		}
		atomic_fetch_add_explicit(&w->done, 1, memory_order_relaxed);
	}
	client_close(&c);
	return NULL;
}

static uint64_t total_done(struct worker *w, int n)
{
	uint64_t sum = 0;

	for (int i = 0; i < n; i++)
		sum += atomic_load_explicit(&w[i].done, memory_order_relaxed);
	return sum;
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The median window: on a shared machine one window can lose the CPU to
 * another job, and the median of several is steadier than one long window.
 */
static void print_throughput(const struct opts *o, double *rps, uint64_t total)
{
	qsort(rps, (size_t)o->windows, sizeof(*rps), cmp_double);
	printf("{\"mode\": \"%s\", \"test\": \"throughput\", \"pinned\": %s, \"clients\": %d, "
	       "\"requests\": %" PRIu64 ", \"windows\": %d, \"window_s\": %.3f, \"rps_min\": %.1f, "
	       "\"rps\": %.1f, \"rps_max\": %.1f}\n",
	       o->mode == MODE_AOAI    ? "aoai"
	       : o->mode == MODE_FLOOR ? "floor"
				       : "ssh",
	       o->cpu >= 0 ? "true" : "false", o->clients, total, o->windows, o->secs, rps[0],
	       rps[o->windows / 2], rps[o->windows - 1]);
}

static void run_throughput(const struct opts *o)
{
	struct worker *w = calloc((size_t)o->clients, sizeof(*w));
	pthread_barrier_t ready;
	_Atomic int phase = PHASE_WARMUP;
	double rps[MAX_WINDOWS];
	uint64_t n0, n1, t0, t1, total = 0;
	int i;

	if (!w || pthread_barrier_init(&ready, NULL, (unsigned)o->clients + 1))
		die("threads", -ENOMEM);
	for (i = 0; i < o->clients; i++) {
		w[i] = (struct worker){ .o = o, .ready = &ready, .phase = &phase };
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]))
			die("pthread_create", -EAGAIN);
	}
	pthread_barrier_wait(&ready);
	/* The windows are durations, not readiness waits: warm-up, then measure. */
	sleep_s(o->secs / 4);
	atomic_store(&phase, PHASE_RUN);
	for (i = 0; i < o->windows; i++) {
		n0 = total_done(w, o->clients);
		t0 = bench_now_ns();
		sleep_s(o->secs);
		n1 = total_done(w, o->clients);
		t1 = bench_now_ns();
		rps[i] = (double)(n1 - n0) * 1e9 / (double)(t1 - t0);
		total += n1 - n0;
	}
	atomic_store(&phase, PHASE_STOP);
	for (i = 0; i < o->clients; i++) {
		pthread_join(w[i].tid, NULL);
		if (w[i].err < 0)
			die_client(o, "throughput client", w[i].err);
	}
	print_throughput(o, rps, total);
	pthread_barrier_destroy(&ready);
	free(w);
}

/* The real frame sizes: the request libaoai sends, sent raw, and the agent's reply. */
static void run_probe(const struct opts *o)
{
	char payload[4096];
	uint8_t frame[4 + sizeof(payload)], *reply = malloc(REPLY_CAP);
	int fd, n, len;

	/* proto_encode's output: "v" first, compact, '/' not escaped. */
	len = snprintf(payload, sizeof(payload), "{\"v\":1,\"op\":\"headers\",\"url\":\"%s\"}",
		       o->url);
	if (!reply || len < 0 || (size_t)len >= sizeof(payload) || strpbrk(o->url, "\"\\"))
		die("probe", -EINVAL);
	bench_put_len(frame, (uint32_t)len);
	memcpy(frame + 4, payload, (size_t)len);
	fd = bench_connect(o->sock);
	if (fd < 0)
		die("connect", fd);
	n = bench_roundtrip(fd, frame, 4 + (size_t)len, reply, REPLY_CAP);
	if (n < 0)
		die("probe request", n);
	if (!memmem(reply, (size_t)n, "\"ok\":true", 9))
		die("probe reply is not ok", -EPROTO);
	/* The reply holds the (fake) secret: only its size leaves this function. */
	explicit_bzero(reply, REPLY_CAP);
	printf("{\"request_len\": %d, \"reply_len\": %d}\n", len, n);
	close(fd);
	free(reply);
}

/* Adds @count fake secrets NAME0000… through libaoai (never argv, never stdout). */
static void run_add(const struct opts *o, const char *prefix)
{
	struct aoai_conn *conn;
	char name[64], secret[96];
	int r, len;

	if ((r = aoai_connect(o->sock, &conn)) < 0)
		die_client(o, "connect", r);
	for (long i = 0; i < o->count; i++) {
		snprintf(name, sizeof(name), "%s%04ld", prefix, i);
		len = snprintf(secret, sizeof(secret),
			       "fake-bench-secret-%04ld-00112233445566778899aabb", i);
		r = aoai_add(conn, name, secret, (size_t)len, 0, NULL);
		explicit_bzero(secret, sizeof(secret));
		if (r < 0) {
			fprintf(stderr, "aoai-bench: add %s: %s\n", name, aoai_conn_message(conn));
			exit(1);
		}
	}
	aoai_close(conn);
	printf("{\"mode\": \"aoai\", \"test\": \"add\", \"added\": %ld}\n", o->count);
}

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: aoai-bench [-p CPU] [-n COUNT] [-w WARMUP] [-c CLIENTS] [-t MS] [-r WINDOWS]\n"
	    "                  [-q REQ_LEN] [-u URL] [-P PREFIX] MODE TEST SOCKET\n"
	    "  MODE  aoai | floor | ssh\n"
	    "  TEST  latency | throughput | connect | probe (aoai) | add (aoai)\n");
	exit(2);
}

static long num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		usage();
	return v;
}

static void parse(int argc, char **argv, struct opts *o, const char **prefix)
{
	int ch;

	*o = (struct opts){ .cpu = -1,
			    .count = 100000,
			    .warmup = 5000,
			    .clients = 1,
			    .secs = 2.0,
			    .windows = 1,
			    .req_len = 100,
			    .url = DEFAULT_URL };
	while ((ch = getopt(argc, argv, "p:n:w:c:t:r:q:u:P:")) != -1) {
		switch (ch) {
		case 'p':
			o->cpu = (int)num(optarg, -1, 1023);
			break;
		case 'n':
			o->count = num(optarg, 1, MAX_COUNT);
			break;
		case 'w':
			o->warmup = num(optarg, 0, MAX_COUNT);
			break;
		case 'c':
			o->clients = (int)num(optarg, 1, MAX_CLIENTS);
			break;
		case 't':
			o->secs = (double)num(optarg, 1, 600000) / 1000.0;
			break;
		case 'r':
			o->windows = (int)num(optarg, 1, MAX_WINDOWS);
			break;
		case 'q':
			o->req_len = (size_t)num(optarg, 1, 4000);
			break;
		case 'u':
			o->url = optarg;
			break;
		case 'P':
			*prefix = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 3)
		usage();
	if (!strcmp(argv[optind], "aoai"))
		o->mode = MODE_AOAI;
	else if (!strcmp(argv[optind], "floor"))
		o->mode = MODE_FLOOR;
	else if (!strcmp(argv[optind], "ssh"))
		o->mode = MODE_SSH;
	else
		usage();
	o->test = argv[optind + 1];
	o->sock = argv[optind + 2];
}

int main(int argc, char **argv)
{
	const char *prefix = "p";
	struct opts o;
	int r;

	parse(argc, argv, &o, &prefix);
	if ((r = bench_pin(o.cpu)) < 0)
		die("sched_setaffinity", r);
	if (!strcmp(o.test, "latency"))
		run_latency(&o);
	else if (!strcmp(o.test, "connect"))
		run_connect(&o);
	else if (!strcmp(o.test, "throughput"))
		run_throughput(&o);
	else if (!strcmp(o.test, "probe") && o.mode == MODE_AOAI)
		run_probe(&o);
	else if (!strcmp(o.test, "add") && o.mode == MODE_AOAI)
		run_add(&o, prefix);
	else
		usage();
	return 0;
}
