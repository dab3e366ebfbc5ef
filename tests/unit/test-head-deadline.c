/* SPDX-License-Identifier: MIT */
/* The request-head watchdog: an armed connection is shut down at its deadline
 * and not before; a disarmed or removed one never; a rearmed one again; the
 * table is bounded.  The readiness signal is the end of file the peer reads. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "head_deadline.h"

#define TIMEOUT_MS 200
#define BOUND_MS   5000 /* no wait in a test outlasts this */

struct pair {
	int watched, peer;
};

static void pair_open(struct pair *p)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	p->watched = sv[0];
	p->peer = sv[1];
}

static void pair_close(struct pair *p)
{
	close(p->watched);
	close(p->peer);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether @p's peer reads an end of file within @wait_ms. */
static int peer_sees_eof(const struct pair *p, int wait_ms)
{
	struct pollfd pfd = { .fd = p->peer, .events = POLLIN };
	char c;

	if (poll(&pfd, 1, wait_ms) != 1)
		return 0;
	return read(p->peer, &c, 1) == 0;
}

static void expires_at_deadline(void **state)
{
	struct head_deadline *hd = NULL;
	struct head_deadline_entry *e = NULL;
	struct pair p;
	int64_t start;

	(void)state;
	assert_int_equal(head_deadline_new(4, TIMEOUT_MS, &hd), 0);
	pair_open(&p);
	start = now_ms();
	assert_int_equal(head_deadline_add(hd, p.watched, &e), 0);
	assert_non_null(e);
	/* Data from the client changes nothing: this is a deadline, not a timeout. */
	assert_int_equal(write(p.peer, "G", 1), 1);
	assert_true(peer_sees_eof(&p, BOUND_MS));
	assert_true(now_ms() - start >= TIMEOUT_MS - 10); /* clock granularity */
	head_deadline_remove(hd, e);
	pair_close(&p);
	assert_null(head_deadline_free(hd));
}

/* @quiet's deadline is passed once @later's is, being earlier: had the watchdog
 * kept it, its peer would read EOF by then too. */
static void disarmed_and_removed_are_spared(void **state)
{
	struct head_deadline *hd = NULL;
	struct head_deadline_entry *a = NULL, *b = NULL, *later = NULL;
	struct pair pa, pb, pl;

	(void)state;
	assert_int_equal(head_deadline_new(4, TIMEOUT_MS, &hd), 0);
	pair_open(&pa);
	pair_open(&pb);
	pair_open(&pl);
	assert_int_equal(head_deadline_add(hd, pa.watched, &a), 0);
	assert_int_equal(head_deadline_add(hd, pb.watched, &b), 0);
	head_deadline_disarm(hd, a);
	head_deadline_remove(hd, b);
	assert_int_equal(head_deadline_add(hd, pl.watched, &later), 0);
	assert_true(peer_sees_eof(&pl, BOUND_MS));
	assert_false(peer_sees_eof(&pa, 0));
	assert_false(peer_sees_eof(&pb, 0));
	/* Rearmed, the disarmed one has a deadline again. */
	head_deadline_rearm(hd, a);
	assert_true(peer_sees_eof(&pa, BOUND_MS));
	head_deadline_remove(hd, a);
	head_deadline_remove(hd, later);
	pair_close(&pa);
	pair_close(&pb);
	pair_close(&pl);
	assert_null(head_deadline_free(hd));
}

static void bounded_table(void **state)
{
	struct head_deadline *hd = NULL;
	struct head_deadline_entry *e[3] = { NULL };
	struct pair p;

	(void)state;
	assert_int_equal(head_deadline_new(0, TIMEOUT_MS, &hd), -EINVAL);
	assert_int_equal(head_deadline_new(2, BOUND_MS, &hd), 0);
	pair_open(&p);
	assert_int_equal(head_deadline_add(hd, -1, &e[0]), -EBADF);
	assert_int_equal(head_deadline_add(hd, p.watched, &e[0]), 0);
	assert_int_equal(head_deadline_add(hd, p.watched, &e[1]), 0);
	assert_int_equal(head_deadline_add(hd, p.watched, &e[2]), -ENOSPC);
	assert_null(e[2]);
	head_deadline_remove(hd, e[0]);
	assert_int_equal(head_deadline_add(hd, p.watched, &e[2]), 0);
	head_deadline_remove(hd, e[1]);
	head_deadline_remove(hd, e[2]);
	pair_close(&p);
	/* NULL entries (a connection never watched) and a NULL watchdog are fine. */
	head_deadline_disarm(hd, NULL);
	head_deadline_rearm(hd, NULL);
	head_deadline_remove(hd, NULL);
	assert_null(head_deadline_free(hd)); /* its thread stops while waiting */
	assert_null(head_deadline_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(expires_at_deadline),
		cmocka_unit_test(disarmed_and_removed_are_spared),
		cmocka_unit_test(bounded_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
