/* SPDX-License-Identifier: MIT */
/*
 * Token responses.  Every identity source answers with a JSON object that
 * differs only in field names and in how it spells the expiry, so one
 * parser reads them all.  Messages name fields, never values: a value
 * could be (part of) the token.  The parsed document holds the token too;
 * the agent gives jansson a wiping allocator, so decref is enough here.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "errmsg.h"
#include "token_response.h"

#define TOKEN_MAX_DIGITS     19  /* a numeric string: digits only, below INT64_MAX */
#define TOKEN_ERROR_RAW_MAX  200 /* bytes of a non-JSON error body shown */
#define TOKEN_MIN_YEAR       1970
#define TOKEN_MAX_YEAR       9999
#define TOKEN_MAX_OFFSET_MIN (24 * 60) /* a UTC offset is less than a day */

/* A member of @doc; JSON null counts as absent. */
static json_t *member(json_t *doc, const char *name)
{
	json_t *v = json_object_get(doc, name);

	return json_is_null(v) ? NULL : v;
}

/* "0".."9223372036854775807", digits only: no sign, no space, no fraction. */
static bool parse_digits(const char *s, int64_t *ret)
{
	size_t n = strlen(s);
	int64_t v = 0;

	if (n == 0 || n > TOKEN_MAX_DIGITS || strspn(s, "0123456789") != n)
		return false;
	for (; *s; s++) {
		if (v > (INT64_MAX - (*s - '0')) / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	*ret = v;
	return true;
}

/* A non-negative whole number, as a JSON integer or a string of digits. */
static int number_value(const json_t *v, const char *name, int64_t *ret, char *err, size_t errlen)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*ret = (int64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && parse_digits(json_string_value(v), ret))
		return 0;
	return errmsg(err, errlen, -EINVAL, "%s is not a non-negative whole number", name);
}

/* Reads @min..@max digits at *@p. */
static bool scan_num(const char **p, int min, int max, int *ret)
{
	int n = 0, v = 0;

	while (n < max && (*p)[n] >= '0' && (*p)[n] <= '9') {
		v = v * 10 + ((*p)[n] - '0');
		n++;
	}
	if (n < min)
		return false;
	*p += n;
	*ret = v;
	return true;
}

static bool scan_char(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

static bool leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Checks a calendar date and time (year, month 1..12, not yet tm-adjusted). */
static bool date_valid(int year, int mon, int mday, int hour, int min, int sec)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (year < TOKEN_MIN_YEAR || year > TOKEN_MAX_YEAR || mon < 1 || mon > 12)
		return false;
	if (mday < 1 || mday > days[mon - 1] + (mon == 2 && leap_year(year)))
		return false;
	return hour <= 23 && min <= 59 && sec <= 59;
}

/* " AM" / " PM" of the Windows spelling: turns the 12-hour @hour into 0..23. */
static bool scan_meridiem(const char **p, int *hour)
{
	bool pm;

	if (strncmp(*p, " AM", 3) != 0 && strncmp(*p, " PM", 3) != 0)
		return true; /* the 24-hour Linux spelling */
	pm = (*p)[1] == 'P';
	if (*hour < 1 || *hour > 12)
		return false;
	*hour = *hour % 12 + (pm ? 12 : 0);
	*p += 3;
	return true;
}

/* " +HH:MM" or " -HH:MM", the end of the string: sets *@ret in seconds east of UTC. */
static bool scan_offset(const char *p, int64_t *ret)
{
	int sign, oh, om;

	if (!scan_char(&p, ' ') || (*p != '+' && *p != '-'))
		return false;
	sign = *p++ == '-' ? -1 : 1;
	if (!scan_num(&p, 2, 2, &oh) || !scan_char(&p, ':') || !scan_num(&p, 2, 2, &om) || *p)
		return false;
	if (om > 59 || oh * 60 + om >= TOKEN_MAX_OFFSET_MIN)
		return false;
	*ret = sign * ((int64_t)oh * 3600 + om * 60);
	return true;
}

/*
 * App Service 2017-09-01: "06/20/2019 02:57:58 +00:00" on Linux,
 * "6/20/2019 2:57:58 AM +00:00" on Windows.
 */
static bool parse_app_service_date(const char *s, int64_t *ret)
{
	struct tm tm = { .tm_isdst = 0 };
	const char *p = s;
	int64_t offset;
	int mon, year;

	if (!scan_num(&p, 1, 2, &mon) || !scan_char(&p, '/') || !scan_num(&p, 1, 2, &tm.tm_mday) ||
	    !scan_char(&p, '/') || !scan_num(&p, 4, 4, &year) || !scan_char(&p, ' ') ||
	    !scan_num(&p, 1, 2, &tm.tm_hour) || !scan_char(&p, ':') ||
	    !scan_num(&p, 2, 2, &tm.tm_min) || !scan_char(&p, ':') ||
	    !scan_num(&p, 2, 2, &tm.tm_sec) || !scan_meridiem(&p, &tm.tm_hour) ||
	    !scan_offset(p, &offset))
		return false;
	if (!date_valid(year, mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec))
		return false;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	*ret = (int64_t)timegm(&tm) - offset;
	return true;
}

/* The Azure CLI's "expiresOn": local time "2019-06-20 04:57:58.123456" (fraction optional). */
static bool parse_cli_local_time(const char *s, int64_t *ret)
{
	struct tm tm = { .tm_isdst = -1 };
	const char *p = s;
	int mon, year, frac;
	time_t t;

	if (!scan_num(&p, 4, 4, &year) || !scan_char(&p, '-') || !scan_num(&p, 2, 2, &mon) ||
	    !scan_char(&p, '-') || !scan_num(&p, 2, 2, &tm.tm_mday) || !scan_char(&p, ' ') ||
	    !scan_num(&p, 2, 2, &tm.tm_hour) || !scan_char(&p, ':') ||
	    !scan_num(&p, 2, 2, &tm.tm_min) || !scan_char(&p, ':') ||
	    !scan_num(&p, 2, 2, &tm.tm_sec))
		return false;
	if (scan_char(&p, '.') && !scan_num(&p, 1, 9, &frac))
		return false;
	if (*p || !date_valid(year, mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec))
		return false;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	t = mktime(&tm);
	if (t == (time_t)-1)
		return false;
	*ret = (int64_t)t;
	return true;
}

static int expires_on_value(const json_t *v, int64_t *ret, char *err, size_t errlen)
{
	const char *s = json_string_value(v);

	if (json_is_integer(v) || (s && strspn(s, "0123456789") == strlen(s)))
		return number_value(v, "expires_on", ret, err, errlen);
	if (s && parse_app_service_date(s, ret))
		return 0;
	return errmsg(err, errlen, -EINVAL, "expires_on is neither a number of seconds nor a date");
}

/* The expiry in unix seconds, from whichever field the source sends. */
static int expiry_field(json_t *doc, int64_t now, int64_t *ret, char *err, size_t errlen)
{
	int64_t t = 0, in;
	json_t *v;
	int r;

	if ((v = member(doc, "expires_on"))) {
		r = expires_on_value(v, &t, err, errlen);
	} else if ((v = member(doc, "expiresOn"))) {
		r = json_is_string(v) && parse_cli_local_time(json_string_value(v), &t)
			? 0
			: errmsg(err, errlen, -EINVAL,
				 "expiresOn is not a date \"YYYY-MM-DD HH:MM:SS\"");
	} else if ((v = member(doc, "expires_in"))) {
		r = number_value(v, "expires_in", &in, err, errlen);
		if (r == 0 && in > INT64_MAX - now)
			r = errmsg(err, errlen, -EINVAL, "expires_in is out of range");
		t = r == 0 ? now + in : 0;
	} else {
		return errmsg(err, errlen, -EINVAL, "no expires_on or expires_in in the response");
	}
	if (r < 0)
		return r;
	if (t <= now)
		return errmsg(err, errlen, -EINVAL, "the token has already expired");
	if (t - now > TOKEN_RESPONSE_MAX_LIFETIME)
		return errmsg(err, errlen, -EINVAL, "the token expires more than %d days from now",
			      TOKEN_RESPONSE_MAX_LIFETIME / (24 * 3600));
	*ret = t;
	return 0;
}

static int refresh_field(json_t *doc, int64_t *ret, char *err, size_t errlen)
{
	json_t *v = member(doc, "refresh_in");

	if (!v) {
		*ret = -1;
		return 0;
	}
	return number_value(v, "refresh_in", ret, err, errlen);
}

static int type_field(json_t *doc, char *out, size_t outlen, char *err, size_t errlen)
{
	json_t *v = member(doc, "token_type");
	const char *s;
	size_t n;

	if (!v)
		v = member(doc, "tokenType"); /* Azure CLI */
	if (!v) {
		snprintf(out, outlen, "Bearer");
		return 0;
	}
	s = json_string_value(v);
	if (!s)
		return errmsg(err, errlen, -EINVAL, "token_type is not a string");
	n = strlen(s);
	if (n == 0 || n >= outlen)
		return errmsg(err, errlen, -EINVAL, "token_type must be 1 to %zu characters",
			      outlen - 1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return errmsg(err, errlen, -EINVAL,
				      "token_type holds a character other than ASCII "
				      "letters, digits and punctuation");
	snprintf(out, outlen, "%s", strcasecmp(s, "bearer") == 0 ? "Bearer" : s);
	return 0;
}

/* RFC 6750's b64token, less the trailing "=" padding. */
static bool b64token_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

/* What kind of byte @c is, for a message that must not show the token. */
static const char *byte_class(unsigned char c)
{
	if (c >= 0x80)
		return "a non-ASCII byte";
	if (c < 0x20 || c == 0x7f)
		return "a control character";
	if (c == ' ')
		return "a space";
	if (c == '=')
		return "\"=\" padding before the end";
	return "punctuation outside the bearer token alphabet (letters, digits, - . _ ~ + /)";
}

int token_response_check_token(const char *s, size_t n, char *err, size_t errlen)
{
	size_t end = n;

	while (end > 0 && s[end - 1] == '=')
		end--;
	if (end == 0)
		return errmsg(err, errlen, -EINVAL, "access_token is %s",
			      n ? "only \"=\" padding" : "empty");
	for (size_t i = 0; i < end; i++)
		if (!b64token_char((unsigned char)s[i]))
			return errmsg(err, errlen, -EINVAL,
				      "access_token is not a bearer token: byte %zu is %s", i,
				      byte_class((unsigned char)s[i]));
	return 0;
}

/* Finds and checks the token; the copy is made last, once everything else passed. */
static int token_field(json_t *doc, const json_t **ret, char *err, size_t errlen)
{
	json_t *v = member(doc, "access_token");
	const char *s;
	size_t n;
	int r;

	if (!v)
		v = member(doc, "accessToken"); /* Azure CLI */
	if (!v)
		return errmsg(err, errlen, -EINVAL, "no access_token in the response");
	if (!json_is_string(v))
		return errmsg(err, errlen, -EINVAL, "access_token is not a string");
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0)
		return errmsg(err, errlen, -EINVAL, "access_token is empty");
	if (n > TOKEN_RESPONSE_MAX_TOKEN)
		return errmsg(err, errlen, -EINVAL, "access_token is longer than %d bytes",
			      TOKEN_RESPONSE_MAX_TOKEN);
	r = token_response_check_token(s, n, err, errlen);
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}

/* The first of preferred_username, upn, email in the claims of @jwt (not
 * verified: for display only), or nothing. */
static void account_from_jwt(const char *jwt, char *out, size_t outlen)
{
	static const char *const claims[] = { "preferred_username", "upn", "email" };
	const char *dot = jwt ? strchr(jwt, '.') : NULL, *end = dot ? strchr(dot + 1, '.') : NULL;
	size_t len = end ? (size_t)(end - dot - 1) : 0, bin_len = 0;
	unsigned char *bin = len && len <= TOKEN_RESPONSE_MAX_ID ? malloc(len) : NULL;
	json_t *doc = NULL;

	if (bin && sodium_base642bin(bin, len, dot + 1, len, NULL, &bin_len, NULL,
				     sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0)
		doc = json_loadb((const char *)bin, bin_len, 0, NULL);
	for (size_t i = 0; json_is_object(doc) && i < 3 && !*out; i++) {
		const json_t *v = json_object_get(doc, claims[i]);

		if (json_is_string(v))
			snprintf(out, outlen, "%s", json_string_value(v));
	}
	for (char *c = out; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	json_decref(doc);
	if (bin) {
		sodium_memzero(bin, len);
		free(bin);
	}
}

/* "refresh_token" and who signed in, when the response has them. */
static int person_fields(json_t *doc, struct token_response *t, const char *access_token, char *err,
			 size_t errlen)
{
	const json_t *rt = member(doc, "refresh_token"), *id = member(doc, "id_token");

	/* IMDS sends "refresh_token": "": only a real one counts. */
	if (!json_is_string(rt) || json_string_length(rt) == 0 ||
	    json_string_length(rt) > TOKEN_RESPONSE_MAX_REFRESH)
		rt = NULL;
	if (rt) {
		t->refresh_token_len = json_string_length(rt);
		t->refresh_token = sodium_malloc(t->refresh_token_len + 1);
		if (!t->refresh_token) {
			t->refresh_token_len = 0;
			return errmsg(err, errlen, -ENOMEM, "out of memory");
		}
		memcpy(t->refresh_token, json_string_value(rt), t->refresh_token_len + 1);
	}
	account_from_jwt(json_is_string(id) ? json_string_value(id) : NULL, t->account,
			 sizeof(t->account));
	if (!t->account[0])
		account_from_jwt(access_token, t->account, sizeof(t->account));
	return 0;
}

static int parse_object(json_t *doc, int64_t now, struct token_response *t, char *err,
			size_t errlen)
{
	const json_t *tok = NULL;
	int r;

	r = token_field(doc, &tok, err, errlen);
	if (r == 0)
		r = type_field(doc, t->token_type, sizeof(t->token_type), err, errlen);
	if (r == 0)
		r = expiry_field(doc, now, &t->expires_on, err, errlen);
	if (r == 0)
		r = refresh_field(doc, &t->refresh_in, err, errlen);
	if (r < 0)
		return r;
	t->access_token_len = json_string_length(tok);
	t->access_token = malloc(t->access_token_len + 1);
	if (!t->access_token) {
		t->access_token_len = 0;
		errmsg(err, errlen, -EINVAL, "out of memory");
		return -ENOMEM;
	}
	memcpy(t->access_token, json_string_value(tok), t->access_token_len + 1);
	return person_fields(doc, t, t->access_token, err, errlen);
}

int token_response_parse(const char *body, size_t len, int64_t now, struct token_response *ret,
			 char *err, size_t errlen)
{
	struct token_response t = { .refresh_in = -1 };
	json_error_t jerr;
	json_t *doc;
	int r;

	if (!body || len == 0)
		return errmsg(err, errlen, -EINVAL, "empty response");
	/* jansson's error text may quote the body, so it is never passed on. */
	doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc && json_error_code(&jerr) == json_error_out_of_memory) {
		errmsg(err, errlen, -EINVAL, "out of memory");
		return -ENOMEM;
	}
	if (!doc)
		return errmsg(err, errlen, -EINVAL, "%s",
			      json_error_code(&jerr) == json_error_duplicate_key
				  ? "response has a duplicate key"
				  : "response is not JSON");
	if (json_is_object(doc))
		r = parse_object(doc, now, &t, err, errlen);
	else
		r = errmsg(err, errlen, -EINVAL, "response is not a JSON object");
	json_decref(doc);
	if (r < 0) {
		token_response_done(&t);
		return r;
	}
	*ret = t;
	return 0;
}

void token_response_done(struct token_response *r)
{
	if (!r)
		return;
	if (r->access_token) {
		sodium_memzero(r->access_token, r->access_token_len);
		free(r->access_token);
	}
	sodium_free(r->refresh_token); /* wipes */
	*r = (struct token_response){ .access_token = NULL };
}

/* Bounded one-line output for token_error_describe(). */
struct sink {
	char *out;
	size_t cap; /* bytes of text, without the NUL */
	size_t len;
	bool space; /* a line break or tab is pending, written before the next byte */
};

/* Bytes in the UTF-8 sequence that @c starts (1 for anything that does not). */
static size_t utf8_len(unsigned char c)
{
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	if (c >= 0xe0)
		return c <= 0xef ? 3 : 1;
	return c >= 0xc2 && c <= 0xdf ? 2 : 1;
}

/*
 * Appends @n bytes of @p.  @utf8: @p is valid UTF-8 (from jansson) and its
 * characters are kept whole; otherwise every byte above 0x7e becomes '?'.
 * Runs of white space become one space, and only between words.
 */
static void sink_text(struct sink *s, const char *p, size_t n, bool utf8)
{
	size_t i = 0, k;

	while (i < n) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
			s->space = s->len > 0;
			i++;
			continue;
		}
		k = utf8 && c >= 0x80 ? utf8_len(c) : 1;
		if (k > n - i)
			k = 1;
		if (k + s->space > s->cap - s->len)
			break; /* what does not fit whole is left out */
		if (s->space)
			s->out[s->len++] = ' ';
		s->space = false;
		if (k > 1)
			memcpy(s->out + s->len, p + i, k);
		else
			s->out[s->len] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
		s->len += k;
		i += k;
	}
}

