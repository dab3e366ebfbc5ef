#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A stand-in for Microsoft Entra ID signing a person in, for the tests.

One process on one loopback port serves Entra's v2.0 endpoints for any tenant:

    POST /TENANT/oauth2/v2.0/devicecode   RFC 8628 §3.1-3.2 as Entra answers it:
         {"device_code", "user_code", "verification_uri", "expires_in", "interval",
         "message"}
    POST /TENANT/oauth2/v2.0/token        grant_type device_code (RFC 8628 §3.4-3.5:
         authorization_pending, slow_down, access_denied, expired_token) and
         refresh_token (RFC 6749 §6, with rotation: the new refresh token replaces the
         old, which then fails with invalid_grant)

    GET  /TENANT[/v2.0]/.well-known/openid-configuration   {"issuer", "jwks_uri", ...}
    GET  /TENANT/discovery[/v2.0]/keys    the key set that signs the tokens

Errors are 400 {"error", "error_description"}.  A successful token response has
"access_token" (a JWT for the scope's resource, RS256-signed with a key made at start
and published at jwks_uri, so `aoai check` can validate it),
"token_type", "expires_in", "scope", "refresh_token" and "id_token" (with
"preferred_username").  PersonGrants holds the logic; tests/fakes/fake_oidc.py uses
it too for its device_authorization_endpoint and the same grants.

The person is the test: a control API under /_fake/ approves or denies a code
(POST /_fake/approve {"user_code", "deny": bool, "username"}; the browser flow's
GET /TENANT/oauth2/v2.0/authorize redirects at once as the settings "browser"
("approve" or "deny") and "username" say, and the authorization_code grant checks
the PKCE verifier, redirect_uri and client_id), makes it expire
(POST /_fake/expire {"user_code"}), revokes every refresh token (POST /_fake/revoke),
sets {"interval", "expires_in", "slow_down": N (answers to the next N polls),
"hang": seconds the token endpoint waits before answering, "rotate"} (POST
/_fake/settings), and reads the log (GET /_fake/requests: time, path, grant_type,
scope, client_id, error; never a code or a token) and, for the tests' leak checks
only, what it issued (GET /_fake/issued).

It binds 127.0.0.1 only, prints `listening on 127.0.0.1:PORT`, and exits on
SIGTERM/SIGINT or after --max-lifetime seconds.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import sys
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakeserver  # noqa: E402
import jwt_rs256  # noqa: E402
from fakeserver import Server  # noqa: E402

BIND_HOST = "127.0.0.1"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
EXPIRES_IN = 3600
MAX_LOG = 20000
DEFAULT_SETTINGS = {"interval": 1, "expires_in": 900, "slow_down": 0, "hang": 0,
                    "rotate": True, "browser": "approve", "username": "ada@contoso.example"}
TOKEN_RE = re.compile(r"^/[A-Za-z0-9.-]+/oauth2/v2\.0/(devicecode|token|authorize)$")
DISCOVERY_RE = re.compile(r"^/[A-Za-z0-9.-]+(/v2\.0)?/\.well-known/openid-configuration$")
KEYS_RE = re.compile(r"^/([A-Za-z0-9.-]+)/discovery(/v2\.0)?/keys$")


def audience(scope):
    first = next((s for s in scope.split() if s not in ("offline_access", "openid",
                                                        "profile")), "")
    return first[:-len("/.default")] if first.endswith("/.default") else first


