/* SPDX-License-Identifier: MIT */
/*
 * Internals of libaoai-preload.so, the LD_PRELOAD hook that gives libcurl
 * programs the agent's headers for configured hosts (docs/HOOK.md).
 *
 * Nothing declared here leaves the library: it is built with
 * -fvisibility=hidden and preload.map exports only the curl_* wrappers of
 * exports.c.  The hook never links libcurl; every libcurl function it calls
 * comes from curl_real(), from the same libcurl ("flavour") as the handle.
 */
#pragma once

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <curl/curl.h>

/* Bounds on what the agent may hand us (a reply beyond them is refused). */
#define HOOK_MAX_HEADERS      32    /* headers in one reply */
#define HOOK_MAX_HEADER_NAME  256   /* bytes of a header name */
#define HOOK_MAX_HEADER_VALUE 32768 /* bytes of a header value */

/*
 * The libcurl builds one process may hold at once, told apart by the symbol
 * version of their exports: Debian's OpenSSL libcurl (curl, most programs),
 * its GnuTLS libcurl (git-remote-https, python3-pycurl) and its NSS libcurl.
 */
enum hook_flavour {
	FLAVOUR_OPENSSL,
	FLAVOUR_GNUTLS,
	FLAVOUR_NSS,
	_FLAVOUR_MAX,
};

/* The libcurl functions the hook forwards to or calls itself. */
enum real_fn {
	REAL_EASY_INIT,
	REAL_EASY_SETOPT,
	REAL_EASY_PERFORM,
	REAL_EASY_DUPHANDLE,
	REAL_EASY_RESET,
	REAL_EASY_CLEANUP,
	REAL_MULTI_ADD_HANDLE,
	REAL_EASY_GETINFO,
	REAL_SLIST_APPEND,
	REAL_SLIST_FREE_ALL,
	REAL_URL,
	REAL_URL_SET,
	REAL_URL_GET,
	REAL_URL_CLEANUP,
	REAL_FREE,
	_REAL_MAX,
};

/* curl_real.c */

/* What curl_real() found so far (NULL: not yet); written by curl_real_resolve(). */
extern _Atomic(void *) curl_real_cache[_FLAVOUR_MAX][_REAL_MAX];
/* curl_real()'s first lookup of a function, out of line. */
void *curl_real_resolve(enum hook_flavour fl, enum real_fn fn);

/*
 * Returns flavour @fl's @fn, resolved on first use (NULL while that libcurl
 * is not loaded; a NULL is never cached, so a libcurl dlopen()ed later is
 * found then).  Inline: every forwarded curl_easy_setopt goes through it.
 */
static inline void *curl_real(enum hook_flavour fl, enum real_fn fn)
{
	void *sym;

	if ((unsigned)fl >= _FLAVOUR_MAX || (unsigned)fn >= _REAL_MAX)
		return NULL;
	sym = atomic_load_explicit(&curl_real_cache[fl][fn], memory_order_acquire);
	return sym ? sym : curl_real_resolve(fl, fn);
}
/*
 * True when @caller (a return address) lies inside flavour @fl's libcurl.
 * libcurl calls some of its own public functions through its PLT, so they
 * reach the wrappers: curl_easy_perform adds the handle to a multi, the
 * connection cache makes its closure handle with curl_easy_init, DoH sets
 * up its handles with curl_easy_setopt, HTTP/2 push copies the stream's
 * handle with curl_easy_duphandle.  Those calls pass through untouched.
 */
bool curl_real_internal(enum hook_flavour fl, const void *caller);

typedef void (*hook_fn)(void);
typedef CURL *(*easy_init_fn)(void);
typedef CURLcode (*easy_setopt_fn)(CURL *, CURLoption, ...);
typedef CURLcode (*easy_perform_fn)(CURL *);
typedef CURL *(*easy_duphandle_fn)(CURL *);
typedef void (*easy_reset_fn)(CURL *);
typedef void (*easy_cleanup_fn)(CURL *);
typedef CURLMcode (*multi_add_handle_fn)(CURLM *, CURL *);
typedef CURLcode (*easy_getinfo_fn)(CURL *, CURLINFO, ...);
typedef struct curl_slist *(*slist_append_fn)(struct curl_slist *, const char *);
typedef void (*slist_free_all_fn)(struct curl_slist *);
typedef CURLU *(*url_fn)(void);
typedef CURLUcode (*url_set_fn)(CURLU *, CURLUPart, const char *, unsigned int);
typedef CURLUcode (*url_get_fn)(const CURLU *, CURLUPart, char **, unsigned int);
typedef void (*url_cleanup_fn)(CURLU *);
typedef void (*free_fn)(void *);

