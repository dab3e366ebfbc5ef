/* SPDX-License-Identifier: MIT */
/*
 * Wire protocol shared by aoai-agent and its clients (see PROTOCOL.md).
 *
 * A frame is a 4-byte big-endian payload length followed by that many bytes
 * of UTF-8 JSON (one object).  Everything here is pure: no I/O, no logging,
 * no exit, and no allocation whose size a peer controls without a bound.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define PROTO_VERSION    1
#define PROTO_HEADER_LEN 4
/* Same bound as ssh-agent's AGENT_MAX_LEN; checked before any allocation. */
#define PROTO_MAX_FRAME (256 * 1024)

/* Bounds on fields a peer controls. */
#define PROTO_MAX_NAME       64                        /* secret and profile names */
#define PROTO_MAX_SECRET     16384                     /* one secret value, bytes */
#define PROTO_MAX_URL        8192                      /* URL given to "headers" */
#define PROTO_MAX_HOST       255                       /* host[:port] given to "add" */
#define PROTO_MAX_PASSPHRASE 1024                      /* lock / unlock */
#define PROTO_MAX_SCOPE      1024                      /* scope given to "token" */
#define PROTO_MAX_LIFETIME   (100LL * 365 * 24 * 3600) /* seconds */

/*
 * Stable error codes.  The numeric values are internal; the strings are the
 * wire format and never change meaning once released.
 */
enum proto_status {
	PROTO_OK = 0,
	PROTO_E_BAD_REQUEST,         /* "bad_request": malformed JSON or fields */
	PROTO_E_UNSUPPORTED_VERSION, /* "unsupported_version" */
	PROTO_E_UNKNOWN_OP,          /* "unknown_op" */
	PROTO_E_NO_MATCH,            /* "no_match": no profile covers the URL */
	PROTO_E_INSECURE_URL,        /* "insecure_url": http to a non-loopback host */
	PROTO_E_LOCKED,              /* "locked" */
	PROTO_E_NOT_LOCKED,          /* "not_locked" */
	PROTO_E_BAD_PASSPHRASE,      /* "bad_passphrase" */
	PROTO_E_MISSING_SECRET,      /* "missing_secret": profile's secret absent */
	PROTO_E_UNAVAILABLE,         /* "unavailable": credential cannot be produced */
	PROTO_E_NOT_FOUND,           /* "not_found": no such secret or profile */
	PROTO_E_CONFLICT,            /* "conflict": e.g. --host for a configured profile */
	PROTO_E_BAD_CONFIG,          /* "bad_config": reload rejected the file */
	PROTO_E_DENIED,              /* "denied": peer not allowed this profile */
	PROTO_E_LIMIT,               /* "limit": a count or size cap was reached */
	PROTO_E_INTERNAL,            /* "internal" */
	PROTO_E_STORE,               /* "store": the persistent store cannot be used */
	_PROTO_STATUS_MAX,
};

/* Returns the wire string of @status ("internal" for out-of-range values). */
const char *proto_status_name(enum proto_status status);
/* Returns the status for a wire string; PROTO_E_INTERNAL when unknown. */
enum proto_status proto_status_from_name(const char *name);
/* Returns a short English description of @status. */
const char *proto_strerror(enum proto_status status);

/*
 * Frame header.  proto_frame_length() reads the length from the first
 * PROTO_HEADER_LEN bytes of @buf.  Returns:
 *   0        and *ret_len set when the length is in 1..PROTO_MAX_FRAME,
 *   -EMSGSIZE when it is 0 or larger than PROTO_MAX_FRAME.
 */
int proto_frame_length(const uint8_t buf[PROTO_HEADER_LEN], size_t *ret_len);
/* Writes the header for a payload of @len bytes.  -EMSGSIZE when too big. */
int proto_frame_header(size_t len, uint8_t ret_buf[PROTO_HEADER_LEN]);

