/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "clock.h"
#include "added_profiles.h"
#include "agent.h"
#include "agent_load.h"
#include "log.h"
#include "secrets.h"
#include "signins.h"
#include "store.h"
#include "store_file.h"

typedef char store_name[PROTO_MAX_NAME + 1];

struct store {
	char *path;
	enum store_state state;
	char *error;
	unsigned char *key; /* sodium memory; NULL unless unlocked */
	struct store_kdf kdf;
	uint8_t *snapshot; /* the file as last read or written: ciphertext only */
	size_t snapshot_len;
	store_name *names; /* the persisted secrets */
	size_t n, cap;
	size_t signins; /* sign-ins loaded by the last unlock */
};

static void set_error(struct store *s, const char *msg)
{
	free(s->error);
	s->error = msg ? strdup(msg) : NULL;
}

static void set_snapshot(struct store *s, uint8_t *buf, size_t len)
{
	free(s->snapshot);
	s->snapshot = buf;
	s->snapshot_len = len;
}

/* A directory another user can change may hold a planted or rolled-back
 * file: nothing is read from it (state broken).  Returns 0 when the file
 * may be read, 1 when not, or -ENOMEM. */
static int check_dir(struct store *s)
{
	char err[512] = "", msg[1024];
	int r = store_file_check_dir(s->path, err, sizeof(err));

	if (r == 0 || r == -ENOENT)
		return 0;
	if (r == -ENOMEM)
		return r;
	s->state = STORE_BROKEN;
	snprintf(msg, sizeof(msg),
		 "%s; another user could replace the store there, so it is not used "
		 "(restart the agent once this is fixed)",
		 err);
	set_error(s, msg);
	return 1;
}

/* Sets the state from the file at s->path. */
static void read_store(struct store *s)
{
	struct store_header h;
	char err[512], msg[1024];
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	r = store_file_read(s->path, &buf, &len, err, sizeof(err));
	if (r == 0)
		r = store_format_check(buf, len, &h, err, sizeof(err));
	if (r == -ENOENT) {
		s->state = STORE_NONE;
	} else if (r == 0) {
		s->state = STORE_LOCKED;
		s->kdf = h.kdf;
		set_snapshot(s, buf, len);
		buf = NULL;
	} else {
		s->state = STORE_BROKEN;
		snprintf(msg, sizeof(msg),
			 "%s: %s; the file is left as it is (move it away to start a new store)",
			 s->path, err);
		set_error(s, msg);
	}
	free(buf);
}

