/* SPDX-License-Identifier: MIT */
/*
 * Client assertions (RFC 7523 as Entra ID reads them).  The PEM file is
 * read into sodium memory and walked block by block, so an encrypted key,
 * a second key or a long chain is named in the message rather than
 * guessed at; OpenSSL never prompts for a passphrase.  Everything is
 * OpenSSL 3 EVP: no deprecated RSA_* calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "read_full.h"
#include "errmsg.h"
#include "assertion.h"
#include "openssl_dl.h"

#define ASSERTION_UUID_LEN 36
#define ASSERTION_DIGEST   "SHA256"
#define ASSERTION_PSS_SALT 32 /* bytes: the SHA-256 digest length, as RFC 7518 asks */

struct assertion_cert {
	EVP_PKEY *key;
	X509 *certs[ASSERTION_MAX_CERTS]; /* leaf first */
	size_t n_certs;
};

/* The oldest OpenSSL error as text, then an empty queue: nothing is left for libcurl to find. */
static const char *ssl_reason(char *buf, size_t len)
{
	unsigned long e = sym_ERR_get_error();
	const char *reason = e ? sym_ERR_reason_error_string(e) : NULL;

	if (reason)
		snprintf(buf, len, "%s", reason);
	else if (e)
		snprintf(buf, len, "OpenSSL error %lu", e);
	else
		snprintf(buf, len, "unknown error");
	sym_ERR_clear_error();
	return buf;
}

