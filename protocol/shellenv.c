/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "shellenv.h"

enum shell_kind shell_kind_from_path(const char *shell)
{
	const char *base;
	size_t len;

	if (!shell || !*shell)
		return SHELL_SH;
	base = strrchr(shell, '/');
	base = base ? base + 1 : shell;
	len = strlen(base);
	if (len >= 3 && strcmp(base + len - 3, "csh") == 0)
		return SHELL_CSH;
	if (strcmp(base, "fish") == 0)
		return SHELL_FISH;
	return SHELL_SH;
}

/* Single quotes work in all three shells; only the quote itself needs care. */
static void print_quoted(FILE *out, enum shell_kind kind, const char *value)
{
	const char *p;

	fputc('\'', out);
	for (p = value; *p; p++) {
		if (*p == '\'')
			fputs(kind == SHELL_FISH ? "\\'" : "'\\''", out);
		else if (*p == '\\' && kind == SHELL_FISH)
			fputs("\\\\", out);
		else if (*p == '!' && kind == SHELL_CSH)
			fputs("\\!", out);
		else
			fputc(*p, out);
	}
	fputc('\'', out);
}

int shell_print_set(FILE *out, enum shell_kind kind, const char *name, const char *value)
{
	const char *p;

	for (p = value; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -EINVAL;
	switch (kind) {
	case SHELL_CSH:
		fprintf(out, "setenv %s ", name);
		print_quoted(out, kind, value);
		fputs(";\n", out);
		break;
	case SHELL_FISH:
		fprintf(out, "set -gx %s ", name);
		print_quoted(out, kind, value);
		fputs(";\n", out);
		break;
	case SHELL_SH:
		fprintf(out, "%s=", name);
		print_quoted(out, kind, value);
		fprintf(out, "; export %s;\n", name);
		break;
	}
	return 0;
}

void shell_print_unset(FILE *out, enum shell_kind kind, const char *name)
{
	switch (kind) {
	case SHELL_CSH:
		fprintf(out, "unsetenv %s;\n", name);
		break;
	case SHELL_FISH:
		fprintf(out, "set -e %s;\n", name);
		break;
	case SHELL_SH:
		fprintf(out, "unset %s;\n", name);
		break;
	}
}