class PersonGrants:
    """Device codes, refresh tokens and the request log (thread-safe)."""

    def __init__(self, base_url, issuer, verification_uri):
        self.lock = threading.Lock()
        self.base, self.issuer, self.verification_uri = base_url, issuer, verification_uri
        self.settings = dict(DEFAULT_SETTINGS)
        self.codes = {}      # device_code -> {"user_code", "state", "expires", ...}
        self.refresh = {}    # refresh_token -> {"username", "client_id"}
        self.issued = []     # every code and token handed out (leak checks)
        self.log = []
        self.stopping = threading.Event()
        self.key = jwt_rs256.generate_key()  # signs access and ID tokens

    def jwks(self):
        return {"keys": [jwt_rs256.jwk(self.key, issuer=self.issuer)]}

    def openid_configuration(self, jwks_uri):
        return {"issuer": self.issuer, "jwks_uri": jwks_uri,
                "token_endpoint": self.base + "/organizations/oauth2/v2.0/token",
                "id_token_signing_alg_values_supported": ["RS256"]}

    def sign(self, claims):
        return jwt_rs256.mint(self.key, claims)

    def _note(self, entry):
        with self.lock:
            if len(self.log) < MAX_LOG:
                self.log.append(entry)

    def device_authorization(self, path, f):
        scope = f.get("scope", "")
        entry = {"time": time.time(), "path": path, "endpoint": "devicecode",
                 "client_id": f.get("client_id"), "scope": scope}
        if not f.get("client_id"):
            entry["error"] = "invalid_request"
            self._note(entry)
            return 400, {"error": "invalid_request",
                         "error_description": "AADSTS900144: client_id is missing"}
        code = "fake-dc-" + secrets.token_urlsafe(24)
        user = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9))
        with self.lock:
            s = dict(self.settings)
            self.codes[code] = {"user_code": user, "state": "pending", "scope": scope,
                                "client_id": f["client_id"], "username": None,
                                "expires": time.time() + s["expires_in"],
                                "slow_down": s["slow_down"]}
            self.issued.append(code)
        self._note(entry)
        return 200, {"device_code": code, "user_code": user,
                     "verification_uri": self.verification_uri,
                     "expires_in": s["expires_in"], "interval": s["interval"],
                     "message": f"To sign in, use a web browser to open the page "
                                f"{self.verification_uri} and enter the code {user} to "
                                f"authenticate."}

    def authorize(self, path, q):
        """GET authorize (RFC 6749 §4.1.1 with RFC 7636 S256): the person (settings
        "browser": "approve" or "deny") answers at once; (status, body, location)."""
        entry = {"time": time.time(), "path": path, "endpoint": "authorize",
                 "client_id": q.get("client_id"), "scope": q.get("scope"),
                 "redirect_uri": q.get("redirect_uri"),
                 "code_challenge_method": q.get("code_challenge_method")}
        redirect = q.get("redirect_uri", "")
        if not re.match(r"^http://(127\.0\.0\.1|\[::1\]|localhost):\d+/", redirect) or \
                q.get("response_type") != "code" or not q.get("client_id") or \
                q.get("code_challenge_method") != "S256" or not q.get("code_challenge") or \
                not q.get("state"):
            entry["error"] = "invalid_request"
            self._note(entry)
            return 400, {"error": "invalid_request",
                         "error_description": "AADSTS900144: bad authorization request"}, None
        with self.lock:
            s = dict(self.settings)
        if s["browser"] == "deny":
            entry["error"] = "access_denied"
            self._note(entry)
            return 302, None, redirect + "?" + urlencode(
                {"error": "access_denied", "state": q["state"],
                 "error_description": "AADSTS65004: User declined to consent."})
        code = "fake-ac-" + secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {"kind": "auth", "challenge": q["code_challenge"],
                                "redirect_uri": redirect, "client_id": q["client_id"],
                                "scope": q.get("scope", ""), "username": s["username"]}
            self.issued.append(code)
        self._note(entry)
        return 302, None, redirect + "?" + urlencode({"code": code, "state": q["state"]})

    def _auth_code_grant(self, f):
        with self.lock:
            c = self.codes.pop(f.get("code", ""), None)
        if c is None or c.get("kind") != "auth":
            return "invalid_grant", "AADSTS70000: unknown or used authorization code"
        verifier = f.get("code_verifier", "")
        want = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()) \
            .rstrip(b"=").decode()
        if want != c["challenge"]:
            return "invalid_grant", "AADSTS501481: The Code_Verifier does not match"
        if f.get("redirect_uri") != c["redirect_uri"] or f.get("client_id") != c["client_id"]:
            return "invalid_grant", "AADSTS50148: redirect_uri or client_id differs"
        return self._tokens(c["scope"], c["username"], c["client_id"]), None

    def _tokens(self, scope, username, client_id):
        now = int(time.time())
        access = self.sign({"iss": self.issuer, "aud": audience(scope), "iat": now,
                            "nbf": now, "exp": now + EXPIRES_IN, "scp": scope,
                            "upn": username, "azp": client_id, "src": "user",
                            "jti": secrets.token_hex(8)})
        rt = "fake-rt-" + secrets.token_urlsafe(32)
        idt = self.sign({"iss": self.issuer, "aud": client_id, "iat": now,
                         "exp": now + EXPIRES_IN, "preferred_username": username})
        with self.lock:
            self.refresh[rt] = {"username": username, "client_id": client_id}
            self.issued.extend([access, rt, idt])
        return {"token_type": "Bearer", "scope": scope, "expires_in": EXPIRES_IN,
                "ext_expires_in": EXPIRES_IN, "access_token": access, "refresh_token": rt,
                "id_token": idt}

    def _device_grant(self, f, entry):
        with self.lock:
            c = self.codes.get(f.get("device_code", ""))
            if c is not None and c.get("kind") == "auth":
                c = None
            if c is not None:
                entry["user_code"] = c["user_code"]
                if c["state"] == "pending" and time.time() >= c["expires"]:
                    c["state"] = "expired"
                if c["slow_down"] > 0 and c["state"] == "pending":
                    c["slow_down"] -= 1
                    return "slow_down", "AADSTS70000: polling too fast"
                state = c["state"]
                if state in ("approved",):
                    c["state"] = "used"
        if c is None:
            return "invalid_grant", "AADSTS70000: unknown device code"
        if state == "pending":
            return "authorization_pending", "AADSTS70016: OAuth 2.0 device flow error. " \
                "Authorization is pending. Continue polling."
        if state == "denied":
            return "access_denied", "AADSTS70000: The user denied the sign-in request."
        if state in ("expired", "used"):
            return "expired_token", "AADSTS70020: The provided value for the input " \
                "parameter 'device_code' is not valid. This device code has expired."
        return self._tokens(c["scope"], c["username"], c["client_id"]), None

    def _refresh_grant(self, f):
        with self.lock:
            r = self.refresh.get(f.get("refresh_token", ""))
            if r is not None and self.settings["rotate"]:
                del self.refresh[f["refresh_token"]]
        if r is None:
            return "invalid_grant", "AADSTS70008: The provided authorization code or " \
                "refresh token has expired due to inactivity or was revoked."
        return self._tokens(f.get("scope", ""), r["username"], r["client_id"]), None

    def token(self, path, f):
        entry = {"time": time.time(), "path": path, "endpoint": "token",
                 "grant_type": f.get("grant_type"), "client_id": f.get("client_id"),
                 "scope": f.get("scope")}
        hang = self.settings["hang"]
        if hang:
            self.stopping.wait(hang)
        if f.get("grant_type") == DEVICE_GRANT:
            body, desc = self._device_grant(f, entry)
        elif f.get("grant_type") == "refresh_token":
            body, desc = self._refresh_grant(f)
        elif f.get("grant_type") == "authorization_code":
            body, desc = self._auth_code_grant(f)
        else:
            body, desc = "unsupported_grant_type", "AADSTS70003: unsupported grant_type"
        if desc is not None:
            entry["error"] = body
            self._note(entry)
            return 400, {"error": body, "error_description": desc,
                         "error_codes": [70000], "timestamp": "2026-01-01 00:00:00Z"}
        self._note(entry)
        return 200, body

    def control(self, method, path, body):
        """(status, reply) for /_fake/PATH."""
        if method == "GET" and path == "/_fake/requests":
            with self.lock:
                return 200, {"requests": list(self.log)}
        if method == "GET" and path == "/_fake/issued":
            with self.lock:
                return 200, {"issued": list(self.issued)}
        if method != "POST" or not isinstance(body, dict):
            return 404, {"error": "not_found"}
        with self.lock:
            if path == "/_fake/settings":
                unknown = set(body) - set(DEFAULT_SETTINGS)
                if unknown:
                    return 400, {"error": f"unknown settings {sorted(unknown)}"}
                self.settings.update(body)
                return 200, {"settings": dict(self.settings)}
            if path == "/_fake/revoke":
                n = len(self.refresh)
                self.refresh.clear()
                return 200, {"revoked": n}
            if path in ("/_fake/approve", "/_fake/expire"):
                c = next((c for c in self.codes.values()
                          if c.get("user_code") == body.get("user_code")), None)
                if c is None:
                    return 404, {"error": "no such user_code"}
                if path == "/_fake/expire":
                    c["state"] = "expired"
                else:
                    c["state"] = "denied" if body.get("deny") else "approved"
                    c["username"] = body.get("username", "ada@contoso.example")
                return 200, {"state": c["state"]}
        return 404, {"error": "not_found"}


