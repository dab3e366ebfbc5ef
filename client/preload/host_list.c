/* SPDX-License-Identifier: MIT */
/*
 * The agent's host patterns, kept so that a transfer to a host no profile
 * covers goes out without a round trip (docs/HOOK.md, "The host list").
 *
 * The list is fetched with the "hosts" operation on the kept connection and
 * is trusted only while that very connection stays open: the agent closes
 * it at once whenever the patterns may have changed (reload, aoai add
 * --host, aoai remove, store unlock or lock), and before
 * each transfer agent_shared_open() peeks at it without blocking.  An end
 * of stream there means "fetch again", so the first transfer after a change
 * already sees the new list.  Nothing else is cached: a host the list may
 * cover is always asked about, and the agent decides and logs every release.
 *
 * The list lives under the kept connection's try-lock: a thread that finds
 * it taken asks the agent instead of waiting.  In a child after fork() the
 * connection is gone, so its serial no longer matches and the list is
 * fetched again on the child's own connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hook.h"
#include "json_mini.h"
#include "proto.h"
#include "url_authority.h"

#define HOSTS_REQUEST     "{\"v\":1,\"op\":\"hosts\"}"
#define HOST_LIST_MAX     65536 /* patterns; a reply holds fewer (PROTO_MAX_FRAME) */
#define HOST_LIST_MAXNAME 255   /* bytes of a host, as the agent's patterns */

/* An open-addressing set of (wildcard, host) keys; hosts in lower case. */
struct host_set {
	size_t mask; /* slots - 1, slots a power of two at least twice the count */
	const char **slots;
	bool *wild;
	char *names; /* the hosts, NUL-terminated one after the other */
};

static struct {
	unsigned long serial; /* the connection the list came on; 0: none */
	bool unknown;         /* that agent has no list to give: ask for every URL */
	struct host_set *set;
} list;

static uint64_t key_hash(const char *s, size_t len, bool wild)
{
	uint64_t h = wild ? 0x9ae16a3b2f90404full : 0xcbf29ce484222325ull; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return h;
}

/* The slot holding the key, or the empty one where it would go. */
static size_t slot_of(const struct host_set *set, const char *s, size_t len, bool wild)
{
	size_t i = key_hash(s, len, wild) & set->mask;

	while (set->slots[i] && !(set->wild[i] == wild && strncmp(set->slots[i], s, len) == 0 &&
				  set->slots[i][len] == '\0'))
		i = (i + 1) & set->mask;
	return i;
}

static bool set_has(const struct host_set *set, const char *s, size_t len, bool wild)
{
	return set->slots[slot_of(set, s, len, wild)] != NULL;
}

static struct host_set *set_free(struct host_set *set)
{
	if (set) {
		free(set->slots);
		free(set->wild);
		free(set->names);
		free(set);
	}
	return NULL;
}

static struct host_set *set_new(size_t n, size_t bytes)
{
	struct host_set *set = calloc(1, sizeof(*set));
	size_t slots = 16;

	while (slots < 2 * n)
		slots *= 2;
	if (!set)
		return NULL;
	set->mask = slots - 1;
	set->slots = calloc(slots, sizeof(*set->slots));
	set->wild = calloc(slots, sizeof(*set->wild));
	set->names = malloc(bytes + 1);
	if (!set->slots || !set->wild || !set->names)
		return set_free(set);
	return set;
}

/*
 * A pattern in its config spelling ("h", "*.h", "h:port", "[v6]:port"):
 * its host (as written) and whether it is a wildcard.  -EBADMSG if empty.
 */
static int pattern_host(const char *text, const char **ret, size_t *ret_len, bool *ret_wild)
{
	const char *end;

	*ret_wild = strncmp(text, "*.", 2) == 0;
	if (*ret_wild)
		text += 2;
	if (text[0] == '[') {
		text++;
		end = strchr(text, ']');
	} else {
		end = strchr(text, ':');
	}
	if (!end)
		end = text + strlen(text);
	if (end == text || end - text > HOST_LIST_MAXNAME)
		return -EBADMSG;
	*ret = text;
	*ret_len = (size_t)(end - text);
	return 0;
}

struct fill {
	struct host_set *set;
	char *next; /* in set->names */
	size_t count;
};

static int fill_element(struct json_mini_parser *ps, void *ctx)
{
	struct fill *f = ctx;
	const char *host;
	size_t len, i, k;
	bool wild;
	char *s;

	if (json_mini_string(ps, &s, &len) < 0 || pattern_host(s, &host, &len, &wild) < 0 ||
	    f->count >= HOST_LIST_MAX)
		return -EBADMSG;
	for (k = 0; k < len; k++)
		f->next[k] = (host[k] >= 'A' && host[k] <= 'Z') ? (char)(host[k] + 32) : host[k];
	f->next[len] = '\0';
	i = slot_of(f->set, f->next, len, wild);
	if (!f->set->slots[i]) {
		f->set->slots[i] = f->next;
		f->set->wild[i] = wild;
		f->next += len + 1;
	}
	f->count++;
	return 0;
}

struct reply {
	struct fill fill;
	bool ok, have_hosts;
	const char *error;
};

