/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "store_format.h"

#define MAGIC       "aoaistor"
#define MAGIC_LEN   8
#define NONCE_LEN   crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN     crypto_aead_xchacha20poly1305_ietf_ABYTES
#define FILE_ID_LEN 16
#define AD_LEN      (STORE_HEADER_LEN + 4)
#define CHECK_TEXT  "aoai-agent store check record"
/* kind, then the larger record: a sign-in's profile, binding, account and
 * refresh token with their lengths */
#define MAX_PLAINTEXT (1 + 1 + 255 + 2 + STORE_MAX_BINDING + 1 + 255 + 4 + PROTO_MAX_SECRET)

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

__attribute__((format(printf, 4, 5))) static int fail(int r, char *err, size_t errlen,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

static int check_header(const uint8_t *buf, size_t len, struct store_header *h, char *err,
			size_t errlen)
{
	if (len < MAGIC_LEN || memcmp(buf, MAGIC, MAGIC_LEN) != 0)
		return fail(-EBADMSG, err, errlen, "not an aoai store (no \"%s\" header)", MAGIC);
	if (len < STORE_HEADER_LEN)
		return fail(-EBADMSG, err, errlen, "truncated: %zu bytes, shorter than the header",
			    len);
	h->version = get32(buf + 8);
	if (h->version < STORE_VERSION_MIN || h->version > STORE_VERSION)
		return fail(-EPROTONOSUPPORT, err, errlen,
			    "format version %u, this agent reads versions %d to %d", h->version,
			    STORE_VERSION_MIN, STORE_VERSION);
	if (get32(buf + 12) != crypto_pwhash_ALG_ARGON2ID13)
		return fail(-EBADMSG, err, errlen, "unknown key derivation %u", get32(buf + 12));
	h->kdf.opslimit = get64(buf + 16);
	h->kdf.memlimit = get64(buf + 24);
	if (h->kdf.opslimit < crypto_pwhash_OPSLIMIT_MIN || h->kdf.opslimit > STORE_MAX_OPSLIMIT ||
	    h->kdf.memlimit < crypto_pwhash_MEMLIMIT_MIN || h->kdf.memlimit > STORE_MAX_MEMLIMIT)
		return fail(-EBADMSG, err, errlen,
			    "Argon2id parameters out of range (opslimit %llu, memlimit %llu)",
			    (unsigned long long)h->kdf.opslimit,
			    (unsigned long long)h->kdf.memlimit);
	memcpy(h->kdf.salt, buf + 32, STORE_SALT_LEN);
	h->count = get32(buf + 64);
	if (h->count < 1 || h->count > STORE_MAX_RECORDS)
		return fail(-EBADMSG, err, errlen, "record count %u out of range 1..%d", h->count,
			    STORE_MAX_RECORDS);
	return 0;
}

/* Walks the record framing: *off at record @i's start, moved past it. */
static int next_record(const uint8_t *buf, size_t len, size_t *off, uint32_t i,
		       const uint8_t **ret_nonce, const uint8_t **ret_ct, size_t *ret_ct_len,
		       char *err, size_t errlen)
{
	size_t ct_len;

	if (len - *off < 4 + NONCE_LEN)
		return fail(-EBADMSG, err, errlen, "truncated in record %u", i);
	ct_len = get32(buf + *off);
	if (ct_len < TAG_LEN || ct_len > MAX_PLAINTEXT + TAG_LEN)
		return fail(-EBADMSG, err, errlen, "record %u has an impossible length %zu", i,
			    ct_len);
	if (len - *off - 4 - NONCE_LEN < ct_len)
		return fail(-EBADMSG, err, errlen, "truncated in record %u", i);
	*ret_nonce = buf + *off + 4;
	*ret_ct = *ret_nonce + NONCE_LEN;
	*ret_ct_len = ct_len;
	*off += 4 + NONCE_LEN + ct_len;
	return 0;
}

int store_format_check(const uint8_t *buf, size_t len, struct store_header *ret, char *err,
		       size_t errlen)
{
	const uint8_t *nonce, *ct;
	size_t off = STORE_HEADER_LEN, ct_len;
	int r = check_header(buf, len, ret, err, errlen);

	for (uint32_t i = 0; r == 0 && i < ret->count; i++)
		r = next_record(buf, len, &off, i, &nonce, &ct, &ct_len, err, errlen);
	if (r == 0 && off != len)
		return fail(-EBADMSG, err, errlen, "%zu bytes of trailing data", len - off);
	return r;
}

static void make_ad(const uint8_t *header, uint32_t i, uint8_t ad[AD_LEN])
{
	memcpy(ad, header, STORE_HEADER_LEN);
	put32(ad + STORE_HEADER_LEN, i);
}

/* Reads a length-prefixed field of the plaintext into a NUL-terminated
 * copy inside @out (which has room: the plaintext is as long). */
static bool take(const uint8_t **p, const uint8_t *end, size_t n, uint8_t *out)
{
	if ((size_t)(end - *p) < n)
		return false;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return true;
}

/* A field of @width (1 or 2) length bytes, then the text: copied to *@at,
 * which moves past its NUL. */
static bool take_text(const uint8_t **p, const uint8_t *end, int width, uint8_t **at)
{
	size_t n;

	if (end - *p < width)
		return false;
	n = width == 1 ? **p : (size_t)(*p)[0] << 8 | (*p)[1];
	*p += width;
	if (!take(p, end, n, *at) || strlen((char *)*at) != n)
		return false;
	*at += n + 1;
	return true;
}

/* A sign-in record after its kind byte (see parse_record()). */
static bool parse_signin(const uint8_t *p, const uint8_t *end, uint8_t *scratch,
			 struct store_record *rec)
{
	uint8_t *at = scratch;
	size_t n;

	rec->name = (char *)at;
	if (!take_text(&p, end, 1, &at) || !proto_name_valid(rec->name))
		return false;
	rec->host = (char *)at;
	if (!take_text(&p, end, 2, &at) || strlen(rec->host) >= STORE_MAX_BINDING)
		return false;
	rec->account = (char *)at;
	if (!take_text(&p, end, 1, &at) || end - p < 4)
		return false;
	n = get32(p);
	p += 4;
	if (n == 0 || n > PROTO_MAX_SECRET || (size_t)(end - p) != n || !take(&p, end, n, at))
		return false;
	rec->kind = STORE_RECORD_SIGNIN;
	rec->expires = 0;
	rec->secret = at;
	rec->secret_len = n;
	return true;
}

/*
 * Splits a record's plaintext @pt into @rec, copying the strings into
 * @scratch (sodium memory of at least @len + 4 bytes: four NULs).  Version
 * 1 records have no kind byte.
 */
static bool parse_record(const uint8_t *pt, size_t len, uint32_t version, uint8_t *scratch,
			 struct store_record *rec)
{
	const uint8_t *p = pt, *end = pt + len;
	uint8_t *name = scratch, *host, *secret;
	size_t n;

	if (version >= 2) {
		if (end - p < 1 || *p > STORE_RECORD_SIGNIN)
			return false;
		if (*p++ == STORE_RECORD_SIGNIN)
			return parse_signin(p, end, scratch, rec);
	}
	rec->kind = STORE_RECORD_SECRET;
	rec->account = NULL;
	if (end - p < 1)
		return false;
	n = *p++;
	if (!take(&p, end, n, name) || strlen((char *)name) != n || !proto_name_valid((char *)name))
		return false;
	host = name + n + 1;
	if (end - p < 1)
		return false;
	n = *p++;
	if (!take(&p, end, n, host) || strlen((char *)host) != n)
		return false;
	if (end - p < 12)
		return false;
	rec->expires = (int64_t)get64(p);
	n = get32(p + 8);
	p += 12;
	secret = host + strlen((char *)host) + 1;
	if (n == 0 || n > PROTO_MAX_SECRET || (size_t)(end - p) != n || !take(&p, end, n, secret))
		return false;
	rec->name = (char *)name;
	rec->host = (char *)host;
	rec->secret = secret;
	rec->secret_len = n;
	return true;
}

/*
 * One pass over the records: each is decrypted into @pt; with @fn NULL only
 * authenticated, else parsed and handed over.
 */
static int open_pass(const uint8_t *buf, size_t len, const struct store_header *h,
		     const unsigned char key[STORE_KEY_LEN], uint8_t *pt, uint8_t *scratch,
		     store_record_fn fn, void *userdata, char *err, size_t errlen)
{
	const uint8_t *nonce, *ct;
	size_t off = STORE_HEADER_LEN, ct_len;
	unsigned long long pt_len;
	uint8_t ad[AD_LEN];
	int r = 0;

	for (uint32_t i = 0, count = h->count; r == 0 && i < count; i++) {
		struct store_record rec;

		r = next_record(buf, len, &off, i, &nonce, &ct, &ct_len, err, errlen);
		if (r < 0)
			break;
		make_ad(buf, i, ad);
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &pt_len, NULL, ct, ct_len, ad,
							       AD_LEN, nonce, key) != 0) {
			if (i == 0)
				return fail(-EACCES, err, errlen,
					    "wrong passphrase (or a modified header)");
			return fail(-EBADMSG, err, errlen,
				    "record %u of %u failed authentication: the file was "
				    "modified or damaged",
				    i, count - 1);
		}
		if (i == 0) {
			if (pt_len != strlen(CHECK_TEXT) || memcmp(pt, CHECK_TEXT, pt_len) != 0)
				return fail(-EBADMSG, err, errlen, "bad check record");
			continue;
		}
		if (!parse_record(pt, pt_len, h->version, scratch, &rec))
			return fail(-EBADMSG, err, errlen, "record %u of %u is malformed", i,
				    count - 1);
		if (fn)
			r = fn(userdata, &rec);
	}
	return r;
}

