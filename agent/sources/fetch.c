/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "arc_challenge.h"
#include "fetch.h"
#include "url_escape.h"
#include "hosts.h"

#define FETCH_MAX_URL  8192
#define FETCH_MAX_BODY 65536

static char *wipe_free(char *s, size_t len)
{
	if (s) {
		sodium_memzero(s, len);
		free(s);
	}
	return NULL;
}

static void fetch_free(struct source_fetch *f)
{
	http_cancel(f->req);
	if (f->cancel)
		f->cancel(f->cancel_data);
	wipe_free(f->url, f->url ? strlen(f->url) : 0);
	wipe_free(f->body, f->body_len);
	for (size_t i = 0; i < f->n_headers; i++)
		wipe_free(f->headers[i], strlen(f->headers[i]));
	for (size_t i = 0; i < f->n_secrets; i++)
		sodium_free(f->secrets[i]); /* wipes */
	sodium_memzero(f, sizeof(*f));
	free(f);
}

void source_cancel(struct source_fetch *f)
{
	if (f)
		fetch_free(f);
}

void fetch_finish(struct source_fetch *f, struct token_response *tok,
		  const struct source_error *err)
{
	struct source_error copy;

	f->req = NULL; /* http frees it after the callback */
	if (f->filter && err) {
		copy = *err;
		f->filter(f, NULL, &copy);
		err = &copy;
	} else if (f->filter) {
		f->filter(f, tok, NULL);
	}
	f->done(f->userdata, tok, err);
	fetch_free(f);
}

/* Replaces every occurrence of @secret in @msg (of @size bytes) by "[redacted]". */
static void mask(char *msg, size_t size, const char *secret)
{
	static const char mark[] = "[redacted]";
	size_t slen = strlen(secret), used = 0;
	char out[SOURCE_MAX_MESSAGE];
	const char *p = msg, *hit;

	if (slen == 0 || !strstr(msg, secret))
		return;
	while ((hit = strstr(p, secret)) && used < sizeof(out) - 1) {
		used += (size_t)snprintf(out + used, sizeof(out) - used, "%.*s%s", (int)(hit - p),
					 p, mark);
		p = hit + slen;
	}
	if (used < sizeof(out) - 1)
		snprintf(out + used, sizeof(out) - used, "%s", p);
	snprintf(msg, size, "%s", out);
	sodium_memzero(out, sizeof(out));
}

