/* SPDX-License-Identifier: MIT */
/*
 * curl-client: a libcurl program for the preload hook's integration tests
 * (tests/integration/test_preload_c.py).  Each subcommand exercises one
 * way applications use handles; every transfer prints one line
 * "LABEL: STATUS" (the HTTP status) on stdout.  Exit status: 0, 1 when a
 * transfer failed at the transport level (its error goes to stderr), 2 on
 * a usage error.
 *
 * Every handle carries an application header "X-App: curl-client" (plus
 * any --header), so the tests can check that the application's own
 * headers survive the hook's merging.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define APP_HEADER       "X-App: curl-client"
#define DEFAULT_THREADS  8
#define DEFAULT_PER_TASK 5
#define MAX_THREADS      64

struct get_opts {
	struct curl_slist *headers;
	bool verbose, insecure, follow, debug, unified;
	long port;
};

static size_t discard(char *ptr, size_t size, size_t n, void *user)
{
	(void)ptr;
	(void)user;
	return size * n;
}

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static struct curl_slist *app_headers(void)
{
	return curl_slist_append(NULL, APP_HEADER);
}

static CURL *new_handle(const char *url, struct curl_slist *headers)
{
	CURL *h = curl_easy_init();

	if (!h) {
		fprintf(stderr, "curl_easy_init failed\n");
		exit(1);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (url)
		curl_easy_setopt(h, CURLOPT_URL, url);
	if (headers)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	return h;
}

/* Performs and prints "LABEL: STATUS".  Returns 0, or 1 on a transport error. */
static int run(CURL *h, const char *label)
{
	CURLcode rc = curl_easy_perform(h);
	long status = 0;

	if (rc != CURLE_OK) {
		fprintf(stderr, "error: %s: %s\n", label, curl_easy_strerror(rc));
		say("%s: error %d\n", label, (int)rc);
		return 1;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	say("%s: %ld\n", label, status);
	return 0;
}

/* The application's own debug callback: shows what it is given on stdout. */
static int app_debug(CURL *h, curl_infotype type, char *data, size_t size, void *user)
{
	(void)h;
	(void)user;
	if (type == CURLINFO_HEADER_OUT)
		say("debug> %.*s", (int)size, data);
	return 0;
}

static int cmd_get(int argc, char **argv)
{
	struct get_opts o = { .headers = app_headers() };
	const char *url = NULL;
	CURL *h;
	int i, r;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--header") == 0 && i + 1 < argc)
			o.headers = curl_slist_append(o.headers, argv[++i]);
		else if (strcmp(argv[i], "--verbose") == 0)
			o.verbose = true;
		else if (strcmp(argv[i], "--insecure") == 0)
			o.insecure = true;
		else if (strcmp(argv[i], "--follow") == 0)
			o.follow = true;
		else if (strcmp(argv[i], "--debug") == 0)
			o.debug = o.verbose = true;
		else if (strcmp(argv[i], "--unified") == 0)
			o.unified = true;
		else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			o.port = strtol(argv[++i], NULL, 10);
		else if (!url)
			url = argv[i];
		else
			return 2;
	}
	if (!url)
		return 2;
	h = new_handle(url, o.headers);
	curl_easy_setopt(h, CURLOPT_VERBOSE, o.verbose ? 1L : 0L);
	if (o.debug)
		curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, app_debug);
	if (o.insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, o.follow ? 1L : 0L);
	if (o.unified)
		curl_easy_setopt(h, CURLOPT_HEADEROPT, CURLHEADER_UNIFIED);
	if (o.port)
		curl_easy_setopt(h, CURLOPT_PORT, o.port);
	r = run(h, "get");
	curl_easy_cleanup(h);
	curl_slist_free_all(o.headers);
	return r;
}

/* One handle, two transfers (to the same or different hosts). */
static int cmd_reuse(int argc, char **argv)
{
	struct curl_slist *hdrs = app_headers();
	CURL *h;
	int r;

	if (argc != 2)
		return 2;
	h = new_handle(argv[0], hdrs);
	r = run(h, "first");
	curl_easy_setopt(h, CURLOPT_URL, argv[1]);
	r |= run(h, "second");
	curl_easy_setopt(h, CURLOPT_URL, argv[0]);
	r |= run(h, "third");
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	return r;
}