/*
 * Splits a complete frame off the front of @buf (@len bytes available).
 * Returns 1 and sets *ret_payload / *ret_payload_len / *ret_consumed when a
 * whole frame is present, 0 when more bytes are needed, -EMSGSIZE when the
 * declared length is invalid (the peer must be dropped).
 */
int proto_frame_split(const uint8_t *buf, size_t len, const uint8_t **ret_payload,
		      size_t *ret_payload_len, size_t *ret_consumed);

/* Requests. */
enum proto_op {
	PROTO_OP_ADD,
	PROTO_OP_REMOVE,
	PROTO_OP_LIST,
	PROTO_OP_HEADERS,
	PROTO_OP_LOCK,
	PROTO_OP_UNLOCK,
	PROTO_OP_STATUS,
	PROTO_OP_RELOAD,
	PROTO_OP_TOKEN,
	PROTO_OP_PASSWD,
	PROTO_OP_JWKS,
	PROTO_OP_LOGIN,
	PROTO_OP_LOGIN_WAIT,
	PROTO_OP_LOGOUT,
	PROTO_OP_LOGIN_CODE,
	PROTO_OP_HOSTS,
	_PROTO_OP_MAX,
};

const char *proto_op_name(enum proto_op op);

/*
 * A decoded, validated request.  String pointers point into @json (owned by
 * the request) and stay valid until proto_request_done().
 */
struct proto_request {
	json_t *json;
	enum proto_op op;
	union {
		struct {
			const char *name;
			const char *secret;
			size_t secret_len;
			long long lifetime; /* seconds; -1 = not given, 0 = forever */
			const char *host;   /* NULL when not given */
			bool persist;       /* also keep it in the persistent store */
		} add;
		struct {
			const char *name; /* NULL when all */
			bool all;
		} remove;
		struct {
			const char *url;
		} headers;
		struct {
			const char *passphrase;
			size_t passphrase_len;
		} lock; /* lock and unlock */
		struct {
			const char *passphrase; /* the current one; NULL: creating the store */
			size_t passphrase_len;
			const char *new_passphrase;
			size_t new_passphrase_len;
		} passwd;
		struct {
			const char *profile; /* NULL: the only token profile */
			const char *scope;   /* NULL: the profile's own scope */
		} token;
		struct {
			const char *profile;
			const char *flow; /* "device-code", "browser" or NULL: the profile's */
			const char *redirect_uri; /* browser: where the client listens */
			bool persist; /* also keep the sign-in in the persistent store */
		} login;
		struct {
			const char *login_id;
			const char *code;  /* from the redirect */
			const char *state; /* from the redirect */
		} login_code;
		struct {
			const char *login_id; /* from the "login" reply */
		} login_wait;
		struct {
			const char *profile;
		} logout;
		struct {
			const char *openid_config; /* the OpenID configuration URL */
			bool refresh;              /* fetch again unless fetched moments ago */
		} jwks;
	};
};

/*
 * Decodes one frame payload into @ret.  Pure: looks only at its arguments.
 * On failure returns the status to send back and writes a message (never
 * containing request data) into @err; @ret is left empty.
 */
enum proto_status proto_request_decode(const uint8_t *payload, size_t len,
				       struct proto_request *ret, char *err, size_t errlen);
/* The longest payload proto_headers_request_read() reads itself. */
#define PROTO_HEADERS_READ_MAX 2048
/*
 * Reads a plain "headers" request (see headers_request.c) without building
 * a value tree, copying its URL into @url (@url_size bytes, NUL-terminated).
 * Returns false for anything else, which proto_request_decode() then reads:
 * this is a shortcut, never a verdict.
 */
bool proto_headers_request_read(const uint8_t *payload, size_t len, char *url, size_t url_size);
/* Releases what proto_request_decode() produced; safe on an empty request. */
void proto_request_done(struct proto_request *req);

