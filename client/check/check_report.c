/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_report.h"

#define VALUE_WIDTH 200 /* a claim's value is cut here: groups can be long */

/*
 * @s with what a terminal could take for a control sequence (C0, DEL, and
 * C1 as UTF-8) shown as '?': claims are the token issuer's text, not ours.
 */
static void print_safe(FILE *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f) {
			fputc('?', out);
			i++;
		} else {
			fputc(c < 0x20 || c == 0x7f ? '?' : c, out);
		}
	}
}

static bool is_date_claim(const char *name)
{
	return !strcmp(name, "exp") || !strcmp(name, "nbf") || !strcmp(name, "iat");
}

/* " (2026-11-29 13:00:00 UTC, in 59 min)" for a NumericDate. */
static void print_date(FILE *out, double t, time_t now)
{
	time_t when = (time_t)t; /* dates before 1970 do not matter here */
	long long delta = (long long)when - (long long)now;
	long long mag = llabs(delta);
	struct tm tm;
	char buf[64];

	if (!gmtime_r(&when, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm))
		return;
	if (delta == 0)
		fprintf(out, " (%s, now)", buf);
	else if (mag < 120)
		fprintf(out, " (%s, %s%lld s%s)", buf, delta < 0 ? "" : "in ", mag,
			delta < 0 ? " ago" : "");
	else
		fprintf(out, " (%s, %s%lld min%s)", buf, delta < 0 ? "" : "in ", mag / 60,
			delta < 0 ? " ago" : "");
}

static void print_value(FILE *out, const char *name, const json_t *v, time_t now)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	size_t len = text ? strlen(text) : 0;

	if (!text)
		return;
	if (json_is_string(v)) /* as it reads, without the quotes */
		print_safe(out, text + 1, len > VALUE_WIDTH ? VALUE_WIDTH : len - 2);
	else
		print_safe(out, text, VALUE_WIDTH);
	if (len > VALUE_WIDTH)
		fputs("...", out);
	if (is_date_claim(name) && json_is_number(v))
		print_date(out, json_number_value(v), now);
	free(text);
}

static void print_object(FILE *out, const char *title, const json_t *obj, time_t now)
{
	const char *key;
	json_t *v;

	fprintf(out, "%s:\n", title);
	json_object_foreach((json_t *)obj, key, v)
	{
		fputs("  ", out);
		print_safe(out, key, 64);
		fprintf(out, "%*s ", strlen(key) < 10 ? (int)(10 - strlen(key)) : 0, "");
		print_value(out, key, v, now);
		fputc('\n', out);
	}
}

/* "LABEL TEXT\n", TEXT shown safely: URLs and errors may come from documents fetched. */
static void print_line(FILE *out, const char *label, const char *text, const char *tail)
{
	fprintf(out, "%-11s", label);
	print_safe(out, text, strlen(text));
	fprintf(out, "%s\n", tail);
}

static void print_keys(FILE *out, const struct check_run *run)
{
	for (size_t i = 0; i < run->n_keys; i++) {
		const struct check_keys *k = &run->keys[i];

		print_line(out, "keys:", k->openid_config, "");
		if (!k->set) {
			print_line(out, "", k->error, "");
			continue;
		}
		fprintf(out, "%-11s%zu keys from ", "", jwk_set_count(k->set));
		print_safe(out, k->jwks_uri, strlen(k->jwks_uri));
		fprintf(out, "%s\n",
			!k->from_agent ? ""
			: k->cached    ? " (cached by the agent)"
				       : " (via the agent)");
	}
}

void report_text(FILE *out, const struct jwt *jwt, const char *source, const char *policy,
		 const struct check_run *run, time_t now)
{
	print_line(out, "token:", source, "");
	if (policy)
		print_line(out, "policy:", policy, "");
	print_keys(out, run);
	print_object(out, "header", jwt->header, now);
	print_object(out, "claims", jwt->claims, now);
	fputs("checks:\n", out);
	for (size_t i = 0; i < run->n; i++) {
		const struct jwt_check *c = &run->checks[i];

		fprintf(out, "  %-4s  ", c->ok ? "ok" : "FAIL");
		print_safe(out, c->name, 64);
		fprintf(out, "%*s ", strlen(c->name) < 10 ? (int)(10 - strlen(c->name)) : 0, "");
		if (!c->ok) {
			fputs("expected ", out);
			print_safe(out, c->expected, sizeof(c->expected));
			fputs("; actual ", out);
		}
		print_safe(out, c->actual, sizeof(c->actual));
		fputc('\n', out);
	}
	fprintf(out, "%s\n", check_run_ok(run) ? "valid" : "INVALID");
}

static json_t *checks_json(const struct check_run *run)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < run->n; i++) {
		const struct jwt_check *c = &run->checks[i];

		if (json_array_append_new(list, json_pack("{s:s, s:b, s:s, s:s}", "check", c->name,
							  "ok", c->ok, "expected", c->expected,
							  "actual", c->actual)) < 0)
			list = (json_decref(list), NULL);
	}
	return list;
}

static json_t *keys_json(const struct check_run *run)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < run->n_keys; i++) {
		const struct check_keys *k = &run->keys[i];
		json_t *o = json_pack("{s:s, s:s?, s:s?, s:b, s:b, s:I}", "openid_config",
				      k->openid_config, "issuer", k->issuer, "jwks_uri",
				      k->jwks_uri, "from_agent", k->from_agent, "cached", k->cached,
				      "count", (json_int_t)(k->set ? jwk_set_count(k->set) : 0));

		if (o && !k->set)
			json_object_set_new(o, "error", json_string(k->error));
		if (json_array_append_new(list, o) < 0)
			list = (json_decref(list), NULL);
	}
	return list;
}

int report_json(FILE *out, const struct jwt *jwt, const char *source, const char *policy,
		const struct check_run *run)
{
	json_t *doc = json_pack("{s:b, s:s, s:s?, s:O, s:O, s:o?, s:o?}", "ok", check_run_ok(run),
				"token", source, "policy", policy, "header", jwt->header, "claims",
				jwt->claims, "checks", checks_json(run), "keys", keys_json(run));
	int r;

	if (!doc)
		return -ENOMEM;
	r = json_dumpf(doc, out, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', out);
	json_decref(doc);
	return r < 0 ? -EIO : 0;
}
