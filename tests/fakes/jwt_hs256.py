# SPDX-License-Identifier: MIT
"""Minting and checking HS256 JWTs for the fakes (stdlib only).

The fake identity endpoints and the fake `az` mint access tokens with a key
shared with tests/fakes/fake_aoai.py (--jwt-key-file), which accepts them.
These are test tokens: the point is that every token is distinct, carries
real claims (aud, exp, src …) and can be told apart from a tampered copy.
"""

import base64
import hashlib
import hmac
import json
import time

import fakeserver


class JwtError(ValueError):
    """A token that does not check out; str(e) names the failed check."""


def b64url_encode(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    """Decodes base64url with or without padding; raises JwtError on bad input."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if not isinstance(text, str) or any(c not in _B64URL for c in text.rstrip("=")):
        raise JwtError("encoding")
    text = text.rstrip("=")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as e:
        raise JwtError("encoding") from e


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def read_key(path):
    """The key file's bytes without one trailing newline (as fake_aoai reads secrets)."""
    return fakeserver.read_secret_file(path)


def _json_segment(obj):
    return b64url_encode(json.dumps(obj, separators=(",", ":"), sort_keys=True))


def mint(key, claims, header=None):
    """A compact HS256 JWT of @claims signed with @key (bytes)."""
    hdr = {"alg": "HS256", "typ": "JWT"}
    hdr.update(header or {})
    signing_input = _json_segment(hdr) + "." + _json_segment(claims)
    sig = hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + b64url_encode(sig)


def split(token):
    """(header, claims, signing_input, signature) of any compact JWS; no verification."""
    if isinstance(token, bytes):
        token = token.decode("ascii", "replace")
    if not isinstance(token, str) or len(token) > 64 * 1024:
        raise JwtError("format")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise JwtError("format")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError) as e:
        raise JwtError("format") from e
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JwtError("format")
    return header, claims, (parts[0] + "." + parts[1]).encode("ascii"), b64url_decode(parts[2])


def verify(key, token, now=None, leeway=5):
    """The claims of an HS256 @token signed with @key that is valid at @now.

    Raises JwtError("format" | "alg" | "signature" | "exp" | "nbf")."""
    header, claims, signing_input, sig = split(token)
    if header.get("alg") != "HS256":
        raise JwtError("alg")
    want = hmac.new(key, signing_input, hashlib.sha256).digest()
    if not hmac.compare_digest(want, sig):
        raise JwtError("signature")
    now = time.time() if now is None else now
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool) or exp <= now:
        raise JwtError("exp")
    nbf = claims.get("nbf")
    if nbf is not None and (not isinstance(nbf, (int, float)) or nbf > now + leeway):
        raise JwtError("nbf")
    return claims