/* A header line the hook added to a private list (pointers into that list). */
struct injected {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/*
 * One easy handle the application created through curl_easy_init() or
 * curl_easy_duphandle().  The app_* fields are what the application set
 * (the real handle may hold the hook's callbacks and header list instead);
 * the rest is the hook's.  A record is used only by the thread that uses its
 * handle (libcurl's rule for handles), so its fields need no lock; the table
 * that finds it has one.
 */
struct record {
	CURL *handle;
	struct record *next; /* hash chain, handles.c */
	enum hook_flavour flavour;

	struct curl_slist *app_headers; /* CURLOPT_HTTPHEADER: the app's, never freed here */
	curl_prereq_callback app_prereq;
	void *app_prereq_data;
	curl_debug_callback app_debug;
	void *app_debug_data;
	FILE *app_stderr;     /* NULL: stderr */
	CURLU *app_curlu;     /* CURLOPT_CURLU */
	long app_port;        /* CURLOPT_PORT, 0 when unset */
	bool peer_off;        /* CURLOPT_SSL_VERIFYPEER 0 */
	bool host_off;        /* CURLOPT_SSL_VERIFYHOST 0 */
	bool headers_unified; /* CURLOPT_HEADEROPT without CURLHEADER_SEPARATE */

	bool installed; /* our prereq and debug callbacks are set on the handle */
	/*
	 * The list set on the handle for the current request when it carries
	 * injected headers.  libcurl reads it during that request, so it lives
	 * until the next request's decision, curl_easy_reset or cleanup.
	 */
	struct curl_slist *private_headers;
	/* The injected headers in private_headers, for the debug redaction. */
	size_t ninjected;
	struct injected injected[HOOK_MAX_HEADERS];
};

/* handles.c */

/*
 * Creates the record of @handle (replacing a stale one of the same address).
 * Returns it, or NULL when out of memory: the handle then gets nothing.
 */
struct record *handles_add(CURL *handle, enum hook_flavour fl);
/* The record of @handle, or NULL for a handle the hook does not know. */
struct record *handles_get(CURL *handle);
/* Removes @handle's record from the table and returns it (NULL if none). */
struct record *handles_take(CURL *handle);
/* Frees @rec and its private list (wiped).  Accepts NULL; returns NULL. */
struct record *record_free(struct record *rec);
/* Forgets what the application set: after curl_easy_reset. */
void record_reset(struct record *rec);

/* setopt.c */

/* One curl_easy_setopt argument, read with the va_arg type of its option. */
union setopt_arg {
	long l;
	void *p;
	hook_fn fn;
	curl_off_t off;
};

/* Reads @opt's argument from @ap with the type its option range implies
 * (inline: it runs for every option a program sets). */
static inline union setopt_arg setopt_read(CURLoption opt, va_list *ap)
{
	union setopt_arg arg = { 0 };

	if (opt < CURLOPTTYPE_OBJECTPOINT)
		arg.l = va_arg(*ap, long);
	else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
		arg.p = va_arg(*ap, void *); /* OBJECTPOINT, STRINGPOINT, SLISTPOINT, CBPOINT */
	else if (opt < CURLOPTTYPE_OFF_T)
		arg.fn = va_arg(*ap, hook_fn);
	else if (opt < CURLOPTTYPE_BLOB)
		arg.off = va_arg(*ap, curl_off_t);
	else
		arg.p = va_arg(*ap, void *); /* BLOB: struct curl_blob *; later ranges: a pointer */
	return arg;
}
/* Calls flavour @fl's curl_easy_setopt with @arg passed as its proper type. */
static inline CURLcode setopt_forward(enum hook_flavour fl, CURL *handle, CURLoption opt,
				      union setopt_arg arg)
{
	easy_setopt_fn real = (easy_setopt_fn)curl_real(fl, REAL_EASY_SETOPT);