static int reply_member(struct json_mini_parser *ps, const char *key, void *ctx)
{
	struct reply *r = ctx;
	size_t len;
	char *s;
	bool one;

	if (strcmp(key, "v") == 0)
		return json_mini_number(ps, &one) < 0 || !one ? -EBADMSG : 0;
	if (strcmp(key, "ok") == 0)
		return json_mini_bool(ps, &r->ok);
	if (strcmp(key, "error") == 0) {
		if (json_mini_string(ps, &s, &len) < 0)
			return -EBADMSG;
		r->error = s;
		return 0;
	}
	if (strcmp(key, "hosts") == 0 && !r->have_hosts) {
		r->have_hosts = true;
		return json_mini_array(ps, fill_element, &r->fill);
	}
	return json_mini_skip(ps, 1);
}

/*
 * Parses the reply into a new set (the reply's length bounds the names and
 * the count).  Returns 0 and *ret (NULL: the agent gave no list: an agent
 * before "hosts" answers unknown_op), or -EBADMSG / -ENOMEM.
 */
static int parse_hosts(char *buf, size_t len, struct host_set **ret)
{
	struct json_mini_parser ps = { .p = buf, .end = buf + len };
	struct reply r = { .ok = false };
	size_t quotes = 0;

	/* Each pattern is a string: two quotes at least. */
	for (const char *q = buf; (q = memchr(q, '"', (size_t)(buf + len - q))); q++)
		quotes++;
	r.fill.set = set_new(quotes / 2 + 1, len);
	if (!r.fill.set)
		return -ENOMEM;
	r.fill.next = r.fill.set->names;
	if (json_mini_object(&ps, reply_member, &r) < 0 || json_mini_peek(&ps) != -1 ||
	    (r.ok && !r.have_hosts)) {
		set_free(r.fill.set);
		return -EBADMSG;
	}
	if (!r.ok)
		r.fill.set = set_free(r.fill.set);
	*ret = r.fill.set;
	return 0;
}

/* Fetches the list on the kept connection (held).  0 or -errno. */
static int refresh(void)
{
	struct host_set *set = NULL, *old = list.set;
	char err[256], *buf = NULL;
	size_t len = 0;
	int r;

	list.serial = 0;
	r = agent_shared_roundtrip(HOSTS_REQUEST, sizeof(HOSTS_REQUEST) - 1, &buf, &len, err,
				   sizeof(err));
	if (r < 0)
		return r;
	r = parse_hosts(buf, len, &set);
	free(buf); /* host patterns only: nothing to wipe */
	if (r < 0)
		return r;
	/* The new list in place before the old one goes: a fork() in between
	 * leaves the child a list it can still read. */
	list.set = set;
	list.unknown = !set;
	list.serial = agent_shared_serial();
	set_free(old);
	return 0;
}

/* @host (as written in the URL) into @buf: lower case, no brackets or final dot. */
static size_t normal_host(const struct url_authority *a, char *buf, size_t buflen)
{
	const char *h = a->host;
	size_t len = a->host_len, i;
	struct in6_addr v6;

	if (len >= 2 && h[0] == '[') {
		if (len - 2 >= buflen)
			return 0;
		memcpy(buf, h + 1, len - 2);
		buf[len - 2] = '\0';
		/* The agent's patterns hold IPv6 addresses in their canonical form. */
		if (inet_pton(AF_INET6, buf, &v6) != 1 || !inet_ntop(AF_INET6, &v6, buf, buflen))
			return 0;
		return strlen(buf);
	}
	if (len > 1 && h[len - 1] == '.')
		len--;
	if (len >= buflen)
		return 0;
	for (i = 0; i < len; i++)
		buf[i] = (h[i] >= 'A' && h[i] <= 'Z') ? (char)(h[i] + 32) : h[i];
	buf[len] = '\0';
	return len;
}

/* The host itself, or "*.suffix" for any of its parent domains. */
static bool set_covers(const struct host_set *set, const char *url)
{
	char host[INET6_ADDRSTRLEN + HOST_LIST_MAXNAME], err[8];
	struct url_authority a;
	size_t len, i;

	if (url_authority_split(url, &a, err, sizeof(err)) < 0)
		return true; /* the agent says what is wrong with it */
	len = normal_host(&a, host, sizeof(host));
	if (len == 0)
		return true;
	if (set_has(set, host, len, false))
		return true;
	for (i = 0; i < len; i++)
		if (host[i] == '.' && set_has(set, host + i + 1, len - i - 1, true))
			return true;
	return false;
}

/*
 * With the kept connection held.  Only "not covered" needs a current list:
 * a host the list may cover is asked about anyway, and the agent decides on
 * its own patterns (a closed connection then shows as an end of stream on
 * the request, which is sent again on a new one), so the peek is spent on
 * uncovered hosts only.
 */
static bool may_cover_locked(const char *url)
{
	bool fetched = list.serial && list.serial == agent_shared_serial();

	if (fetched && (list.unknown || set_covers(list.set, url)))
		return true;
	if (fetched && agent_shared_open())
		return false;
	if (refresh() < 0)
		return true;
	return list.unknown || set_covers(list.set, url);
}

bool host_list_may_cover(const char *url)
{
	bool covers;

	if (!agent_shared_acquire())
		return true;
	covers = may_cover_locked(url);
	agent_shared_release();
	return covers;
}
