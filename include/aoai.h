/* SPDX-License-Identifier: MIT */
/*
 * libaoai — client library for aoai-agent.
 *
 * Error model: every function that can fail returns an int, 0 (or a
 * non-negative count) on success and a negative AOAI_E_* code on failure.
 * When the agent itself refused a request, aoai_conn_message() returns its
 * human-readable message until the next call on that connection.  Output
 * parameters (ret_*) are set only on success.
 *
 * Threads: the library has no global state.  A connection is used by one
 * thread at a time; use one connection per thread, or lock around it.
 * Secrets the library hands out (header values, tokens) live in memory
 * that aoai_headers_free() and aoai_token_free() wipe.
 */
#ifndef AOAI_H
#define AOAI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * libaoai is built with -fvisibility=hidden; this marks the API it exports
 * (a no-op for the programs that include this header).
 */
#if defined(__GNUC__)
#define AOAI_EXPORT __attribute__((visibility("default")))
#else
#define AOAI_EXPORT
#endif

#define AOAI_VERSION_MAJOR 0
#define AOAI_VERSION_MINOR 1

/* Error codes: stable, negative. */
enum {
	AOAI_OK = 0,
	AOAI_E_INVALID = -1,  /* bad argument or usage */
	AOAI_E_NOAGENT = -2,  /* no agent at the socket path */
	AOAI_E_PROTOCOL = -3, /* the agent sent something unexpected */
	AOAI_E_IO = -4,       /* the connection broke */
	AOAI_E_NOMEM = -5,
	AOAI_E_NOMATCH = -6,     /* no_match, insecure_url */
	AOAI_E_LOCKED = -7,      /* locked */
	AOAI_E_UNAVAILABLE = -8, /* missing_secret, unavailable */
	AOAI_E_DENIED = -9,      /* denied */
	AOAI_E_NOTFOUND = -10,   /* not_found: no such secret or profile */
	AOAI_E_PASSPHRASE = -11, /* bad_passphrase */
	AOAI_E_NOTLOCKED = -12,  /* not_locked */
	AOAI_E_CONFIG = -13,     /* bad_config */
	AOAI_E_REFUSED = -14,    /* any other error reply (bad_request, conflict, limit …) */
};

/* What aoai_header_action() returns: how to merge a header the request already has. */
enum aoai_exists_action {
	AOAI_EXISTS_OVERRIDE = 0,
	AOAI_EXISTS_SKIP = 1,
	AOAI_EXISTS_APPEND = 2,
};

struct aoai_conn;
struct aoai_headers;
struct aoai_token;

/* A short English description of an AOAI_E_* code. */
AOAI_EXPORT const char *aoai_strerror(int err);

/*
 * The socket path clients use: $AOAI_AUTH_SOCK, else
 * $XDG_RUNTIME_DIR/aoai/agent.sock.  Writes it to @buf.  Returns 0, or
 * AOAI_E_NOAGENT when neither variable is set, AOAI_E_INVALID when @len is
 * too small.
 */
AOAI_EXPORT int aoai_socket_path(char *buf, size_t len);

/*
 * Connects to the agent at @path (NULL: aoai_socket_path()).  Returns 0 and
 * sets *ret_conn, or AOAI_E_NOAGENT / AOAI_E_NOMEM.  The descriptor is
 * close-on-exec.  On AOAI_E_NOAGENT, errno says why (ENOENT, ECONNREFUSED,
 * ENAMETOOLONG, or EPERM when the socket's owner is neither this user nor
 * root).
 */
AOAI_EXPORT int aoai_connect(const char *path, struct aoai_conn **ret_conn);
/* Closes and frees @conn.  Accepts NULL; returns NULL. */
AOAI_EXPORT struct aoai_conn *aoai_close(struct aoai_conn *conn);
/*
 * The agent's message for the last failed request on @conn, or "".  When the
 * failure was local (AOAI_E_INVALID, AOAI_E_IO, AOAI_E_PROTOCOL …), a
 * description of it, with aoai_conn_error_code() "".
 */
AOAI_EXPORT const char *aoai_conn_message(const struct aoai_conn *conn);
/* The agent's error code string ("no_match" …) for the last failure, or "". */
AOAI_EXPORT const char *aoai_conn_error_code(const struct aoai_conn *conn);

/*
 * Asks for the headers for a request to @url.  Returns 0 and sets
 * *ret_headers, or AOAI_E_NOMATCH, AOAI_E_LOCKED, AOAI_E_UNAVAILABLE,
 * AOAI_E_DENIED, AOAI_E_REFUSED, AOAI_E_IO …
 */
AOAI_EXPORT int aoai_get_headers(struct aoai_conn *conn, const char *url,
				 struct aoai_headers **ret_headers);
/* Number of headers in @h. */
AOAI_EXPORT size_t aoai_headers_count(const struct aoai_headers *h);
/* Name, value and exists_action of header @i (< count); NULL/-1 when out of range. */
AOAI_EXPORT const char *aoai_header_name(const struct aoai_headers *h, size_t i);
AOAI_EXPORT const char *aoai_header_value(const struct aoai_headers *h, size_t i);
AOAI_EXPORT int aoai_header_action(const struct aoai_headers *h, size_t i);
/* The profile that produced @h. */
AOAI_EXPORT const char *aoai_headers_profile(const struct aoai_headers *h);
/* Wipes and frees @h.  Accepts NULL; returns NULL. */
AOAI_EXPORT struct aoai_headers *aoai_headers_free(struct aoai_headers *h);

