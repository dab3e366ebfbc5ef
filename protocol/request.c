/* SPDX-License-Identifier: MIT */
/*
 * Request decoding: one frame payload in, one validated struct proto_request
 * out.  Pure: no I/O, no logging, no globals written.  Each operation is
 * described by a table of its fields (the systemd json-dispatch pattern), so
 * adding an operation or a field is a table entry, not new parsing code.
 *
 * Error messages name fields and rules, never the values sent: a payload
 * may hold a secret, a passphrase or a URL with credentials in it.  That is
 * also why jansson's own error text ("... near 'VALUE'") is never copied.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"

#define NO_LEN ((size_t)-1)

enum field_type {
	FIELD_NAME,     /* string accepted by proto_name_valid() */
	FIELD_SCOPE,    /* string accepted by proto_scope_valid() */
	FIELD_STRING,   /* string of 1..max bytes (jansson already refuses NUL) */
	FIELD_LIFETIME, /* integer 0..PROTO_MAX_LIFETIME; absent: -1 */
	FIELD_TRUE,     /* the boolean true; absent: false */
};

struct field {
	const char *key;
	enum field_type type;
	bool required;
	size_t max;        /* FIELD_STRING: largest length in bytes */
	size_t offset;     /* where the value goes in struct proto_request */
	size_t len_offset; /* FIELD_STRING: where its length goes, or NO_LEN */
};

#define FIELD(k, t, req, mx, member, len)                                             \
	{                                                                             \
		.key = (k), .type = (t), .required = (req), .max = (mx),              \
		.offset = offsetof(struct proto_request, member), .len_offset = (len) \
	}
#define LEN_OF(member) offsetof(struct proto_request, member)

static const struct field add_fields[] = {
	FIELD("name", FIELD_NAME, true, 0, add.name, NO_LEN),
	FIELD("secret", FIELD_STRING, true, PROTO_MAX_SECRET, add.secret, LEN_OF(add.secret_len)),
	FIELD("lifetime", FIELD_LIFETIME, false, 0, add.lifetime, NO_LEN),
	FIELD("host", FIELD_STRING, false, PROTO_MAX_HOST, add.host, NO_LEN),
	FIELD("persist", FIELD_TRUE, false, 0, add.persist, NO_LEN),
	{ .key = NULL },
};

static const struct field remove_fields[] = {
	FIELD("name", FIELD_NAME, false, 0, remove.name, NO_LEN),
	FIELD("all", FIELD_TRUE, false, 0, remove.all, NO_LEN),
	{ .key = NULL },
};

static const struct field headers_fields[] = {
	FIELD("url", FIELD_STRING, true, PROTO_MAX_URL, headers.url, NO_LEN),
	{ .key = NULL },
};

static const struct field lock_fields[] = {
	FIELD("passphrase", FIELD_STRING, true, PROTO_MAX_PASSPHRASE, lock.passphrase,
	      LEN_OF(lock.passphrase_len)),
	{ .key = NULL },
};

static const struct field passwd_fields[] = {
	FIELD("passphrase", FIELD_STRING, false, PROTO_MAX_PASSPHRASE, passwd.passphrase,
	      LEN_OF(passwd.passphrase_len)),
	FIELD("new_passphrase", FIELD_STRING, true, PROTO_MAX_PASSPHRASE, passwd.new_passphrase,
	      LEN_OF(passwd.new_passphrase_len)),
	{ .key = NULL },
};

static const struct field token_fields[] = {
	FIELD("profile", FIELD_NAME, false, 0, token.profile, NO_LEN),
	FIELD("scope", FIELD_SCOPE, false, PROTO_MAX_SCOPE, token.scope, NO_LEN),
	{ .key = NULL },
};

static const struct field jwks_fields[] = {
	FIELD("openid_config", FIELD_STRING, true, PROTO_MAX_URL, jwks.openid_config, NO_LEN),
	FIELD("refresh", FIELD_TRUE, false, 0, jwks.refresh, NO_LEN),
	{ .key = NULL },
};

static const struct field login_fields[] = {
	FIELD("profile", FIELD_NAME, true, 0, login.profile, NO_LEN),
	FIELD("flow", FIELD_STRING, false, 32, login.flow, NO_LEN),
	FIELD("redirect_uri", FIELD_STRING, false, 256, login.redirect_uri, NO_LEN),
	FIELD("persist", FIELD_TRUE, false, 0, login.persist, NO_LEN),
	{ .key = NULL },
};

