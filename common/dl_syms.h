/* SPDX-License-Identifier: MIT */
/*
 * Loading an optional library on first use: dlopen() by soname, then every
 * function the program calls in it, into sym_NAME pointers (the pattern of
 * systemd's dlopen_many_sym_or_warn()).  The program links none of it, so a
 * process that never needs the library never maps it.
 */
#pragma once

#include <stddef.h>

#define DL_SYMS_MAX 64 /* functions one library may provide */

struct dl_sym {
	void **fn;        /* where the address goes */
	const char *name; /* the symbol */
};

/* { &sym_NAME, "NAME" } for a pointer declared as sym_NAME. */
/* clang-format off */
#define DL_SYM(name) { (void **)&sym_##name, #name }
/* clang-format on */

/*
 * dlopen()s @soname and looks up each of @syms, setting them all, or none
 * on failure.  @package is what to install when the library is missing.
 * Returns 0; -ENOENT when the library cannot be loaded, -ELIBBAD when it
 * lacks a function, -E2BIG for more than DL_SYMS_MAX; the message, naming
 * @soname and @package, is in @err.  The library stays loaded for good.
 */
int dl_syms_open(const char *soname, const char *package, const struct dl_sym *syms, size_t n,
		 char *err, size_t errlen);