void fetch_error(struct source_fetch *f, struct source_error *err, long status, bool retryable,
		 const char *fmt, ...)
{
	char text[SOURCE_MAX_MESSAGE - 32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	err->status = status;
	err->retryable = retryable;
	err->retry_after = -1;
	snprintf(err->message, sizeof(err->message), "%.24s: %s", f->name, text);
	for (size_t i = 0; i < f->n_secrets; i++)
		mask(err->message, sizeof(err->message), f->secrets[i]);
	sodium_memzero(text, sizeof(text));
}

/* Keeps @value, raw and form-encoded, for mask(). */
int fetch_note_secret(struct source_fetch *f, const char *value, size_t len)
{
	char *esc = url_escape(value, len);
	const char *forms[2] = { value, esc };
	size_t lens[2] = { len, esc ? strlen(esc) : 0 };
	int r = esc ? 0 : -ENOMEM;

	for (size_t i = 0; i < 2 && r == 0; i++) {
		char *copy;

		if (i == 1 && lens[1] == len && memcmp(esc, value, len) == 0)
			break; /* nothing to encode */
		if (f->n_secrets == FETCH_MAX_SECRETS || !(copy = sodium_malloc(lens[i] + 1))) {
			r = -ENOMEM;
			break;
		}
		memcpy(copy, forms[i], lens[i]);
		copy[lens[i]] = '\0';
		f->secrets[f->n_secrets++] = copy;
	}
	url_escape_free(esc);
	return r;
}

int fetch_add_secret_header(struct source_fetch *f, const char *name, const char *value)
{
	int r = fetch_note_secret(f, value, strlen(value));

	return r ? r : fetch_add_header(f, name, value);
}

int fetch_add_secret_form(struct source_fetch *f, const char *key, const char *value, size_t len)
{
	int r = fetch_note_secret(f, value, len);

	return r ? r : fetch_add_form(f, key, value, len);
}

int fetch_add_header(struct source_fetch *f, const char *name, const char *value)
{
	char *h;

	if (f->n_headers == HTTP_MAX_HEADERS - 1)
		return -E2BIG;
	if (asprintf(&h, "%s: %s", name, value) < 0)
		return -ENOMEM;
	f->headers[f->n_headers++] = h;
	return 0;
}

/* Appends "@sep@key=escaped" to *@buf (length *@len), growing it by copying so
 * no unwiped copy of a secret is left behind. */
static int append_param(char **buf, size_t *len, char sep, const char *key, const char *value,
			size_t vlen, size_t max)
{
	char *esc = url_escape(value, vlen);
	char sepstr[2] = { sep, '\0' };
	size_t need;
	char *n;

	if (!esc)
		return -ENOMEM;
	need = *len + 1 + strlen(key) + 1 + strlen(esc) + 1;
	n = need <= max ? malloc(need) : NULL;
	if (n) {
		snprintf(n, need, "%s%s%s=%s", *buf ? *buf : "", *len ? sepstr : "", key, esc);
		wipe_free(*buf, *len);
		*buf = n;
		*len = strlen(n);
	}
	url_escape_free(esc);
	return n ? 0 : need > max ? -E2BIG : -ENOMEM;
}

int fetch_add_query(struct source_fetch *f, const char *key, const char *value)
{
	size_t len = strlen(f->url);

	return append_param(&f->url, &len, strchr(f->url, '?') ? '&' : '?', key, value,
			    strlen(value), FETCH_MAX_URL);
}

int fetch_add_form(struct source_fetch *f, const char *key, const char *value, size_t len)
{
	return append_param(&f->body, &f->body_len, '&', key, value, len, FETCH_MAX_BODY);
}

/* aoai-agent.json(5): token endpoints are https, except loopback and the IMDS address. */
int fetch_set_url(struct source_fetch *f, const char *url, struct source_error *err)
{
	struct url_target t;
	char why[256];

	if (url_target_parse(url, &t, why, sizeof(why)) < 0) {
		fetch_error(f, err, 0, false, "endpoint: %s", why);
		return -EINVAL;
	}
	f->allow_http = !t.https;
	if (!t.https && !t.loopback && strcmp(t.host, "169.254.169.254") != 0) {
		fetch_error(f, err, 0, false, "endpoint %s:%d: plain http only to loopback or IMDS",
			    t.host, t.port);
		return -EINVAL;
	}
	wipe_free(f->url, f->url ? strlen(f->url) : 0);
	f->url = strdup(url);
	return f->url ? 0 : -ENOMEM;
}

static bool status_retryable(long status)
{
	return status == 404 || status == 408 || status == 410 || status == 429 || status >= 500;
}

static void on_response(const struct http_response *resp, void *userdata);

/* Azure Arc answers the first request with a challenge naming a key file
 * that proves the caller may read it; the retry carries its contents. */
static int answer_arc_challenge(struct source_fetch *f, const char *challenge,
				struct source_error *err)
{
	char path[512], why[256];
	char *key = NULL, *basic = NULL;
	size_t key_len = 0;
	int r;

	f->arc = false; /* only once */
	r = arc_challenge_key_path(challenge, f->arc_dir, path, sizeof(path), why, sizeof(why));
	if (r == 0)
		r = arc_challenge_read_key(path, &key, &key_len, why, sizeof(why));
	if (r < 0) {
		fetch_error(f, err, 401, false, "challenge refused: %s", why);
		return r;
	}
	r = fetch_note_secret(f, key, key_len);
	if (r == 0)
		r = asprintf(&basic, "Basic %.*s", (int)key_len, key) < 0 ? -ENOMEM : 0;
	sodium_free(key);
	if (r == 0)
		r = fetch_add_header(f, "Authorization", basic);
	wipe_free(basic, basic ? strlen(basic) : 0);
	if (r == 0)
		r = fetch_send(f, err);
	else
		fetch_error(f, err, 0, false, "out of memory");
	return r;
}

/* @text with every @secret replaced by "[redacted]" (a new string), or NULL. */
static char *replaced(const char *text, const char *secret)
{
	static const char mark[] = "[redacted]";
	size_t slen = strlen(secret), n = 0, len;
	const char *p, *hit;
	char *out, *o;

	for (p = text; slen && (hit = strstr(p, secret)); p = hit + slen)
		n++;
	len = strlen(text) + n * (sizeof(mark) - 1);
	out = o = malloc(len + 1);
	if (!out)
		return NULL;
	for (p = text; slen && (hit = strstr(p, secret)); p = hit + slen) {
		o = mempcpy(o, p, (size_t)(hit - p));
		o = mempcpy(o, mark, sizeof(mark) - 1);
	}
	memcpy(o, p, strlen(p) + 1);
	return out;
}

void fetch_describe_error(const struct http_response *resp, char *const *secrets, size_t n,
			  char *out, size_t outlen)
{
	char *body = strndup(resp->body, resp->body_len);

	for (size_t i = 0; body && i < n; i++) {
		char *next = replaced(body, secrets[i]);

		wipe_free(body, strlen(body));
		body = next;
	}
	if (!body) {
		snprintf(out, outlen, "out of memory describing the error");
		return;
	}
	token_error_describe(body, strlen(body), out, outlen);
	wipe_free(body, strlen(body));
}

/* RFC 6749 §5.2: the "error" code of an error body, when it has one. */
static void oauth_error(const struct http_response *resp, char *out, size_t outlen)
{
	json_t *doc = json_loadb(resp->body, resp->body_len, 0, NULL);
	const json_t *e = json_object_get(doc, "error");

	if (json_is_string(e) &&
	    strspn(json_string_value(e), "abcdefghijklmnopqrstuvwxyz_") == json_string_length(e))
		snprintf(out, outlen, "%s", json_string_value(e));
	json_decref(doc);
}

static void response_error(struct source_fetch *f, const struct http_response *resp,
			   struct source_error *err)
{
	char desc[SOURCE_MAX_MESSAGE - 64];

	if (resp->curl_code != 0) {
		fetch_error(f, err, 0, true, "%s", resp->error);
		return;
	}
	fetch_describe_error(resp, f->secrets, f->n_secrets, desc, sizeof(desc));
	fetch_error(f, err, resp->status, status_retryable(resp->status), "HTTP %ld: %s",
		    resp->status, desc);
	err->retry_after = http_retry_after(resp->retry_after);
	if (resp->status >= 400 && resp->status < 500)
		oauth_error(resp, err->oauth_error, sizeof(err->oauth_error));
}

static void on_response(const struct http_response *resp, void *userdata)
{
	struct source_fetch *f = userdata;
	struct token_response tok = { 0 };
	struct source_error err = { 0 };
	char why[256];

	f->req = NULL;
	if (resp->curl_code == 0 && resp->status == 401 && f->arc && *resp->www_authenticate) {
		if (answer_arc_challenge(f, resp->www_authenticate, &err) == 0)
			return; /* the retry's response comes back here */
		fetch_finish(f, NULL, &err);
		return;
	}
	if (resp->curl_code != 0 || resp->status != 200) {
		response_error(f, resp, &err);
		fetch_finish(f, NULL, &err);
		return;
	}
	if (token_response_parse(resp->body, resp->body_len, (int64_t)time(NULL), &tok, why,
				 sizeof(why)) < 0) {
		fetch_error(f, &err, 200, true, "unusable response: %s", why);
		fetch_finish(f, NULL, &err);
		return;
	}
	fetch_finish(f, &tok, NULL);
	token_response_done(&tok);
}

int fetch_send(struct source_fetch *f, struct source_error *err)
{
	return fetch_send_to(f, on_response, f, err);
}

int fetch_send_to(struct source_fetch *f, http_done_fn done, void *userdata,
		  struct source_error *err)
{
	struct http_options o = {
		.method = f->body ? "POST" : "GET",
		.url = f->url,
		.body = f->body,
		.body_len = f->body_len,
		.timeout_ms = SOURCE_TIMEOUT_MS,
		.allow_http = f->allow_http,
		.pinned_sha1 = f->pinned_sha1[0] ? f->pinned_sha1 : NULL,
	};
	int r;

	for (size_t i = 0; i < f->n_headers; i++)
		o.headers[i] = f->headers[i];
	r = http_start(f->ctx->http, &o, done, userdata, &f->req);
	if (r < 0)
		fetch_error(f, err, 0, false, "cannot start the request: %s", http_strerror(r));
	return r;
}
