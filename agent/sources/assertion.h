/* SPDX-License-Identifier: MIT */
/*
 * Client assertions for the client-certificate credential: a JWT signed
 * with the certificate's private key, which Entra ID accepts in place of
 * a client secret (client_assertion_type=...jwt-bearer).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ASSERTION_LIFETIME  600   /* seconds from nbf to exp */
#define ASSERTION_MAX_FILE  65536 /* bytes of the PEM file */
#define ASSERTION_MAX_CERTS 10    /* the leaf and its chain */
#define ASSERTION_MIN_BITS  2048  /* Entra ID refuses smaller RSA keys */

/* The certificate, its chain and its private key. */
struct assertion_cert;

/*
 * Loads a PEM file holding an unencrypted RSA private key and the
 * certificate it belongs to, followed by the optional chain (the key may
 * come before or after the certificates).  The file must be a regular file
 * owned by the agent's user and not readable or writable by group or
 * others, like secret files.  Returns 0 with the certificate in *@ret, or
 * -errno / -EINVAL with the reason (naming the file) in @err.
 */
int assertion_cert_load(const char *path, struct assertion_cert **ret, char *err, size_t errlen);
/* Wipes and frees @c.  Accepts NULL; returns NULL. */
struct assertion_cert *assertion_cert_free(struct assertion_cert *c);

enum assertion_alg {
	ASSERTION_RS256, /* RSASSA-PKCS1-v1_5, header "x5t" (SHA-1 thumbprint) */
	ASSERTION_PS256, /* RSASSA-PSS, salt of 32 bytes, header "x5t#S256" (SHA-256 thumbprint) */
};

/*
 * Builds a signed JWT with the claims aud=@audience, iss=sub=@client_id,
 * a random UUIDv4 jti, nbf=iat=@now and exp=@now+ASSERTION_LIFETIME; its
 * header carries "x5c" (every certificate, leaf first) when @send_chain
 * (needed for subject name/issuer authentication).  Returns 0 with the
 * NUL-terminated JWT in *@ret (malloc'ed; the caller wipes and frees it),
 * or -EINVAL / -ENOMEM / -EIO with the reason in @err.
 */
int assertion_build(const struct assertion_cert *c, enum assertion_alg alg, bool send_chain,
		    const char *client_id, const char *audience, int64_t now, char **ret, char *err,
		    size_t errlen);