static const struct field login_code_fields[] = {
	FIELD("login_id", FIELD_NAME, true, 0, login_code.login_id, NO_LEN),
	FIELD("code", FIELD_STRING, true, 8192, login_code.code, NO_LEN),
	FIELD("state", FIELD_STRING, true, 64, login_code.state, NO_LEN),
	{ .key = NULL },
};

static const struct field login_wait_fields[] = {
	FIELD("login_id", FIELD_NAME, true, 0, login_wait.login_id, NO_LEN),
	{ .key = NULL },
};

static const struct field logout_fields[] = {
	FIELD("profile", FIELD_NAME, true, 0, logout.profile, NO_LEN),
	{ .key = NULL },
};

static const struct field no_fields[] = {
	{ .key = NULL },
};

/* Writes the message for a failure into @err (when given) and returns @st. */
__attribute__((format(printf, 4, 5))) static enum proto_status
fail(enum proto_status st, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return st;
}

#define bad(err, errlen, ...) fail(PROTO_E_BAD_REQUEST, err, errlen, __VA_ARGS__)

static enum proto_status remove_check(const struct proto_request *req, char *err, size_t errlen)
{
	if (!req->remove.name == !req->remove.all)
		return bad(err, errlen, "op \"remove\": needs exactly one of \"name\" and \"all\"");
	return PROTO_OK;
}

static enum proto_status login_check(const struct proto_request *req, char *err, size_t errlen)
{
	const char *f = req->login.flow;

	if (f && strcmp(f, "device-code") != 0 && strcmp(f, "browser") != 0)
		return bad(err, errlen,
			   "op \"login\": \"flow\" must be \"device-code\" or \"browser\"");
	if (req->login.redirect_uri && f && strcmp(f, "device-code") == 0)
		return bad(err, errlen, "op \"login\": no \"redirect_uri\" with the device code");
	return PROTO_OK;
}

static const struct op {
	const char *name;
	const struct field *fields;
	/* Rules across fields, checked once each field passed. */
	enum proto_status (*check)(const struct proto_request *req, char *err, size_t errlen);
} ops[_PROTO_OP_MAX] = {
	[PROTO_OP_ADD] = { "add", add_fields, NULL },
	[PROTO_OP_REMOVE] = { "remove", remove_fields, remove_check },
	[PROTO_OP_LIST] = { "list", no_fields, NULL },
	[PROTO_OP_HEADERS] = { "headers", headers_fields, NULL },
	[PROTO_OP_LOCK] = { "lock", lock_fields, NULL },
	[PROTO_OP_UNLOCK] = { "unlock", lock_fields, NULL },
	[PROTO_OP_STATUS] = { "status", no_fields, NULL },
	[PROTO_OP_RELOAD] = { "reload", no_fields, NULL },
	[PROTO_OP_TOKEN] = { "token", token_fields, NULL },
	[PROTO_OP_PASSWD] = { "passwd", passwd_fields, NULL },
	[PROTO_OP_JWKS] = { "jwks", jwks_fields, NULL },
	[PROTO_OP_LOGIN] = { "login", login_fields, login_check },
	[PROTO_OP_LOGIN_WAIT] = { "login_wait", login_wait_fields, NULL },
	[PROTO_OP_LOGOUT] = { "logout", logout_fields, NULL },
	[PROTO_OP_LOGIN_CODE] = { "login_code", login_code_fields, NULL },
	[PROTO_OP_HOSTS] = { "hosts", no_fields, NULL },
};

const char *proto_op_name(enum proto_op op)
{
	if ((unsigned)op >= _PROTO_OP_MAX)
		return "unknown";
	return ops[op].name;
}

static enum proto_status parse_payload(const uint8_t *payload, size_t len, json_t **ret, char *err,
				       size_t errlen)
{
	enum proto_json_error jerr;
	size_t pos = 0;
	json_t *json;

	if (!payload || len == 0 || len > PROTO_MAX_FRAME)
		return bad(err, errlen, "payload must be 1..%d bytes", PROTO_MAX_FRAME);
	json = proto_json_parse(payload, len, &jerr, &pos);
	if (!json) {
		if (jerr == PROTO_JSON_NOMEM)
			return fail(PROTO_E_INTERNAL, err, errlen, "out of memory");
		return bad(err, errlen, "payload: %s at byte %zu", proto_json_error_what(jerr),
			   pos);
	}
	if (!json_is_object(json)) {
		json_decref(json);
		return bad(err, errlen, "payload must be a JSON object");
	}
	*ret = json;
	return PROTO_OK;
}

