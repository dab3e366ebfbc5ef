/* SPDX-License-Identifier: MIT */
/*
 * The persistent store's file format: a round trip, and every way a file
 * can be wrong (other key, any byte flipped, any truncation, another
 * version, absurd parameters, extra bytes) refused without a record
 * handed over.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "store_format.h"

#define SECRET_A "FAKE-SECRET-aaaaaaaaaaaaaaaaaaaa"
#define SECRET_B "FAKE-SECRET-bbbb"

struct seen {
	size_t n;
	char names[4][80];
	char hosts[4][300];
	char secrets[4][80];
	int64_t expires[4];
	enum store_kind kinds[4];
	char accounts[4][80];
};

static int remember(void *userdata, const struct store_record *rec)
{
	struct seen *s = userdata;

	if (s->n < 4) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", rec->name);
		snprintf(s->hosts[s->n], sizeof(s->hosts[0]), "%s", rec->host);
		snprintf(s->secrets[s->n], sizeof(s->secrets[0]), "%.*s", (int)rec->secret_len,
			 (const char *)rec->secret);
		s->expires[s->n] = rec->expires;
		s->kinds[s->n] = rec->kind;
		snprintf(s->accounts[s->n], sizeof(s->accounts[0]), "%s",
			 rec->account ? rec->account : "");
	}
	s->n++;
	return 0;
}

static unsigned char key[STORE_KEY_LEN];
static struct store_kdf kdf = { .opslimit = 2, .memlimit = 8192 * 8 };

/* Each test gets a fresh file of two records (with room for one more byte). */
struct sealed {
	uint8_t *buf;
	size_t len;
	struct seen seen;
	char err[256];
};

static int seal_two(void **state)
{
	const struct store_record records[] = {
		{ .name = "contoso",
		  .host = "contoso.openai.azure.com",
		  .expires = 0,
		  .secret = (const unsigned char *)SECRET_A,
		  .secret_len = strlen(SECRET_A) },
		{ .name = "b.2",
		  .host = "",
		  .expires = 1900000000,
		  .secret = (const unsigned char *)SECRET_B,
		  .secret_len = strlen(SECRET_B) },
	};
	struct sealed *f = calloc(1, sizeof(*f));
	uint8_t *buf;

	if (!f || store_format_seal(&kdf, key, records, 2, &buf, &f->len) != 0)
		return -1;
	f->buf = realloc(buf, f->len + 1);
	*state = f;
	return f->buf ? 0 : -1;
}

static int unseal(void **state)
{
	struct sealed *f = *state;

	free(f->buf);
	free(f);
	return 0;
}

/* Opens the fixture's file with @k; records land in f->seen. */
static int open_with(struct sealed *f, const unsigned char *k)
{
	f->err[0] = '\0';
	return store_format_open(f->buf, f->len, k, remember, &f->seen, f->err, sizeof(f->err));
}

/* The structural check of the fixture's first @len bytes. */
static int check(struct sealed *f, size_t len)
{
	struct store_header h;

	f->err[0] = '\0';
	return store_format_check(f->buf, len, &h, f->err, sizeof(f->err));
}

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	randombytes_buf(key, sizeof(key));
	randombytes_buf(kdf.salt, sizeof(kdf.salt));
	return 0;
}

static void round_trip(void **state)
{
	struct sealed *f = *state;
	struct store_header h;

	assert_int_equal(store_format_check(f->buf, f->len, &h, f->err, sizeof(f->err)), 0);
	assert_int_equal(h.version, STORE_VERSION);
	assert_int_equal(h.count, 3);
	assert_int_equal(h.kdf.opslimit, kdf.opslimit);
	assert_int_equal(h.kdf.memlimit, kdf.memlimit);
	assert_memory_equal(h.kdf.salt, kdf.salt, sizeof(kdf.salt));
	assert_int_equal(open_with(f, key), 0);
	assert_int_equal(f->seen.n, 2);
	assert_string_equal(f->seen.names[0], "contoso");
	assert_string_equal(f->seen.hosts[0], "contoso.openai.azure.com");
	assert_string_equal(f->seen.secrets[0], SECRET_A);
	assert_int_equal(f->seen.expires[0], 0);
	assert_string_equal(f->seen.names[1], "b.2");
	assert_string_equal(f->seen.hosts[1], "");
	assert_string_equal(f->seen.secrets[1], SECRET_B);
	assert_int_equal(f->seen.expires[1], 1900000000);
	/* The file never holds a secret in the clear. */
	assert_null(memmem(f->buf, f->len, SECRET_A, strlen(SECRET_A)));
	assert_null(memmem(f->buf, f->len, SECRET_B, strlen(SECRET_B)));
}

static void empty_store_is_authenticated(void **state)
{
	unsigned char other[STORE_KEY_LEN] = { 1 };
	struct seen seen = { 0 };
	char err[256];
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_int_equal(store_format_seal(&kdf, key, NULL, 0, &buf, &len), 0);
	assert_int_equal(store_format_open(buf, len, key, remember, &seen, err, sizeof(err)), 0);
	assert_int_equal(seen.n, 0);
	assert_int_equal(store_format_open(buf, len, other, remember, &seen, err, sizeof(err)),
			 -EACCES);
	free(buf);
}

