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
	}
	s->n++;
	return 0;
}

static unsigned char key[STORE_KEY_LEN];
static struct store_kdf kdf = { .opslimit = 2, .memlimit = 8192 * 8 };

static void seal_two(uint8_t **buf, size_t *len)
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

	assert_int_equal(store_format_seal(&kdf, key, records, 2, buf, len), 0);
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
	struct store_header h;
	struct seen seen = { 0 };
	char err[256];
	uint8_t *buf;
	size_t len;

	(void)state;
	seal_two(&buf, &len);
	assert_int_equal(store_format_check(buf, len, &h, err, sizeof(err)), 0);
	assert_int_equal(h.version, STORE_VERSION);
	assert_int_equal(h.count, 3);
	assert_int_equal(h.kdf.opslimit, kdf.opslimit);
	assert_int_equal(h.kdf.memlimit, kdf.memlimit);
	assert_memory_equal(h.kdf.salt, kdf.salt, sizeof(kdf.salt));
	assert_int_equal(store_format_open(buf, len, key, remember, &seen, err, sizeof(err)), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.names[0], "contoso");
	assert_string_equal(seen.hosts[0], "contoso.openai.azure.com");
	assert_string_equal(seen.secrets[0], SECRET_A);
	assert_int_equal(seen.expires[0], 0);
	assert_string_equal(seen.names[1], "b.2");
	assert_string_equal(seen.hosts[1], "");
	assert_string_equal(seen.secrets[1], SECRET_B);
	assert_int_equal(seen.expires[1], 1900000000);
	/* The file never holds a secret in the clear. */
	assert_null(memmem(buf, len, SECRET_A, strlen(SECRET_A)));
	assert_null(memmem(buf, len, SECRET_B, strlen(SECRET_B)));
	free(buf);
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
	unsigned char other[STORE_KEY_LEN];
	struct seen seen = { 0 };
	char err[256];
	uint8_t *buf;
	size_t len;

	(void)state;
	seal_two(&buf, &len);
	memcpy(other, key, sizeof(other));
	other[7] ^= 1;
	assert_int_equal(store_format_open(buf, len, other, remember, &seen, err, sizeof(err)),
			 -EACCES);
	assert_non_null(strstr(err, "wrong passphrase"));
	assert_int_equal(seen.n, 0);
	free(buf);
}

/* Every single bit flip is caught, and none hands a record over. */
static void every_flip_refused(void **state)
{
	struct seen seen = { 0 };
	char err[256];
	uint8_t *buf;
	size_t len;

	(void)state;
	seal_two(&buf, &len);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			buf[i] ^= (uint8_t)(1u << bit);
			assert_true(store_format_open(buf, len, key, remember, &seen, err,
						      sizeof(err)) < 0);
			assert_true(err[0] != '\0');
			buf[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_int_equal(seen.n, 0);
	free(buf);
}

static void a_damaged_record_names_itself(void **state)
{
	struct seen seen = { 0 };
	char err[256];
	uint8_t *buf;
	size_t len;

	(void)state;
	seal_two(&buf, &len);
	buf[len - 1] ^= 0x40; /* inside the last record's tag */
	assert_int_equal(store_format_open(buf, len, key, remember, &seen, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "record 2 of 2"));
	assert_int_equal(seen.n, 0);
	free(buf);
}

static void every_truncation_refused(void **state)
{
	struct store_header h;
	char err[256];
	uint8_t *buf;
	size_t len;

	(void)state;
	seal_two(&buf, &len);
	for (size_t n = 0; n < len; n++) {
		err[0] = '\0';
		assert_int_equal(store_format_check(buf, n, &h, err, sizeof(err)), -EBADMSG);
		assert_true(err[0] != '\0');
	}
	free(buf);
}

static void trailing_bytes_refused(void **state)
{
	struct store_header h;
	char err[256];
	uint8_t *buf;
	size_t len;

	(void)state;
	seal_two(&buf, &len);
	buf = realloc(buf, len + 1);
	assert_non_null(buf);
	buf[len] = 0;
	assert_int_equal(store_format_check(buf, len + 1, &h, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "trailing"));
	free(buf);
}

static void other_version_refused(void **state)
{
	struct store_header h;
	char err[256];
	uint8_t *buf;
	size_t len;

	(void)state;
	seal_two(&buf, &len);
	buf[11] = 2;
	assert_int_equal(store_format_check(buf, len, &h, err, sizeof(err)), -EPROTONOSUPPORT);
	assert_non_null(strstr(err, "version 2"));
	free(buf);
}

static void absurd_parameters_refused(void **state)
{
	struct store_header h;
	char err[256];
	uint8_t *buf;
	size_t len;

	(void)state;
	seal_two(&buf, &len);
	buf[24] = 0x7f; /* memlimit far beyond STORE_MAX_MEMLIMIT */
	assert_int_equal(store_format_check(buf, len, &h, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "Argon2id parameters"));
	free(buf);
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
		cmocka_unit_test(round_trip),
		cmocka_unit_test(empty_store_is_authenticated),
		cmocka_unit_test(wrong_key),
		cmocka_unit_test(every_flip_refused),
		cmocka_unit_test(a_damaged_record_names_itself),
		cmocka_unit_test(every_truncation_refused),
		cmocka_unit_test(trailing_bytes_refused),
		cmocka_unit_test(other_version_refused),
		cmocka_unit_test(absurd_parameters_refused),
		cmocka_unit_test(not_a_store),
		cmocka_unit_test(seal_refuses_bad_records),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