/* CURLOPT_CURLU and CURLOPT_URL disagreeing ("-" leaves CURLOPT_URL unset). */
static int cmd_curlu(int argc, char **argv)
{
	struct curl_slist *hdrs = app_headers();
	CURLU *u = curl_url();
	CURL *h;
	int r;

	if (argc != 2 || !u || curl_url_set(u, CURLUPART_URL, argv[0], 0) != CURLUE_OK)
		return 2;
	h = new_handle(strcmp(argv[1], "-") ? argv[1] : NULL, hdrs);
	curl_easy_setopt(h, CURLOPT_CURLU, u);
	r = run(h, "curlu");
	curl_easy_cleanup(h);
	curl_url_cleanup(u);
	curl_slist_free_all(hdrs);
	return r;
}

/* The copy works on its own, before and after the original goes away. */
static int cmd_dup(int argc, char **argv)
{
	struct curl_slist *hdrs = app_headers();
	CURL *h, *copy;
	int r;

	if (argc != 1)
		return 2;
	h = new_handle(argv[0], hdrs);
	r = run(h, "original");
	copy = curl_easy_duphandle(h);
	if (!copy)
		return 1;
	r |= run(copy, "copy");
	r |= run(h, "original-again");
	curl_easy_cleanup(h);
	r |= run(copy, "copy-after-cleanup");
	curl_easy_cleanup(copy);
	curl_slist_free_all(hdrs);
	return r;
}

static int cmd_reset(int argc, char **argv)
{
	struct curl_slist *hdrs = app_headers();
	CURL *h;
	int r;

	if (argc != 1)
		return 2;
	h = new_handle(argv[0], hdrs);
	r = run(h, "before-reset");
	curl_easy_reset(h);
	curl_slist_free_all(hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_URL, argv[0]);
	r |= run(h, "after-reset");
	curl_easy_cleanup(h);
	return r;
}

/* The application frees its list right after a transfer, then sets a new one. */
static int cmd_free_list(int argc, char **argv)
{
	struct curl_slist *hdrs = app_headers();
	CURL *h;
	int r;

	if (argc != 1)
		return 2;
	h = new_handle(argv[0], hdrs);
	r = run(h, "first-list");
	curl_slist_free_all(hdrs);
	hdrs = curl_slist_append(app_headers(), "X-Second: yes");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	r |= run(h, "second-list");
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	return r;
}

struct task {
	const char *url;
	int id;
	int count;
	int result;
	pthread_barrier_t *handles_made; /* NULL, or waited on once the handle exists */
};

static void *task_main(void *arg)
{
	struct task *t = arg;
	struct curl_slist *hdrs = app_headers();
	char label[64];
	CURL *h = new_handle(t->url, hdrs);
	int i;

	if (t->handles_made)
		pthread_barrier_wait(t->handles_made);
	for (i = 0; i < t->count; i++) {
		snprintf(label, sizeof(label), "thread %d #%d", t->id, i);
		t->result |= run(h, label);
	}
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	return NULL;
}

static int start_tasks(struct task *tasks, pthread_t *tids, int n, const char *url, int count,
		       pthread_barrier_t *handles_made)
{
	int i;

	for (i = 0; i < n; i++) {
		tasks[i] = (struct task){
			.url = url, .id = i, .count = count, .handles_made = handles_made
		};
		if (pthread_create(&tids[i], NULL, task_main, &tasks[i]) != 0)
			return -1;
	}
	return 0;
}

static int join_tasks(struct task *tasks, pthread_t *tids, int n)
{
	int i, r = 0;

	for (i = 0; i < n; i++) {
		pthread_join(tids[i], NULL);
		r |= tasks[i].result;
	}
	return r;
}

