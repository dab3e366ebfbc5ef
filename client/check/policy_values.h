/* SPDX-License-Identifier: MIT */
/*
 * The values of an APIM policy as API Management would see them: {{NAME}}
 * named values filled in from --named-value, and policy expressions, which
 * only API Management can evaluate, refused.
 */
#pragma once

#include <stddef.h>

#include "policy.h"

#define NAMED_VALUE_MAX 256                   /* APIM's limit on a named value's name */
#define EXPANDED_MAX    (4 * POLICY_MAX_SIZE) /* all named values filled in, together */

struct policy_values {
	const struct policy_named_value *nv;
	size_t n;
	size_t expanded; /* bytes written by named values so far, against EXPANDED_MAX */
};

/*
 * @raw with every {{NAME}} replaced, each once (a value holding "{{x}}" stays
 * so).  "{{" not followed by a name and "}}" stays as written.  An
 * expression, written or brought by a named value, is refused.  Returns 0
 * and a new string in *ret, or -ENOENT (a name not given) / -EOPNOTSUPP /
 * -EMSGSIZE / -ENOMEM with @err naming @line and @what.
 */
int policy_values_expand(struct policy_values *pv, const char *raw, long line, const char *what,
			 char **ret, char *err, size_t errlen);