int store_format_open(const uint8_t *buf, size_t len, const unsigned char key[STORE_KEY_LEN],
		      store_record_fn fn, void *userdata, char *err, size_t errlen)
{
	struct store_header h;
	uint8_t *pt, *scratch;
	int r = store_format_check(buf, len, &h, err, errlen);

	if (r < 0)
		return r;
	pt = sodium_malloc(MAX_PLAINTEXT);
	scratch = sodium_malloc(MAX_PLAINTEXT + 4);
	if (!pt || !scratch)
		r = fail(-ENOMEM, err, errlen, "out of memory");
	/* Authenticate everything first: a damaged file loads nothing. */
	if (r == 0)
		r = open_pass(buf, len, &h, key, pt, scratch, NULL, NULL, err, errlen);
	if (r == 0)
		r = open_pass(buf, len, &h, key, pt, scratch, fn, userdata, err, errlen);
	sodium_free(pt);
	sodium_free(scratch);
	return r;
}

static size_t plaintext_len(const struct store_record *rec)
{
	if (rec->kind == STORE_RECORD_SIGNIN)
		return 1 + 1 + strlen(rec->name) + 2 + strlen(rec->host) + 1 +
		       strlen(rec->account) + 4 + rec->secret_len;
	return 1 + 1 + strlen(rec->name) + 1 + strlen(rec->host) + 8 + 4 + rec->secret_len;
}