static void wrong_key(void **state)
{
	struct sealed *f = *state;
	unsigned char other[STORE_KEY_LEN];

	memcpy(other, key, sizeof(other));
	other[7] ^= 1;
	assert_int_equal(open_with(f, other), -EACCES);
	assert_non_null(strstr(f->err, "wrong passphrase"));
	assert_int_equal(f->seen.n, 0);
}

/* Every single bit flip is caught, and none hands a record over. */
static void every_flip_refused(void **state)
{
	struct sealed *f = *state;

	for (size_t i = 0; i < f->len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			f->buf[i] ^= (uint8_t)(1u << bit);
			assert_true(open_with(f, key) < 0);
			assert_true(f->err[0] != '\0');
			f->buf[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_int_equal(f->seen.n, 0);
}

static void a_damaged_record_names_itself(void **state)
{
	struct sealed *f = *state;

	f->buf[f->len - 1] ^= 0x40; /* inside the last record's tag */
	assert_int_equal(open_with(f, key), -EBADMSG);
	assert_non_null(strstr(f->err, "record 2 of 2"));
	assert_int_equal(f->seen.n, 0);
}

static void every_truncation_refused(void **state)
{
	struct sealed *f = *state;

	for (size_t n = 0; n < f->len; n++) {
		assert_int_equal(check(f, n), -EBADMSG);
		assert_true(f->err[0] != '\0');
	}
}

static void trailing_bytes_refused(void **state)
{
	struct sealed *f = *state;

	f->buf[f->len] = 0;
	assert_int_equal(check(f, f->len + 1), -EBADMSG);
	assert_non_null(strstr(f->err, "trailing"));
}

static void other_version_refused(void **state)
{
	struct sealed *f = *state;

	f->buf[11] = 3;
	assert_int_equal(check(f, f->len), -EPROTONOSUPPORT);
	assert_non_null(strstr(f->err, "version 3"));
}

/* A sign-in record next to a secret: both come back with their kind. */
static void signin_round_trip(void **state)
{
	static const char binding[] = "user\nhttps://login.example\ncontoso\nclient";
	const struct store_record records[] = {
		{ .name = "kept",
		  .host = "",
		  .secret = (const unsigned char *)SECRET_A,
		  .secret_len = strlen(SECRET_A) },
		{ .kind = STORE_RECORD_SIGNIN,
		  .name = "me",
		  .host = binding,
		  .account = "ada@contoso.example",
		  .secret = (const unsigned char *)SECRET_B,
		  .secret_len = strlen(SECRET_B) },
	};
	struct sealed f = { 0 };

	(void)state;
	assert_int_equal(store_format_seal(&kdf, key, records, 2, &f.buf, &f.len), 0);
	assert_int_equal(open_with(&f, key), 0);
	assert_int_equal(f.seen.n, 2);
	assert_int_equal(f.seen.kinds[0], STORE_RECORD_SECRET);
	assert_int_equal(f.seen.kinds[1], STORE_RECORD_SIGNIN);
	assert_string_equal(f.seen.names[1], "me");
	assert_string_equal(f.seen.hosts[1], binding);
	assert_string_equal(f.seen.accounts[1], "ada@contoso.example");
	assert_string_equal(f.seen.secrets[1], SECRET_B);
	assert_null(memmem(f.buf, f.len, SECRET_B, strlen(SECRET_B)));
	free(f.buf);
}

static void absurd_parameters_refused(void **state)
{
	struct sealed *f = *state;

	f->buf[24] = 0x7f; /* memlimit far beyond STORE_MAX_MEMLIMIT */
	assert_int_equal(check(f, f->len), -EBADMSG);
	assert_non_null(strstr(f->err, "Argon2id parameters"));
}

static void not_a_store(void **state)
{
	static const uint8_t text[] = "{\"profiles\": {}}\n";
	struct store_header h;
	char err[256];

	(void)state;
	assert_int_equal(store_format_check(text, sizeof(text) - 1, &h, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "not an aoai store"));
}

static void seal_refuses_bad_records(void **state)
{
	const struct store_record empty = {
		.name = "x", .host = "", .secret_len = 0, .secret = (const unsigned char *)""
	};
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(store_format_seal(&kdf, key, &empty, 1, &buf, &len), -EINVAL);
	assert_null(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(round_trip, seal_two, unseal),
		cmocka_unit_test(empty_store_is_authenticated),
		cmocka_unit_test_setup_teardown(wrong_key, seal_two, unseal),
		cmocka_unit_test_setup_teardown(every_flip_refused, seal_two, unseal),
		cmocka_unit_test_setup_teardown(a_damaged_record_names_itself, seal_two, unseal),
		cmocka_unit_test_setup_teardown(every_truncation_refused, seal_two, unseal),
		cmocka_unit_test_setup_teardown(trailing_bytes_refused, seal_two, unseal),
		cmocka_unit_test_setup_teardown(other_version_refused, seal_two, unseal),
		cmocka_unit_test(signin_round_trip),
		cmocka_unit_test_setup_teardown(absurd_parameters_refused, seal_two, unseal),
		cmocka_unit_test(not_a_store),
		cmocka_unit_test(seal_refuses_bad_records),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
