/* SPDX-License-Identifier: MIT */
/*
 * The claim checks of validate-jwt / validate-azure-ad-token, one result each
 * with what was expected and what the token holds, so that `aoai check` can
 * say why API Management would answer 401 without the reader decoding the
 * token by hand.  Texts are cut at JWT_CHECK_TEXT; claims are the token
 * owner's own data, the signature is never looked at here.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwt.h"

#define ENTRA_TENANT_MAX 253 /* a DNS name at most */
#define ENTRA_V1_ISSUER  "https://sts.windows.net/"
#define ENTRA_V2_ISSUER  "https://login.microsoftonline.com/"

static void result_init(struct jwt_check *ret, const char *name)
{
	memset(ret, 0, sizeof(*ret));
	ret->name = name;
}

/* Appends to a text buffer, ending it with "..." when it runs out. */
static void text_add(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(char *buf, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;
	int n;

	if (used >= JWT_CHECK_TEXT - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + used, JWT_CHECK_TEXT - used, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= JWT_CHECK_TEXT - used)
		memcpy(buf + JWT_CHECK_TEXT - 4, "...", 4);
}

static void text_list(char *buf, const char *const *items, size_t n)
{
	if (!n)
		text_add(buf, "(none configured)");
	for (size_t i = 0; i < n; i++)
		text_add(buf, "%s%s", i ? ", " : "", items[i]);
}

static void text_date(char *buf, double t)
{
	struct tm tm;
	time_t s = (time_t)t;
	char date[32];

	if (!gmtime_r(&s, &tm) || !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(date, sizeof(date), "?");
	text_add(buf, "%s (%.0f)", date, t);
}

/* A NumericDate within what time_t and gmtime can show, else false. */
static bool numeric_date(const json_t *v, double *ret)
{
	double t;

	if (!json_is_number(v))
		return false;
	t = json_number_value(v);
	if (!isfinite(t) || t < 0 || t > 253402300799.0) /* 9999-12-31T23:59:59Z */
		return false;
	*ret = t;
	return true;
}

static bool lifetime_claim(const struct jwt *jwt, const char *name, struct jwt_check *ret,
			   double *t)
{
	json_t *v = json_object_get(jwt->claims, name);

	if (!v) {
		text_add(ret->actual, "absent");
		return false;
	}
	if (!numeric_date(v, t)) {
		text_add(ret->actual, "not a date in seconds since 1970");
		return false;
	}
	text_date(ret->actual, *t);
	return true;
}

void jwt_check_exp(const struct jwt *jwt, time_t now, long skew, struct jwt_check *ret)
{
	double exp;

	result_init(ret, "exp");
	text_add(ret->expected, "after ");
	text_date(ret->expected, (double)now);
	text_add(ret->expected, ", skew %ld s", skew);
	if (!lifetime_claim(jwt, "exp", ret, &exp))
		return;
	/* RFC 7519 §4.1.4: the token is refused on or after exp. */
	ret->ok = (double)now < exp + (double)skew;
}

void jwt_check_nbf(const struct jwt *jwt, time_t now, long skew, struct jwt_check *ret)
{
	double nbf;

	result_init(ret, "nbf");
	text_add(ret->expected, "absent or at most ");
	text_date(ret->expected, (double)now);
	text_add(ret->expected, ", skew %ld s", skew);
	if (!json_object_get(jwt->claims, "nbf")) {
		text_add(ret->actual, "absent");
		ret->ok = true;
		return;
	}
	if (!lifetime_claim(jwt, "nbf", ret, &nbf))
		return;
	ret->ok = nbf <= (double)now + (double)skew;
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

/* Shows a claim as the token holds it: a string, or its JSON for anything else. */
static void text_claim(char *buf, const json_t *v)
{
	char *dump;

	if (!v) {
		text_add(buf, "absent");
		return;
	}
	if (json_is_string(v)) {
		text_add(buf, "%s", json_string_value(v));
		return;
	}
	dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	text_add(buf, "%s", dump ? dump : "?");
	free(dump);
}

/* A string equal to one of @list, or an array with such a string in it. */
static bool string_or_array_in(const json_t *v, const char *const *list, size_t n)
{
	size_t i;
	json_t *item;

	if (json_is_string(v))
		return in_list(json_string_value(v), list, n);
	json_array_foreach(v, i, item)
	{
		if (json_is_string(item) && in_list(json_string_value(item), list, n))
			return true;
	}
	return false;
}

static void check_one_of(const struct jwt *jwt, const char *name, const char *const *list, size_t n,
			 struct jwt_check *ret)
{
	json_t *v = json_object_get(jwt->claims, name);

	result_init(ret, name);
	text_add(ret->expected, n > 1 ? "one of " : "");
	text_list(ret->expected, list, n);
	text_claim(ret->actual, v);
	ret->ok = v && string_or_array_in(v, list, n);
}

void jwt_check_audience(const struct jwt *jwt, const char *const *auds, size_t n,
			struct jwt_check *ret)
{
	check_one_of(jwt, "aud", auds, n, ret);
}

void jwt_check_issuer(const struct jwt *jwt, const char *const *issuers, size_t n,
		      struct jwt_check *ret)
{
	json_t *iss = json_object_get(jwt->claims, "iss");

	check_one_of(jwt, "iss", issuers, n, ret);
	/* iss is a single StringOrURI (RFC 7519 §4.1.1), never an array. */
	if (!json_is_string(iss))
		ret->ok = false;
}

void jwt_check_client_app(const struct jwt *jwt, const char *const *ids, size_t n,
			  struct jwt_check *ret)
{
	/* v1 tokens name the client in appid, v2 tokens in azp. */
	const char *name = json_object_get(jwt->claims, "appid") ? "appid" : "azp";

	check_one_of(jwt, name, ids, n, ret);
	if (!json_is_string(json_object_get(jwt->claims, name)))
		ret->ok = false;
}

/* Whether @list, split at each @sep (empty parts skipped), holds @want. */
static bool part_in(const char *list, const char *sep, const char *want)
{
	size_t wlen = strlen(want), slen = strlen(sep);

	for (const char *p = list;;) {
		const char *end = strstr(p, sep);
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == wlen && wlen && !memcmp(p, want, n))
			return true;
		if (!end)
			return false;
		p = end + slen;
	}
}

/* A string claim is one value, or with @sep several (Entra writes delegated
 * scopes as one string, "User.Read Mail.Send"); an array holds strings. */
static bool claim_has(const json_t *v, const char *sep, const char *want)
{
	size_t i;
	json_t *item;

	if (json_is_string(v))
		return sep && *sep ? part_in(json_string_value(v), sep, want)
				   : !strcmp(json_string_value(v), want);
	json_array_foreach(v, i, item)
	{
		if (json_is_string(item) && !strcmp(json_string_value(item), want))
			return true;
	}
	return false;
}

void jwt_check_claim(const struct jwt *jwt, const char *name, const char *const *values, size_t n,
		     enum jwt_match match, const char *separator, struct jwt_check *ret)
{
	json_t *v = json_object_get(jwt->claims, name);
	size_t found = 0;

	result_init(ret, name);
	if (n) {
		text_add(ret->expected, "%s of ", match == JWT_MATCH_ALL ? "all" : "any");
		text_list(ret->expected, values, n);
	} else {
		text_add(ret->expected, "present");
	}
	text_claim(ret->actual, v);
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		found += claim_has(v, separator, values[i]);
	ret->ok = !n || (match == JWT_MATCH_ALL ? found == n : found > 0);
}

static bool tenant_valid(const char *tid)
{
	size_t len = strlen(tid);

	if (!len || len > ENTRA_TENANT_MAX)
		return false;
	return strspn(tid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-") ==
	       len;
}

int jwt_entra_issuers(const char *tid, char *v1, size_t v1len, char *v2, size_t v2len)
{
	int n1, n2;

	if (!tenant_valid(tid))
		return -EINVAL;
	n1 = snprintf(v1, v1len, ENTRA_V1_ISSUER "%s/", tid);
	n2 = snprintf(v2, v2len, ENTRA_V2_ISSUER "%s/v2.0", tid);
	if (n1 < 0 || (size_t)n1 >= v1len || n2 < 0 || (size_t)n2 >= v2len)
		return -ENOBUFS;
	return 0;
}

int jwt_entra_tenant(const char *iss, char *tid, size_t len)
{
	static const char *const prefixes[] = { ENTRA_V1_ISSUER, ENTRA_V2_ISSUER };
	char v1[ENTRA_TENANT_MAX + 64], v2[ENTRA_TENANT_MAX + 64];

	for (size_t i = 0; i < 2; i++) {
		size_t plen = strlen(prefixes[i]), n;

		if (strncmp(iss, prefixes[i], plen) != 0)
			continue;
		n = strcspn(iss + plen, "/");
		if (n >= len)
			return -EINVAL;
		memcpy(tid, iss + plen, n);
		tid[n] = '\0';
		/* Only the exact spellings: the tenant's own issuers, nothing after. */
		if (jwt_entra_issuers(tid, v1, sizeof(v1), v2, sizeof(v2)) == 0 &&
		    (!strcmp(iss, v1) || !strcmp(iss, v2)))
			return 0;
	}
	return -EINVAL;
}
