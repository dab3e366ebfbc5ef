/* SPDX-License-Identifier: MIT */
/*
 * Internals of libaoai shared by its files; nothing here is exported (the
 * version script keeps only aoai_*).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define CONN_MAX_CODE    32  /* longest wire error code kept, with NUL */
#define CONN_MAX_MESSAGE 512 /* agent messages are cut here, with NUL */

/*
 * One connection to the agent.  @broken is set once a frame was cut short or
 * could not be read: the stream is then out of step, and every later request
 * fails with AOAI_E_IO instead of reading someone else's reply.
 */
struct aoai_conn {
	int fd;
	bool broken;
	char code[CONN_MAX_CODE];
	char message[CONN_MAX_MESSAGE];
};

/* Forgets the last failure's code and message. */
void conn_clear_error(struct aoai_conn *conn);
/*
 * Records a failure: @code (a wire error code, or "" for a local failure)
 * and a printf-style message, cut to size and with control characters
 * replaced.  Returns @err, so callers can `return conn_fail(...)`.
 */
int conn_fail(struct aoai_conn *conn, int err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Sends @request as one frame and reads one reply frame, parsed into
 * *ret_reply (a JSON object, not yet checked for "ok").  The encoded request
 * is wiped after sending and the reply frame after parsing.  Returns 0 or
 * AOAI_E_IO / AOAI_E_PROTOCOL / AOAI_E_NOMEM / AOAI_E_INVALID.
 */
int conn_roundtrip(struct aoai_conn *conn, json_t *request, json_t **ret_reply);

/*
 * Sends @len bytes of @payload (JSON text) as one frame and reads one reply
 * frame, unparsed, into a new buffer: returns 0 and *ret_buf / *ret_len (the
 * caller wipes and frees it with proto_buf_free()), or AOAI_E_IO /
 * AOAI_E_PROTOCOL / AOAI_E_NOMEM / AOAI_E_INVALID.  For callers that read
 * the reply without jansson; the payload is the caller's to wipe.
 */
int conn_exchange(struct aoai_conn *conn, const char *payload, size_t len, uint8_t **ret_buf,
		  size_t *ret_len);

/*
 * conn_roundtrip(), then checks the reply: "v" 1 and "ok" true return 0 with
 * the reply in *ret_reply (NULL allowed: dropped); an error reply returns
 * its AOAI_E_* code with code and message kept in @conn.  Every string in
 * @request is wiped in place before this returns, since requests carry
 * secrets and passphrases.
 */
int request_run(struct aoai_conn *conn, json_t *request, json_t **ret_reply);

struct headers_reply;
/*
 * request_run()'s check of "v", "ok", "error" and "message", for a reply read
 * by headers_reply_read() (protocol/headers_reply.h): the same verdicts in
 * the same words.  Returns 0 for "v" 1 and "ok" true.
 */
int reply_check_fields(struct aoai_conn *conn, const struct headers_reply *reply);

/* The AOAI_E_* code for a wire error code ("no_match" → AOAI_E_NOMATCH). */
int errors_from_code(const char *code);

/*
 * Overwrites every string value in @json (recursively) with zeros, in place.
 * jansson owns that memory and would free it unwiped.  Object keys are left
 * alone: in this protocol they are field names, never secrets.
 */
void wipe_json(json_t *json);
/* wipe_json() then json_decref(), for documents the caller alone holds.  Returns NULL. */
json_t *wipe_json_decref(json_t *json);
/* Wipes and frees a NUL-terminated string libaoai copied out.  Accepts NULL; returns NULL. */
char *wipe_str_free(char *s);

/*
 * Serialises @json compactly into a new NUL-terminated buffer sized up front
 * (jansson's json_dumps() grows a buffer by realloc, leaving copies of any
 * secret behind).  Returns 0 and *ret_text (length in *ret_len when not
 * NULL), or AOAI_E_NOMEM.
 */
int wipe_json_dump(const json_t *json, char **ret_text, size_t *ret_len);
