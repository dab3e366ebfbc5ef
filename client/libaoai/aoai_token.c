/* SPDX-License-Identifier: MIT */
/*
 * "token": an access token for a token profile.  As for "headers", the
 * token is copied out of the reply into memory libaoai owns and
 * aoai_token_free() wipes; the reply is wiped as soon as it has been copied.
 *
 * The request may take as long as the agent waits for the identity
 * endpoint.  The library sets no timeout of its own: the agent bounds the
 * wait and then answers "unavailable".
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aoai.h"
#include "aoai_conn.h"
#include "proto.h"

struct aoai_token {
	char *value;
	long long expires_on; /* unix seconds */
	char *type;
	char *profile;
	char *source;
};

struct aoai_token *aoai_token_free(struct aoai_token *t)
{
	if (!t)
		return NULL;
	wipe_str_free(t->value);
	wipe_str_free(t->type);
	wipe_str_free(t->profile);
	wipe_str_free(t->source);
	explicit_bzero(t, sizeof(*t));
	free(t);
	return NULL;
}

/*
 * A token ends up on a terminal, in `$(aoai token)` and in HTTP headers:
 * printable ASCII without spaces (a JWT is base64url and dots), no NUL.
 */
static bool token_string_valid(const json_t *s)
{
	const char *v = json_string_value(s);
	size_t len = json_string_length(s), i;

	if (!v || len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (v[i] <= ' ' || v[i] > '~')
			return false;
	return true;
}

/* A short string of the reply (profile, source, type): non-empty, no NUL. */
static bool reply_string_valid(const json_t *reply, const char *key)
{
	const json_t *s = json_object_get(reply, key);
	const char *v = json_string_value(s);

	return v && json_string_length(s) > 0 && strlen(v) == json_string_length(s);
}

static bool reply_valid(const json_t *reply)
{
	const json_t *expires = json_object_get(reply, "expires_on");

	return token_string_valid(json_object_get(reply, "access_token")) &&
	       json_is_integer(expires) && json_integer_value(expires) > 0 &&
	       token_string_valid(json_object_get(reply, "token_type")) &&
	       reply_string_valid(reply, "profile") && reply_string_valid(reply, "source");
}

static char *reply_strdup(const json_t *reply, const char *key)
{
	return strdup(json_string_value(json_object_get(reply, key)));
}

static int token_from_reply(struct aoai_conn *conn, const json_t *reply,
			    struct aoai_token **ret_token)
{
	struct aoai_token *t;

	if (!reply_valid(reply))
		return conn_fail(conn, AOAI_E_PROTOCOL, "", "bad \"token\" reply");
	t = calloc(1, sizeof(*t));
	if (!t)
		return conn_fail(conn, AOAI_E_NOMEM, "", "out of memory");
	t->value = reply_strdup(reply, "access_token");
	t->expires_on = json_integer_value(json_object_get(reply, "expires_on"));
	t->type = reply_strdup(reply, "token_type");
	t->profile = reply_strdup(reply, "profile");
	t->source = reply_strdup(reply, "source");
	if (!t->value || !t->type || !t->profile || !t->source) {
		aoai_token_free(t);
		return conn_fail(conn, AOAI_E_NOMEM, "", "out of memory");
	}
	*ret_token = t;
	return 0;
}

static int token_request(struct aoai_conn *conn, const char *profile, const char *scope,
			 json_t **ret_request)
{
	json_t *request;

	if (profile && !proto_name_valid(profile))
		return conn_fail(conn, AOAI_E_INVALID, "",
				 "invalid profile name: use 1-64 of A-Z a-z 0-9 . _ -");
	if (scope && !proto_scope_valid(scope))
		return conn_fail(conn, AOAI_E_INVALID, "",
				 "invalid scope: use 1-1024 printable ASCII characters without "
				 "spaces");
	request = json_pack("{s:s}", "op", "token");
	if (!request ||
	    (profile && json_object_set_new(request, "profile", json_string(profile))) ||
	    (scope && json_object_set_new(request, "scope", json_string(scope)))) {
		json_decref(request);
		return conn_fail(conn, AOAI_E_NOMEM, "", "out of memory");
	}
	*ret_request = request;
	return 0;
}

int aoai_get_token(struct aoai_conn *conn, const char *profile, const char *scope,
		   struct aoai_token **ret_token)
{
	json_t *request = NULL, *reply = NULL;
	int r;

	if (!conn || !ret_token)
		return AOAI_E_INVALID;
	conn_clear_error(conn);
	r = token_request(conn, profile, scope, &request);
	if (r < 0)
		return r;
	r = request_run(conn, request, &reply);
	json_decref(request);
	if (r < 0)
		return r;
	r = token_from_reply(conn, reply, ret_token);
	wipe_json_decref(reply);
	return r;
}

const char *aoai_token_value(const struct aoai_token *t)
{
	return t ? t->value : NULL;
}

long long aoai_token_expires_on(const struct aoai_token *t)
{
	return t ? t->expires_on : -1;
}

const char *aoai_token_type(const struct aoai_token *t)
{
	return t ? t->type : NULL;
}

const char *aoai_token_profile(const struct aoai_token *t)
{
	return t ? t->profile : NULL;
}

const char *aoai_token_source(const struct aoai_token *t)
{
	return t ? t->source : NULL;
}