static int cmd_threads(int argc, char **argv)
{
	struct task tasks[MAX_THREADS];
	pthread_t tids[MAX_THREADS];
	int n, count;

	if (argc < 2 || argc > 3)
		return 2;
	n = (int)strtol(argv[0], NULL, 10);
	count = argc == 3 ? (int)strtol(argv[2], NULL, 10) : DEFAULT_PER_TASK;
	if (n < 1 || n > MAX_THREADS || count < 1)
		return 2;
	if (start_tasks(tasks, tids, n, argv[1], count, NULL) < 0)
		return 1;
	return join_tasks(tasks, tids, n);
}

/* In the child: a handle from before the fork and a new one. */
static int child_transfers(CURL *inherited, const char *url)
{
	struct curl_slist *hdrs = app_headers();
	CURL *h = new_handle(url, hdrs);
	int r;

	/* Its kept-alive connection is the parent's socket too: never speak on it here. */
	curl_easy_setopt(inherited, CURLOPT_FRESH_CONNECT, 1L);
	r = run(inherited, "child-inherited");
	r |= run(h, "child-new");
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	return r;
}

/*
 * Reports the child's pid and exit status ("child-exit: N", 128+signal when
 * killed): under valgrind the tests tell the child's reports from ours.
 */
static int wait_child(pid_t pid)
{
	int status = 0, code;

	if (waitpid(pid, &status, 0) != pid)
		return 1;
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	say("child-pid: %d\nchild-exit: %d\n", (int)pid, code);
	if (code != 0)
		fprintf(stderr, "error: the child failed\n");
	return code != 0;
}

/*
 * Forks with say()'s lock held by the forking thread, so the child never
 * inherits it locked by a thread it does not have.
 */
static pid_t fork_holding_output(void)
{
	pid_t pid;

	pthread_mutex_lock(&out_lock);
	fflush(stdout);
	pid = fork();
	pthread_mutex_unlock(&out_lock);
	return pid;
}

/*
 * Threads doing transfers while the main thread forks.  The threads have
 * made their handles before the fork: curl_easy_init() takes libcurl's
 * global spinlock, which a child would spin on forever had a thread held
 * it at the fork.  What the test is about, the hook's state and libcurl's
 * transfers in flight, stays concurrent with the fork.
 */
static int cmd_fork(int argc, char **argv)
{
	struct task tasks[MAX_THREADS];
	pthread_t tids[MAX_THREADS];
	pthread_barrier_t handles_made;
	struct curl_slist *hdrs = app_headers();
	int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : DEFAULT_THREADS, r;
	CURL *h;
	pid_t pid;

	if (argc < 1 || n < 0 || n > MAX_THREADS)
		return 2;
	h = new_handle(argv[0], hdrs);
	r = run(h, "parent-before");
	pthread_barrier_init(&handles_made, NULL, (unsigned)n + 1);
	if (start_tasks(tasks, tids, n, argv[0], DEFAULT_PER_TASK, &handles_made) < 0)
		return 1;
	pthread_barrier_wait(&handles_made);
	pid = fork_holding_output();
	if (pid == 0)
		_exit(child_transfers(h, argv[0]));
	r |= pid < 0;
	r |= run(h, "parent-after");
	r |= join_tasks(tasks, tids, n);
	if (pid > 0)
		r |= wait_child(pid);
	pthread_barrier_destroy(&handles_made);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	return r;
}

static int multi_drain(CURLM *m, CURL **hs, int n)
{
	int running = 1, left, i, r = 0;
	long status;
	CURLMsg *msg;

	while (running) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			return 1;
		if (running && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK)
			return 1;
	}
	while ((msg = curl_multi_info_read(m, &left))) {
		for (i = 0; i < n && hs[i] != msg->easy_handle; i++)
			;
		if (msg->data.result != CURLE_OK) {
			fprintf(stderr, "error: multi %d: %s\n", i,
				curl_easy_strerror(msg->data.result));
			r = 1;
			continue;
		}
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		say("multi %d: %ld\n", i, status);
	}
	return r;
}

