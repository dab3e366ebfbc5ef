#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""RS256 / PS256 signing keys and JWTs as Microsoft Entra ID publishes and mints them.

A key is an RSA-2048 private key in a PEM file (mode 0600).  Its published form
is a JWK shaped like the entries of Entra's discovery/v2.0/keys:

    {"kty": "RSA", "use": "sig", "kid": K, "x5t": K, "n": …, "e": "AQAB",
     "x5c": [base64 DER certificate], "issuer": "https://login.microsoftonline.com/{tid}/v2.0"}

where x5t is the base64url SHA-1 thumbprint of a self-signed certificate over
the key and kid defaults to x5t, as Entra's do (the v1 discovery/keys entries
have no "issuer").  The certificate is deterministic (fixed names, dates and a
serial derived from the key), so the fake and the test harness compute the
same x5t and kid from the same key file.

Tokens are compact JWS with the header {"typ": "JWT", "alg": "RS256"|"PS256",
"x5t": …, "kid": …}; PS256 is RSASSA-PSS with SHA-256, MGF1-SHA256 and a
32-byte salt.

CLI (claims and keys are read from files, never argv; only tokens and public
keys are printed):

    jwt_rs256.py genkey --out KEY
    jwt_rs256.py mint --key-file KEY [--kid KID] [--alg PS256] --claims-file F
    jwt_rs256.py jwk --key-file KEY [--kid KID] [--issuer ISS]
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jwt_hs256 import JwtError, b64url_decode, b64url_encode, split  # noqa: E402

KEY_BITS = 2048
PUBLIC_EXPONENT = 65537
PSS_SALT_LENGTH = 32
ALGS = ("RS256", "PS256")
CERT_CN = "accounts.accesscontrol.windows.net"   # the subject of Entra's signing certificates
CERT_NOT_BEFORE = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
CERT_NOT_AFTER = datetime.datetime(2049, 1, 1, tzinfo=datetime.timezone.utc)
MAX_KEY_FILE = 64 * 1024
MAX_CLAIMS_FILE = 64 * 1024

__all__ = ["JwtError", "b64url_decode", "b64url_encode", "generate_key", "save_key",
           "load_key", "certificate_der", "thumbprint", "jwk", "public_key_from_jwk", "mint",
           "verify"]


# --- keys ----------------------------------------------------------------------------

def generate_key(bits=KEY_BITS):
    return rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=bits)


def save_key(key, path):
    """Writes @key as unencrypted PKCS#8 PEM to @path, mode 0600 (replacing a file)."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, pem)
    finally:
        os.close(fd)
    return path


def load_key(path):
    """The RSA private key of a PEM file; ValueError when it is not one."""
    with open(path, "rb") as f:
        pem = f.read(MAX_KEY_FILE)
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} does not hold an RSA private key")
    return key


def _uint_b64url(n):
    return b64url_encode(n.to_bytes((n.bit_length() + 7) // 8 or 1, "big"))


def certificate_der(key):
    """A self-signed certificate over @key's public key, DER; the same bytes on every call."""
    pub = key.public_key()
    spki = pub.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)
    serial = int.from_bytes(hashlib.sha256(spki).digest()[:16], "big") >> 1 or 1
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CERT_CN)])
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(pub).serial_number(serial)
            .not_valid_before(CERT_NOT_BEFORE).not_valid_after(CERT_NOT_AFTER)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
            .sign(key, hashes.SHA256()))   # PKCS#1 v1.5: deterministic
    return cert.public_bytes(serialization.Encoding.DER)


def thumbprint(key):
    """x5t of @key: base64url SHA-1 of its certificate (also the default kid)."""
    return b64url_encode(hashlib.sha1(certificate_der(key)).digest())


def jwk(key, kid=None, issuer=None):
    """The public JWK of @key (private or public-with-certificate: private here)."""
    der = certificate_der(key)
    x5t = b64url_encode(hashlib.sha1(der).digest())
    nums = key.public_key().public_numbers()
    out = {"kty": "RSA", "use": "sig", "kid": kid or x5t, "x5t": x5t,
           "n": _uint_b64url(nums.n), "e": _uint_b64url(nums.e),
           "x5c": [base64.b64encode(der).decode("ascii")]}
    if issuer is not None:
        out["issuer"] = issuer
    return out


