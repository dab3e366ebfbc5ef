/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "check_fetch.h"
#include "hosts.h"
#include "proto.h"

struct body {
	char *data;
	size_t len;
	bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct body *b = userdata;
	size_t n = size * nmemb;
	char *grown;

	if (b->len + n > FETCH_MAX_DOCUMENT) {
		b->too_big = true;
		return 0; /* libcurl stops with CURLE_WRITE_ERROR */
	}
	grown = realloc(b->data, b->len + n + 1);
	if (!grown)
		return 0;
	memcpy(grown + b->len, ptr, n);
	b->data = grown;
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static int parse(const struct body *b, const char *what, const char *where, json_t **ret, char *err,
		 size_t errlen)
{
	enum proto_json_error jerr;
	json_t *doc = proto_json_parse((const uint8_t *)b->data, b->len, &jerr, NULL);

	if (!doc || !json_is_object(doc)) {
		snprintf(err, errlen, "%s from %s: not a JSON object (%s)", what, where,
			 doc ? "an array" : proto_json_error_what(jerr));
		json_decref(doc);
		return -EBADMSG;
	}
	*ret = doc;
	return 0;
}

int fetch_json(const char *url, const char *what, json_t **ret, char *err, size_t errlen)
{
	char where[300], why[200];
	struct body b = { 0 };
	CURL *curl;
	CURLcode code;
	long status = 0;
	int r;

	if (url_fetchable(url, where, sizeof(where), why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", what, why);
		return -EINVAL;
	}
	curl = curl_easy_init();
	if (!curl)
		return -ENOMEM;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)FETCH_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "aoai-check/" AOAI_VERSION);
	code = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	if (b.too_big) {
		snprintf(err, errlen, "%s from %s: larger than %d bytes", what, where,
			 FETCH_MAX_DOCUMENT);
		r = -EMSGSIZE;
	} else if (code != CURLE_OK) {
		snprintf(err, errlen, "%s from %s: %s", what, where, curl_easy_strerror(code));
		r = -EIO;
	} else if (status != 200) {
		snprintf(err, errlen, "%s from %s: HTTP %ld", what, where, status);
		r = -EIO;
	} else {
		r = parse(&b, what, where, ret, err, errlen);
	}
	free(b.data);
	return r;
}
