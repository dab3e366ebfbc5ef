/* SPDX-License-Identifier: MIT */
/*
 * Shell snippets that set or unset environment variables, for
 * `eval "$(aoai-agent)"`, `aoai-agent -k` and `aoai env`.  Shared by the
 * agent and the CLI so both speak each shell's quoting the same way.
 */
#pragma once

#include <stdio.h>

enum shell_kind {
	SHELL_SH,
	SHELL_CSH,
	SHELL_FISH,
};

/* The kind for a login shell path such as $SHELL ("/bin/tcsh" → csh); sh when NULL. */
enum shell_kind shell_kind_from_path(const char *shell);

/*
 * Writes a statement setting @name to @value for @kind.  Returns 0, or
 * -EINVAL when @value cannot be quoted safely (control characters).
 */
int shell_print_set(FILE *out, enum shell_kind kind, const char *name, const char *value);
/* Writes a statement removing @name. */
void shell_print_unset(FILE *out, enum shell_kind kind, const char *name);