def public_key_from_jwk(j):
    """The RSA public key of a JWK's n and e; JwtError("jwk") when they are not usable."""
    if not isinstance(j, dict) or j.get("kty") != "RSA":
        raise JwtError("jwk")
    try:
        n = int.from_bytes(b64url_decode(j["n"]), "big")
        e = int.from_bytes(b64url_decode(j["e"]), "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    except (KeyError, ValueError, TypeError) as exc:
        raise JwtError("jwk") from exc


# --- tokens ----------------------------------------------------------------------------

def _padding(alg):
    if alg == "RS256":
        return padding.PKCS1v15()
    if alg == "PS256":
        return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=PSS_SALT_LENGTH)
    raise JwtError("alg")


def _segment(obj, sort_keys):
    return b64url_encode(json.dumps(obj, separators=(",", ":"), sort_keys=sort_keys))


def mint(key, claims, kid=None, alg="RS256", header=None):
    """A compact JWS of @claims signed with the RSA private @key.

    The header carries typ, alg, x5t (the key's thumbprint) and kid (default x5t);
    @header adds or overrides fields (None values remove them)."""
    x5t = thumbprint(key)
    hdr = {"typ": "JWT", "alg": alg, "x5t": x5t, "kid": kid or x5t}
    for k, v in (header or {}).items():
        if v is None:
            hdr.pop(k, None)
        else:
            hdr[k] = v
    signing_input = _segment(hdr, False) + "." + _segment(claims, True)
    sig = key.sign(signing_input.encode("ascii"), _padding(alg), hashes.SHA256())
    return signing_input + "." + b64url_encode(sig)


def verify(public_key, token, algs=ALGS):
    """(header, claims) of @token when its signature checks out against @public_key.

    Only the signature and alg: time claims, aud and iss are the caller's business.
    Raises JwtError("format" | "alg" | "signature")."""
    header, claims, signing_input, sig = split(token)
    alg = header.get("alg")
    if alg not in algs:
        raise JwtError("alg")
    try:
        public_key.verify(sig, signing_input, _padding(alg), hashes.SHA256())
    except (InvalidSignature, ValueError) as exc:
        raise JwtError("signature") from exc
    return header, claims


# --- CLI -------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("genkey", help="write a new RSA-2048 private key (PEM, mode 0600)")
    g.add_argument("--out", required=True)
    m = sub.add_parser("mint", help="print a JWT of the claims in --claims-file")
    m.add_argument("--key-file", required=True)
    m.add_argument("--kid", help="header kid (default: the key's x5t thumbprint)")
    m.add_argument("--alg", choices=ALGS, default="RS256")
    m.add_argument("--claims-file", required=True, help="a JSON object ('-': stdin)")
    j = sub.add_parser("jwk", help="print the public JWK of a key")
    j.add_argument("--key-file", required=True)
    j.add_argument("--kid")
    j.add_argument("--issuer", help="add an issuer field, as Entra's v2 keys have")
    args = ap.parse_args(argv)

    if args.cmd == "genkey":
        save_key(generate_key(), args.out)
        return 0
    try:
        key = load_key(args.key_file)
    except (OSError, ValueError) as e:
        ap.exit(1, f"jwt_rs256: cannot load --key-file: {type(e).__name__}\n")
    if args.cmd == "jwk":
        print(json.dumps(jwk(key, args.kid, args.issuer)))
        return 0
    try:
        if args.claims_file == "-":
            text = sys.stdin.read(MAX_CLAIMS_FILE)
        else:
            with open(args.claims_file, encoding="utf-8") as f:
                text = f.read(MAX_CLAIMS_FILE)
        claims = json.loads(text)
    except (OSError, ValueError) as e:
        ap.exit(1, f"jwt_rs256: cannot read --claims-file: {type(e).__name__}\n")
    if not isinstance(claims, dict):
        ap.exit(1, "jwt_rs256: the claims must be a JSON object\n")
    print(mint(key, claims, args.kid, args.alg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
