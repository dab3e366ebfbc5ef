/* SPDX-License-Identifier: MIT */
/*
 * The persistent store's file format (agent/secrets/store_format.c).  The first
 * byte picks the mode:
 *   even: the rest is a store file, as read from disk: the structural check
 *         and an open with a fixed key (a fuzzer cannot forge the tag, so
 *         this exercises the header and record framing) must refuse it
 *         cleanly or accept it consistently;
 *   odd:  the rest describes up to 4 records (name, host, secret split at
 *         '\n'; a name starting with '@' makes a sign-in record, its host the
 *         binding); they are sealed, must open to the same records, and the
 *         sealed file with one byte flipped (chosen by the input) must be
 *         refused with no record handed over.
 * Nothing touches the disk; no key is derived (Argon2id is not the subject).
 */
#include <errno.h>

#include <sodium.h>

#include "fuzz.h"
#include "proto.h"
#include "store_format.h"

#define MAX_RECORDS 4

static unsigned char key[STORE_KEY_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	FUZZ_CHECK(sodium_init() >= 0);
	memset(key, 0x5a, sizeof(key));
	return 0;
}

struct expect {
	const struct store_record *records;
	size_t n, seen;
};

static int compare(void *userdata, const struct store_record *rec)
{
	struct expect *e = userdata;
	const struct store_record *want;

	FUZZ_CHECK(e->seen < e->n);
	want = &e->records[e->seen++];
	FUZZ_CHECK(strcmp(rec->name, want->name) == 0 && strcmp(rec->host, want->host) == 0);
	FUZZ_CHECK(rec->kind == want->kind && rec->expires == want->expires &&
		   rec->secret_len == want->secret_len);
	FUZZ_CHECK(rec->kind == STORE_RECORD_SECRET ? rec->account == NULL
						    : strcmp(rec->account, want->account) == 0);
	FUZZ_CHECK(memcmp(rec->secret, want->secret, want->secret_len) == 0);
	return 0;
}

static int count(void *userdata, const struct store_record *rec)
{
	FUZZ_CHECK(proto_name_valid(rec->name) && rec->secret_len > 0);
	(*(size_t *)userdata)++;
	return 0;
}

static void as_file(const uint8_t *data, size_t size)
{
	struct store_header h;
	char err[256];
	size_t n = 0;
	int r = store_format_check(data, size, &h, err, sizeof(err));

	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EPROTONOSUPPORT);
	if (r < 0) {
		FUZZ_CHECK(fuzz_message_ok(err, sizeof(err)) && err[0] != '\0');
		return;
	}
	FUZZ_CHECK(h.count >= 1 && h.count <= STORE_MAX_RECORDS);
	r = store_format_open(data, size, key, count, &n, err, sizeof(err));
	FUZZ_CHECK(r == 0 || r == -EACCES || r == -EBADMSG);
	FUZZ_CHECK(r == 0 || n == 0);
	FUZZ_CHECK(r == 0 ? n == h.count - 1 : fuzz_message_ok(err, sizeof(err)));
}

/* Splits "name\nhost\nsecret\n" groups out of @text into @rec. */
static size_t make_records(char *text, struct store_record *rec)
{
	size_t n = 0;
	char *save = NULL, *name, *host, *secret;

	while (n < MAX_RECORDS && (name = strtok_r(n ? NULL : text, "\n", &save)) &&
	       (host = strtok_r(NULL, "\n", &save)) && (secret = strtok_r(NULL, "\n", &save))) {
		bool signin = name[0] == '@';

		rec[n] = (struct store_record){
			.kind = signin ? STORE_RECORD_SIGNIN : STORE_RECORD_SECRET,
			.name = signin ? name + 1 : name,
			.host = strcmp(host, "-") == 0 ? "" : host,
			.account = signin ? "ada@contoso.example" : NULL,
			.expires = signin ? 0 : (int64_t)strlen(secret) * 1000,
			.secret = (const unsigned char *)secret,
			.secret_len = strlen(secret),
		};
		n++;
	}
	return n;
}

static void round_trip(const uint8_t *data, size_t size, unsigned flip)
{
	struct store_kdf kdf = { .opslimit = 3, .memlimit = 1 << 16 };
	struct store_record rec[MAX_RECORDS];
	char *text = fuzz_strndup(data, size), err[256];
	size_t n = make_records(text, rec), seen = 0;
	struct expect e = { .records = rec, .n = n };
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	memset(kdf.salt, 0x11, sizeof(kdf.salt));
	r = store_format_seal(&kdf, key, rec, n, &buf, &len);
	FUZZ_CHECK(r == 0 || r == -EINVAL);
	if (r == 0) {
		r = store_format_open(buf, len, key, compare, &e, err, sizeof(err));
		/* Names the agent would never store are refused when read back. */
		FUZZ_CHECK(r == 0 || r == -EBADMSG);
		FUZZ_CHECK(r != 0 || e.seen == n);
		buf[flip % len] ^= (uint8_t)(1u << (flip / 7 % 8));
		r = store_format_open(buf, len, key, count, &seen, err, sizeof(err));
		FUZZ_CHECK(r < 0 && seen == 0 && fuzz_message_ok(err, sizeof(err)));
	}
	free(buf);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	if (data[0] % 2 == 0)
		as_file(data + 1, size - 1);
	else
		round_trip(data + 3, size - 3, (unsigned)data[1] << 8 | data[2]);
	return 0;
}
