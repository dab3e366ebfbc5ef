#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A stand-in for Microsoft Entra ID and the managed-identity endpoints, for the tests.

One process on one loopback port serves the token endpoints of IMDS, App Service
(2019-08-01), Azure Arc (challenge with a key file), Cloud Shell and Entra
(client credentials: client secret, workload-identity federated assertion,
certificate assertion RS256/PS256), plus Service Fabric on a second HTTPS port
when --tls-cert/--tls-key are given.  Request and response shapes follow the
real services; tokens are HS256 JWTs signed with --jwt-key-file, which
tests/fakes/fake_aoai.py accepts, or, with --signing-key-file, RS256 JWTs as
Entra mints them (header kid and x5t of the published key).

Entra's discovery documents are served on both ports, pointing back at the
port they were fetched from (source "openid" and "jwks" in the log and for
scripted responses):

    GET /{tenant}/v2.0/.well-known/openid-configuration   v2 (issuer login.microsoftonline.com)
    GET /{tenant}/.well-known/openid-configuration        v1 (issuer sts.windows.net)
    GET /{tenant}/discovery/v2.0/keys, /{tenant}/discovery/keys
        {"keys": [the signing key's JWK, then the extra keys of POST /_fake/keys]}

A control API under /_fake/ lets a test script failures (status, hang, delay,
non-JSON, dropped connection), change token shapes and read the request log:
POST /_fake/script {"source", "responses"}, POST|GET /_fake/settings,
GET /_fake/requests, POST /_fake/reset, POST /_fake/keys {"keys": [JWK, …]}
(replaces the extra published keys).

It binds 127.0.0.1 only, prints `listening on 127.0.0.1:PORT` (and, with TLS,
`tls on 127.0.0.1:PORT sha1 THUMBPRINT`), and exits on SIGTERM/SIGINT or after
--max-lifetime seconds.  Secrets are read from files, never argv, and the log
holds header and form-field *names*, never their values.
"""

import argparse
import collections
import datetime
import hashlib
import hmac
import json
import os
import re
import secrets
import ssl
import sys
import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jwt_hs256  # noqa: E402
import fakeserver  # noqa: E402
from fakeserver import BadInput, Server, TlsServer  # noqa: E402

BIND_HOST = "127.0.0.1"
MAX_FIELDS = 64               # query / form fields
MAX_LOG = 20000               # log entries kept in memory
MAX_QUEUE = 1000              # scripted responses per source
MAX_ARC_KEYS = 256            # Arc challenge keys remembered
MAX_JTIS = 100000             # assertion ids remembered

SOURCES = ("imds", "app-service", "azure-arc", "cloud-shell", "service-fabric", "entra",
           "openid", "jwks")
MI_SOURCES = SOURCES[:5]
DISCOVERY_SOURCES = ("openid", "jwks")

IMDS_PATH = "/metadata/identity/oauth2/token"
APP_SERVICE_PATH = "/msi/token"
ARC_PATH = "/arc/token"
CLOUD_SHELL_PATH = "/cloudshell/token"
SF_PATH = "/sf/token"
ENTRA_RE = re.compile(r"^/([A-Za-z0-9][A-Za-z0-9._-]{0,99})/oauth2/v2\.0/token$")
TENANT = r"([A-Za-z0-9][A-Za-z0-9._-]{0,99})"
OIDC_RE = re.compile(r"^/" + TENANT + r"(/v2\.0)?/\.well-known/openid-configuration$")
JWKS_RE = re.compile(r"^/" + TENANT + r"/discovery(/v2\.0)?/keys$")
ENTRA_ISSUER_V2 = "https://login.microsoftonline.com/{}/v2.0"
ENTRA_ISSUER_V1 = "https://sts.windows.net/{}/"
# Tenant aliases: their documents name no tenant ("{tenantid}", as Entra's do), except
# consumers, which is the Microsoft-account tenant.  v1 knows no "organizations".
MULTI_TENANT = ("common", "organizations")
CONSUMERS_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
DISCOVERY_CACHE = "max-age=86400, private"
MAX_EXTRA_KEYS = 32

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ARC_API_VERSIONS = ("2019-11-01", "2020-06-01")
JSON_TYPE = "application/json; charset=utf-8"
NO_METADATA = "Required metadata header not specified"

# The identities of the fake: the system-assigned one and, by default, one user-assigned.
MI_TENANT = "d3c9f1a4-6e2b-4c87-9a51-0f2e8b7c6d15"
SYSTEM_IDENTITY = {"client_id": "0e5b8c2d-4f71-4a3e-b6d9-2c1f7a8e9b40",
                   "object_id": "a7d2e9f1-3b6c-4e85-9f0a-5c4d2b1e8f73", "resource_id": None}
DEFAULT_USER_ASSIGNED = {
    "client_id": "5a3c7e91-2d4b-4f6a-8c1e-9b0d3f2a7e65",
    "object_id": "c4e1b7a2-9f3d-4b68-a5e0-1d2c8f7b3a94",
    "resource_id": ("/subscriptions/1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b/resourceGroups/rg-test"
                    "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-test"),
}

DEFAULT_SETTINGS = {
    "expires_in": None,      # None: 3600 (managed identity), 3599 (entra)
    "refresh_in": None,
    "number_types": None,    # None: each route's own types
    "date_form": None,       # "2017" | "2017-ampm"
    "omit": [],              # fields dropped from success bodies
    "user_assigned": "any",  # "known": only --user-assigned ones; others "Identity not found"
    "client_ids": None,      # None: every Entra client id is known
    "tenants": None,         # None: every Entra tenant is known
    "roles": None,           # None | [role, …] for every token | {client_id: [role, …]}
}
DATE_FORMS = {"2017": "%m/%d/%Y %H:%M:%S +00:00", "2017-ampm": "%m/%d/%Y %I:%M:%S %p +00:00"}

REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 410: "Gone", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}


def read_secret(path):
    """A secret file's content without one trailing newline; None when unreadable."""
    try:
        return jwt_hs256.read_key(path)
    except (OSError, ValueError):
        return None


def b64url_nopad(data):
    return jwt_hs256.b64url_encode(data)


def new_jti():
    return b64url_nopad(uuid.uuid4().bytes)


def utc_timestamp():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def load_client_cert(path):
    """The first certificate of a PEM file as (der, sha1, sha256, public_key)."""
    from cryptography import x509  # python3-cryptography, only needed for certificates
    with open(path, "rb") as f:
        pem = f.read(1024 * 1024)
    m = re.search(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", pem, re.S)
    if not m:
        sys.exit(f"fake_identity: no certificate in {path}")
    cert = x509.load_pem_x509_certificate(m.group(0))
    from cryptography.hazmat.primitives.serialization import Encoding
    der = cert.public_bytes(Encoding.DER)
    return {"der": der, "sha1": hashlib.sha1(der).digest(),
            "sha256": hashlib.sha256(der).digest(), "key": cert.public_key()}


# --- shared state ---------------------------------------------------------------

class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.log_lock = threading.Lock()
        self.stopping = threading.Event()
        self.log_path = args.log
        self.verbose = args.verbose
        self.entries = collections.deque(maxlen=MAX_LOG)
        self.queues = {s: collections.deque() for s in SOURCES + ("*",)}
        self.settings = json.loads(json.dumps(DEFAULT_SETTINGS))
        self.jtis = {}
        self.arc_keys = collections.OrderedDict()   # key -> file path
        self.jwt_key = read_secret(args.jwt_key_file)
        if self.jwt_key is None:
            sys.exit(f"fake_identity: cannot read --jwt-key-file {args.jwt_key_file}")
        self.identity_header = None
        if args.identity_header_file:
            self.identity_header = read_secret(args.identity_header_file)
            if self.identity_header is None:
                sys.exit("fake_identity: cannot read --identity-header-file")
        self.client_secret_file = args.client_secret_file
        self.federated_token_file = args.federated_token_file
        self.arc_key_dir = os.path.abspath(args.arc_key_dir) if args.arc_key_dir else None
        self.certs = [load_client_cert(p) for p in (args.client_cert or [])]
        self.user_assigned = []
        for spec in args.user_assigned or []:
            parts = spec.split(",", 2)
            if len(parts) != 3 or not all(parts):
                sys.exit("fake_identity: --user-assigned wants CLIENT_ID,OBJECT_ID,RESOURCE_ID")
            self.user_assigned.append({"client_id": parts[0], "object_id": parts[1],
                                       "resource_id": parts[2]})
        if not self.user_assigned:
            self.user_assigned.append(dict(DEFAULT_USER_ASSIGNED))
        self.signing_key = self.signing_jwk = None
        if args.signing_key_file:
            import jwt_rs256  # python3-cryptography, only needed for RS256 tokens
            self.rs256 = jwt_rs256
            try:
                self.signing_key = jwt_rs256.load_key(args.signing_key_file)
            except (OSError, ValueError):
                sys.exit("fake_identity: cannot load --signing-key-file")
            self.signing_jwk = jwt_rs256.jwk(self.signing_key, args.signing_kid)
        elif args.signing_kid:
            sys.exit("fake_identity: --signing-kid goes with --signing-key-file")
        self.extra_keys = []
        self.port = None
        self.tls_port = None

    def mint(self, claims):
        if self.signing_key is None:
            return jwt_hs256.mint(self.jwt_key, claims)
        return self.rs256.mint(self.signing_key, claims, self.signing_jwk["kid"])

    def published_keys(self, issuer):
        """The keys of a discovery/keys document; Entra's v2 ones carry an issuer."""
        keys = []
        if self.signing_jwk is not None:
            k = dict(self.signing_jwk)
            if issuer:
                k["issuer"] = issuer
            keys.append(k)
        with self.lock:
            keys += json.loads(json.dumps(self.extra_keys))
        return keys

    def settings_snapshot(self):
        with self.lock:
            return json.loads(json.dumps(self.settings))

    def pop_script(self, source):
        with self.lock:
            for q in (self.queues.get(source), self.queues["*"]):
                if q:
                    return q.popleft()
        return None

    def write_log(self, entry):
        with self.log_lock:
            if entry["source"] != "control":
                self.entries.append(entry)
            if self.log_path:
                fakeserver.append_log_line(self.log_path, entry)
        if self.verbose:
            sys.stderr.write(f"fake_identity: {entry['source']} {entry['method']} "
                             f"{entry['path']} -> {entry['status']}\n")

    def find_identity(self, key, value):
        for ident in self.user_assigned:
            if ident.get(key) is not None and ident[key].lower() == value.lower():
                return ident
        return None

    def remember_jti(self, jti, exp, now):
        """False when @jti was seen before."""
        with self.lock:
            if jti in self.jtis:
                return False
            if len(self.jtis) >= MAX_JTIS:
                for k in [k for k, v in self.jtis.items() if v < now]:
                    del self.jtis[k]
                if len(self.jtis) >= MAX_JTIS:
                    self.jtis.pop(next(iter(self.jtis)))
            self.jtis[jti] = exp
            return True


# --- validation of control input ---------------------------------------------

def validate_settings(body, current):
    new = dict(current)
    if body.get("defaults") is True:
        new = json.loads(json.dumps(DEFAULT_SETTINGS))
    for k, v in body.items():
        if k == "defaults":
            continue
        if k == "expires_in":
            if v is not None:
                v = int(fakeserver.number(v, -86400, 7 * 86400, k))
        elif k == "refresh_in":
            if v is not None:
                v = int(fakeserver.number(v, 0, 7 * 86400, k))
        elif k == "number_types":
            if v is not None and not isinstance(v, bool):
                raise BadInput("number_types must be true, false or null")
        elif k == "date_form":
            if v is not None and v not in DATE_FORMS:
                raise BadInput(f"date_form must be one of {sorted(DATE_FORMS)} or null")
        elif k == "omit":
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v) or len(v) > 32:
                raise BadInput("omit must be a list of field names")
        elif k == "user_assigned":
            if v not in ("any", "known"):
                raise BadInput("user_assigned must be \"any\" or \"known\"")
        elif k == "roles":
            if v is not None:
                validate_roles(v)
        elif k in ("client_ids", "tenants"):
            if v is not None and (not isinstance(v, list) or len(v) > 256
                                  or not all(isinstance(x, str) and x for x in v)):
                raise BadInput(f"{k} must be a list of strings or null")
        else:
            raise BadInput(f"unknown setting {k!r}")
        new[k] = v
    return new


def _role_list(v):
    if not isinstance(v, list) or len(v) > 64 or \
            not all(isinstance(x, str) and 0 < len(x) <= 256 for x in v):
        raise BadInput("roles must be a list of strings or an object of such lists")


def validate_roles(v):
    if isinstance(v, dict):
        if len(v) > 256 or not all(isinstance(k, str) and k for k in v):
            raise BadInput("roles must be keyed by client id")
        for x in v.values():
            _role_list(x)
    else:
        _role_list(v)


def roles_for(setting, client_id):
    """The roles claim of a token for @client_id, or None."""
    if setting is None:
        return None
    if isinstance(setting, list):
        return list(setting)
    for k, v in setting.items():
        if k.lower() == client_id.lower():
            return list(v)
    return None


def validate_jwks(body):
    keys = body.get("keys")
    if set(body) != {"keys"} or not isinstance(keys, list) or len(keys) > MAX_EXTRA_KEYS:
        raise BadInput(f"the body must be {{\"keys\": [JWK, …]}} with at most "
                       f"{MAX_EXTRA_KEYS} keys")
    for k in keys:
        if not isinstance(k, dict) or not isinstance(k.get("kty"), str) or \
                len(json.dumps(k)) > 16 * 1024:
            raise BadInput("each key must be a JWK object with a kty")
    return keys


# --- the HTTP handler -------------------------------------------------------------

class Handler(fakeserver.Handler):
    server_version = "fake-identity/1"

    def _log(self, status, **extra):
        entry = {
            "time": time.time(),
            "source": self.source,
            "method": self.command,
            "path": self.url.path,
            "query": {k: (v[0] if len(v) == 1 else v) for k, v in self.query.items()},
            "headers": [k.lower() for k in self.headers.keys()],
            "form": list(self.form.keys()),
            "status": status,
        }
        entry.update(self.extra)
        entry.update(extra)
        self.state.write_log(entry)

    def _send(self, status, body, content_type=JSON_TYPE, headers=(), **log_extra):
        if isinstance(body, (dict, list)):
            data = (json.dumps(body) + "\n").encode()
        elif isinstance(body, str):
            data = body.encode()
            if content_type == JSON_TYPE:
                content_type = "text/plain; charset=utf-8"
        else:
            data = body or b""
        self._log(status, **log_extra)  # before answering: a client with its answer finds it
        self.send_response(status, REASONS.get(status))
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _metadata_ok(self):
        return (self.headers.get("Metadata") or "").strip().lower() == "true"

    def _q(self, name):
        v = self.query.get(name)
        return v[0] if v else None

    # --- entry point ------------------------------------------------------------

    def _handle(self):
        self.extra = {}
        self.form = {}
        self.query = {}
        self.url = urlsplit(self.path)
        self.source = self._classify(self.url.path)
        body = self._read_body()
        try:
            self.query = parse_qs(self.url.query, keep_blank_values=True,
                                  max_num_fields=MAX_FIELDS)
        except ValueError:
            self.close_connection = True
            self._error(400, "bad_query")
            return
        if body is None:
            self.close_connection = True
            self._error(400, "bad_body")
            return
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if self.command == "POST" and ctype == "application/x-www-form-urlencoded" and body:
            try:
                self.form = parse_qs(body.decode("utf-8"), keep_blank_values=True,
                                     max_num_fields=MAX_FIELDS)
            except (UnicodeDecodeError, ValueError):
                self._error(400, "bad_body")
                return
        self.body = body

        if self.source == "control":
            self._control()
            return
        if self.source == "unknown":
            self._send(404, {"error": "not_found", "error_description": "No such endpoint"})
            return

        entry = self.state.pop_script(self.source)
        if entry is not None and self._scripted(entry):
            return
        route = {"imds": self._imds, "app-service": self._app_service,
                 "azure-arc": self._arc, "cloud-shell": self._cloud_shell,
                 "service-fabric": self._service_fabric, "entra": self._entra,
                 "openid": self._openid_configuration, "jwks": self._jwks}[self.source]
        route()

    def _classify(self, path):
        if OIDC_RE.match(path):
            return "openid"
        if JWKS_RE.match(path):
            return "jwks"
        if self.server.is_tls:
            return "service-fabric" if path == SF_PATH else "unknown"
        if path.startswith("/_fake/") or path == "/_fake":
            return "control"
        if path == IMDS_PATH:
            return "imds"
        if path == APP_SERVICE_PATH:
            return "app-service"
        if path == ARC_PATH:
            return "azure-arc"
        if path == CLOUD_SHELL_PATH:
            return "cloud-shell"
        if ENTRA_RE.match(path):
            return "entra"
        return "unknown"

    # --- errors in each service's shape ---------------------------------------------

    def _error_body(self, status, code=None, message=None):
        src = self.source
        reason = REASONS.get(status, "Error")
        if src in ("imds", "azure-arc", "cloud-shell", "unknown", "control"):
            defaults = {404: ("not_found", "Identity not found"),
                        410: ("service_unavailable",
                              "The managed identity service is being updated; retry later"),
                        429: ("too_many_requests", "Too many requests"),
                        500: ("unknown", "Internal server error"),
                        503: ("service_unavailable", "The service is temporarily unavailable")}
            c, m = defaults.get(status, ("invalid_request", reason))
            return {"error": code or c, "error_description": message or m}
        if src == "app-service":
            return {"statusCode": status, "message": message or reason + ".",
                    "correlationId": str(uuid.uuid4())}
        if src == "service-fabric":
            return {"error": {"correlationId": str(uuid.uuid4()),
                              "code": code or reason.replace(" ", ""),
                              "message": message or reason + "."}}
        # entra
        aad = {429: ("temporarily_unavailable", 50196, "The server is busy; retry later."),
               500: ("server_error", 90033, "A transient error has occurred. Please try again."),
               503: ("temporarily_unavailable", 90033,
                     "A transient error has occurred. Please try again.")}
        err, num, msg = aad.get(status, ("invalid_request", 90000, reason + "."))
        return self._aad_body(code or err, num, message or msg)

    def _aad_body(self, error, number, message):
        ts = utc_timestamp()
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        base = f"http://{BIND_HOST}:{self.state.port}"
        return {"error": error,
                "error_description": (f"AADSTS{number}: {message}\r\nTrace ID: {trace}\r\n"
                                      f"Correlation ID: {corr}\r\nTimestamp: {ts}"),
                "error_codes": [number], "timestamp": ts, "trace_id": trace,
                "correlation_id": corr, "error_uri": f"{base}/error?code={number}"}

    def _error(self, status, check=None, code=None, message=None, headers=()):
        extra = {"check": check} if check else {}
        self._send(status, self._error_body(status, code, message), headers=headers, **extra)

    def _aad_error(self, status, error, number, message, check, headers=()):
        self._send(status, self._aad_body(error, number, message),
                   headers=(("Cache-Control", "no-store, no-cache"), ("Pragma", "no-cache"),
                            ("x-ms-request-id", str(uuid.uuid4()))) + tuple(headers),
                   check=check, error_code=number)

    # --- scripted responses ---------------------------------------------------------

    def _scripted(self, e):
        """Plays one scripted entry; True when it answered (or refused to)."""
        return self._play_script(e, self._scripted_status)

    def _scripted_status(self, e):
        status = e["status"]
        body = e["body"] if "body" in e else self._error_body(status)
        self._send(status, body, headers=list((e.get("headers") or {}).items()),
                   scripted="status")

    # --- tokens -----------------------------------------------------------------------

    def _mint(self, audience, issuer_tenant, client_id, object_id, source, lifetime, **more):
        now = int(time.time())
        claims = {"aud": audience, "iss": f"https://sts.windows.net/{issuer_tenant}/",
                  "iat": now, "nbf": now, "exp": now + lifetime, "oid": object_id,
                  "sub": object_id, "appid": client_id, "tid": issuer_tenant,
                  "idtyp": "app", "ver": "1.0", "src": source, "jti": new_jti()}
        roles = roles_for(self.state.settings_snapshot()["roles"], client_id)
        if roles is not None:
            claims["roles"] = roles
        claims.update(more)
        return self.state.mint(claims), now

    def _mi_body(self, resource, ident):
        s = self.state.settings_snapshot()
        lifetime = 3600 if s["expires_in"] is None else s["expires_in"]
        more = {"xms_mirid": ident["resource_id"]} if ident.get("resource_id") else {}
        token, now = self._mint(resource, MI_TENANT, ident["client_id"], ident["object_id"],
                                self.source, lifetime, **more)
        exp = now + lifetime
        if self.source == "app-service":
            body = {"access_token": token, "expires_on": exp, "resource": resource,
                    "token_type": "Bearer", "client_id": ident["client_id"]}
            numeric = False
        elif self.source == "service-fabric":
            body = {"token_type": "Bearer", "access_token": token, "expires_on": exp,
                    "resource": resource}
            numeric = True
        else:
            body = {"access_token": token, "client_id": ident["client_id"],
                    "expires_in": lifetime, "expires_on": exp, "ext_expires_in": lifetime,
                    "not_before": now, "resource": resource, "token_type": "Bearer"}
            numeric = False
        if s["refresh_in"] is not None:
            body["refresh_in"] = s["refresh_in"]
        if s["number_types"] is not None:
            numeric = s["number_types"]
        for k in ("expires_in", "expires_on", "ext_expires_in", "not_before", "refresh_in"):
            if k in body:
                body[k] = int(body[k]) if numeric else str(body[k])
        if s["date_form"]:
            when = datetime.datetime.fromtimestamp(exp, datetime.timezone.utc)
            body["expires_on"] = when.strftime(DATE_FORMS[s["date_form"]])
        for k in s["omit"]:
            body.pop(k, None)
        return body

    def _select_identity(self, selectors):
        """(identity, error) from the user-assigned selector parameters present."""
        given = [(k, self._q(k)) for k in selectors if self._q(k) is not None]
        if not given:
            return SYSTEM_IDENTITY, None
        if len(given) > 1:
            return None, "multiple"
        key, value = given[0]
        field = {"client_id": "client_id", "object_id": "object_id", "principal_id": "object_id",
                 "msi_res_id": "resource_id", "mi_res_id": "resource_id"}[key]
        ident = self.state.find_identity(field, value)
        if ident:
            return ident, None
        if not value or self.state.settings_snapshot()["user_assigned"] != "any":
            return None, "unknown"
        # Any other identity is assigned too, with stable made-up ids for what was not given.
        ident = {"client_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "client:" + value)),
                 "object_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "object:" + value)),
                 "resource_id": None}
        ident[field] = value
        return ident, None

    # --- IMDS -------------------------------------------------------------------------

    def _imds_checks(self, versions):
        """Common IMDS-shaped checks; returns the resource or None after answering."""
        if not self._metadata_ok():
            self._error(400, "metadata", "invalid_request", NO_METADATA)
            return None
        version = self._q("api-version")
        if version is None:
            self._error(400, "api_version", "invalid_request",
                        "Required query variable 'api-version' is missing")
            return None
        if version not in versions:
            self._error(400, "api_version", "invalid_request",
                        f"Invalid api-version '{version}'")
            return None
        resource = self._q("resource")
        if not resource:
            self._error(400, "resource", "invalid_request",
                        "Required audience parameter not specified")
            return None
        return resource

    def _imds(self):
        if self.command != "GET":
            self._error(405, "method", "invalid_request", "Method not allowed",
                        headers=(("Allow", "GET"),))
            return
        resource = self._imds_checks(("2018-02-01",))
        if resource is None:
            return
        ident, err = self._select_identity(("client_id", "object_id", "msi_res_id"))
        if err == "multiple":
            self._error(400, "identity", "invalid_request",
                        "Only one of client_id, object_id and msi_res_id may be given")
            return
        if ident is None:
            self._error(400, "identity", "invalid_request", "Identity not found")
            return
        self._send(200, self._mi_body(resource, ident))

    # --- App Service ------------------------------------------------------------------

    def _app_service(self):
        if self.state.identity_header is None:
            self._error(404, "not_configured", message="App Service identity is not configured")
            return
        if self.command != "GET":
            self._error(405, "method", headers=(("Allow", "GET"),))
            return
        got = self.headers.get("X-IDENTITY-HEADER")
        if got is None or not hmac.compare_digest(got.encode("utf-8", "surrogateescape"),
                                                  self.state.identity_header):
            self._error(401, "identity_header", message="Unauthorized.")
            return
        version = self._q("api-version")
        if version != "2019-08-01":
            self._error(400, "api_version",
                        message="Invalid or missing api-version; expected 2019-08-01.")
            return
        resource = self._q("resource")
        if not resource:
            self._error(400, "resource", message="The resource parameter is required.")
            return
        ident, err = self._select_identity(("client_id", "mi_res_id", "msi_res_id", "object_id",
                                            "principal_id"))
        if ident is None:
            self._error(400, "identity", message="Unable to load the proper Managed Identity.")
            return
        self._send(200, self._mi_body(resource, ident))

    # --- Azure Arc ---------------------------------------------------------------------

    def _arc_challenge(self, check):
        key = secrets.token_hex(32)
        path = os.path.join(self.state.arc_key_dir, f"{uuid.uuid4()}.key")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o640)
        try:
            os.fchmod(fd, 0o640)
            os.write(fd, key.encode())
        finally:
            os.close(fd)
        with self.state.lock:
            self.state.arc_keys[key] = path
            while len(self.state.arc_keys) > MAX_ARC_KEYS:
                _, old = self.state.arc_keys.popitem(last=False)
                try:
                    os.unlink(old)
                except OSError:
                    pass
        self._error(401, check, "unauthorized_client", "Authorization required",
                    headers=(("WWW-Authenticate", f"Basic realm={path}"),))

    def _arc(self):
        if not self.state.arc_key_dir:
            self._error(404, "not_configured", "not_found", "Azure Arc is not configured")
            return
        if self.command != "GET":
            self._error(405, "method", "invalid_request", "Method not allowed",
                        headers=(("Allow", "GET"),))
            return
        resource = self._imds_checks(ARC_API_VERSIONS)
        if resource is None:
            return
        if any(self._q(k) is not None for k in ("client_id", "object_id", "msi_res_id")):
            self._error(400, "identity", "invalid_request",
                        "User-assigned identities are not supported by Azure Arc")
            return
        auth = self.headers.get("Authorization")
        if auth is None:
            self._arc_challenge("challenge")
            return
        scheme, _, presented = auth.partition(" ")
        presented = presented.strip().encode("utf-8", "surrogateescape")
        with self.state.lock:
            known = list(self.state.arc_keys)
        ok = scheme.lower() == "basic" and any(
            hmac.compare_digest(presented, k.encode()) for k in known)
        if not ok:
            self._arc_challenge("arc_key")
            return
        self._send(200, self._mi_body(resource, SYSTEM_IDENTITY))

    # --- Cloud Shell --------------------------------------------------------------------

    def _cloud_shell(self):
        if self.command != "POST":
            self._error(405, "method", "invalid_request", "Method not allowed",
                        headers=(("Allow", "POST"),))
            return
        if not self._metadata_ok():
            self._error(400, "metadata", "invalid_request", NO_METADATA)
            return
        resource = (self.form.get("resource") or [None])[0]
        self.extra["form_public"] = {"resource": resource}
        if not resource:
            self._error(400, "resource", "invalid_request",
                        "Required audience parameter not specified")
            return
        if any(k in self.form for k in ("client_id", "object_id", "msi_res_id")):
            self._error(400, "identity", "invalid_request",
                        "User-assigned identities are not supported in Cloud Shell")
            return
        self._send(200, self._mi_body(resource, SYSTEM_IDENTITY))

    # --- Service Fabric (TLS port) -----------------------------------------------------

    def _service_fabric(self):
        if self.state.identity_header is None:
            self._error(404, "not_configured", "NotConfigured", "Identity is not configured")
            return
        if self.command != "GET":
            self._error(405, "method", headers=(("Allow", "GET"),))
            return
        got = self.headers.get("Secret")
        if got is None:
            self._error(401, "identity_header", "SecretHeaderNotFound",
                        "Secret is not found in the request headers.")
            return
        if not hmac.compare_digest(got.encode("utf-8", "surrogateescape"),
                                   self.state.identity_header):
            self._error(401, "identity_header", "InvalidSecret", "The secret is not valid.")
            return
        if self._q("api-version") != "2019-07-01-preview":
            self._error(400, "api_version", "InvalidApiVersion",
                        "The api-version is missing or not supported.")
            return
        resource = self._q("resource")
        if not resource:
            self._error(400, "resource", "InvalidParameter", "The resource parameter is required.")
            return
        ident, _ = self._select_identity(("client_id", "object_id", "principal_id", "mi_res_id"))
        if ident is None:
            self._error(400, "identity", "ManagedIdentityNotFound",
                        "The requested managed identity was not found.")
            return
        self._send(200, self._mi_body(resource, ident))

    # --- Entra ID --------------------------------------------------------------------

    def _entra(self):
        tenant = ENTRA_RE.match(self.url.path).group(1)
        self.extra["tenant"] = tenant
        if self.command != "POST":
            self._aad_error(400, "invalid_request", 900561,
                            f"The endpoint only accepts POST requests. Received a "
                            f"{self.command} request.", "method")
            return
        public = {k: self.form[k][0] for k in ("grant_type", "scope", "client_id",
                                                "client_assertion_type") if k in self.form}
        self.extra["form_public"] = public
        s = self.state.settings_snapshot()
        if s["tenants"] is not None and tenant.lower() not in [t.lower() for t in s["tenants"]]:
            self._aad_error(400, "invalid_request", 90002,
                            f"Tenant '{tenant}' not found. Check to make sure you have the "
                            "correct tenant ID and are signing into the correct cloud.", "tenant")
            return
        if any(len(v) > 1 for v in self.form.values()):
            self._aad_error(400, "invalid_request", 9002313,
                            "Invalid request. Request is malformed or invalid.", "duplicate")
            return
        f = {k: v[0] for k, v in self.form.items()}
        for name in ("grant_type", "client_id", "scope"):
            if not f.get(name):
                self._aad_error(400, "invalid_request", 900144,
                                f"The request body must contain the following parameter: "
                                f"'{name}'.", name)
                return
        if f["grant_type"] != "client_credentials":
            self._aad_error(400, "unsupported_grant_type", 70003,
                            "The app requested an unsupported grant type "
                            f"'{f['grant_type']}'.", "grant_type")
            return
        client_id, scope = f["client_id"], f["scope"]
        if s["client_ids"] is not None and client_id.lower() not in \
                [c.lower() for c in s["client_ids"]]:
            self._aad_error(400, "unauthorized_client", 700016,
                            f"Application with identifier '{client_id}' was not found in the "
                            f"directory '{tenant}'. This can happen if the application has not "
                            "been installed by the administrator of the tenant or consented to "
                            "by any user in the tenant. You may have sent your authentication "
                            "request to the wrong tenant.", "client_id")
            return
        scopes = scope.split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default") or \
                len(scopes[0]) == len("/.default"):
            self._aad_error(400, "invalid_scope", 1002012,
                            f"The provided value for scope {scope} is not valid. Client "
                            "credential flows must have a scope value with /.default suffixed "
                            "to the resource identifier (application ID URI).", "scope")
            return
        has_secret = "client_secret" in f
        has_assertion = "client_assertion" in f or "client_assertion_type" in f
        if has_secret and has_assertion:
            self._aad_error(400, "invalid_request", 9002313,
                            "Invalid request. Request is malformed or invalid.", "credential")
            return
        if not has_secret and not has_assertion:
            self._aad_error(401, "invalid_client", 7000218,
                            "The request body must contain the following parameter: "
                            "'client_assertion' or 'client_secret'.", "credential")
            return
        if has_secret:
            self.extra["auth"] = "client_secret"
            want = read_secret(self.state.client_secret_file) \
                if self.state.client_secret_file else None
            got = f["client_secret"].encode("utf-8", "surrogateescape")
            if want is None or not hmac.compare_digest(got, want):
                self._aad_error(401, "invalid_client", 7000215,
                                "Invalid client secret provided. Ensure the secret being sent "
                                "in the request is the client secret value, not the client "
                                f"secret ID, for a secret added to app '{client_id}'.",
                                "client_secret")
                return
            acr = "1"
        else:
            if f.get("client_assertion_type") != JWT_BEARER:
                self._aad_error(400, "invalid_request", 50027,
                                "The client_assertion_type is missing or not supported.",
                                "assertion_type")
                return
            if not f.get("client_assertion"):
                self._aad_error(400, "invalid_request", 900144,
                                "The request body must contain the following parameter: "
                                "'client_assertion'.", "client_assertion")
                return
            if not self._check_assertion(f["client_assertion"], tenant, client_id):
                return
            acr = "2"
        lifetime = 3599 if s["expires_in"] is None else s["expires_in"]
        audience = scopes[0][:-len("/.default")]
        oid = str(uuid.uuid5(uuid.NAMESPACE_URL, "sp:" + tenant + ":" + client_id))
        token, _ = self._mint(audience, tenant, client_id, oid, "entra", lifetime,
                              appidacr=acr, auth=self.extra["auth"])
        body = {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                "access_token": token}
        if s["refresh_in"] is not None:
            body["refresh_in"] = s["refresh_in"]
        for k in s["omit"]:
            body.pop(k, None)
        self._send(200, body, headers=(("Cache-Control", "no-store, no-cache"),
                                       ("Pragma", "no-cache"),
                                       ("x-ms-request-id", str(uuid.uuid4()))))

    def _check_assertion(self, assertion, tenant, client_id):
        """Verifies a client assertion; answers and returns False when it fails.

        The federated token file's current content is accepted as it is (the fake
        trusts its "issuer" completely); anything else must be a certificate JWT."""
        if self._federated_matches(assertion):
            self.extra["auth"] = "federated"
            return True
        try:
            header, claims, signing_input, sig = jwt_hs256.split(assertion)
        except jwt_hs256.JwtError:
            self.extra["auth"] = "unknown"
            self._aad_error(400, "invalid_request", 50027,
                            "JWT token is invalid or malformed.", "format")
            return False
        if "x5t" not in header and "x5t#S256" not in header:
            return self._check_federated(assertion)
        self.extra["auth"] = "certificate"
        self.extra["alg"] = str(header.get("alg"))[:16]
        check = self._verify_certificate_jwt(header, signing_input, sig)
        if check:
            self._aad_error(401, "invalid_client", 700027,
                            "Client assertion failed signature validation. (Reason: "
                            f"{check})", check)
            return False
        now = time.time()
        aud = f"http://{BIND_HOST}:{self.state.port}/{tenant}/oauth2/v2.0/token"
        if claims.get("aud") != aud:
            self._aad_error(401, "invalid_client", 50013,
                            "Assertion failed audience validation: the 'aud' claim must be "
                            "the token endpoint.", "aud")
            return False
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            self._aad_error(401, "invalid_client", 700021,
                            "Client assertion application identifier doesn't match "
                            "'client_id' parameter.", "iss_sub")
            return False
        exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat"))
        numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (exp, nbf))
        if not numeric:
            self._aad_error(401, "invalid_client", 700024,
                            "Client assertion is not within its valid time range.", "time_claims")
            return False
        for bad, check in ((nbf > now + 60, "nbf"), (exp <= now, "exp"),
                           (exp - nbf > 600, "lifetime")):
            if bad:
                self._aad_error(401, "invalid_client", 700024,
                                "Client assertion is not within its valid time range.", check)
                return False
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            self._aad_error(401, "invalid_client", 50013,
                            "Assertion failed validation: the 'jti' claim is missing.", "jti")
            return False
        if not self.state.remember_jti(jti, exp, now):
            self._aad_error(401, "invalid_client", 50013,
                            "Assertion failed validation: the 'jti' claim was already used.",
                            "jti_replay")
            return False
        return True

    def _federated_matches(self, assertion):
        want = read_secret(self.state.federated_token_file) \
            if self.state.federated_token_file else None
        return want is not None and hmac.compare_digest(
            assertion.encode("utf-8", "surrogateescape"), want)

    def _check_federated(self, assertion):
        """A JWT without a certificate thumbprint that is not the federated token."""
        self.extra["auth"] = "federated"
        self._aad_error(400, "invalid_request", 70021,
                        "No matching federated identity record found for presented "
                        "assertion.", "federated")
        return False

    def _verify_certificate_jwt(self, header, signing_input, sig):
        """None when the signature checks out, else the name of the failed check."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        alg = header.get("alg")
        if alg not in ("RS256", "PS256"):
            return "alg"
        field, digest = ("x5t", "sha1") if alg == "RS256" else ("x5t#S256", "sha256")
        want = header.get(field)
        if not isinstance(want, str):
            return "x5t"
        try:
            thumb = jwt_hs256.b64url_decode(want)
        except jwt_hs256.JwtError:
            return "x5t"
        cert = next((c for c in self.state.certs if c[digest] == thumb), None)
        if cert is None:
            return "x5t"
        other = "x5t#S256" if field == "x5t" else "x5t"
        if other in header:
            try:
                if jwt_hs256.b64url_decode(header[other]) != \
                        cert["sha256" if other == "x5t#S256" else "sha1"]:
                    return "x5t"
            except (jwt_hs256.JwtError, TypeError):
                return "x5t"
        if "x5c" in header:
            import base64
            chain = header["x5c"]
            if not isinstance(chain, list) or not chain or not all(isinstance(c, str)
                                                                   for c in chain):
                return "x5c"
            try:
                first = base64.b64decode(chain[0], validate=True)
            except ValueError:
                return "x5c"
            if first != cert["der"]:
                return "x5c"
        if alg == "RS256":
            pad = padding.PKCS1v15()
        else:
            pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        try:
            cert["key"].verify(sig, signing_input, pad, hashes.SHA256())
        except (InvalidSignature, ValueError, TypeError):
            return "signature"
        return None

    # --- Entra discovery documents (both ports) --------------------------------------

    def _base_url(self):
        """Where this request reached the fake: documents must point back at it."""
        if not self.server.is_tls:
            return f"http://{BIND_HOST}:{self.state.port}"
        host = (self.headers.get("Host") or "").strip().lower()
        if host not in (f"localhost:{self.state.tls_port}", f"{BIND_HOST}:{self.state.tls_port}"):
            host = f"{BIND_HOST}:{self.state.tls_port}"
        return f"https://{host}"

    def _discovery_checks(self, tenant, v2):
        """True when @tenant has discovery documents; answers as Entra does otherwise."""
        self.extra.update({"tenant": tenant, "version": "v2" if v2 else "v1",
                           "tls": self.server.is_tls})
        if self.command != "GET":
            self._aad_error(405, "invalid_request", 900561,
                            f"The endpoint only accepts GET requests. Received a "
                            f"{self.command} request.", "method",
                            headers=(("Allow", "GET, OPTIONS"),))
            return False
        known = self.state.settings_snapshot()["tenants"]
        t = tenant.lower()
        alias = t in MULTI_TENANT + ("consumers",)
        if (alias and not v2 and t == "organizations") or \
                (not alias and known is not None and t not in [k.lower() for k in known]):
            self._aad_error(400, "invalid_tenant", 90002,
                            f"Tenant '{tenant}' not found. Check to make sure you have the "
                            "correct tenant ID and are signing into the correct cloud. Check "
                            "with your subscription administrator, this may happen if there "
                            "are no active subscriptions for the tenant.", "tenant")
            return False
        return True

    @staticmethod
    def _issuer_tenant(tenant):
        t = tenant.lower()
        if t in MULTI_TENANT:
            return "{tenantid}"
        return CONSUMERS_TENANT if t == "consumers" else tenant

    def _send_discovery(self, body):
        self._send(200, body, headers=(("Cache-Control", DISCOVERY_CACHE),
                                       ("Access-Control-Allow-Origin", "*"),
                                       ("Access-Control-Allow-Methods", "GET, OPTIONS"),
                                       ("X-Content-Type-Options", "nosniff"),
                                       ("x-ms-request-id", str(uuid.uuid4()))))

    def _openid_configuration(self):
        m = OIDC_RE.match(self.url.path)
        tenant, v2 = m.group(1), m.group(2) is not None
        if not self._discovery_checks(tenant, v2):
            return
        base = self._base_url()
        t = f"{base}/{tenant}"
        issuer_tid = self._issuer_tenant(tenant)
        if v2:
            doc = {
                "token_endpoint": f"{t}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                          "private_key_jwt",
                                                          "client_secret_basic"],
                "jwks_uri": f"{t}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token",
                                             "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": ENTRA_ISSUER_V2.format(issuer_tid),
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
                "authorization_endpoint": f"{t}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{t}/oauth2/v2.0/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{t}/oauth2/v2.0/logout",
                "claims_supported": ["sub", "iss", "cloud_instance_name",
                                     "cloud_instance_host_name", "cloud_graph_host_name",
                                     "msgraph_host", "aud", "exp", "iat", "auth_time", "acr",
                                     "nonce", "preferred_username", "name", "tid", "ver",
                                     "at_hash", "c_hash", "email"],
                "kerberos_endpoint": f"{t}/kerberos",
            }
        else:
            # v1 documents of every tenant name the common key set.
            doc = {
                "token_endpoint": f"{t}/oauth2/token",
                "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                          "private_key_jwt",
                                                          "client_secret_basic"],
                "jwks_uri": f"{base}/common/discovery/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token",
                                             "token id_token", "token"],
                "scopes_supported": ["openid"],
                "issuer": ENTRA_ISSUER_V1.format(issuer_tid),
                "microsoft_multi_refresh_token": True,
                "authorization_endpoint": f"{t}/oauth2/authorize",
                "device_authorization_endpoint": f"{t}/oauth2/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{t}/oauth2/logout",
                "claims_supported": ["sub", "iss", "cloud_instance_name",
                                     "cloud_instance_host_name", "cloud_graph_host_name",
                                     "msgraph_host", "aud", "exp", "iat", "auth_time", "acr",
                                     "amr", "nonce", "email", "given_name", "family_name",
                                     "nickname"],
                "check_session_iframe": f"{t}/oauth2/checksession",
                "userinfo_endpoint": f"{t}/openid/userinfo",
                "kerberos_endpoint": f"{t}/kerberos",
            }
        doc.update({"tenant_region_scope": None if issuer_tid == "{tenantid}" else "WW",
                    "cloud_instance_name": "microsoftonline.com",
                    "cloud_graph_host_name": "graph.windows.net",
                    "msgraph_host": "graph.microsoft.com",
                    "rbac_url": "https://pas.windows.net"})
        self._send_discovery(doc)

    def _jwks(self):
        m = JWKS_RE.match(self.url.path)
        tenant, v2 = m.group(1), m.group(2) is not None
        if not self._discovery_checks(tenant, v2):
            return
        issuer = ENTRA_ISSUER_V2.format(self._issuer_tenant(tenant)) if v2 else None
        self._send_discovery({"keys": self.state.published_keys(issuer)})

    # --- control API --------------------------------------------------------------------

    def _control(self):
        path, method = self.url.path, self.command
        if method == "POST" and path in ("/_fake/script", "/_fake/settings", "/_fake/keys"):
            try:
                body = json.loads(self.body.decode("utf-8") or "{}")
                if not isinstance(body, dict):
                    raise BadInput("the body must be a JSON object")
                if path == "/_fake/script":
                    self._control_script(body)
                elif path == "/_fake/keys":
                    keys = validate_jwks(body)
                    with self.state.lock:
                        self.state.extra_keys = json.loads(json.dumps(keys))
                    self._send(200, {"keys": len(keys)})
                else:
                    with self.state.lock:
                        self.state.settings = validate_settings(body, self.state.settings)
                        current = json.loads(json.dumps(self.state.settings))
                    self._send(200, {"settings": current})
            except (ValueError, UnicodeDecodeError) as e:
                self._send(400, {"error": "bad_request", "message": str(e)[:300]})
            return
        if method == "GET" and path == "/_fake/settings":
            self._send(200, {"settings": self.state.settings_snapshot()})
        elif method == "GET" and path == "/_fake/requests":
            with self.state.log_lock:
                entries = list(self.state.entries)
            self._send(200, {"requests": entries})
        elif method == "POST" and path == "/_fake/reset":
            with self.state.log_lock:
                self.state.entries.clear()
            with self.state.lock:
                for q in self.state.queues.values():
                    q.clear()
            self._send(200, {"reset": True})
        else:
            self._send(404, {"error": "not_found",
                             "message": "no such control endpoint (tokens never leave here)"})

    def _control_script(self, body):
        source = body.get("source")
        responses = body.get("responses")
        if source not in SOURCES and source != "*":
            raise BadInput(f"source must be one of {list(SOURCES)} or '*'")
        if not isinstance(responses, list) or not responses:
            raise BadInput("responses must be a non-empty list")
        entries = [fakeserver.validate_script_entry(e) for e in responses]
        with self.state.lock:
            q = self.state.queues[source]
            if len(q) + len(entries) > MAX_QUEUE:
                raise BadInput("too many queued responses")
            q.extend(entries)
            pending = {k: len(v) for k, v in self.state.queues.items() if v}
        self._send(200, {"queued": len(entries), "pending": pending})


# --- servers ------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free)")
    ap.add_argument("--jwt-key-file", required=True, help="HS256 key for minted tokens")
    ap.add_argument("--log", help="append one JSON line per request (names only, no values)")
    ap.add_argument("--max-lifetime", type=float, default=600.0,
                    help="exit after this many seconds (default 600)")
    ap.add_argument("--arc-key-dir", help="directory for the Azure Arc challenge key files")
    ap.add_argument("--identity-header-file",
                    help="the App Service X-IDENTITY-HEADER / Service Fabric Secret value")
    ap.add_argument("--client-secret-file", help="the accepted Entra client secret")
    ap.add_argument("--federated-token-file",
                    help="the accepted workload-identity assertion (re-read on every request)")
    ap.add_argument("--client-cert", action="append",
                    help="PEM certificate whose key signs client assertions (repeatable)")
    ap.add_argument("--user-assigned", action="append", metavar="CLIENT_ID,OBJECT_ID,RESOURCE_ID",
                    help="a user-assigned identity the managed-identity routes know (repeatable)")
    ap.add_argument("--signing-key-file",
                    help="RSA private key (PEM): mint RS256 tokens and publish its JWK")
    ap.add_argument("--signing-kid",
                    help="the published key's kid (default: its x5t thumbprint, as Entra's)")
    ap.add_argument("--tls-cert", help="PEM certificate for the Service Fabric HTTPS port")
    ap.add_argument("--tls-key", help="PEM key for --tls-cert")
    ap.add_argument("--verbose", action="store_true", help="access log on stderr")
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    if args.arc_key_dir and not os.path.isdir(args.arc_key_dir):
        ap.error(f"--arc-key-dir {args.arc_key_dir} is not a directory")

    state = State(args)
    srv = Server((BIND_HOST, args.port), Handler)
    srv.state = state
    state.port = srv.server_address[1]
    servers = [srv]
    tls_line = None
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        with open(args.tls_cert) as f:
            der = ssl.PEM_cert_to_DER_cert(
                re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----",
                          f.read(), re.S).group(0))
        tls = TlsServer((BIND_HOST, 0), Handler)
        tls.ssl_context = ctx
        tls.state = state
        state.tls_port = tls.server_address[1]
        servers.append(tls)
        tls_line = (f"tls on {BIND_HOST}:{tls.server_address[1]} sha1 "
                    f"{hashlib.sha1(der).hexdigest().upper()}")

    def stop(*_):
        state.stopping.set()
        for s in servers:
            # shutdown() waits for serve_forever(), so call it from another thread.
            threading.Thread(target=s.shutdown, daemon=True).start()

    timer = fakeserver.stop_on_signals(stop, args.max_lifetime)

    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2},
                                daemon=True) for s in servers[1:]]
    for t in threads:
        t.start()
    print(f"listening on {BIND_HOST}:{state.port}", flush=True)
    if tls_line:
        print(tls_line, flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        state.stopping.set()
        timer.cancel()
        for s in servers[1:]:
            s.shutdown()
        for s in servers:
            s.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
