/* SPDX-License-Identifier: MIT */
/* OpenSSL on first use (openssl_dl.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "dl_syms.h"
#include "openssl_dl.h"

#define OPENSSL_DL_DEFINE(name) __typeof__(name) *sym_##name
OPENSSL_DL_DEFINE(BIO_free);
OPENSSL_DL_DEFINE(BIO_new_mem_buf);
OPENSSL_DL_DEFINE(CRYPTO_free);
OPENSSL_DL_DEFINE(CRYPTO_secure_free);
OPENSSL_DL_DEFINE(CRYPTO_secure_clear_free);
OPENSSL_DL_DEFINE(ERR_clear_error);
OPENSSL_DL_DEFINE(ERR_get_error);
OPENSSL_DL_DEFINE(ERR_peek_last_error);
OPENSSL_DL_DEFINE(ERR_reason_error_string);
OPENSSL_DL_DEFINE(EVP_DigestSign);
OPENSSL_DL_DEFINE(EVP_DigestSignInit_ex);
OPENSSL_DL_DEFINE(EVP_MD_CTX_free);
OPENSSL_DL_DEFINE(EVP_MD_CTX_new);
OPENSSL_DL_DEFINE(EVP_PKEY_CTX_set_rsa_mgf1_md_name);
OPENSSL_DL_DEFINE(EVP_PKEY_CTX_set_rsa_padding);
OPENSSL_DL_DEFINE(EVP_PKEY_CTX_set_rsa_pss_saltlen);
OPENSSL_DL_DEFINE(EVP_PKEY_free);
OPENSSL_DL_DEFINE(EVP_PKEY_get_bits);
OPENSSL_DL_DEFINE(EVP_PKEY_is_a);
OPENSSL_DL_DEFINE(EVP_sha1);
OPENSSL_DL_DEFINE(EVP_sha256);
OPENSSL_DL_DEFINE(PEM_read_bio_ex);
OPENSSL_DL_DEFINE(X509_STORE_CTX_get0_cert);
OPENSSL_DL_DEFINE(X509_check_private_key);
OPENSSL_DL_DEFINE(X509_digest);
OPENSSL_DL_DEFINE(X509_free);
OPENSSL_DL_DEFINE(d2i_AutoPrivateKey);
OPENSSL_DL_DEFINE(d2i_X509);
OPENSSL_DL_DEFINE(i2d_X509);
OPENSSL_DL_DEFINE(SSL_CTX_set_cert_verify_callback);
OPENSSL_DL_DEFINE(SSL_CTX_set_options);

static const struct dl_sym crypto_syms[] = {
	DL_SYM(BIO_free),
	DL_SYM(BIO_new_mem_buf),
	DL_SYM(CRYPTO_free),
	DL_SYM(CRYPTO_secure_free),
	DL_SYM(CRYPTO_secure_clear_free),
	DL_SYM(ERR_clear_error),
	DL_SYM(ERR_get_error),
	DL_SYM(ERR_peek_last_error),
	DL_SYM(ERR_reason_error_string),
	DL_SYM(EVP_DigestSign),
	DL_SYM(EVP_DigestSignInit_ex),
	DL_SYM(EVP_MD_CTX_free),
	DL_SYM(EVP_MD_CTX_new),
	DL_SYM(EVP_PKEY_CTX_set_rsa_mgf1_md_name),
	DL_SYM(EVP_PKEY_CTX_set_rsa_padding),
	DL_SYM(EVP_PKEY_CTX_set_rsa_pss_saltlen),
	DL_SYM(EVP_PKEY_free),
	DL_SYM(EVP_PKEY_get_bits),
	DL_SYM(EVP_PKEY_is_a),
	DL_SYM(EVP_sha1),
	DL_SYM(EVP_sha256),
	DL_SYM(PEM_read_bio_ex),
	DL_SYM(X509_STORE_CTX_get0_cert),
	DL_SYM(X509_check_private_key),
	DL_SYM(X509_digest),
	DL_SYM(X509_free),
	DL_SYM(d2i_AutoPrivateKey),
	DL_SYM(d2i_X509),
	DL_SYM(i2d_X509),
};

static const struct dl_sym ssl_syms[] = {
	DL_SYM(SSL_CTX_set_cert_verify_callback),
	DL_SYM(SSL_CTX_set_options),
};

/* Written once by load(), under pthread_once; read-only afterwards. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_result = -EAGAIN;
static char load_error[OPENSSL_DL_MAX_ERROR];

/* libcrypto first: libssl stands on it. */
static void load(void)
{
	load_result = dl_syms_open(OPENSSL_DL_CRYPTO_SONAME, OPENSSL_DL_PACKAGE, crypto_syms,
				   sizeof(crypto_syms) / sizeof(crypto_syms[0]), load_error,
				   sizeof(load_error));
	if (load_result == 0)
		load_result = dl_syms_open(OPENSSL_DL_SSL_SONAME, OPENSSL_DL_PACKAGE, ssl_syms,
					   sizeof(ssl_syms) / sizeof(ssl_syms[0]), load_error,
					   sizeof(load_error));
}

int openssl_dl_open(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (load_result < 0 && err && errlen > 0)
		snprintf(err, errlen, "%s", load_error);
	return load_result;
}
