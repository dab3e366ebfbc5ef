#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A stand-in for an OpenID Connect provider (Auth0, Okta, Keycloak …), for the tests.

One process on one loopback port serves, under the issuer http://127.0.0.1:PORT/ISSUER_PATH:

    GET  ISSUER_PATH/.well-known/openid-configuration   OpenID Connect Discovery 1.0 §4
         (issuer, token_endpoint, jwks_uri, token_endpoint_auth_methods_supported,
         grant_types_supported …; source "discovery")
    GET  /.well-known/jwks.json   the key set that signs people's tokens (source "jwks")
    POST /oauth/token    RFC 6749 §4.4 client credentials (source "token"): form-encoded;
         client authentication by client_secret_basic (RFC 6749 §2.3.1: Basic of the
         form-encoded id and secret), client_secret_post, or private_key_jwt (RFC 7523:
         an RS256 assertion signed by the key of --client-cert, aud the token endpoint,
         iss and sub the client id, unexpired, a fresh jti); exactly one method per
         request.  Success: application/json {"access_token", "token_type": "Bearer",
         "expires_in": integer}; errors 400/401 {"error", "error_description"}.

People sign in as public clients (any client id without authentication) through
POST /oauth/device/code (RFC 8628, the document's device_authorization_endpoint), GET
/authorize (the authorization_endpoint, redirecting at once) and the token endpoint's
device_code, authorization_code and refresh_token grants, played by
fake_entra_user.PersonGrants; its control API is under /_fake/person/ (approve,
expire, revoke, settings, requests, issued: see fake_entra_user.py).

Client credentials tokens are HS256 JWTs signed with --jwt-key-file for the audience
tests/fakes/fake_aoai.py accepts, "src": "oidc".  People's tokens are RS256, their key
published at jwks_uri.

A control API under /_fake/: POST /_fake/script {"source", "responses"} (as
fake_identity.py: status, hang, delay, non_json, drop), POST /_fake/settings
{"issuer": the "issuer" the document names (null: the real one), "auth_methods":
[…] (null: the key is left out of the document)}, GET /_fake/requests, POST
/_fake/reset.  The log holds form-field and header *names*, the client auth
method, and the values of the non-secret fields (grant_type, scope, client_id,
audience, resource), never a secret, an assertion or a token.

It binds 127.0.0.1 only, prints `listening on 127.0.0.1:PORT`, and exits on
SIGTERM/SIGINT or after --max-lifetime seconds.  Secrets are read from files.
"""

import argparse
import base64
import collections
import hmac
import json
import os
import secrets
import sys
import threading
import time
from urllib.parse import parse_qs, unquote_plus, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jwt_hs256  # noqa: E402
from fake_entra_user import PersonGrants  # noqa: E402
import fakeserver  # noqa: E402
from fakeserver import BadInput, Server  # noqa: E402

BIND_HOST = "127.0.0.1"
TOKEN_PATH = "/oauth/token"
DEVICE_PATH = "/oauth/device/code"
PERSON_GRANTS = ("refresh_token", "urn:ietf:params:oauth:grant-type:device_code",
                 "authorization_code")
AUTHORIZE_PATH = "/authorize"
JWKS_PATH = "/.well-known/jwks.json"
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
JSON_TYPE = "application/json"
AOAI_AUDIENCE = "https://cognitiveservices.azure.com"
SOURCES = ("discovery", "jwks", "token")
LOGGED_VALUES = ("grant_type", "scope", "client_id", "audience", "resource")
MAX_FIELDS = 64
MAX_LOG = 20000
MAX_QUEUE = 1000
MAX_JTIS = 100000
EXPIRES_IN = 3600
DEFAULT_SETTINGS = {"issuer": None,
                    "auth_methods": ["client_secret_basic", "client_secret_post",
                                     "private_key_jwt"]}
REASONS = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
           500: "Internal Server Error", 503: "Service Unavailable"}


def load_cert_key(path):
    """The public key of the first certificate of a PEM file."""
    import re
    from cryptography import x509  # python3-cryptography, only needed for certificates
    with open(path, "rb") as f:
        pem = f.read(1024 * 1024)
    m = re.search(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", pem, re.S)
    if not m:
        sys.exit(f"fake_oidc: no certificate in {path}")
    return x509.load_pem_x509_certificate(m.group(0)).public_key()


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.verbose = args.verbose
        self.log_path = args.log
        self.entries = collections.deque(maxlen=MAX_LOG)
        self.queues = {s: collections.deque() for s in SOURCES}
        self.settings = json.loads(json.dumps(DEFAULT_SETTINGS))
        self.jwt_key = fakeserver.read_secret_file(args.jwt_key_file)
        self.client_id = args.client_id
        self.client_secret_file = args.client_secret_file
        fakeserver.read_secret_file(self.client_secret_file)  # fails early when unreadable
        self.cert_key = load_cert_key(args.client_cert) if args.client_cert else None
        self.issuer_path = "/" + args.issuer_path.strip("/") if args.issuer_path.strip("/") \
            else ""
        self.jtis = set()
        self.port = None
        self._person = None

    def person_grants(self, base):
        with self.lock:
            if self._person is None:
                self._person = PersonGrants(base, self.issuer, base + "/activate")
                self._person.stopping = self.stopping
            return self._person

    @property
    def base(self):
        return f"http://{BIND_HOST}:{self.port}"

    @property
    def issuer(self):
        return self.base + self.issuer_path

    def snapshot(self):
        with self.lock:
            return json.loads(json.dumps(self.settings))

    def pop_script(self, source):
        with self.lock:
            q = self.queues[source]
            return q.popleft() if q else None

    def write_log(self, entry):
        with self.lock:
            self.entries.append(entry)
        if self.log_path:
            fakeserver.append_log_line(self.log_path, entry)

    def remember_jti(self, jti):
        with self.lock:
            if jti in self.jtis:
                return False
            if len(self.jtis) >= MAX_JTIS:
                self.jtis.clear()
            self.jtis.add(jti)
            return True


def validate_settings(body, current):
    out = dict(current)
    for k, v in body.items():
        if k == "issuer":
            if v is not None and not isinstance(v, str):
                raise BadInput("issuer must be a string or null")
        elif k == "auth_methods":
            if v is not None and (not isinstance(v, list) or
                                  not all(isinstance(m, str) for m in v)):
                raise BadInput("auth_methods must be a list of strings or null")
        else:
            raise BadInput(f"unknown setting {k!r}")
        out[k] = v
    return out


class Handler(fakeserver.Handler):
    server_version = "fake-oidc/1"

    def _log(self, status, **extra):
        entry = {"time": time.time(), "source": self.source, "method": self.command,
                 "path": self.url.path, "headers": [k.lower() for k in self.headers.keys()],
                 "form": list(self.form.keys()), "status": status,
                 "values": {k: self.form[k][0] for k in LOGGED_VALUES if k in self.form}}
        entry.update(self.extra)
        entry.update(extra)
        if self.source != "control":
            self.state.write_log(entry)

    def _send(self, status, body, content_type=JSON_TYPE, headers=(), **log_extra):
        data = (json.dumps(body) + "\n").encode() if isinstance(body, (dict, list)) \
            else (body.encode() if isinstance(body, str) else body or b"")
        self._log(status, **log_extra)
        self.send_response(status, REASONS.get(status))
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status, error, description, check, headers=()):
        self._send(status, {"error": error, "error_description": description},
                   headers=(("Cache-Control", "no-store"), *headers), check=check)
        return False

    def _handle(self):
        self.extra, self.form = {}, {}
        self.url = urlsplit(self.path)
        self.source = self._classify(self.url.path)
        body = self._read_body()
        if body is None:
            self.close_connection = True
            self._error(400, "invalid_request", "unreadable body", "body")
            return
        self.body = body
        if self.source == "control":
            self._control()
            return
        if self.source in ("person", "device", "authorize") or (self.source == "token" and
                                                    self._person_grant()):
            self._person()
            return
        if self.source == "unknown":
            self._send(404, {"error": "not_found"})
            return
        entry = self.state.pop_script(self.source)
        if entry is not None and self._play_script(entry, self._scripted_status):
            return
        if self.source == "discovery":
            self._discovery()
        elif self.source == "jwks":
            # the key of people's tokens (client credentials ones are HS256)
            self._send(200, self.state.person_grants(self.base_url()).jwks())
        else:
            self._token()

    def _scripted_status(self, e):
        self._send(e["status"], e.get("body", ""), headers=tuple(e.get("headers", {}).items()),
                   scripted="status")

    def _classify(self, path):
        if path.startswith("/_fake/person/"):
            return "person"
        if path.startswith("/_fake/"):
            return "control"
        if path == DEVICE_PATH:
            return "device"
        if path == AUTHORIZE_PATH and self.command == "GET":
            return "authorize"
        if self.command == "GET" and path == self.state.issuer_path + DISCOVERY_SUFFIX:
            return "discovery"
        if self.command == "GET" and path == JWKS_PATH:
            return "jwks"
        if path == TOKEN_PATH:
            return "token"
        return "unknown"

    # --- people (public clients) -------------------------------------------------

    def _person_grant(self):
        try:
            form = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            return False
        return form.get("grant_type", [""])[0] in PERSON_GRANTS

    def _person(self):
        grants = self.state.person_grants(self.base_url())
        if self.source == "person":
            try:
                doc = json.loads(self.body) if self.body else None
            except ValueError:
                doc = None
            path = "/_fake/" + self.url.path[len("/_fake/person/"):]
            status, body = grants.control(self.command, path, doc)
            self.source = "control"
            self._send(status, body)
            return
        try:
            form = {k: v[0] for k, v in parse_qs(self.body.decode("utf-8"),
                                                 keep_blank_values=True).items()}
        except (UnicodeDecodeError, ValueError):
            form = {}
        if self.source == "authorize":
            q = {k: v[0] for k, v in parse_qs(self.url.query).items()}
            status, body, location = grants.authorize(self.url.path, q)
            if location is not None:
                self._log(status)
                self.send_response(status)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        elif self.source == "device":
            status, body = grants.device_authorization(self.url.path, form)
        else:
            status, body = grants.token(self.url.path, form)
        self._send(status, body, headers=(("Cache-Control", "no-store"),))

    def base_url(self):
        return self.state.base

    # --- discovery ---------------------------------------------------------------

    def _discovery(self):
        s, st = self.state.snapshot(), self.state
        doc = {"issuer": s["issuer"] if s["issuer"] is not None else st.issuer,
               "authorization_endpoint": st.base + AUTHORIZE_PATH,
               "token_endpoint": st.base + TOKEN_PATH,
               "device_authorization_endpoint": st.base + DEVICE_PATH,
               "jwks_uri": st.base + JWKS_PATH,
               "response_types_supported": ["code"],
               "subject_types_supported": ["public"],
               "id_token_signing_alg_values_supported": ["RS256"],
               "grant_types_supported": ["authorization_code", "refresh_token",
                                         "client_credentials",
                                         "urn:ietf:params:oauth:grant-type:device_code"],
               "scopes_supported": ["openid", "profile", "offline_access"]}
        if s["auth_methods"] is not None:
            doc["token_endpoint_auth_methods_supported"] = s["auth_methods"]
        self._send(200, doc)

    # --- token endpoint ----------------------------------------------------------

    def _token(self):
        if self.command != "POST":
            return self._error(400, "invalid_request", "POST only", "method")
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return self._error(400, "invalid_request", "form-encoded body expected", "ctype")
        try:
            self.form = parse_qs(self.body.decode("utf-8"), keep_blank_values=True,
                                 max_num_fields=MAX_FIELDS, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            return self._error(400, "invalid_request", "malformed form body", "form")
        if any(len(v) != 1 for v in self.form.values()):
            return self._error(400, "invalid_request", "a parameter is repeated", "repeated")
        f = {k: v[0] for k, v in self.form.items()}
        if f.get("grant_type") != "client_credentials":
            return self._error(400, "unsupported_grant_type",
                               "grant_type must be client_credentials", "grant_type")
        if not self._authenticate(f):
            return False
        now = int(time.time())
        claims = {"iss": self.state.issuer, "sub": self.state.client_id,
                  "aud": AOAI_AUDIENCE, "azp": self.state.client_id, "iat": now,
                  "exp": now + EXPIRES_IN, "src": "oidc", "jti": secrets.token_hex(8)}
        if "scope" in f:
            claims["scope"] = f["scope"]
        token = jwt_hs256.mint(self.state.jwt_key, claims)
        body = {"access_token": token, "token_type": "Bearer", "expires_in": EXPIRES_IN}
        self._send(200, body, headers=(("Cache-Control", "no-store"), ("Pragma", "no-cache")))
        return True

    def _methods(self, f):
        used = []
        if (self.headers.get("Authorization") or "").startswith("Basic "):
            used.append("client_secret_basic")
        if "client_secret" in f:
            used.append("client_secret_post")
        if "client_assertion" in f or "client_assertion_type" in f:
            used.append("private_key_jwt")
        return used

    def _authenticate(self, f):
        used = self._methods(f)
        if len(used) != 1:
            # RFC 6749 §2.3: one authentication method per request.
            self.extra["auth"] = ",".join(used) or "none"
            return self._error(401 if not used else 400,
                               "invalid_client" if not used else "invalid_request",
                               "Client authentication failed" if not used else
                               "more than one client authentication method", "auth_count")
        method = self.extra["auth"] = used[0]
        allowed = self.state.snapshot()["auth_methods"]
        if allowed is not None and method not in allowed:
            return self._error(401, "invalid_client",
                               f"{method} is not allowed for this client", "auth_method")
        if method == "client_secret_basic":
            return self._check_basic(f)
        if method == "client_secret_post":
            return self._check_secret(f.get("client_id"), f["client_secret"].encode(),
                                      "post")
        return self._check_assertion(f)

    def _check_basic(self, f):
        try:
            raw = base64.b64decode(self.headers["Authorization"][6:].strip(), validate=True)
            user, _, password = raw.decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return self._error(400, "invalid_request", "malformed Basic credentials", "basic")
        # RFC 6749 §2.3.1: both are form-encoded before Basic's own encoding.
        client_id, secret = unquote_plus(user), unquote_plus(password)
        if "client_id" in f and f["client_id"] != client_id:
            return self._error(400, "invalid_request", "client_id differs", "client_id")
        return self._check_secret(client_id, secret.encode(), "basic",
                                  (("WWW-Authenticate", 'Basic realm="fake-oidc"'),))

    def _check_secret(self, client_id, secret, check, headers=()):
        if client_id != self.state.client_id or \
                not hmac.compare_digest(
                    secret, fakeserver.read_secret_file(self.state.client_secret_file)):
            return self._error(401, "invalid_client",
                               "Client authentication failed: unknown client or wrong secret",
                               check, headers)
        return True

    def _check_assertion(self, f):
        if f.get("client_assertion_type") != JWT_BEARER or not f.get("client_assertion"):
            return self._error(400, "invalid_request", "client_assertion_type must be "
                               "jwt-bearer, with a client_assertion", "assertion_type")
        if self.state.cert_key is None:
            return self._error(401, "invalid_client", "no key registered", "no_key")
        try:
            header, claims, signing_input, sig = jwt_hs256.split(f["client_assertion"])
        except jwt_hs256.JwtError:
            return self._error(400, "invalid_request", "malformed assertion", "format")
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        if header.get("alg") != "RS256":
            return self._error(401, "invalid_client", "assertion alg must be RS256", "alg")
        try:
            self.state.cert_key.verify(sig, signing_input, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError, TypeError):
            return self._error(401, "invalid_client", "assertion signature invalid",
                               "signature")
        now = time.time()
        cid = self.state.client_id
        checks = ((claims.get("aud") == self.state.base + TOKEN_PATH, "aud"),
                  (claims.get("iss") == cid and claims.get("sub") == cid, "iss_sub"),
                  (f.get("client_id", cid) == cid, "client_id"),
                  (isinstance(claims.get("exp"), (int, float)) and claims["exp"] > now, "exp"),
                  (isinstance(claims.get("jti"), str) and
                   self.state.remember_jti(claims["jti"]), "jti"))
        for ok, check in checks:
            if not ok:
                return self._error(401, "invalid_client", f"assertion failed: {check}", check)
        return True

    # --- control --------------------------------------------------------------------

    def _control(self):
        path, method = self.url.path, self.command
        try:
            body = json.loads(self.body.decode("utf-8") or "{}") if method == "POST" else {}
            if not isinstance(body, dict):
                raise BadInput("the body must be a JSON object")
            if method == "POST" and path == "/_fake/script":
                self._control_script(body)
            elif method == "POST" and path == "/_fake/settings":
                with self.state.lock:
                    self.state.settings = validate_settings(body, self.state.settings)
                self._send(200, {"settings": self.state.snapshot()})
            elif method == "GET" and path == "/_fake/requests":
                with self.state.lock:
                    entries = list(self.state.entries)
                self._send(200, {"requests": entries})
            elif method == "POST" and path == "/_fake/reset":
                with self.state.lock:
                    self.state.entries.clear()
                    for q in self.state.queues.values():
                        q.clear()
                self._send(200, {"reset": True})
            else:
                self._send(404, {"error": "not_found"})
        except (ValueError, UnicodeDecodeError) as e:
            self._send(400, {"error": "bad_request", "message": str(e)[:300]})

    def _control_script(self, body):
        source, responses = body.get("source"), body.get("responses")
        if source not in SOURCES:
            raise BadInput(f"source must be one of {list(SOURCES)}")
        if not isinstance(responses, list) or not responses:
            raise BadInput("responses must be a non-empty list")
        entries = [fakeserver.validate_script_entry(e) for e in responses]
        with self.state.lock:
            q = self.state.queues[source]
            if len(q) + len(entries) > MAX_QUEUE:
                raise BadInput("too many queued responses")
            q.extend(entries)
        self._send(200, {"queued": len(entries)})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free)")
    ap.add_argument("--jwt-key-file", required=True, help="HS256 key for minted tokens")
    ap.add_argument("--client-id", required=True, help="the one client the provider knows")
    ap.add_argument("--client-secret-file", required=True,
                    help="that client's secret (read afresh for every request)")
    ap.add_argument("--client-cert", help="PEM certificate whose key signs its assertions")
    ap.add_argument("--issuer-path", default="", help="the issuer's path (default none)")
    ap.add_argument("--log", help="append one JSON line per request (no secret values)")
    ap.add_argument("--max-lifetime", type=float, default=600.0,
                    help="exit after this many seconds (default 600)")
    ap.add_argument("--verbose", action="store_true", help="access log on stderr")
    args = ap.parse_args(argv)
    state = State(args)
    srv = Server((BIND_HOST, args.port), Handler)
    srv.state = state
    state.port = srv.server_address[1]

    def stop(*_):
        state.stopping.set()
        threading.Thread(target=srv.shutdown, daemon=True).start()

    timer = fakeserver.stop_on_signals(stop, args.max_lifetime)
    print(f"listening on {BIND_HOST}:{state.port}", flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        state.stopping.set()
        timer.cancel()
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
