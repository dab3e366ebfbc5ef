/* SPDX-License-Identifier: MIT */
/*
 * The persistent store's file format (version 2), pure: bytes in, bytes out.
 *
 *   header (STORE_HEADER_LEN bytes, big-endian):
 *     "aoaistor"  magic
 *     u32 version            2 (1 is read too)
 *     u32 kdf                crypto_pwhash_ALG_ARGON2ID13
 *     u64 opslimit, u64 memlimit
 *     salt[16]               new with every passphrase
 *     file_id[16]            new with every write
 *     u32 count              records that follow, the check record included
 *   records: u32 length, nonce[24], ciphertext[length] (XChaCha20-Poly1305)
 *
 * Each record's additional data is the whole header and the record's index,
 * so a record cannot be altered, dropped, reordered or taken from another
 * write of the file without failing authentication.  Record 0 is a fixed
 * check value: it tells a wrong passphrase from a damaged record, and makes
 * a store without secrets authenticated too.
 *
 * A version 2 record's plaintext starts with a u8 kind; version 1 records
 * have none and are all secrets.  A secret (kind 0): u8 name length, name,
 * u8 host length, host ("" when none), i64 expiry (Unix seconds, 0 =
 * never), u32 secret length, secret.  A sign-in (kind 1, aoai login
 * --persist): u8 profile length, profile, u16 binding length, binding (the
 * credential it was made with), u8 account length, account, u32 refresh
 * token length, refresh token.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#define STORE_VERSION     2
#define STORE_VERSION_MIN 1
#define STORE_HEADER_LEN  68
#define STORE_KEY_LEN     crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define STORE_SALT_LEN    crypto_pwhash_SALTBYTES
#define STORE_MAX_RECORDS 2049 /* SECRETS_MAX, SIGNINS_MAX and the check record */
#define STORE_MAX_BINDING 2048
#define STORE_MAX_FILE    (32U * 1024 * 1024)
/* Bounds on what a header may ask of the key derivation: a tampered file
 * must not make unlock take an hour or a terabyte. */
#define STORE_MAX_OPSLIMIT 32ULL
#define STORE_MAX_MEMLIMIT (4ULL * 1024 * 1024 * 1024)

struct store_kdf {
	uint64_t opslimit;
	uint64_t memlimit;
	unsigned char salt[STORE_SALT_LEN];
};

struct store_header {
	uint32_t version;
	struct store_kdf kdf;
	uint32_t count;
};

enum store_kind {
	STORE_RECORD_SECRET,
	STORE_RECORD_SIGNIN,
};

struct store_record {
	enum store_kind kind;
	const char *name;    /* NUL-terminated, as are host and secret; a sign-in's profile */
	const char *host;    /* "" when none; a sign-in's binding */
	const char *account; /* a sign-in's account ("" when unknown); NULL for a secret */
	int64_t expires;     /* Unix seconds, 0 = never */
	const unsigned char *secret; /* a sign-in's refresh token */
	size_t secret_len;
};

/*
 * Checks the header and the record framing of @buf without a key.  Returns
 * 0, or -EBADMSG / -EPROTONOSUPPORT with a message (no file name) in @err.
 */
int store_format_check(const uint8_t *buf, size_t len, struct store_header *ret, char *err,
		       size_t errlen);

typedef int (*store_record_fn)(void *userdata, const struct store_record *rec);

/*
 * Decrypts every record of @buf with @key and hands each secret record to
 * @fn (its strings live in sodium memory that is wiped after the call).
 * Returns 0; -EACCES when the check record does not open (wrong passphrase,
 * or a modified header); -EBADMSG when a later record does not (the file
 * was modified or damaged; @fn was called for no record at all, as every
 * record is authenticated before the first is handed over); what @fn
 * returned; -ENOMEM.  @err says which.
 */
int store_format_open(const uint8_t *buf, size_t len, const unsigned char key[STORE_KEY_LEN],
		      store_record_fn fn, void *userdata, char *err, size_t errlen);

/*
 * Encrypts @n records under @key into a new buffer (malloc; no secret in
 * it in the clear).  Returns 0 or -ENOMEM / -EINVAL (a field too long).
 */
int store_format_seal(const struct store_kdf *kdf, const unsigned char key[STORE_KEY_LEN],
		      const struct store_record *records, size_t n, uint8_t **ret_buf,
		      size_t *ret_len);
