/* SPDX-License-Identifier: MIT */
/*
 * OpenSSL's libcrypto and libssl, loaded on first use (dl_syms.h): for
 * certificate credentials (assertion.c) and the TLS context hook of
 * http.c.  An agent without either never maps them.  Code calls
 * sym_NAME() after openssl_dl_open() succeeded; OpenSSL's macros that
 * name a function (OPENSSL_free() …) are spelled out with sym_CRYPTO_*.
 */
#pragma once

#include <stddef.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* A test build asks for libraries that do not exist (the Makefile's aoai-agent-nocurl). */
#ifndef OPENSSL_DL_CRYPTO_SONAME
#define OPENSSL_DL_CRYPTO_SONAME "libcrypto.so.3"
#endif
#ifndef OPENSSL_DL_SSL_SONAME
#define OPENSSL_DL_SSL_SONAME "libssl.so.3"
#endif
#define OPENSSL_DL_PACKAGE   "libssl3" /* Debian's package of both */
#define OPENSSL_DL_MAX_ERROR 320

#define OPENSSL_DL_FN(name) extern __typeof__(name) *sym_##name
/* libcrypto */
OPENSSL_DL_FN(BIO_free);
OPENSSL_DL_FN(BIO_new_mem_buf);
OPENSSL_DL_FN(CRYPTO_free);
OPENSSL_DL_FN(CRYPTO_secure_free);
OPENSSL_DL_FN(CRYPTO_secure_clear_free);
OPENSSL_DL_FN(ERR_clear_error);
OPENSSL_DL_FN(ERR_get_error);
OPENSSL_DL_FN(ERR_peek_last_error);
OPENSSL_DL_FN(ERR_reason_error_string);
OPENSSL_DL_FN(EVP_DigestSign);
OPENSSL_DL_FN(EVP_DigestSignInit_ex);
OPENSSL_DL_FN(EVP_MD_CTX_free);
OPENSSL_DL_FN(EVP_MD_CTX_new);
OPENSSL_DL_FN(EVP_PKEY_CTX_set_rsa_mgf1_md_name);
OPENSSL_DL_FN(EVP_PKEY_CTX_set_rsa_padding);
OPENSSL_DL_FN(EVP_PKEY_CTX_set_rsa_pss_saltlen);
OPENSSL_DL_FN(EVP_PKEY_free);
OPENSSL_DL_FN(EVP_PKEY_get_bits);
OPENSSL_DL_FN(EVP_PKEY_is_a);
OPENSSL_DL_FN(EVP_sha1);
OPENSSL_DL_FN(EVP_sha256);
OPENSSL_DL_FN(PEM_read_bio_ex);
OPENSSL_DL_FN(X509_STORE_CTX_get0_cert);
OPENSSL_DL_FN(X509_check_private_key);
OPENSSL_DL_FN(X509_digest);
OPENSSL_DL_FN(X509_free);
OPENSSL_DL_FN(d2i_AutoPrivateKey);
OPENSSL_DL_FN(d2i_X509);
OPENSSL_DL_FN(i2d_X509);
/* libssl */
OPENSSL_DL_FN(SSL_CTX_set_cert_verify_callback);
OPENSSL_DL_FN(SSL_CTX_set_options);

/*
 * Loads libcrypto and libssl, once per process, whichever thread asks
 * first (pthread_once).  Returns 0; or a negative errno with a message
 * naming the library and the package to install in @err (may be NULL),
 * the same on every call.
 */
int openssl_dl_open(char *err, size_t errlen);