static int cmd_multi(int argc, char **argv)
{
	struct curl_slist *hdrs = app_headers();
	CURL *hs[MAX_THREADS];
	CURLM *m = curl_multi_init();
	int i, r;

	if (argc < 1 || argc > MAX_THREADS || !m)
		return 2;
	for (i = 0; i < argc; i++) {
		hs[i] = new_handle(argv[i], hdrs);
		curl_multi_add_handle(m, hs[i]);
	}
	r = multi_drain(m, hs, argc);
	for (i = 0; i < argc; i++) {
		curl_multi_remove_handle(m, hs[i]);
		curl_easy_cleanup(hs[i]);
	}
	curl_multi_cleanup(m);
	curl_slist_free_all(hdrs);
	return r;
}

static int app_prereq_calls;

static int app_prereq(void *data, char *ip, char *lip, int port, int lport)
{
	(void)ip;
	(void)lip;
	(void)port;
	(void)lport;
	if (data == &app_prereq_calls)
		app_prereq_calls++;
	return CURL_PREREQFUNC_OK;
}

/* The application's own prereq callback still runs, with its own data. */
static int cmd_prereq(int argc, char **argv)
{
	struct curl_slist *hdrs = app_headers();
	CURL *h;
	int r;

	if (argc != 1)
		return 2;
	h = new_handle(argv[0], hdrs);
	curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, app_prereq);
	curl_easy_setopt(h, CURLOPT_PREREQDATA, &app_prereq_calls);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	r = run(h, "prereq");
	say("app prereq calls: %d\n", app_prereq_calls);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	return r;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* N transfers on one handle (a kept-alive connection); the time per transfer. */
static int cmd_bench(int argc, char **argv)
{
	struct curl_slist *hdrs = app_headers();
	CURL *h;
	long status = 0, n;
	double t0;
	int i;

	if (argc != 2 || (n = strtol(argv[0], NULL, 10)) < 1)
		return 2;
	h = new_handle(argv[1], hdrs);
	t0 = now_us();
	for (i = 0; i < n; i++)
		if (curl_easy_perform(h) != CURLE_OK)
			return 1;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	say("bench: %ld requests, last status %ld, %.1f us/request\n", n, status,
	    (now_us() - t0) / (double)n);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	return 0;
}

/*
 * One handle for URLs read from stdin, one a line, each performed as it
 * arrives ("N: STATUS" after it): a test changes the agent in between and
 * sees what the very next transfer does.
 */
static int cmd_steps(int argc, char **argv)
{
	struct curl_slist *hdrs = app_headers();
	char line[4096], label[32];
	CURL *h = new_handle(NULL, hdrs);
	int n = 0, r = 0;

	(void)argv;
	if (argc != 0)
		return 2;
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			break;
		curl_easy_setopt(h, CURLOPT_URL, line);
		snprintf(label, sizeof(label), "%d", ++n);
		r |= run(h, label);
	}
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	return r;
}

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
} commands[] = {
	{ "get", cmd_get,
	  "URL [--header H]... [--verbose] [--debug] [--insecure] [--follow] [--port N] "
	  "[--unified]" },
	{ "reuse", cmd_reuse, "URL1 URL2" },
	{ "curlu", cmd_curlu, "URL_CURLU URL_OPT|-" },
	{ "dup", cmd_dup, "URL" },
	{ "reset", cmd_reset, "URL" },
	{ "free-list", cmd_free_list, "URL" },
	{ "threads", cmd_threads, "N URL [COUNT]" },
	{ "fork", cmd_fork, "URL [THREADS]" },
	{ "multi", cmd_multi, "URL..." },
	{ "prereq", cmd_prereq, "URL" },
	{ "bench", cmd_bench, "N URL" },
	{ "steps", cmd_steps, "< URLS (one a line)" },
};

static int usage(void)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "usage: curl-client %s %s\n", commands[i].name, commands[i].usage);
	return 2;
}

int main(int argc, char **argv)
{
	size_t i;
	int r;

	if (argc < 2)
		return usage();
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		curl_global_init(CURL_GLOBAL_DEFAULT);
		r = commands[i].fn(argc - 2, argv + 2);
		curl_global_cleanup();
		return r == 2 ? usage() : r;
	}
	return usage();
}