static enum proto_status check_version(const json_t *json, char *err, size_t errlen)
{
	const json_t *v = json_object_get(json, "v");

	if (!v)
		return bad(err, errlen, "field \"v\": missing");
	if (!json_is_integer(v))
		return bad(err, errlen, "field \"v\": must be an integer");
	if (json_integer_value(v) != PROTO_VERSION)
		return fail(PROTO_E_UNSUPPORTED_VERSION, err, errlen,
			    "field \"v\": this agent speaks version %d", PROTO_VERSION);
	return PROTO_OK;
}

static enum proto_status find_op(const json_t *json, enum proto_op *ret, char *err, size_t errlen)
{
	const json_t *v = json_object_get(json, "op");
	unsigned i;

	if (!v)
		return bad(err, errlen, "field \"op\": missing");
	if (!json_is_string(v))
		return bad(err, errlen, "field \"op\": must be a string");
	for (i = 0; i < _PROTO_OP_MAX; i++)
		if (strcmp(ops[i].name, json_string_value(v)) == 0) {
			*ret = (enum proto_op)i;
			return PROTO_OK;
		}
	return fail(PROTO_E_UNKNOWN_OP, err, errlen, "field \"op\": unknown operation");
}

static const struct field *field_find(const struct field *fields, const char *key)
{
	const struct field *f;

	for (f = fields; f->key; f++)
		if (strcmp(f->key, key) == 0)
			return f;
	return NULL;
}

/* The table's own spelling of @key when some operation knows it, else NULL. */
static const char *known_key(const char *key)
{
	const struct field *f;
	unsigned i;

	for (i = 0; i < _PROTO_OP_MAX; i++) {
		f = field_find(ops[i].fields, key);
		if (f)
			return f->key;
	}
	return NULL;
}

/*
 * Every key must belong to the operation.  A key is echoed only when it is
 * one of our own field names: an unknown one might be a misplaced secret.
 */
static enum proto_status check_keys(const json_t *json, enum proto_op op, char *err, size_t errlen)
{
	const char *key, *known;
	void *it;

	for (it = json_object_iter((json_t *)json); it;
	     it = json_object_iter_next((json_t *)json, it)) {
		key = json_object_iter_key(it);
		if (strcmp(key, "v") == 0 || strcmp(key, "op") == 0 ||
		    field_find(ops[op].fields, key))
			continue;
		known = known_key(key);
		if (known)
			return bad(err, errlen, "field \"%s\": not allowed in op \"%s\"", known,
				   ops[op].name);
		return bad(err, errlen, "op \"%s\": unknown field", ops[op].name);
	}
	return PROTO_OK;
}

static void *field_ptr(struct proto_request *req, size_t offset)
{
	return (char *)req + offset;
}

static enum proto_status parse_string(const json_t *v, const struct field *f,
				      struct proto_request *req, char *err, size_t errlen)
{
	size_t len;

	if (!json_is_string(v))
		return bad(err, errlen, "field \"%s\": must be a string of 1..%zu bytes", f->key,
			   f->max);
	len = json_string_length(v);
	if (len == 0 || len > f->max)
		return bad(err, errlen, "field \"%s\": must be a string of 1..%zu bytes", f->key,
			   f->max);
	*(const char **)field_ptr(req, f->offset) = json_string_value(v);
	if (f->len_offset != NO_LEN)
		*(size_t *)field_ptr(req, f->len_offset) = len;
	return PROTO_OK;
}

static enum proto_status parse_name(const json_t *v, const struct field *f,
				    struct proto_request *req, char *err, size_t errlen)
{
	if (!json_is_string(v))
		return bad(err, errlen, "field \"%s\": must be a string", f->key);
	if (!proto_name_valid(json_string_value(v)))
		return bad(err, errlen,
			   "field \"%s\": must be 1..%d characters of A-Z a-z 0-9 . _ -", f->key,
			   PROTO_MAX_NAME);
	*(const char **)field_ptr(req, f->offset) = json_string_value(v);
	return PROTO_OK;
}

bool proto_scope_valid(const char *scope)
{
	size_t i;

	if (!scope || scope[0] == '\0')
		return false;
	for (i = 0; scope[i]; i++)
		if (i >= PROTO_MAX_SCOPE || scope[i] <= ' ' || scope[i] > '~')
			return false;
	return true;
}

