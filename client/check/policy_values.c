/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "policy_values.h"

static bool is_expression(const char *v)
{
	v += strspn(v, " \t\r\n");
	return v[0] == '@' && (v[1] == '(' || v[1] == '{');
}

/* APIM: "It may contain only letters, digits, period, dash, and underscore characters." */
static size_t named_value_name_len(const char *s)
{
	size_t n = 0;

	while (n <= NAMED_VALUE_MAX &&
	       ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		(s[n] >= '0' && s[n] <= '9') || s[n] == '.' || s[n] == '-' || s[n] == '_'))
		n++;
	return n <= NAMED_VALUE_MAX ? n : 0;
}

static const struct policy_named_value *named_value(const struct policy_values *pv,
						    const char *name, size_t len)
{
	for (size_t i = 0; i < pv->n; i++)
		if (pv->nv[i].name && strlen(pv->nv[i].name) == len &&
		    !memcmp(pv->nv[i].name, name, len))
			return &pv->nv[i];
	return NULL;
}

/* Length of a {{NAME}} reference at @s (0 when there is none), its name in *name. */
static size_t reference_at(const char *s, const char **name, size_t *name_len)
{
	size_t n;

	if (s[0] != '{' || s[1] != '{')
		return 0;
	n = named_value_name_len(s + 2);
	if (!n || s[2 + n] != '}' || s[3 + n] != '}')
		return 0;
	*name = s + 2;
	*name_len = n;
	return n + 4;
}

/* Appends @len bytes to the growing *buf (of *used bytes, room *cap), within the budget. */
static int append(struct policy_values *pv, char **buf, size_t *used, size_t *cap, const char *s,
		  size_t len)
{
	char *grown;

	if (len > EXPANDED_MAX - pv->expanded)
		return -EMSGSIZE;
	pv->expanded += len;
	if (*used + len + 1 > *cap) {
		*cap = (*used + len + 1) * 2;
		grown = realloc(*buf, *cap);
		if (!grown)
			return -ENOMEM;
		*buf = grown;
	}
	memcpy(*buf + *used, s, len);
	*used += len;
	(*buf)[*used] = '\0';
	return 0;
}

static int say_value(char *err, size_t errlen, int r, long line, const char *what, const char *name,
		     size_t name_len)
{
	if (r == -ENOENT)
		errmsg(err, errlen, 0,
		       "line %ld: %s: named value {{%.*s}} is not given; "
		       "pass --named-value %.*s=VALUE",
		       line, what, (int)name_len, name, (int)name_len, name);
	else if (r == -EMSGSIZE)
		errmsg(err, errlen, 0,
		       "line %ld: %s: named values make the policy larger than %d bytes", line,
		       what, EXPANDED_MAX);
	else if (r == -EOPNOTSUPP)
		errmsg(err, errlen, 0,
		       "line %ld: %s: policy expressions cannot be evaluated outside API "
		       "Management; put the value it gives in the policy",
		       line, what);
	else
		errmsg(err, errlen, 0, "policy: out of memory");
	return r;
}

int policy_values_expand(struct policy_values *pv, const char *raw, long line, const char *what,
			 char **ret, char *err, size_t errlen)
{
	size_t used = 0, cap = 0, len, name_len = 0;
	const struct policy_named_value *v;
	const char *name = NULL;
	char *buf = NULL;
	int r = 0;

	if (is_expression(raw))
		return say_value(err, errlen, -EOPNOTSUPP, line, what, NULL, 0);
	r = append(pv, &buf, &used, &cap, "", 0);
	for (const char *s = raw; !r && *s; s += len ? len : 1) {
		len = reference_at(s, &name, &name_len);
		v = len ? named_value(pv, name, name_len) : NULL;
		if (len && !v)
			r = -ENOENT;
		else
			r = append(pv, &buf, &used, &cap, len ? (v->value ? v->value : "") : s,
				   len ? (v->value ? strlen(v->value) : 0) : 1);
	}
	if (!r && is_expression(buf))
		r = -EOPNOTSUPP;
	if (r) {
		free(buf);
		return say_value(err, errlen, r, line, what, name, name_len);
	}
	*ret = buf;
	return 0;
}
