/* SPDX-License-Identifier: MIT */
/* The connection cap derived from the descriptor limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conn.h"
#include "harden.h"

static void cap_from_fd_limit(void **state)
{
	(void)state;
	assert_int_equal(conn_max_for_fd_limit(0), 0);
	assert_int_equal(conn_max_for_fd_limit(1), 1);
	assert_int_equal(conn_max_for_fd_limit(64), 32); /* half of a tiny limit in reserve */
	assert_int_equal(conn_max_for_fd_limit(128), 64);
	assert_int_equal(conn_max_for_fd_limit(1000), 1000 - CONN_FD_RESERVE);
	assert_int_equal(conn_max_for_fd_limit(1024), 1024 - CONN_FD_RESERVE);
	assert_int_equal(conn_max_for_fd_limit(CONN_MAX_DEFAULT + CONN_FD_RESERVE),
			 CONN_MAX_DEFAULT);
	assert_int_equal(conn_max_for_fd_limit(HARDEN_NOFILE_MAX), CONN_MAX_DEFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cap_from_fd_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