	if (!real)
		return CURLE_FAILED_INIT;
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		return real(handle, opt, arg.l);
	if (opt < CURLOPTTYPE_FUNCTIONPOINT)
		return real(handle, opt, arg.p);
	if (opt < CURLOPTTYPE_OFF_T)
		return real(handle, opt, arg.fn);
	if (opt < CURLOPTTYPE_BLOB)
		return real(handle, opt, arg.off);
	return real(handle, opt, arg.p);
}

/*
 * The options hook_setopt() records; every other one goes straight to
 * libcurl from the wrapper (a program sets dozens per transfer).
 */
static inline bool setopt_watched(CURLoption opt)
{
	switch (opt) {
	case CURLOPT_HTTPHEADER:
	case CURLOPT_PREREQFUNCTION:
	case CURLOPT_PREREQDATA:
	case CURLOPT_DEBUGFUNCTION:
	case CURLOPT_DEBUGDATA:
	case CURLOPT_STDERR:
	case CURLOPT_SSL_VERIFYPEER:
	case CURLOPT_SSL_VERIFYHOST:
	case CURLOPT_CURLU:
	case CURLOPT_PORT:
	case CURLOPT_HEADEROPT:
		return true;
	default:
		return false;
	}
}
/* The interposed curl_easy_setopt: records what the hook must know, forwards. */
CURLcode hook_setopt(enum hook_flavour fl, CURL *handle, CURLoption opt, union setopt_arg arg,
		     const void *caller);

/* lifecycle.c: the other interposed entry points. */

CURL *hook_easy_init(enum hook_flavour fl, const void *caller);
CURL *hook_easy_duphandle(enum hook_flavour fl, CURL *handle, const void *caller);
void hook_easy_reset(enum hook_flavour fl, CURL *handle, const void *caller);
void hook_easy_cleanup(enum hook_flavour fl, CURL *handle, const void *caller);
CURLcode hook_easy_perform(enum hook_flavour fl, CURL *handle, const void *caller);
CURLMcode hook_multi_add_handle(enum hook_flavour fl, CURLM *multi, CURL *handle,
				const void *caller);

/* prereq.c */

/*
 * The CURLOPT_PREREQFUNCTION the hook installs (PREREQDATA: the record):
 * runs before every request, redirect hops included; chains to the
 * application's own, then sets the header list for this request.
 */
int prereq_callback(void *clientp, char *primary_ip, char *local_ip, int primary_port,
		    int local_port);

/* origin.c: where a URL points, as libcurl's own parser sees it. */

struct origin {
	char *scheme; /* lower case, allocated by libcurl */
	char *host;
	char *port; /* always set (CURLU_DEFAULT_PORT) */
};

/* Parses @url.  Returns 0, or -EINVAL / -ENOSYS (that libcurl lacks the URL API). */
int origin_of_url(enum hook_flavour fl, const char *url, struct origin *ret);
/* The origin of the application's CURLU.  Same returns. */
int origin_of_curlu(enum hook_flavour fl, const CURLU *curlu, struct origin *ret);
/* True when scheme, host and port match (scheme and host case-insensitively). */
bool origin_equal(const struct origin *a, const struct origin *b);
/* Frees what origin_of_*() filled in; safe on a zeroed struct. */
void origin_done(enum hook_flavour fl, struct origin *o);
/*
 * False when request @url (hop @hops of the transfer) may go somewhere other
 * than the URL says: the application's CURLU names another origin on the
 * first hop, or CURLOPT_PORT another port.  Unparsable counts as false.
 */
bool origin_request_consistent(const struct record *rec, const char *url, long hops);

/* merge.c */

enum exists_action {
	EXISTS_OVERRIDE,
	EXISTS_SKIP,
	EXISTS_APPEND,
};

struct agent_header {
	const char *name;
	const char *value;
	size_t value_len;
	enum exists_action action;
};

/*
 * Builds a new list (flavour @fl's curl_slist) holding the application's
 * @app lines and the @n agent headers, merged by exists_action.  @app is
 * only read.  The headers actually added are described in @ret_inj
 * (HOOK_MAX_HEADERS entries) and counted in *ret_ninj.  Returns 0 and
 * *ret_list (NULL when both are empty), or -ENOMEM / -ENOSYS (nothing is
 * left behind).
 */
int merge_headers(enum hook_flavour fl, const struct curl_slist *app,
		  const struct agent_header *hdrs, size_t n, struct curl_slist **ret_list,
		  struct injected *ret_inj, size_t *ret_ninj);
/* Wipes every string of a list merge_headers() built, then frees it.  Returns NULL. */
struct curl_slist *merge_free(enum hook_flavour fl, struct curl_slist *list);
/* True when header line @line (from a curl_slist) is for header @name. */
bool merge_line_is(const char *line, const char *name, size_t name_len);

/* redact.c */

/*
 * The CURLOPT_DEBUGFUNCTION the hook installs (DEBUGDATA: the record): hides
 * injected header values, then calls the application's debug function or
 * prints as libcurl's default one does.
 */
int redact_debug_callback(CURL *handle, curl_infotype type, char *data, size_t size, void *userp);

/* agent_reply.c */

/* A parsed "headers" reply; strings point into the reply buffer. */
struct agent_reply {
	bool ok;
	const char *error;   /* ok == false: the wire error code */
	const char *message; /* ok == false: may be NULL */
	size_t nheaders;
	struct agent_header headers[HOOK_MAX_HEADERS];
};

/*
 * Parses the reply of @len bytes at @buf, decoding its strings in place
 * (the buffer must outlive *ret).  Returns 0, or -EBADMSG.
 */
int agent_reply_parse(char *buf, size_t len, struct agent_reply *ret);

/* agent_client.c */

/*
 * Sends @req (@len bytes of JSON) to the agent as one frame and reads the
 * reply frame into a new buffer: returns 0 and *ret_buf / *ret_len (wipe and
 * free it), or -errno with a reason in @err.  Reuses one connection per
 * process and reconnects once when the agent closed it.
 */
int agent_roundtrip(const char *req, size_t len, char **ret_buf, size_t *ret_len, char *err,
		    size_t errlen);
/* Forgets the connection in a child after fork() (pthread_atfork). */
void agent_atfork_child(void);
/*
 * The kept connection, for host_list.c, whose list is only as current as
 * the connection it was fetched on.  agent_shared_acquire() takes it
 * without waiting (false: another thread has it); the other functions are
 * called while holding it, agent_shared_release() lets it go.
 * agent_shared_roundtrip() is agent_roundtrip() on it; agent_shared_serial()
 * names the open connection (0: none); agent_shared_open() tells whether it
 * is still open and idle, and closes it when it is not.
 */
bool agent_shared_acquire(void);
void agent_shared_release(void);
int agent_shared_roundtrip(const char *req, size_t len, char **ret_buf, size_t *ret_len, char *err,
			   size_t errlen);
unsigned long agent_shared_serial(void);
bool agent_shared_open(void);

/* host_list.c */

/*
 * False only when no host pattern of the agent's can cover @url's host: the
 * transfer then needs no round trip.  True when one may, and whenever the
 * list is not known for sure (an agent without the "hosts" operation, the
 * kept connection busy on another thread, a URL the hook does not read):
 * then the agent decides, as it always does for covered hosts.  Ports are
 * not compared: the agent decides those.
 */
bool host_list_may_cover(const char *url);

/* report.c */

enum report_kind {
	REPORT_AGENT,    /* the agent could not provide headers */
	REPORT_MISMATCH, /* the request's URL and its destination disagree */
	REPORT_OLD_CURL, /* libcurl without CURLOPT_PREREQFUNCTION */
	_REPORT_MAX,
};

/*
 * Prints one line "aoai-preload: MESSAGE" to stderr, at most once per
 * process and kind.  Control characters are replaced.  Never pass a secret.
 */
void report_once(enum report_kind kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when AOAI_PRELOAD_STRICT=1: failures abort the transfer. */
bool hook_strict(void);