int store_new(const char *path, struct store **ret)
{
	struct store *s = calloc(1, sizeof(*s));
	int r = 0;

	if (!s || (path && !(s->path = strdup(path)))) {
		free(s);
		return -ENOMEM;
	}
	if (!path) {
		s->state = STORE_BROKEN;
		set_error(s,
			  "no place for a persistent store: neither XDG_DATA_HOME nor HOME is set");
	} else {
		r = check_dir(s);
	}
	if (r == 0 && path)
		read_store(s);
	if (r < 0) {
		store_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

struct store *store_free(struct store *s)
{
	if (!s)
		return NULL;
	sodium_free(s->key);
	free(s->snapshot);
	free(s->names);
	free(s->error);
	free(s->path);
	free(s);
	return NULL;
}

enum store_state store_state(const struct store *s)
{
	return s->state;
}

const char *store_state_name(enum store_state state)
{
	static const char *const names[] = { "none", "locked", "unlocked", "broken" };

	return (unsigned)state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

const char *store_path(const struct store *s)
{
	return s->path;
}

const char *store_error(const struct store *s)
{
	return s->error;
}

size_t store_count(const struct store *s)
{
	return s->n;
}

size_t store_signins_loaded(const struct store *s)
{
	return s->signins;
}

static ssize_t find_name(const struct store *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return (ssize_t)i;
	return -1;
}

bool store_has(const struct store *s, const char *name)
{
	return find_name(s, name) >= 0;
}

static int add_name(struct store *s, const char *name)
{
	if (find_name(s, name) >= 0)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		store_name *names = reallocarray(s->names, cap, sizeof(*names));

		if (!names)
			return -ENOMEM;
		s->names = names;
		s->cap = cap;
	}
	snprintf(s->names[s->n++], sizeof(store_name), "%s", name);
	return 0;
}

static void drop_name(struct store *s, size_t i)
{
	memmove(&s->names[i], &s->names[i + 1], (s->n - i - 1) * sizeof(store_name));
	s->n--;
}

const struct store_kdf *store_current_kdf(const struct store *s)
{
	return &s->kdf;
}

void store_new_kdf(enum store_strength strength, struct store_kdf *ret)
{
	switch (strength) {
	case STORE_KDF_INTERACTIVE:
		ret->opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		ret->memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		break;
	case STORE_KDF_SENSITIVE:
		ret->opslimit = crypto_pwhash_OPSLIMIT_SENSITIVE;
		ret->memlimit = crypto_pwhash_MEMLIMIT_SENSITIVE;
		break;
	default:
		ret->opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
		ret->memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
	}
	randombytes_buf(ret->salt, sizeof(ret->salt));
}

bool store_key_matches(const struct store *s, const unsigned char key[STORE_KEY_LEN])
{
	return s->key && sodium_memcmp(s->key, key, STORE_KEY_LEN) == 0;
}

/* The host of the --host profile named @name, "" when there is none. */
static void added_host(const struct agent *a, const char *name, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < added_profiles_count(a->added); i++) {
		const struct profile *p = added_profiles_at(a->added, i);

		if (strcmp(p->name, name) == 0 && p->n_hosts > 0)
			host_pattern_format(&p->hosts[0], buf, len);
	}
}

/* Boot-clock expiry to Unix seconds, rounded up (load_record() converts back). */
static int64_t expiry_to_wall(uint64_t expires_at, uint64_t now)
{
	if (!expires_at)
		return 0;
	return (int64_t)time(NULL) +
	       (int64_t)((expires_at - now + USEC_PER_SEC - 1) / USEC_PER_SEC);
}

struct sealing {
	struct store_record *records;
	const struct secret **revealed;
	char (*hosts)[HOSTS_MAX_NAME + 16];
	size_t n;
	const struct signin **signins; /* revealed */
	size_t n_signins, cap_signins;
};

static void count_signin(void *data, const char *profile, const struct signin *in)
{
	(void)profile;
	*(size_t *)data += in->persisted && in->refresh_token;
}

/* Adds a persisted sign-in that holds a refresh token, revealed. */
static void collect_signin(void *data, const char *profile, const struct signin *in)
{
	struct sealing *sl = data;
	struct store_record *rec = &sl->records[sl->n];

	if (!in->persisted || !in->refresh_token || sl->n_signins == sl->cap_signins)
		return;
	signin_reveal(in);
	sl->signins[sl->n_signins++] = in;
	*rec = (struct store_record){ .kind = STORE_RECORD_SIGNIN,
				      .name = profile,
				      .host = in->binding,
				      .account = in->account,
				      .secret = (const unsigned char *)in->refresh_token,
				      .secret_len = in->len };
	sl->n++;
}

/* Collects the records of @names that are still held, values revealed,
 * then the persisted sign-ins. */
static int collect(const struct agent *a, const store_name *names, size_t n, struct sealing *sl)
{
	uint64_t now = clock_now();
	struct signins *ins = a->source_ctx.signins;

	if (ins)
		signins_foreach(ins, count_signin, &sl->cap_signins);
	sl->signins = calloc(sl->cap_signins ? sl->cap_signins : 1, sizeof(*sl->signins));
	sl->records = calloc(n + sl->cap_signins ? n + sl->cap_signins : 1, sizeof(*sl->records));
	sl->revealed = calloc(n ? n : 1, sizeof(*sl->revealed));
	sl->hosts = calloc(n ? n : 1, sizeof(*sl->hosts));
	if (!sl->records || !sl->revealed || !sl->hosts || !sl->signins)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct secret *sec = secrets_find(a->secrets, names[i], now);
		struct store_record *rec = &sl->records[sl->n];

		if (!sec || !sec->value)
			continue;
		added_host(a, names[i], sl->hosts[sl->n], sizeof(sl->hosts[0]));
		secret_reveal(sec);
		sl->revealed[sl->n] = sec;
		rec->name = sec->name;
		rec->host = sl->hosts[sl->n];
		rec->expires = expiry_to_wall(sec->expires_at, now);
		rec->secret = sec->value;
		rec->secret_len = sec->len;
		sl->n++;
	}
	if (ins)
		signins_foreach(ins, collect_signin, sl);
	return 0;
}