static uint8_t *put_text(uint8_t *p, int width, const char *text)
{
	size_t n = strlen(text);

	if (width == 2)
		*p++ = (uint8_t)(n >> 8);
	*p++ = (uint8_t)n;
	memcpy(p, text, n);
	return p + n;
}

static void write_plaintext(const struct store_record *rec, uint8_t *p)
{
	size_t n = strlen(rec->name);

	*p++ = (uint8_t)rec->kind;
	if (rec->kind == STORE_RECORD_SIGNIN) {
		p = put_text(p, 1, rec->name);
		p = put_text(p, 2, rec->host);
		p = put_text(p, 1, rec->account);
		put32(p, (uint32_t)rec->secret_len);
		memcpy(p + 4, rec->secret, rec->secret_len);
		return;
	}
	*p++ = (uint8_t)n;
	memcpy(p, rec->name, n);
	p += n;
	n = strlen(rec->host);
	*p++ = (uint8_t)n;
	memcpy(p, rec->host, n);
	p += n;
	put64(p, (uint64_t)rec->expires);
	put32(p + 8, (uint32_t)rec->secret_len);
	memcpy(p + 12, rec->secret, rec->secret_len);
}

static void seal_one(uint8_t *out, const uint8_t *header, uint32_t i, const uint8_t *pt,
		     size_t pt_len, const unsigned char key[STORE_KEY_LEN])
{
	uint8_t ad[AD_LEN];
	unsigned long long ct_len;

	put32(out, (uint32_t)(pt_len + TAG_LEN));
	randombytes_buf(out + 4, NONCE_LEN);
	make_ad(header, i, ad);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + 4 + NONCE_LEN, &ct_len, pt, pt_len, ad,
						   AD_LEN, NULL, out + 4, key);
}