static int check_file(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return errmsg(err, errlen, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return errmsg(err, errlen, -EINVAL, "%s: not a regular file", path);
	if (st.st_uid != geteuid())
		return errmsg(err, errlen, -EPERM, "%s: not owned by you", path);
	if (st.st_mode & 0077)
		return errmsg(err, errlen, -EPERM,
			      "%s: readable or writable by others (chmod 600 it)", path);
	if (st.st_size > ASSERTION_MAX_FILE)
		return errmsg(err, errlen, -EFBIG, "%s: larger than %d bytes", path,
			      ASSERTION_MAX_FILE);
	return 0;
}

/* Reads the whole file into sodium memory *@ret (ASSERTION_MAX_FILE + 1 bytes). */
static int read_pem(const char *path, char **ret, size_t *ret_len, char *err, size_t errlen)
{
	const size_t cap = ASSERTION_MAX_FILE + 1;
	size_t len = 0;
	char *buf = NULL;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errmsg(err, errlen, -errno, "%s: %s", path, strerror(errno));
	r = check_file(fd, path, err, errlen);
	if (r == 0 && !(buf = sodium_malloc(cap)))
		r = errmsg(err, errlen, -ENOMEM, "%s: out of memory", path);
	if (r == 0 && (n = read_full(fd, buf, cap)) < 0)
		r = errmsg(err, errlen, (int)n, "%s: %s", path, strerror((int)-n));
	if (r == 0)
		len = (size_t)n;
	if (r == 0 && len > ASSERTION_MAX_FILE)
		r = errmsg(err, errlen, -EFBIG, "%s: larger than %d bytes", path,
			   ASSERTION_MAX_FILE);
	close(fd);
	if (r < 0) {
		sodium_free(buf); /* wipes */
		return r;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int add_cert(struct assertion_cert *c, const unsigned char *der, long len, const char *path,
		    char *err, size_t errlen)
{
	const unsigned char *p = der;
	char why[128];
	X509 *x;

	if (c->n_certs == ASSERTION_MAX_CERTS)
		return errmsg(err, errlen, -EINVAL, "%s: more than %d certificates", path,
			      ASSERTION_MAX_CERTS);
	x = sym_d2i_X509(NULL, &p, len);
	if (!x || p != der + len) {
		sym_X509_free(x);
		return errmsg(err, errlen, -EINVAL, "%s: certificate %zu is invalid: %s", path,
			      c->n_certs + 1, ssl_reason(why, sizeof(why)));
	}
	c->certs[c->n_certs++] = x;
	return 0;
}

static int add_key(struct assertion_cert *c, const unsigned char *der, long len, const char *path,
		   char *err, size_t errlen)
{
	const unsigned char *p = der;
	char why[128];

	if (c->key)
		return errmsg(err, errlen, -EINVAL, "%s: more than one private key", path);
	c->key = sym_d2i_AutoPrivateKey(NULL, &p, len);
	if (!c->key)
		return errmsg(err, errlen, -EINVAL, "%s: the private key is invalid: %s", path,
			      ssl_reason(why, sizeof(why)));
	return 0;
}

/* Dispatches one PEM block by its label; other labels are skipped. */
static int add_block(struct assertion_cert *c, const char *name, const char *header,
		     const unsigned char *der, long len, const char *path, char *err, size_t errlen)
{
	if (strcmp(name, PEM_STRING_PKCS8) == 0 || (header && strstr(header, "ENCRYPTED")))
		return errmsg(
		    err, errlen, -EINVAL,
		    "%s: the private key is encrypted (only unencrypted keys are supported)", path);
	if (strcmp(name, PEM_STRING_X509) == 0 || strcmp(name, PEM_STRING_X509_OLD) == 0)
		return add_cert(c, der, len, path, err, errlen);
	if (strcmp(name, PEM_STRING_PKCS8INF) == 0 || strcmp(name, PEM_STRING_RSA) == 0 ||
	    strcmp(name, PEM_STRING_ECPRIVATEKEY) == 0)
		return add_key(c, der, len, path, err, errlen);
	return 0;
}

/* Walks the PEM blocks of @pem until the end (OpenSSL's PEM_R_NO_START_LINE). */
static int parse_pem(struct assertion_cert *c, const char *pem, size_t len, const char *path,
		     char *err, size_t errlen)
{
	BIO *bio = sym_BIO_new_mem_buf(pem, (int)len);
	char *name = NULL, *header = NULL, why[128];
	unsigned char *der = NULL;
	long n = 0;
	int r = 0;

	if (!bio)
		return errmsg(err, errlen, -ENOMEM, "%s: out of memory", path);
	while (r == 0 && sym_PEM_read_bio_ex(bio, &name, &header, &der, &n,
					     PEM_FLAG_SECURE | PEM_FLAG_EAY_COMPATIBLE) == 1) {
		r = add_block(c, name, header, der, n, path, err, errlen);
		sym_CRYPTO_secure_free(name, OPENSSL_FILE, OPENSSL_LINE);
		sym_CRYPTO_secure_free(header, OPENSSL_FILE, OPENSSL_LINE);
		sym_CRYPTO_secure_clear_free(der, (size_t)n, OPENSSL_FILE, OPENSSL_LINE);
	}
	if (r == 0 && ERR_GET_REASON(sym_ERR_peek_last_error()) != PEM_R_NO_START_LINE)
		r = errmsg(err, errlen, -EINVAL, "%s: malformed PEM: %s", path,
			   ssl_reason(why, sizeof(why)));
	sym_ERR_clear_error();
	sym_BIO_free(bio);
	return r;
}

/* The key must be RSA, large enough, and belong to the first certificate. */
static int check_pair(const struct assertion_cert *c, const char *path, char *err, size_t errlen)
{
	int r = 0;

	if (!c->key)
		r = errmsg(err, errlen, -EINVAL, "%s: no private key", path);
	else if (c->n_certs == 0)
		r = errmsg(err, errlen, -EINVAL, "%s: no certificate", path);
	else if (!sym_EVP_PKEY_is_a(c->key, "RSA"))
		r = errmsg(err, errlen, -EINVAL, "%s: the private key is not an RSA key", path);
	else if (sym_EVP_PKEY_get_bits(c->key) < ASSERTION_MIN_BITS)
		r = errmsg(err, errlen, -EINVAL, "%s: the RSA key has fewer than %d bits", path,
			   ASSERTION_MIN_BITS);
	else if (sym_X509_check_private_key(c->certs[0], c->key) != 1)
		r = errmsg(err, errlen, -EINVAL,
			   "%s: the private key does not belong to the first certificate", path);
	sym_ERR_clear_error();
	return r;
}

int assertion_cert_load(const char *path, struct assertion_cert **ret, char *err, size_t errlen)
{
	struct assertion_cert *c;
	char *pem = NULL;
	size_t len = 0;
	int r;

	if (!path || !*path)
		return errmsg(err, errlen, -EINVAL, "no certificate file");
	r = openssl_dl_open(err, errlen);
	if (r < 0)
		return r;
	sym_ERR_clear_error(); /* so that the reasons given are this call's */
	r = read_pem(path, &pem, &len, err, errlen);
	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c)
		r = errmsg(err, errlen, -ENOMEM, "%s: out of memory", path);
	if (r == 0)
		r = parse_pem(c, pem, len, path, err, errlen);
	if (r == 0)
		r = check_pair(c, path, err, errlen);
	sodium_free(pem);
	if (r < 0) {
		assertion_cert_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

struct assertion_cert *assertion_cert_free(struct assertion_cert *c)
{
	if (!c)
		return NULL;
	sym_EVP_PKEY_free(c->key); /* clears the private numbers */
	for (size_t i = 0; i < c->n_certs; i++)
		sym_X509_free(c->certs[i]);
	free(c);
	return NULL;
}

/* base64 of @len bytes, NUL-terminated, malloc'ed; @variant is one of sodium's. */
static char *base64(const void *bin, size_t len, int variant)
{
	size_t n = sodium_base64_ENCODED_LEN(len, variant);
	char *out = malloc(n);

	if (out)
		sodium_bin2base64(out, n, bin, len, variant);
	return out;
}

static char *base64url(const void *bin, size_t len)
{
	return base64(bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* The DER encoding of @x in base64 (x5c wants the standard alphabet, with padding). */
static json_t *cert_base64(X509 *x)
{
	unsigned char *der = NULL;
	json_t *s = NULL;
	char *b64;
	int n = sym_i2d_X509(x, &der);

	if (n <= 0)
		return NULL;
	b64 = base64(der, (size_t)n, sodium_base64_VARIANT_ORIGINAL);
	if (b64)
		s = json_string(b64);
	free(b64);
	sym_CRYPTO_free(der, OPENSSL_FILE, OPENSSL_LINE);
	return s;
}

static json_t *chain_array(const struct assertion_cert *c)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < c->n_certs; i++)
		if (json_array_append_new(a, cert_base64(c->certs[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* {"alg","typ","x5t" or "x5t#S256"[,"x5c"]} */
static json_t *jwt_header(const struct assertion_cert *c, enum assertion_alg alg, bool send_chain)
{
	bool pss = alg == ASSERTION_PS256;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	json_t *h = NULL;
	char *thumb;

	if (sym_X509_digest(c->certs[0], pss ? sym_EVP_sha256() : sym_EVP_sha1(), md, &md_len) != 1)
		return NULL;
	thumb = base64url(md, md_len);
	if (thumb)
		h = json_pack("{s:s, s:s, s:s}", "alg", pss ? "PS256" : "RS256", "typ", "JWT",
			      pss ? "x5t#S256" : "x5t", thumb);
	free(thumb);
	if (h && send_chain && json_object_set_new(h, "x5c", chain_array(c)) < 0) {
		json_decref(h);
		return NULL;
	}
	return h;
}

/* A random (version 4) UUID in its 8-4-4-4-12 spelling. */
static void uuid4(char out[ASSERTION_UUID_LEN + 1])
{
	static const int dashes[] = { 8, 13, 18, 23 };
	unsigned char b[16];
	char hex[2 * sizeof(b) + 1];
	size_t k = 0;

	randombytes_buf(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	sodium_bin2hex(hex, sizeof(hex), b, sizeof(b));
	for (int i = 0, d = 0; i < ASSERTION_UUID_LEN; i++) {
		if (d < 4 && i == dashes[d]) {
			out[i] = '-';
			d++;
		} else {
			out[i] = hex[k++];
		}
	}
	out[ASSERTION_UUID_LEN] = '\0';
}

static json_t *jwt_claims(const char *client_id, const char *audience, int64_t now)
{
	char jti[ASSERTION_UUID_LEN + 1];

	uuid4(jti);
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "aud", audience, "iss", client_id,
			 "sub", client_id, "jti", jti, "nbf", (json_int_t)now, "iat",
			 (json_int_t)now, "exp", (json_int_t)(now + ASSERTION_LIFETIME));
}

/* base64url of @j's compact JSON.  json_dumpb keeps jansson's allocator out of it. */
static char *json_base64url(const json_t *j)
{
	size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT);
	char *text, *out = NULL;

	if (n == 0 || !(text = malloc(n)))
		return NULL;
	if (json_dumpb(j, text, n, JSON_COMPACT) == n)
		out = base64url(text, n);
	free(text);
	return out;
}

/* Signs @data with SHA-256: PKCS#1 v1.5 for RS256, PSS with a 32-byte salt for PS256. */
static int sign(EVP_PKEY *key, enum assertion_alg alg, const char *data, size_t len,
		unsigned char **ret, size_t *ret_len)
{
	EVP_MD_CTX *ctx = sym_EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *sig = NULL;
	size_t n = 0;
	int r = -EIO;

	if (!ctx)
		return -ENOMEM;
	if (sym_EVP_DigestSignInit_ex(ctx, &pctx, ASSERTION_DIGEST, NULL, NULL, key, NULL) != 1)
		goto out;
	if (alg == ASSERTION_PS256 &&
	    (sym_EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     sym_EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, ASSERTION_PSS_SALT) != 1 ||
	     sym_EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, ASSERTION_DIGEST, NULL) != 1))
		goto out;
	if (sym_EVP_DigestSign(ctx, NULL, &n, (const unsigned char *)data, len) != 1)
		goto out;
	r = (sig = malloc(n)) ? -EIO : -ENOMEM;
	if (sig && sym_EVP_DigestSign(ctx, sig, &n, (const unsigned char *)data, len) == 1) {
		*ret = sig;
		*ret_len = n;
		sig = NULL;
		r = 0;
	}
out:
	free(sig);
	sym_EVP_MD_CTX_free(ctx);
	return r;
}

/* "@a.@b", malloc'ed. */
static char *join(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	char *s = malloc(na + 1 + nb + 1);

	if (s) {
		memcpy(s, a, na);
		s[na] = '.';
		memcpy(s + na + 1, b, nb + 1);
	}
	return s;
}

static void wipe_free(char *s)
{
	if (s) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

/* "header.claims" for @c and the claims. */
static int signing_input(const struct assertion_cert *c, enum assertion_alg alg, bool send_chain,
			 const char *client_id, const char *audience, int64_t now, char **ret)
{
	json_t *header = jwt_header(c, alg, send_chain);
	json_t *claims = jwt_claims(client_id, audience, now);
	char *h = header ? json_base64url(header) : NULL;
	char *cl = claims ? json_base64url(claims) : NULL;
	int r = -ENOMEM;

	if (!claims)
		r = -EINVAL; /* json_pack refused a string that is not UTF-8 */
	if (h && cl && (*ret = join(h, cl)))
		r = 0;
	free(h);
	free(cl);
	json_decref(header);
	json_decref(claims);
	return r;
}

int assertion_build(const struct assertion_cert *c, enum assertion_alg alg, bool send_chain,
		    const char *client_id, const char *audience, int64_t now, char **ret, char *err,
		    size_t errlen)
{
	char *input = NULL, *s = NULL, *jwt = NULL, why[128];
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	int r;

	if (!c || (alg != ASSERTION_RS256 && alg != ASSERTION_PS256))
		return errmsg(err, errlen, -EINVAL, "no certificate or unknown algorithm");
	if (!client_id || !*client_id || !audience || !*audience)
		return errmsg(err, errlen, -EINVAL,
			      "client assertion needs a client_id and audience");
	sym_ERR_clear_error();
	r = signing_input(c, alg, send_chain, client_id, audience, now, &input);
	if (r == -EINVAL)
		return errmsg(err, errlen, r, "client_id or audience is not valid UTF-8");
	if (r < 0)
		return errmsg(err, errlen, r, "cannot build the client assertion: out of memory");
	r = sign(c->key, alg, input, strlen(input), &sig, &sig_len);
	if (r == -EIO)
		errmsg(err, errlen, r, "cannot sign the client assertion: %s",
		       ssl_reason(why, sizeof(why)));
	if (r == 0 && (!(s = base64url(sig, sig_len)) || !(jwt = join(input, s))))
		r = -ENOMEM;
	if (r == -ENOMEM)
		errmsg(err, errlen, r, "cannot build the client assertion: out of memory");
	free(input);
	wipe_free(s);
	if (sig)
		sodium_memzero(sig, sig_len);
	free(sig);
	sym_ERR_clear_error();
	if (r == 0)
		*ret = jwt;
	return r;
}
