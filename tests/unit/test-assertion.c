/* SPDX-License-Identifier: MIT */
/*
 * Client assertions, checked from the outside: the keys and certificates
 * are made here, the JWT is taken apart with jansson and its signature
 * verified with the certificate's public key.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "assertion.h"

#define NOW       INT64_C(1700000000)
#define CLIENT_ID "7f3c2a9e-0d41-4b8e-9c55-1a2b3c4d5e6f"
#define AUDIENCE  "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
#define MAX_PART  16384

enum key_format { KEY_PKCS8, KEY_TRADITIONAL, KEY_ENCRYPTED, KEY_ENCRYPTED_TRADITIONAL };

struct fixture {
	EVP_PKEY *key;    /* the leaf's key, RSA 2048 */
	EVP_PKEY *ca_key; /* another RSA 2048 key */
	EVP_PKEY *ec_key; /* P-256 */
	EVP_PKEY *small;  /* RSA 1024 */
	X509 *leaf;       /* issued by ca to key */
	X509 *ca;         /* self-signed, the "chain" */
	X509 *ec_cert;    /* self-signed with ec_key */
	X509 *small_cert; /* self-signed with small */
	char dir[64];
	char path[128];
};

static X509 *make_cert(EVP_PKEY *key, const char *cn, EVP_PKEY *signer, X509 *issuer)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *name;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	name = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
						    (const unsigned char *)cn, -1, -1, 0),
			 1);
	assert_int_equal(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name), 1);
	assert_true(X509_sign(x, signer, EVP_sha256()) > 0);
	return x;
}

static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || sodium_init() < 0)
		return -1;
	f->key = EVP_RSA_gen(2048);
	f->ca_key = EVP_RSA_gen(2048);
	f->ec_key = EVP_EC_gen("P-256");
	f->small = EVP_RSA_gen(1024);
	if (!f->key || !f->ca_key || !f->ec_key || !f->small)
		return -1;
	f->ca = make_cert(f->ca_key, "Test CA", f->ca_key, NULL);
	f->leaf = make_cert(f->key, "aoai-agent test", f->ca_key, f->ca);
	f->ec_cert = make_cert(f->ec_key, "ec", f->ec_key, NULL);
	f->small_cert = make_cert(f->small, "small", f->small, NULL);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-assertion-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	EVP_PKEY_free(f->key);
	EVP_PKEY_free(f->ca_key);
	EVP_PKEY_free(f->ec_key);
	EVP_PKEY_free(f->small);
	X509_free(f->leaf);
	X509_free(f->ca);
	X509_free(f->ec_cert);
	X509_free(f->small_cert);
	free(f);
	return 0;
}

static void pem_key(BIO *b, EVP_PKEY *key, enum key_format fmt)
{
	const EVP_CIPHER *aes = EVP_aes_256_cbc();
	int ok = 0;

	switch (fmt) {
	case KEY_PKCS8:
		ok = PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
		break;
	case KEY_TRADITIONAL:
		ok = PEM_write_bio_PrivateKey_traditional(b, key, NULL, NULL, 0, NULL, NULL);
		break;
	case KEY_ENCRYPTED:
		ok = PEM_write_bio_PKCS8PrivateKey(b, key, aes, "pass", 4, NULL, NULL);
		break;
	case KEY_ENCRYPTED_TRADITIONAL:
		ok = PEM_write_bio_PrivateKey_traditional(b, key, aes, (unsigned char *)"pass", 4,
							  NULL, NULL);
		break;
	}
	assert_int_equal(ok, 1);
}

/* Writes @text, then @key (if any) and @certs (key first unless @key_last) to a file of @mode. */
static const char *write_pem(struct fixture *f, const char *name, mode_t mode, EVP_PKEY *key,
			     enum key_format fmt, bool key_last, X509 *const *certs, size_t n,
			     const char *text)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int fd;

	assert_non_null(b);
	if (text)
		assert_int_equal(BIO_puts(b, text), (int)strlen(text));
	if (key && !key_last)
		pem_key(b, key, fmt);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(PEM_write_bio_X509(b, certs[i]), 1);
	if (key && key_last)
		pem_key(b, key, fmt);
	len = BIO_get_mem_data(b, &data);
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
	fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, (size_t)len), len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	BIO_free(b);
	return f->path;
}

