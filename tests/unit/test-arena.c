/* SPDX-License-Identifier: MIT */
/* The secret arena: packing, reuse, wiping, canaries, per-slab concealment. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "arena.h"

#define MANY 1000

static int setup(void **state)
{
	*state = arena_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	arena_free(*state);
	return 0;
}

static unsigned char *store(struct secret_arena *a, const char *value, struct arena_slab **slab)
{
	unsigned char *p = NULL;

	assert_int_equal(arena_store(a, value, strlen(value), &p, slab), 0);
	assert_non_null(p);
	return p;
}

/* Runs @what(@p) in a child: the signal that ended it, 0 when it exited. */
static int child_signal(void (*what)(unsigned char *), unsigned char *p)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL); /* not cmocka's handlers */
		signal(SIGABRT, SIG_DFL);
		what(p);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static void read_one(unsigned char *p)
{
	volatile unsigned char c = p[0];

	(void)c;
}

static void write_one(unsigned char *p)
{
	p[0] = 'x';
}

static void values_are_packed_apart_and_terminated(void **state)
{
	struct secret_arena *a = *state;
	struct arena_slab *s1, *s2;
	unsigned char *v1 = store(a, "fake-key-one", &s1);
	unsigned char *v2 = store(a, "fake-key-two-longer", &s2);

	assert_ptr_equal(s1, s2); /* one slab, one page */
	assert_int_equal(arena_slab_count(a), 1);
	assert_int_equal(((uintptr_t)v1 | (uintptr_t)v2) % 16, 0);
	/* value, NUL and a 16-byte canary: the next value starts beyond them */
	assert_true(v2 >= v1 + sizeof("fake-key-one") + 16);
	arena_reveal(s1);
	assert_string_equal((char *)v1, "fake-key-one");
	assert_string_equal((char *)v2, "fake-key-two-longer");
	arena_unreveal(s1, true);
	assert_int_equal(arena_store(a, "x", 0, &v1, &s1), -EINVAL);
	assert_int_equal(arena_store(a, "x", ARENA_MAX_VALUE + 1, &v1, &s1), -EINVAL);
}

/* Concealed slabs fault on any access; reveals nest; idle concealment waits for the last. */
static void slab_readable_only_while_revealed(void **state)
{
	struct secret_arena *a = *state;
	struct arena_slab *s, *other;
	unsigned char *v = store(a, "fake-key", &s);
	unsigned char *w = store(a, "fake-neighbour", &other);

	assert_int_equal(child_signal(read_one, v), SIGSEGV);
	arena_reveal(s);
	arena_reveal(s);
	assert_int_equal(child_signal(read_one, w), 0);        /* the whole slab */
	assert_int_equal(child_signal(write_one, v), SIGSEGV); /* never writable */
	arena_unreveal(s, true);
	assert_int_equal(child_signal(read_one, v), 0);
	arena_unreveal(s, true);
	assert_int_equal(child_signal(read_one, v), SIGSEGV);
	arena_reveal(s);
	arena_unreveal(s, false);
	assert_int_equal(child_signal(read_one, v), 0);
	arena_reveal(s);
	arena_conceal_idle(a); /* a reveal in force: stays readable */
	assert_int_equal(child_signal(read_one, v), 0);
	arena_unreveal(s, false);
	arena_conceal_idle(a);
	assert_int_equal(child_signal(read_one, v), SIGSEGV);
	arena_unreveal(s, true); /* unpaired: ignored */
	assert_int_equal(child_signal(read_one, v), SIGSEGV);
}

/* A write to a slab ends its idle readability; reveals in force keep it readable. */
static void storing_keeps_reveals_in_force(void **state)
{
	struct secret_arena *a = *state;
	struct arena_slab *s, *t;
	unsigned char *v = store(a, "fake-key", &s);

	arena_reveal(s);
	store(a, "fake-second", &t);
	assert_ptr_equal(s, t);
	assert_string_equal((char *)v, "fake-key");
	arena_unreveal(s, false);
	store(a, "fake-third", &t);
	assert_int_equal(child_signal(read_one, v), SIGSEGV);
}