static void sealing_done(struct sealing *sl)
{
	for (size_t i = 0; i < sl->n - sl->n_signins; i++)
		secret_conceal(sl->revealed[i]);
	for (size_t i = 0; i < sl->n_signins; i++)
		signin_conceal(sl->signins[i]);
	free(sl->signins);
	free(sl->records);
	free(sl->revealed);
	free(sl->hosts);
}

/* Seals @names under @key/@kdf and replaces the file; the snapshot follows. */
static int write_store(struct agent *a, const store_name *names, size_t n, const unsigned char *key,
		       const struct store_kdf *kdf, char *err, size_t errlen)
{
	struct store *s = a->store;
	struct sealing sl = { 0 };
	uint8_t *buf = NULL;
	size_t len = 0;
	char why[512];
	int r = collect(a, names, n, &sl);

	if (r == 0)
		r = store_format_seal(kdf, key, sl.records, sl.n, &buf, &len);
	sealing_done(&sl);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot seal the store: %s", s->path, strerror(-r));
		return r;
	}
	r = store_file_write(s->path, buf, len, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", s->path, why);
		free(buf);
		return r;
	}
	set_snapshot(s, buf, len);
	return 0;
}

struct loading {
	struct agent *a;
	struct store *s;
	uint64_t now;
	time_t wall;
	size_t expired;
	size_t signins;
};

/* A persisted sign-in back into memory; a binding that no longer matches
 * the profile's credential makes it unusable (signins_find()), and the
 * next write of the store drops it once a reload prunes it. */
static int load_signin(struct loading *l, const struct store_record *rec)
{
	struct signins *ins = l->a->source_ctx.signins;
	int r;

	if (!ins)
		return 0;
	r = signins_put(ins, rec->name, rec->host, (const char *)rec->secret, rec->secret_len,
			rec->account);
	if (r == 0)
		r = signins_persist(ins, rec->name, true);
	l->signins += r == 0;
	return r;
}

static int load_record(void *userdata, const struct store_record *rec)
{
	struct loading *l = userdata;
	uint64_t expires_at = 0;
	struct host_pattern host;
	char msg[256];
	int r;

	if (rec->kind == STORE_RECORD_SIGNIN)
		return load_signin(l, rec);
	if (config_find_secret(l->a->config, rec->name)) {
		log_warn("persisted secret \"%s\" is shadowed by the configuration's and was "
			 "not loaded",
			 rec->name);
		return 0;
	}
	if (rec->expires && rec->expires <= l->wall) {
		l->expired++;
		return 0;
	}
	if (rec->expires)
		expires_at = l->now + (uint64_t)(rec->expires - l->wall) * USEC_PER_SEC;
	/* Named first, so that store_close() undoes a load that fails midway. */
	r = add_name(l->s, rec->name);
	if (r == 0)
		r = secrets_put(l->a->secrets, rec->name, rec->secret, rec->secret_len,
				ORIGIN_ADDED, expires_at);
	if (r == 0 && rec->host[0] && host_pattern_parse(rec->host, &host, msg, sizeof(msg)) == 0)
		r = added_profiles_set(l->a->added, rec->name, &host);
	return r;
}

/* A persisted sign-in changed (signins.h): the file follows while unlocked. */
static void signins_changed(void *data)
{
	struct agent *a = data;
	struct store *s = a->store;
	char err[1024];
	int r;

	if (!s || s->state != STORE_UNLOCKED)
		return;
	r = write_store(a, s->names, s->n, s->key, &s->kdf, err, sizeof(err));
	if (r < 0)
		log_error("cannot update the persistent store: %s", err);
	set_error(s, r < 0 ? err : NULL);
}

static void follow_signins(struct agent *a)
{
	if (a->source_ctx.signins)
		signins_set_hook(a->source_ctx.signins, signins_changed, a);
}