static struct assertion_cert *load(const char *path)
{
	struct assertion_cert *c = NULL;
	char err[256] = "";

	if (assertion_cert_load(path, &c, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_non_null(c);
	return c;
}

/* Decodes base64 (@variant one of sodium's) into @out; returns the length. */
static size_t unbase64(const char *b64, size_t len, int variant, unsigned char *out, size_t cap)
{
	size_t n = 0;
	const char *end = NULL;

	assert_int_equal(sodium_base642bin(out, cap, b64, len, NULL, &n, &end, variant), 0);
	assert_ptr_equal(end, b64 + len);
	return n;
}

static json_t *decode_part(const char *b64, size_t len)
{
	unsigned char buf[MAX_PART];
	size_t n = unbase64(b64, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING, buf, sizeof(buf));
	json_t *j = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL);

	assert_non_null(j);
	assert_true(json_is_object(j));
	return j;
}

static size_t der(X509 *x, unsigned char *out, size_t cap)
{
	unsigned char *p = out;
	int n = i2d_X509(x, NULL);

	assert_true(n > 0 && (size_t)n <= cap);
	assert_int_equal(i2d_X509(x, &p), n);
	return (size_t)n;
}

/* base64url(digest of the DER of @x), computed independently of the code under test. */
static void thumbprint(X509 *x, const char *md, char *out, size_t outlen)
{
	unsigned char buf[4096], digest[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t len = der(x, buf, sizeof(buf));

	assert_int_equal(EVP_Digest(buf, len, digest, &n, EVP_get_digestbyname(md), NULL), 1);
	sodium_bin2base64(out, outlen, digest, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void check_x5c(const json_t *x5c, X509 *const *chain, size_t n)
{
	unsigned char want[4096], got[4096];

	assert_true(json_is_array(x5c));
	assert_int_equal(json_array_size(x5c), n);
	for (size_t i = 0; i < n; i++) {
		const json_t *s = json_array_get(x5c, i);
		size_t wn = der(chain[i], want, sizeof(want));
		size_t gn = unbase64(json_string_value(s), json_string_length(s),
				     sodium_base64_VARIANT_ORIGINAL, got, sizeof(got));

		assert_int_equal(gn, wn);
		assert_memory_equal(got, want, wn);
	}
}

static void check_header(json_t *h, enum assertion_alg alg, X509 *const *chain, size_t n)
{
	bool pss = alg == ASSERTION_PS256;
	char want[128];

	assert_string_equal(json_string_value(json_object_get(h, "alg")), pss ? "PS256" : "RS256");
	assert_string_equal(json_string_value(json_object_get(h, "typ")), "JWT");
	thumbprint(chain[0], pss ? "SHA256" : "SHA1", want, sizeof(want));
	assert_string_equal(json_string_value(json_object_get(h, pss ? "x5t#S256" : "x5t")), want);
	assert_null(json_object_get(h, pss ? "x5t" : "x5t#S256"));
	if (n > 0)
		check_x5c(json_object_get(h, "x5c"), chain, n);
	else
		assert_null(json_object_get(h, "x5c"));
	assert_int_equal(json_object_size(h), n > 0 ? 4 : 3);
}

static bool uuid4_valid(const char *s)
{
	if (strlen(s) != 36 || s[14] != '4' || !strchr("89ab", s[19]))
		return false;
	for (int i = 0; i < 36; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-'
							      : !strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

static void check_claims(json_t *c, char *jti, size_t jtilen)
{
	const char *id = json_string_value(json_object_get(c, "jti"));

	assert_string_equal(json_string_value(json_object_get(c, "aud")), AUDIENCE);
	assert_string_equal(json_string_value(json_object_get(c, "iss")), CLIENT_ID);
	assert_string_equal(json_string_value(json_object_get(c, "sub")), CLIENT_ID);
	assert_non_null(id);
	assert_true(uuid4_valid(id));
	snprintf(jti, jtilen, "%s", id);
	assert_true(json_is_integer(json_object_get(c, "nbf")));
	assert_int_equal(json_integer_value(json_object_get(c, "nbf")), NOW);
	assert_int_equal(json_integer_value(json_object_get(c, "iat")), NOW);
	assert_int_equal(json_integer_value(json_object_get(c, "exp")), NOW + 600);
	assert_int_equal(json_integer_value(json_object_get(c, "exp")) -
			     json_integer_value(json_object_get(c, "nbf")),
			 ASSERTION_LIFETIME);
	assert_int_equal(json_object_size(c), 7);
}

/* True when @sig verifies over @data with @x's public key under @alg's padding. */
static bool signature_ok(X509 *x, enum assertion_alg alg, const char *data, size_t len,
			 const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	assert_non_null(ctx);
	assert_int_equal(
	    EVP_DigestVerifyInit_ex(ctx, &pctx, "SHA256", NULL, NULL, X509_get0_pubkey(x), NULL),
	    1);
	if (alg == ASSERTION_PS256) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256", NULL), 1);
	}
	ok = EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)data, len);
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok == 1;
}

static void check_signature(const char *jwt, size_t input_len, enum assertion_alg alg, X509 *leaf)
{
	const char *s = jwt + input_len + 1;
	unsigned char sig[1024];
	size_t n =
	    unbase64(s, strlen(s), sodium_base64_VARIANT_URLSAFE_NO_PADDING, sig, sizeof(sig));
	enum assertion_alg other = alg == ASSERTION_PS256 ? ASSERTION_RS256 : ASSERTION_PS256;

	assert_int_equal(n, 256); /* RSA 2048 */
	assert_true(signature_ok(leaf, alg, jwt, input_len, sig, n));
	assert_false(signature_ok(leaf, other, jwt, input_len, sig, n));
	sig[n / 2] ^= 1;
	assert_false(signature_ok(leaf, alg, jwt, input_len, sig, n));
}

/* Takes @jwt apart and checks every piece; the jti is copied to @jti. */
static void verify_jwt(const char *jwt, enum assertion_alg alg, X509 *const *chain, size_t n,
		       char *jti, size_t jtilen)
{
	const char *dot1 = strchr(jwt, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	json_t *header, *claims;

	assert_non_null(dot2);
	assert_null(strchr(dot2 + 1, '.'));
	assert_null(strchr(jwt, '='));
	header = decode_part(jwt, (size_t)(dot1 - jwt));
	claims = decode_part(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	check_header(header, alg, chain, n);
	check_claims(claims, jti, jtilen);
	check_signature(jwt, (size_t)(dot2 - jwt), alg, chain[0]);
	json_decref(header);
	json_decref(claims);
}

static char *build(struct assertion_cert *c, enum assertion_alg alg, bool send_chain)
{
	char *jwt = NULL, err[256] = "";

	if (assertion_build(c, alg, send_chain, CLIENT_ID, AUDIENCE, NOW, &jwt, err, sizeof(err)) <
	    0)
		fail_msg("%s", err);
	assert_non_null(jwt);
	return jwt;
}

static void build_and_verify(struct assertion_cert *c, enum assertion_alg alg, bool send_chain,
			     X509 *const *chain, size_t n)
{
	char *jwt = build(c, alg, send_chain), jti[64];

	verify_jwt(jwt, alg, chain, send_chain ? n : 0, jti, sizeof(jti));
	sodium_memzero(jwt, strlen(jwt));
	free(jwt);
}

static void test_rs256_ps256(void **state)
{
	struct fixture *f = *state;
	X509 *chain[] = { f->leaf, f->ca };
	struct assertion_cert *c;

	c = load(write_pem(f, "good.pem", 0600, f->key, KEY_PKCS8, false, chain, 2, NULL));
	build_and_verify(c, ASSERTION_RS256, false, chain, 2);
	build_and_verify(c, ASSERTION_RS256, true, chain, 2);
	build_and_verify(c, ASSERTION_PS256, false, chain, 2);
	build_and_verify(c, ASSERTION_PS256, true, chain, 2);
	assert_null(assertion_cert_free(c));
	assert_null(assertion_cert_free(NULL));
}

static void test_key_last_traditional(void **state)
{
	struct fixture *f = *state;
	X509 *chain[] = { f->leaf };
	struct assertion_cert *c;

	/* certificate first, then an "RSA PRIVATE KEY", after some text openssl prints */
	c = load(write_pem(f, "last.pem", 0400, f->key, KEY_TRADITIONAL, true, chain, 1,
			   "Bag Attributes\n    friendlyName: test\n"));
	build_and_verify(c, ASSERTION_PS256, true, chain, 1);
	build_and_verify(c, ASSERTION_RS256, false, chain, 1);
	assertion_cert_free(c);
}

static void test_jti_unique(void **state)
{
	struct fixture *f = *state;
	X509 *chain[] = { f->leaf };
	struct assertion_cert *c;
	char *a, *b, jti_a[64], jti_b[64];

	c = load(write_pem(f, "jti.pem", 0600, f->key, KEY_PKCS8, false, chain, 1, NULL));
	a = build(c, ASSERTION_RS256, false);
	b = build(c, ASSERTION_RS256, false);
	verify_jwt(a, ASSERTION_RS256, chain, 0, jti_a, sizeof(jti_a));
	verify_jwt(b, ASSERTION_RS256, chain, 0, jti_b, sizeof(jti_b));
	assert_string_not_equal(jti_a, jti_b);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
	assertion_cert_free(c);
}

static void test_build_args(void **state)
{
	struct fixture *f = *state;
	X509 *chain[] = { f->leaf };
	struct assertion_cert *c;
	char *jwt = (char *)"untouched", err[256] = "";

	c = load(write_pem(f, "args.pem", 0600, f->key, KEY_PKCS8, false, chain, 1, NULL));
	assert_int_equal(
	    assertion_build(c, ASSERTION_RS256, false, NULL, AUDIENCE, NOW, &jwt, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(
	    assertion_build(c, ASSERTION_RS256, false, CLIENT_ID, "", NOW, &jwt, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(assertion_build(c, (enum assertion_alg)7, false, CLIENT_ID, AUDIENCE, NOW,
					 &jwt, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(assertion_build(c, ASSERTION_RS256, false, "\xff\xfe", AUDIENCE, NOW, &jwt,
					 err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "UTF-8"));
	assert_string_equal(jwt, "untouched");
	assertion_cert_free(c);
}

static void expect_refused(const char *path, int want, const char *why)
{
	struct assertion_cert *c = (struct assertion_cert *)(uintptr_t)1;
	char err[256] = "";

	assert_int_equal(assertion_cert_load(path, &c, err, sizeof(err)), want);
	if (!strstr(err, why))
		fail_msg("%s: message \"%s\" lacks \"%s\"", path, err, why);
	assert_non_null(strstr(err, path)); /* the file is named */
	assert_ptr_equal(c, (struct assertion_cert *)(uintptr_t)1);
}

static void test_refused_file(void **state)
{
	struct fixture *f = *state;
	X509 *chain[] = { f->leaf };
	char path[160];

	expect_refused(write_pem(f, "g.pem", 0640, f->key, KEY_PKCS8, false, chain, 1, NULL),
		       -EPERM, "readable or writable by others");
	expect_refused(write_pem(f, "o.pem", 0604, f->key, KEY_PKCS8, false, chain, 1, NULL),
		       -EPERM, "chmod 600");
	expect_refused(write_pem(f, "w.pem", 0620, f->key, KEY_PKCS8, false, chain, 1, NULL),
		       -EPERM, "chmod 600");
	snprintf(path, sizeof(path), "%s/missing.pem", f->dir);
	expect_refused(path, -ENOENT, "No such file");
	snprintf(path, sizeof(path), "%s/sub.pem", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	expect_refused(path, -EINVAL, "not a regular file");
}

static void test_refused_contents(void **state)
{
	struct fixture *f = *state;
	X509 *chain[] = { f->leaf, f->ca }, *wrong_order[] = { f->ca, f->leaf };
	X509 *eleven[11];

	expect_refused(write_pem(f, "nokey.pem", 0600, NULL, KEY_PKCS8, false, chain, 2, NULL),
		       -EINVAL, "no private key");
	expect_refused(write_pem(f, "nocert.pem", 0600, f->key, KEY_PKCS8, false, NULL, 0, NULL),
		       -EINVAL, "no certificate");
	expect_refused(write_pem(f, "empty.pem", 0600, NULL, KEY_PKCS8, false, NULL, 0, NULL),
		       -EINVAL, "no private key");
	expect_refused(write_pem(f, "junk.pem", 0600, NULL, KEY_PKCS8, false, NULL, 0,
				 "not a PEM file at all\n"),
		       -EINVAL, "no private key");
	expect_refused(
	    write_pem(f, "ec.pem", 0600, f->ec_key, KEY_PKCS8, false, &f->ec_cert, 1, NULL),
	    -EINVAL, "not an RSA key");
	expect_refused(
	    write_pem(f, "ec2.pem", 0600, f->ec_key, KEY_TRADITIONAL, false, &f->ec_cert, 1, NULL),
	    -EINVAL, "not an RSA key");
	expect_refused(
	    write_pem(f, "small.pem", 0600, f->small, KEY_PKCS8, false, &f->small_cert, 1, NULL),
	    -EINVAL, "fewer than 2048 bits");
	expect_refused(
	    write_pem(f, "mismatch.pem", 0600, f->ca_key, KEY_PKCS8, false, chain, 1, NULL),
	    -EINVAL, "does not belong to the first certificate");
	expect_refused(
	    write_pem(f, "order.pem", 0600, f->key, KEY_PKCS8, false, wrong_order, 2, NULL),
	    -EINVAL, "does not belong to the first certificate");
	expect_refused(write_pem(f, "enc.pem", 0600, f->key, KEY_ENCRYPTED, false, chain, 1, NULL),
		       -EINVAL, "encrypted");
	expect_refused(write_pem(f, "enc2.pem", 0600, f->key, KEY_ENCRYPTED_TRADITIONAL, false,
				 chain, 1, NULL),
		       -EINVAL, "encrypted");
	for (size_t i = 0; i < 11; i++)
		eleven[i] = i == 0 ? f->leaf : f->ca;
	expect_refused(write_pem(f, "long.pem", 0600, f->key, KEY_PKCS8, false, eleven, 11, NULL),
		       -EINVAL, "more than 10 certificates");
	expect_refused(write_pem(f, "badkey.pem", 0600, f->key, KEY_PKCS8, true, chain, 1,
				 "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n"),
		       -EINVAL, "private key is invalid");
	expect_refused(write_pem(f, "trunc.pem", 0600, f->key, KEY_PKCS8, false, chain, 1,
				 "-----BEGIN CERTIFICATE-----\nMIIB\n"),
		       -EINVAL, "malformed PEM");
}

static void test_refused_two_keys(void **state)
{
	struct fixture *f = *state;
	X509 *chain[] = { f->leaf };
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *key;
	long len;

	assert_non_null(b);
	pem_key(b, f->ca_key, KEY_TRADITIONAL);
	len = BIO_get_mem_data(b, &data);
	key = strndup(data, (size_t)len);
	assert_non_null(key);
	expect_refused(write_pem(f, "two.pem", 0600, f->key, KEY_PKCS8, true, chain, 1, key),
		       -EINVAL, "more than one private key");
	free(key);
	BIO_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rs256_ps256),
		cmocka_unit_test(test_key_last_traditional),
		cmocka_unit_test(test_jti_unique),
		cmocka_unit_test(test_build_args),
		cmocka_unit_test(test_refused_file),
		cmocka_unit_test(test_refused_contents),
		cmocka_unit_test(test_refused_two_keys),
	};

	return cmocka_run_group_tests_name("assertion", tests, fixture_setup, fixture_teardown);
}