class Handler(fakeserver.Handler):
    server_version = "fake-entra-user/1"

    def _log(self, status, **extra):
        pass

    def _send(self, status, body):
        data = (json.dumps(body) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _redirect(self, status, body, location):
        if location is None:
            return self._send(status, body)
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _handle(self):
        grants = self.server.grants
        url = urlsplit(self.path)
        body = self._read_body()
        if body is None:
            self.close_connection = True
            return self._send(400, {"error": "invalid_request"})
        if url.path.startswith("/_fake/"):
            try:
                doc = json.loads(body) if body else None
            except ValueError:
                return self._send(400, {"error": "bad json"})
            return self._send(*grants.control(self.command, url.path, doc))
        if self.command == "GET" and DISCOVERY_RE.match(url.path):
            tenant = url.path.split("/")[1]
            return self._send(200, grants.openid_configuration(
                f"{grants.base}/{tenant}/discovery/v2.0/keys"))
        if self.command == "GET" and KEYS_RE.match(url.path):
            return self._send(200, grants.jwks())
        m = TOKEN_RE.match(url.path)
        if m and m.group(1) == "authorize" and self.command == "GET":
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            return self._redirect(*grants.authorize(url.path, q))
        if not m or self.command != "POST":
            return self._send(404, {"error": "not_found"})
        try:
            form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True,
                                                 strict_parsing=bool(body)).items()}
        except (UnicodeDecodeError, ValueError):
            return self._send(400, {"error": "invalid_request",
                                    "error_description": "malformed form body"})
        if m.group(1) == "devicecode":
            return self._send(*grants.device_authorization(url.path, form))
        return self._send(*grants.token(url.path, form))


class State:
    verbose = False


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free)")
    ap.add_argument("--max-lifetime", type=float, default=600.0,
                    help="exit after this many seconds (default 600)")
    args = ap.parse_args(argv)
    srv = Server((BIND_HOST, args.port), Handler)
    srv.state = State()
    base = f"http://{BIND_HOST}:{srv.server_address[1]}"
    srv.grants = PersonGrants(base, base + "/v2.0", base + "/devicelogin")

    def stop(*_):
        srv.grants.stopping.set()
        threading.Thread(target=srv.shutdown, daemon=True).start()

    timer = fakeserver.stop_on_signals(stop, args.max_lifetime)
    print(f"listening on {BIND_HOST}:{srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.grants.stopping.set()
        timer.cancel()
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