/* Validates a secret or profile name: 1..PROTO_MAX_NAME of [A-Za-z0-9._-]. */
bool proto_name_valid(const char *name);
/*
 * Validates a token scope: 1..PROTO_MAX_SCOPE bytes of printable ASCII
 * without spaces ("https://cognitiveservices.azure.com/.default").
 */
bool proto_scope_valid(const char *scope);

/* What proto_json_parse() refused; proto_json_error_what() describes it. */
enum proto_json_error {
	PROTO_JSON_OK = 0,
	PROTO_JSON_SYNTAX,    /* not JSON, or not an object or array at the top */
	PROTO_JSON_UTF8,      /* invalid UTF-8 in a string */
	PROTO_JSON_NUL,       /* \u0000 in a string */
	PROTO_JSON_DUPLICATE, /* a key twice in one object */
	PROTO_JSON_RANGE,     /* a number too large for json_int_t or a double */
	PROTO_JSON_DEPTH,     /* objects and arrays nested deeper than PROTO_JSON_MAX_DEPTH */
	PROTO_JSON_TRAILING,  /* something after the value */
	PROTO_JSON_NOMEM,
};

#define PROTO_JSON_MAX_DEPTH 64 /* the protocol's messages nest two or three levels */

/*
 * Parses @len bytes of strict JSON whose top level is an object or array.
 * Returns a new value, or NULL with *ret_err set and *ret_pos at about the
 * offending byte (either may be NULL).
 */
json_t *proto_json_parse(const uint8_t *text, size_t len, enum proto_json_error *ret_err,
			 size_t *ret_pos);
/* A short description of @err, never quoting the input. */
const char *proto_json_error_what(enum proto_json_error err);

/*
 * Encodes @msg (a JSON object; "v" is added) as a complete frame in a new
 * buffer.  Returns 0 and sets *ret_buf / *ret_len, or -EMSGSIZE / -ENOMEM.
 * The caller frees *ret_buf with proto_buf_free() (which wipes it).
 */
int proto_encode(json_t *msg, uint8_t **ret_buf, size_t *ret_len);
/* Wipes @len bytes of @buf and frees it.  Accepts NULL; returns NULL. */
void *proto_buf_free(void *buf, size_t len);

/*
 * A frame written piece by piece, for the replies on the hot path that
 * proto_encode() would first have to build as a value tree.  Errors stick:
 * the caller checks @err once at the end.  The buffer may hold other
 * frames before @frame_start; it may hold secrets, so it is wiped whenever
 * it grows or shrinks, and freed with proto_buf_free(buf, cap).
 */
struct proto_writer {
	uint8_t *buf;
	size_t len, cap;
	size_t frame_start; /* where the frame being written begins */
	int err;            /* the first error: -EMSGSIZE or -ENOMEM */
};

/* Begins a frame at the end of @w: its header (filled in by
 * proto_writer_frame_end()) and {"v":PROTO_VERSION, to which the caller
 * appends ,"key":value members with the functions below. */
void proto_writer_frame_begin(struct proto_writer *w);
/* Closes the object and writes the frame's length into its header. */
void proto_writer_frame_end(struct proto_writer *w);
/* Drops (and wipes) everything from the frame's start on. */
void proto_writer_frame_discard(struct proto_writer *w);
/* Appends bytes as they are. */
void proto_writer_raw(struct proto_writer *w, const void *data, size_t n);
/* Appends a JSON string, quoted. */
void proto_writer_string(struct proto_writer *w, const char *s, size_t len);
/* Appends the inside of a JSON string (escaped, no quotes): a string whose
 * value is written in pieces. */
void proto_writer_escaped(struct proto_writer *w, const char *s, size_t len);

/* Builds {"ok":false,"error":CODE,"message":MSG}.  NULL on ENOMEM. */
json_t *proto_error_reply(enum proto_status status, const char *message);
/* Builds {"ok":true}, to which the handler adds its fields. */
json_t *proto_ok_reply(void);