static void write_header(uint8_t *h, const struct store_kdf *kdf, uint32_t count)
{
	memcpy(h, MAGIC, MAGIC_LEN);
	put32(h + 8, STORE_VERSION);
	put32(h + 12, crypto_pwhash_ALG_ARGON2ID13);
	put64(h + 16, kdf->opslimit);
	put64(h + 24, kdf->memlimit);
	memcpy(h + 32, kdf->salt, STORE_SALT_LEN);
	randombytes_buf(h + 48, FILE_ID_LEN);
	put32(h + 64, count);
}

int store_format_seal(const struct store_kdf *kdf, const unsigned char key[STORE_KEY_LEN],
		      const struct store_record *records, size_t n, uint8_t **ret_buf,
		      size_t *ret_len)
{
	size_t len = STORE_HEADER_LEN + 4 + NONCE_LEN + strlen(CHECK_TEXT) + TAG_LEN, off;
	uint8_t *buf, *pt;

	if (n + 1 > STORE_MAX_RECORDS)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		bool signin = records[i].kind == STORE_RECORD_SIGNIN;

		if (strlen(records[i].name) > 255 ||
		    strlen(records[i].host) >= (signin ? STORE_MAX_BINDING : 256) ||
		    (signin && (!records[i].account || strlen(records[i].account) > 255)) ||
		    records[i].secret_len == 0 || records[i].secret_len > PROTO_MAX_SECRET)
			return -EINVAL;
		len += 4 + NONCE_LEN + plaintext_len(&records[i]) + TAG_LEN;
	}
	buf = malloc(len);
	pt = sodium_malloc(MAX_PLAINTEXT);
	if (!buf || !pt) {
		free(buf);
		sodium_free(pt);
		return -ENOMEM;
	}
	write_header(buf, kdf, (uint32_t)n + 1);
	off = STORE_HEADER_LEN;
	seal_one(buf + off, buf, 0, (const uint8_t *)CHECK_TEXT, strlen(CHECK_TEXT), key);
	off += 4 + NONCE_LEN + strlen(CHECK_TEXT) + TAG_LEN;
	for (size_t i = 0; i < n; i++) {
		size_t pt_len = plaintext_len(&records[i]);

		write_plaintext(&records[i], pt);
		seal_one(buf + off, buf, (uint32_t)i + 1, pt, pt_len, key);
		off += 4 + NONCE_LEN + pt_len + TAG_LEN;
	}
	sodium_free(pt); /* wipes */
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}
