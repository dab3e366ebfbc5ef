/* SPDX-License-Identifier: MIT */
/*
 * Wrappers for the operations of PROTOCOL.md besides "headers".  Arguments
 * are checked against the protocol's limits first, so a caller gets
 * AOAI_E_INVALID with a reason instead of the agent's bad_request.  The
 * request documents that carry a secret or a passphrase are wiped by
 * request_run(), and their encoded frames by conn_roundtrip().
 */
#include <limits.h>
#include <string.h>

#include "aoai.h"
#include "aoai_conn.h"
#include "proto.h"

static int invalid(struct aoai_conn *conn, const char *what)
{
	return conn_fail(conn, AOAI_E_INVALID, "", "%s", what);
}

static int add_check(struct aoai_conn *conn, const char *name, const char *secret,
		     size_t secret_len, long long lifetime, const char *host)
{
	if (!proto_name_valid(name))
		return invalid(conn, "invalid name: use 1-64 of A-Z a-z 0-9 . _ -");
	if (!secret || secret_len == 0 || secret_len > PROTO_MAX_SECRET)
		return invalid(conn, "the secret must be 1 to 16384 bytes");
	if (memchr(secret, '\0', secret_len))
		return invalid(conn, "the secret contains a NUL byte");
	if (lifetime < -1 || lifetime > PROTO_MAX_LIFETIME)
		return invalid(conn, "lifetime out of range");
	if (host && (host[0] == '\0' || strlen(host) > PROTO_MAX_HOST))
		return invalid(conn, "the host must be 1 to 255 bytes");
	return 0;
}

static json_t *add_request(const char *name, const char *secret, size_t secret_len,
			   long long lifetime, const char *host, bool persist)
{
	json_t *request, *value;

	/* NULL here means invalid UTF-8, bar out of memory. */
	value = json_stringn(secret, secret_len);
	if (!value)
		return NULL;
	request = json_pack("{s:s,s:s,s:o}", "op", "add", "name", name, "secret", value);
	if (!request)
		return NULL;
	if ((lifetime >= 0 && json_object_set_new(request, "lifetime", json_integer(lifetime))) ||
	    (host && json_object_set_new(request, "host", json_string(host))) ||
	    (persist && json_object_set_new(request, "persist", json_true()))) {
		wipe_json_decref(request);
		return NULL;
	}
	return request;
}

static int add_run(struct aoai_conn *conn, const char *name, const char *secret, size_t secret_len,
		   long long lifetime, const char *host, bool persist, char **ret_json)
{
	json_t *request, *reply = NULL;
	int r;

	if (!conn)
		return AOAI_E_INVALID;
	conn_clear_error(conn);
	r = add_check(conn, name, secret, secret_len, lifetime, host);
	if (r < 0)
		return r;
	request = add_request(name, secret, secret_len, lifetime, host, persist);
	if (!request)
		return invalid(conn, "the secret or host is not valid UTF-8");
	r = request_run(conn, request, ret_json ? &reply : NULL);
	json_decref(request);
	if (r < 0 || !ret_json)
		return r;
	r = wipe_json_dump(reply, ret_json, NULL);
	json_decref(reply);
	return r;
}

int aoai_add_json(struct aoai_conn *conn, const char *name, const char *secret, size_t secret_len,
		  long long lifetime, const char *host, char **ret_json)
{
	return add_run(conn, name, secret, secret_len, lifetime, host, false, ret_json);
}

int aoai_add_persistent_json(struct aoai_conn *conn, const char *name, const char *secret,
			     size_t secret_len, long long lifetime, const char *host,
			     char **ret_json)
{
	return add_run(conn, name, secret, secret_len, lifetime, host, true, ret_json);
}

int aoai_add(struct aoai_conn *conn, const char *name, const char *secret, size_t secret_len,
	     long long lifetime, const char *host)
{
	return aoai_add_json(conn, name, secret, secret_len, lifetime, host, NULL);
}