/* Wiped room is zeroed, reused first fit, and an empty slab is unmapped. */
static void wiping_zeroes_and_reuses(void **state)
{
	struct secret_arena *a = *state;
	struct arena_slab *s1, *s2, *s3;
	unsigned char *v1 = store(a, "fake-key-aaaaaaaaaaaa", &s1);
	unsigned char *v2 = store(a, "fake-key-bbbbbbbbbbbb", &s2);
	unsigned char *v3;

	arena_wipe(a, s1, v1, strlen("fake-key-aaaaaaaaaaaa"));
	arena_reveal(s2);
	for (size_t i = 0; i < 32; i++)
		assert_int_equal(v1[i], 0);
	arena_unreveal(s2, true);
	v3 = store(a, "fake-key-cccccccccccc", &s3);
	assert_ptr_equal(v3, v1);
	arena_wipe(a, s2, v2, strlen("fake-key-bbbbbbbbbbbb"));
	arena_wipe(a, s3, v3, strlen("fake-key-cccccccccccc"));
	assert_int_equal(arena_slab_count(a), 0);
	assert_int_equal(arena_bytes(a), 0);
}

/* A thousand keys take a few slabs of growing size, not a thousand allocations. */
static void many_values_share_few_slabs(void **state)
{
	struct secret_arena *a = *state;
	static unsigned char *values[MANY];
	static struct arena_slab *slabs[MANY];
	char value[64];
	size_t len = 0;

	for (int i = 0; i < MANY; i++) {
		snprintf(value, sizeof(value), "fake-key-%04d-0123456789abcdef0123456789ab", i);
		len = strlen(value);
		assert_int_equal(arena_store(a, value, len, &values[i], &slabs[i]), 0);
	}
	assert_true(arena_slab_count(a) <= 8);
	assert_true(arena_bytes(a) <= 128 * 1024);
	for (int i = 0; i < MANY; i++) {
		snprintf(value, sizeof(value), "fake-key-%04d-0123456789abcdef0123456789ab", i);
		arena_reveal(slabs[i]);
		assert_string_equal((char *)values[i], value);
		arena_unreveal(slabs[i], true);
	}
	for (int i = 0; i < MANY; i++)
		arena_wipe(a, slabs[i], values[i], len);
	assert_int_equal(arena_slab_count(a), 0);
}

/* The largest secret fits a slab of its own. */
static void large_values_get_room(void **state)
{
	struct secret_arena *a = *state;
	static char big[16384 + 1];
	struct arena_slab *s;
	unsigned char *v;

	memset(big, 'k', sizeof(big) - 1);
	store(a, "fake-small", &s);
	v = store(a, big, &s);
	assert_int_equal(arena_slab_count(a), 2);
	arena_reveal(s);
	assert_int_equal(strlen((char *)v), sizeof(big) - 1);
	arena_unreveal(s, true);
	arena_wipe(a, s, v, sizeof(big) - 1);
	assert_int_equal(arena_slab_count(a), 1);
}

static struct secret_arena *overrun_arena;
static struct arena_slab *overrun_slab;

/* Writes one byte past the value's NUL, as an overflow would, then wipes it. */
static void overrun_then_wipe(unsigned char *p)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	/* A bug's write needs no permission: this one takes it. */
	if (mprotect(p - (uintptr_t)p % page, page, PROT_READ | PROT_WRITE) != 0)
		_exit(1);
	p[strlen("fake-key") + 1] ^= 1;
	arena_wipe(overrun_arena, overrun_slab, p, strlen("fake-key"));
}

static void overrun_is_caught_on_wipe(void **state)
{
	unsigned char *v;

	overrun_arena = *state;
	v = store(overrun_arena, "fake-key", &overrun_slab);
	assert_int_equal(child_signal(overrun_then_wipe, v), SIGABRT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(values_are_packed_apart_and_terminated, setup,
						teardown),
		cmocka_unit_test_setup_teardown(slab_readable_only_while_revealed, setup, teardown),
		cmocka_unit_test_setup_teardown(storing_keeps_reveals_in_force, setup, teardown),
		cmocka_unit_test_setup_teardown(wiping_zeroes_and_reuses, setup, teardown),
		cmocka_unit_test_setup_teardown(many_values_share_few_slabs, setup, teardown),
		cmocka_unit_test_setup_teardown(large_values_get_room, setup, teardown),
		cmocka_unit_test_setup_teardown(overrun_is_caught_on_wipe, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
