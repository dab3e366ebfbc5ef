/* SPDX-License-Identifier: MIT */
/*
 * Pure helpers from protocol/ that the CLI needs: shell quoting (aoai env),
 * name checks and lifetimes (aoai add), the same code the agent runs.
 * libaoai contains them too but exports only aoai_*, so the CLI compiles its
 * own copy here.  If the Makefile ever links $(OBJ)/protocol/{shellenv,name,
 * lifetime}.o into the CLI, delete this file.
 */
#include "../protocol/lifetime.c"
#include "../protocol/name.c"
#include "../protocol/shellenv.c"