static void sink_string(struct sink *s, const json_t *v)
{
	sink_text(s, json_string_value(v), json_string_length(v), true);
}

static bool text_member(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) > 0;
}

/* "first: second", either part optional.  False when neither is there. */
static bool describe_pair(struct sink *s, const json_t *first, const json_t *second)
{
	if (text_member(first))
		sink_string(s, first);
	if (text_member(first) && text_member(second)) {
		s->space = false;
		sink_text(s, ": ", 2, false);
	}
	if (text_member(second))
		sink_string(s, second);
	return s->len > 0;
}

static bool describe_json(struct sink *s, json_t *doc)
{
	json_t *e = json_object_get(doc, "error");

	if (json_is_string(e))
		return describe_pair(s, e, json_object_get(doc, "error_description"));
	if (json_is_object(e))
		return describe_pair(s, json_object_get(e, "code"), json_object_get(e, "message"));
	if (describe_pair(s, NULL, json_object_get(doc, "message")))
		return true;
	return describe_pair(s, NULL, json_object_get(doc, "Message"));
}

void token_error_describe(const char *body, size_t len, char *out, size_t outlen)
{
	struct sink s = { .out = out, .cap = outlen ? outlen - 1 : 0 };
	json_t *doc = NULL;

	if (!out || outlen == 0)
		return;
	if (!body || len == 0) {
		snprintf(out, outlen, "empty response body");
		return;
	}
	doc = json_loadb(body, len, 0, NULL);
	if (!json_is_object(doc) || !describe_json(&s, doc)) {
		s.len = 0;
		s.space = false;
		sink_text(&s, body, len < TOKEN_ERROR_RAW_MAX ? len : TOKEN_ERROR_RAW_MAX, false);
	}
	json_decref(doc);
	out[s.len] = '\0';
	if (s.len == 0)
		snprintf(out, outlen, "empty response body");
}