/* Runs @request (a new reference, taken) and returns the reply's integer @field. */
static int run_count(struct aoai_conn *conn, json_t *request, const char *field)
{
	json_t *reply = NULL, *count;
	int r;

	if (!request)
		return conn_fail(conn, AOAI_E_NOMEM, "", "out of memory");
	r = request_run(conn, request, &reply);
	json_decref(request);
	if (r < 0)
		return r;
	count = json_object_get(reply, field);
	if (!json_is_integer(count) || json_integer_value(count) < 0 ||
	    json_integer_value(count) > INT_MAX)
		r = conn_fail(conn, AOAI_E_PROTOCOL, "", "reply without a valid \"%s\"", field);
	else
		r = (int)json_integer_value(count);
	json_decref(reply);
	return r;
}

int aoai_remove(struct aoai_conn *conn, const char *name)
{
	int r;

	if (!conn)
		return AOAI_E_INVALID;
	conn_clear_error(conn);
	if (!proto_name_valid(name))
		return invalid(conn, "invalid name: use 1-64 of A-Z a-z 0-9 . _ -");
	r = run_count(conn, json_pack("{s:s,s:s}", "op", "remove", "name", name), "removed");
	return r < 0 ? r : 0;
}

int aoai_remove_all(struct aoai_conn *conn)
{
	if (!conn)
		return AOAI_E_INVALID;
	conn_clear_error(conn);
	return run_count(conn, json_pack("{s:s,s:b}", "op", "remove", "all", 1), "removed");
}

int aoai_reload(struct aoai_conn *conn)
{
	if (!conn)
		return AOAI_E_INVALID;
	conn_clear_error(conn);
	return run_count(conn, json_pack("{s:s}", "op", "reload"), "profiles");
}

static bool passphrase_valid(const char *passphrase)
{
	size_t len = passphrase ? strnlen(passphrase, PROTO_MAX_PASSPHRASE + 1) : 0;

	return len > 0 && len <= PROTO_MAX_PASSPHRASE;
}

int aoai_passwd(struct aoai_conn *conn, const char *current, const char *new_passphrase)
{
	json_t *request;
	int r;

	if (!conn)
		return AOAI_E_INVALID;
	conn_clear_error(conn);
	if ((current && !passphrase_valid(current)) || !passphrase_valid(new_passphrase))
		return invalid(conn, "the passphrase must be 1 to 1024 bytes");
	request = json_pack("{s:s,s:s}", "op", "passwd", "new_passphrase", new_passphrase);
	if (request && current &&
	    json_object_set_new(request, "passphrase", json_string(current)) < 0) {
		wipe_json_decref(request);
		request = NULL;
	}
	if (!request)
		return invalid(conn, "the passphrase is not valid UTF-8");
	r = request_run(conn, request, NULL);
	json_decref(request);
	return r;
}

static int lock_op(struct aoai_conn *conn, const char *op, const char *passphrase)
{
	json_t *request;
	int r;

	if (!conn)
		return AOAI_E_INVALID;
	conn_clear_error(conn);
	if (!passphrase_valid(passphrase))
		return invalid(conn, "the passphrase must be 1 to 1024 bytes");
	request = json_pack("{s:s,s:s}", "op", op, "passphrase", passphrase);
	if (!request)
		return invalid(conn, "the passphrase is not valid UTF-8");
	r = request_run(conn, request, NULL);
	json_decref(request);
	return r;
}

int aoai_lock(struct aoai_conn *conn, const char *passphrase)
{
	return lock_op(conn, "lock", passphrase);
}

int aoai_unlock(struct aoai_conn *conn, const char *passphrase)
{
	return lock_op(conn, "unlock", passphrase);
}

/* "list" and "status": the whole reply, as text. */
static int run_text(struct aoai_conn *conn, const char *op, char **ret_json)
{
	json_t *request, *reply = NULL;
	int r;

	if (!conn || !ret_json)
		return AOAI_E_INVALID;
	conn_clear_error(conn);
	request = json_pack("{s:s}", "op", op);
	if (!request)
		return conn_fail(conn, AOAI_E_NOMEM, "", "out of memory");
	r = request_run(conn, request, &reply);
	json_decref(request);
	if (r < 0)
		return r;
	r = wipe_json_dump(reply, ret_json, NULL);
	json_decref(reply);
	return r;
}

int aoai_list(struct aoai_conn *conn, char **ret_json)
{
	return run_text(conn, "list", ret_json);
}

int aoai_status(struct aoai_conn *conn, char **ret_json)
{
	return run_text(conn, "status", ret_json);
}