/*
 * Asks for an access token of the token profile @profile (NULL: the only
 * token profile the agent has) for @scope (NULL: the profile's scope).
 * Returns 0 and sets *ret_token, or AOAI_E_NOMATCH (no token profile),
 * AOAI_E_NOTFOUND (no such profile), AOAI_E_REFUSED (an api-key profile, or
 * several token profiles and no @profile; also an agent without token
 * support, aoai_conn_error_code() "unknown_op"), AOAI_E_LOCKED,
 * AOAI_E_DENIED, AOAI_E_UNAVAILABLE (the token source failed; the message
 * names it and its error), AOAI_E_INVALID (bad @profile or @scope), …
 *
 * When the agent holds no valid token this waits for its fetch from the
 * identity endpoint: it may block for a while.  The library sets no timeout;
 * the agent bounds the wait.
 */
AOAI_EXPORT int aoai_get_token(struct aoai_conn *conn, const char *profile, const char *scope,
			       struct aoai_token **ret_token);
/* The access token (printable ASCII), to be sent as "Authorization: Bearer …". */
AOAI_EXPORT const char *aoai_token_value(const struct aoai_token *t);
/* When the token expires, in seconds since the epoch (UTC). */
AOAI_EXPORT long long aoai_token_expires_on(const struct aoai_token *t);
/* The token type, "Bearer". */
AOAI_EXPORT const char *aoai_token_type(const struct aoai_token *t);
/* The profile that produced @t. */
AOAI_EXPORT const char *aoai_token_profile(const struct aoai_token *t);
/* The token source that produced it: "imds", "workload-identity", "azure-cli" … */
AOAI_EXPORT const char *aoai_token_source(const struct aoai_token *t);
/* Wipes and frees @t.  Accepts NULL; returns NULL. */
AOAI_EXPORT struct aoai_token *aoai_token_free(struct aoai_token *t);

/*
 * Hands a secret to the agent.  @lifetime: seconds, 0 = never, -1 = the
 * agent's default.  @host: NULL, or create/update an api-key profile named
 * @name for that host.  Returns 0 or an AOAI_E_* code.
 */
AOAI_EXPORT int aoai_add(struct aoai_conn *conn, const char *name, const char *secret,
			 size_t secret_len, long long lifetime, const char *host);
/*
 * aoai_add(), also returning the agent's reply (name, fingerprint,
 * expires_in; never the secret) as JSON text in *ret_json (free() it) when
 * @ret_json is not NULL.
 */
AOAI_EXPORT int aoai_add_json(struct aoai_conn *conn, const char *name, const char *secret,
			      size_t secret_len, long long lifetime, const char *host,
			      char **ret_json);
/*
 * aoai_add_json() that also keeps the secret in the agent's persistent store
 * (which must exist and be unlocked: aoai_passwd() creates it).
 */
AOAI_EXPORT int aoai_add_persistent_json(struct aoai_conn *conn, const char *name,
					 const char *secret, size_t secret_len, long long lifetime,
					 const char *host, char **ret_json);
/* Forgets the secret @name.  Returns 0, AOAI_E_NOTFOUND, … */
AOAI_EXPORT int aoai_remove(struct aoai_conn *conn, const char *name);
/* Forgets every added secret.  Returns the number removed (>= 0) or an error. */
AOAI_EXPORT int aoai_remove_all(struct aoai_conn *conn);
/* Locks / unlocks the agent with @passphrase.  Returns 0 or an error. */
AOAI_EXPORT int aoai_lock(struct aoai_conn *conn, const char *passphrase);
AOAI_EXPORT int aoai_unlock(struct aoai_conn *conn, const char *passphrase);
/*
 * Sets the passphrase of the agent's persistent store to @new_passphrase:
 * @current is the present one, or NULL to create the store.  Returns 0,
 * AOAI_E_PASSPHRASE, AOAI_E_LOCKED, … (the reason in aoai_conn_message()).
 */
AOAI_EXPORT int aoai_passwd(struct aoai_conn *conn, const char *current,
			    const char *new_passphrase);
/* Re-reads the agent's configuration.  Returns the profile count or an error. */
AOAI_EXPORT int aoai_reload(struct aoai_conn *conn);

/*
 * "list" and "status": the agent's reply as a JSON document (PROTOCOL.md),
 * NUL-terminated, in *ret_json, to be freed with free().
 */
AOAI_EXPORT int aoai_list(struct aoai_conn *conn, char **ret_json);
AOAI_EXPORT int aoai_status(struct aoai_conn *conn, char **ret_json);

/*
 * Sends any request (a JSON object text; "v" is added when absent) and
 * returns the reply text in *ret_json (free() it) when the agent answered
 * "ok": true.  For operations this header has no wrapper for.  The request's
 * strings are wiped after sending; a reply that may hold a credential is the
 * caller's to wipe (explicit_bzero) before free().
 */
AOAI_EXPORT int aoai_request(struct aoai_conn *conn, const char *request_json, char **ret_json);

#ifdef __cplusplus
}
#endif

#endif