int store_open(struct agent *a, const unsigned char key[STORE_KEY_LEN], char *err, size_t errlen)
{
	struct store *s = a->store;
	struct loading l = { .a = a, .s = s, .now = clock_now(), .wall = time(NULL) };
	char why[512] = "";
	int r;

	r = store_format_open(s->snapshot, s->snapshot_len, key, load_record, &l, why, sizeof(why));
	if (r == -EACCES) {
		snprintf(err, errlen, "%s", why);
		return r;
	}
	if (r < 0 && !why[0])
		snprintf(why, sizeof(why), "cannot load a record: %s", strerror(-r));
	if (r < 0) {
		snprintf(err, errlen,
			 "%s: %s; none of its secrets were loaded and the file is "
			 "left as it is (move it away to start a new store)",
			 s->path, why);
		store_close(a); /* forgets whatever a record before the failure added */
		if (a->source_ctx.signins)
			signins_forget_all(a->source_ctx.signins);
		s->state = STORE_BROKEN;
		set_error(s, err);
		return r;
	}
	s->key = sodium_malloc(STORE_KEY_LEN);
	if (!s->key) {
		store_close(a);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(s->key, key, STORE_KEY_LEN);
	s->state = STORE_UNLOCKED;
	follow_signins(a);
	/* Stale ones (the profile now signs in elsewhere) are dropped, from the file too. */
	s->signins = l.signins - agent_prune_signins(a, a->config);
	if (l.expired > 0) {
		log_info("%zu persisted secret(s) had expired", l.expired);
		(void)store_sync(a, why, sizeof(why)); /* logs a failure */
	}
	return 0;
}

void store_close(struct agent *a)
{
	struct store *s = a->store;

	for (size_t i = 0; i < s->n; i++) {
		secrets_remove(a->secrets, s->names[i]);
		added_profiles_remove(a->added, s->names[i]);
	}
	s->n = 0;
	sodium_free(s->key);
	s->key = NULL;
	s->state = STORE_LOCKED;
}

int store_rekey(struct agent *a, const unsigned char key[STORE_KEY_LEN],
		const struct store_kdf *kdf, char *err, size_t errlen)
{
	struct store *s = a->store;
	unsigned char *copy = sodium_malloc(STORE_KEY_LEN);
	int r;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(copy, key, STORE_KEY_LEN);
	r = write_store(a, s->names, s->n, copy, kdf, err, errlen);
	if (r < 0) {
		sodium_free(copy);
		return r;
	}
	sodium_free(s->key);
	s->key = copy;
	s->kdf = *kdf;
	s->state = STORE_UNLOCKED;
	set_error(s, NULL);
	follow_signins(a);
	return 0;
}

int store_keep(struct agent *a, const char *name, bool persist, char *err, size_t errlen)
{
	struct store *s = a->store;
	ssize_t at = find_name(s, name);
	int r;

	if (!persist && at < 0)
		return 0;
	if (!persist) {
		drop_name(s, (size_t)at);
		r = write_store(a, s->names, s->n, s->key, &s->kdf, err, errlen);
	} else {
		r = add_name(s, name);
		if (r < 0) {
			snprintf(err, errlen, "out of memory");
			return r;
		}
		r = write_store(a, s->names, s->n, s->key, &s->kdf, err, errlen);
		if (r < 0 && at < 0)
			drop_name(s, s->n - 1);
	}
	set_error(s, r < 0 ? err : NULL);
	return r;
}

int store_sync(struct agent *a, char *err, size_t errlen)
{
	struct store *s = a->store;
	uint64_t now = clock_now();
	bool changed = false;
	int r;

	if (!s || s->state != STORE_UNLOCKED)
		return 0;
	for (size_t i = s->n; i-- > 0;)
		if (!secrets_find(a->secrets, s->names[i], now)) {
			drop_name(s, i);
			changed = true;
		}
	if (!changed)
		return 0;
	r = write_store(a, s->names, s->n, s->key, &s->kdf, err, errlen);
	if (r < 0)
		log_error("cannot update the persistent store: %s", err);
	set_error(s, r < 0 ? err : NULL);
	return r;
}