static enum proto_status parse_scope(const json_t *v, const struct field *f,
				     struct proto_request *req, char *err, size_t errlen)
{
	if (!json_is_string(v) || !proto_scope_valid(json_string_value(v)))
		return bad(err, errlen,
			   "field \"%s\": must be 1..%zu characters of printable ASCII without "
			   "spaces",
			   f->key, f->max);
	*(const char **)field_ptr(req, f->offset) = json_string_value(v);
	return PROTO_OK;
}

static enum proto_status parse_lifetime(const json_t *v, const struct field *f,
					struct proto_request *req, char *err, size_t errlen)
{
	json_int_t n;

	if (!json_is_integer(v))
		return bad(err, errlen, "field \"%s\": must be an integer 0..%lld", f->key,
			   PROTO_MAX_LIFETIME);
	n = json_integer_value(v);
	if (n < 0 || n > PROTO_MAX_LIFETIME)
		return bad(err, errlen, "field \"%s\": must be an integer 0..%lld", f->key,
			   PROTO_MAX_LIFETIME);
	*(long long *)field_ptr(req, f->offset) = n;
	return PROTO_OK;
}

static enum proto_status parse_true(const json_t *v, const struct field *f,
				    struct proto_request *req, char *err, size_t errlen)
{
	if (!json_is_true(v))
		return bad(err, errlen, "field \"%s\": must be true", f->key);
	*(bool *)field_ptr(req, f->offset) = true;
	return PROTO_OK;
}

static enum proto_status parse_field(const json_t *v, const struct field *f,
				     struct proto_request *req, char *err, size_t errlen)
{
	switch (f->type) {
	case FIELD_NAME:
		return parse_name(v, f, req, err, errlen);
	case FIELD_SCOPE:
		return parse_scope(v, f, req, err, errlen);
	case FIELD_STRING:
		return parse_string(v, f, req, err, errlen);
	case FIELD_LIFETIME:
		return parse_lifetime(v, f, req, err, errlen);
	case FIELD_TRUE:
		return parse_true(v, f, req, err, errlen);
	}
	return fail(PROTO_E_INTERNAL, err, errlen, "field \"%s\": bad field table", f->key);
}

static enum proto_status parse_fields(const json_t *json, const struct field *fields,
				      struct proto_request *req, char *err, size_t errlen)
{
	const struct field *f;
	enum proto_status st;
	const json_t *v;

	for (f = fields; f->key; f++) {
		v = json_object_get(json, f->key);
		if (!v) {
			if (f->required)
				return bad(err, errlen, "field \"%s\": missing", f->key);
			if (f->type == FIELD_LIFETIME)
				*(long long *)field_ptr(req, f->offset) = -1;
			continue;
		}
		st = parse_field(v, f, req, err, errlen);
		if (st != PROTO_OK)
			return st;
	}
	return PROTO_OK;
}

static enum proto_status request_fill(struct proto_request *req, char *err, size_t errlen)
{
	enum proto_status st;
	const struct op *op;

	st = check_version(req->json, err, errlen);
	if (st == PROTO_OK)
		st = find_op(req->json, &req->op, err, errlen);
	if (st != PROTO_OK)
		return st;
	op = &ops[req->op];
	st = check_keys(req->json, req->op, err, errlen);
	if (st == PROTO_OK)
		st = parse_fields(req->json, op->fields, req, err, errlen);
	if (st == PROTO_OK && op->check)
		st = op->check(req, err, errlen);
	return st;
}

enum proto_status proto_request_decode(const uint8_t *payload, size_t len,
				       struct proto_request *ret, char *err, size_t errlen)
{
	struct proto_request req = { .json = NULL };
	enum proto_status st;

	if (err && errlen > 0)
		err[0] = '\0';
	if (!ret)
		return PROTO_E_INTERNAL;
	*ret = (struct proto_request){ .json = NULL };
	st = parse_payload(payload, len, &req.json, err, errlen);
	if (st != PROTO_OK)
		return st;
	st = request_fill(&req, err, errlen);
	if (st != PROTO_OK) {
		json_decref(req.json);
		return st;
	}
	*ret = req;
	return PROTO_OK;
}

void proto_request_done(struct proto_request *req)
{
	if (!req)
		return;
	json_decref(req->json);
	*req = (struct proto_request){ .json = NULL };
}
