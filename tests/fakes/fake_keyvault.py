#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A stand-in for the Azure Key Vault secrets data plane, for the tests.

It serves `GET /secrets/{name}` and `GET /secrets/{name}/{version}` with
`api-version=7.4` in the shapes of the real service (Get Secret, 7.4): the
SecretBundle on success, and `{"error": {"code", "message"[, "innererror"]}}`
on 400 BadParameter, 401 Unauthorized (with the Bearer challenge in
WWW-Authenticate), 403 Forbidden and 404 SecretNotFound.  A request must carry
`Authorization: Bearer JWT`, an unexpired HS256 JWT signed with --jwt-key-file
(the key tests/fakes/fake_identity.py mints with) whose `aud` is the Key Vault
resource.

A control API under /_control/ lets a test store secrets and new versions,
deny the caller the `get` permission, script failures (status, hang, drop,
non-JSON) for the next requests or until cleared, and read the request log.

It binds 127.0.0.1 only, prints `listening on 127.0.0.1:PORT`, and exits on
SIGTERM/SIGINT or after --max-lifetime seconds.  Secret values come from files
or the control API's body, never argv; the log holds names, version ids,
audiences and statuses, never a secret value or a token.
"""

import argparse
import collections
import json
import os
import re
import ssl
import sys
import threading
import time
import uuid
from urllib.parse import parse_qs, unquote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jwt_hs256  # noqa: E402
import fakeserver  # noqa: E402
from fakeserver import BadInput, Server, TlsServer, read_secret_file  # noqa: E402

BIND_HOST = "127.0.0.1"
API_VERSION = "7.4"
VAULT_RESOURCE = "https://vault.azure.net"
AUDIENCES = (VAULT_RESOURCE, VAULT_RESOURCE + "/")
DEFAULT_TENANT = "d3c9f1a4-6e2b-4c87-9a51-0f2e8b7c6d15"  # fake_identity.py's MI_TENANT
VAULT_NAME = "fake-kv"
CREATED = 1700000000          # the "created" attribute of every first version
MAX_FIELDS = 64
MAX_LOG = 20000
MAX_QUEUE = 1000
MAX_VERSIONS = 1000
JSON_TYPE = "application/json; charset=utf-8"
# Key Vault object names: 1-127 letters, digits and dashes.
NAME_RE = re.compile(r"^[0-9A-Za-z-]{1,127}$")
VERSION_RE = re.compile(r"^[0-9A-Za-z]{1,64}$")
SECRET_PATH_RE = re.compile(r"^/secrets/([^/]*)(?:/([^/]*))?/?$")

REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 405: "Method Not Allowed", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}

# The error bodies a scripted status gets unless the script gives one.
DEFAULT_ERRORS = {
    400: ("BadParameter", "The request is invalid."),
    401: ("Unauthorized", "AKV10000: Request is missing a Bearer or PoP token."),
    403: ("Forbidden", "Access denied."),
    404: ("NotFound", "The requested resource was not found."),
    429: ("Throttled", "Request was not allowed because the vault is being throttled. "
                       "Retry after the interval in the Retry-After header."),
    500: ("InternalServerError", "An unexpected error occurred."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable. Retry later."),
}


def error_body(code, message, inner=None):
    err = {"code": code, "message": message}
    if inner:
        err["innererror"] = {"code": inner}
    return {"error": err}


# --- shared state -----------------------------------------------------------------

class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.log_lock = threading.Lock()
        self.stopping = threading.Event()
        self.log_path = args.log
        self.verbose = args.verbose
        self.tenant = args.tenant
        self.api_versions = tuple(args.api_version or (API_VERSION,))
        self.entries = collections.deque(maxlen=MAX_LOG)
        self.queue = collections.deque()    # scripted responses, one per request
        self.sticky = None                  # a scripted response for every request
        self.get_allowed = True             # the caller's "secrets get" permission
        self.secrets = {}                   # lower-case name -> [version dict]
        self.port = None
        self.jwt_key = jwt_hs256.read_key(args.jwt_key_file)
        for spec in args.secret or []:
            name, _, path = spec.partition("=")
            if not NAME_RE.match(name) or not path:
                sys.exit("fake_keyvault: --secret wants NAME=FILE")
            self.add_version(name, read_secret_file(path))

    def add_version(self, name, value):
        """Stores @value (bytes) as the newest version of @name; returns its id."""
        version = uuid.uuid4().hex
        now = int(time.time())
        with self.lock:
            versions = self.secrets.setdefault(name.lower(), [])
            if len(versions) >= MAX_VERSIONS:
                raise BadInput("too many versions")
            versions.append({"name": name, "id": version, "value": value,
                             "created": CREATED if not versions else now, "updated": now})
        return version

    def lookup(self, name, version):
        """The version dict asked for, or None (names case-insensitive, as Key Vault's)."""
        with self.lock:
            versions = self.secrets.get(name.lower())
            if not versions:
                return None
            if not version:
                return dict(versions[-1])
            for v in versions:
                if v["id"] == version.lower():
                    return dict(v)
        return None

    def describe_secrets(self):
        """Names and version ids only: values never leave through the control API."""
        with self.lock:
            return {versions[0]["name"]: [v["id"] for v in versions]
                    for versions in self.secrets.values()}

    def next_script(self):
        with self.lock:
            if self.queue:
                return self.queue.popleft()
            return self.sticky

    def write_log(self, entry):
        with self.log_lock:
            if entry["kind"] != "control":
                self.entries.append(entry)
            if self.log_path:
                fakeserver.append_log_line(self.log_path, entry)
        if self.verbose:
            sys.stderr.write(f"fake_keyvault: {entry['method']} {entry['path']} -> "
                             f"{entry['status']}\n")


# --- validation of control input ----------------------------------------------------

def validate_script_entry(e):
    """fakeserver.validate_script_entry(); "echo_auth" with a status puts the
    request's Authorization header into the error message, as a misbehaving
    proxy might."""
    return fakeserver.validate_script_entry(e, extra=("echo_auth",))


def secret_value_from(body):
    """The value a control request carries: {"value": TEXT} or {"value_file": PATH}."""
    if ("value" in body) == ("value_file" in body):
        raise BadInput("give one of value and value_file")
    if "value" in body:
        if not isinstance(body["value"], str) or not body["value"] or \
                len(body["value"]) > 25 * 1024:
            raise BadInput("value must be a non-empty string of at most 25 KiB")
        return body["value"].encode()
    if not isinstance(body["value_file"], str):
        raise BadInput("value_file must be a path")
    try:
        return read_secret_file(body["value_file"])
    except OSError as e:
        raise BadInput(f"cannot read value_file: {e.strerror}") from e


# --- the HTTP handler ---------------------------------------------------------------

class Handler(fakeserver.Handler):
    server_version = "fake-keyvault/1"

    def _log(self, status, **extra):
        entry = {"time": time.time(), "kind": self.kind, "method": self.command,
                 "path": self.url.path, "status": status}
        entry.update(self.extra)
        entry.update(extra)
        self.state.write_log(entry)

    def _send(self, status, body, content_type=JSON_TYPE, headers=(), **log_extra):
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body or b""
        self._log(status, **log_extra)  # before answering: a client with its answer finds it
        self.send_response(status, REASONS.get(status))
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        self.send_header("x-ms-keyvault-service-version", "1.9.1195.1")
        self.send_header("x-ms-keyvault-network-info", "conn_type=Ipv4;addr=127.0.0.1;"
                                                       "act_addr_fam=InterNetwork;")
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _challenge(self):
        return (("WWW-Authenticate",
                 f'Bearer authorization="https://login.microsoftonline.com/{self.state.tenant}", '
                 f'resource="{VAULT_RESOURCE}"'),)

    # --- entry point ------------------------------------------------------------------

    def _handle(self):
        self.extra = {}
        self.url = urlsplit(self.path)
        self.kind = "control" if self.url.path.startswith("/_control/") else "vault"
        body = self._read_body()
        if body is None:
            self.close_connection = True
            self._send(400, error_body("BadParameter", "The request body is invalid."))
            return
        try:
            self.query = parse_qs(self.url.query, keep_blank_values=True,
                                  max_num_fields=MAX_FIELDS)
        except ValueError:
            self.close_connection = True
            self._send(400, error_body("BadParameter", "The request URI is invalid."))
            return
        self.body = body
        if self.kind == "control":
            self._control()
            return
        entry = self.state.next_script()
        if entry is not None and self._scripted(entry):
            return
        self._vault()

    # --- scripted responses -------------------------------------------------------------

    def _scripted(self, e):
        """Plays one scripted entry; True when it answered (or refused to)."""
        self._note_request()  # what was asked is worth logging even when it fails
        return self._play_script(e, self._scripted_status)

    def _scripted_status(self, e):
        status = e["status"]
        if e.get("echo_auth"):
            body = error_body("BadRequest", "the request had Authorization: "
                              + self.headers.get("Authorization", ""))
        elif "body" in e:
            body = e["body"]
        else:
            code, msg = DEFAULT_ERRORS.get(status, ("Error", REASONS.get(status, "Error")))
            body = error_body(code, msg)
        headers = list((e.get("headers") or {}).items())
        if status == 401 and not any(k.lower() == "www-authenticate" for k, _ in headers):
            headers += list(self._challenge())
        self._send(status, body, headers=headers, scripted="status")

    # --- the vault -------------------------------------------------------------------------

    def _note_request(self):
        """Records the name, version and api-version asked for, and the token's checks."""
        m = SECRET_PATH_RE.match(self.url.path)
        if m:
            self.extra["name"] = unquote(m.group(1))
            self.extra["version"] = unquote(m.group(2)) if m.group(2) else None
        av = self.query.get("api-version")
        self.extra["api_version"] = av[0] if av else None
        if "auth" not in self.extra:
            self.extra.update(self._check_token())

    def _check_token(self):
        """{"auth": "none" | "valid" | "invalid", "why", "aud", "appid"} of the request's
        bearer token: its claims' names, never the token."""
        header = self.headers.get("Authorization")
        if header is None:
            return {"auth": "none", "aud": None}
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return {"auth": "invalid", "why": "scheme", "aud": None}
        try:
            claims = jwt_hs256.verify(self.state.jwt_key, token.strip())
        except jwt_hs256.JwtError as e:
            return {"auth": "invalid", "why": str(e), "aud": None}
        aud = claims.get("aud")
        out = {"aud": aud if isinstance(aud, str) else None, "appid": claims.get("appid"),
               "src": claims.get("src")}
        if aud not in AUDIENCES:
            return dict(out, auth="invalid", why="aud")
        return dict(out, auth="valid")

    def _unauthorized(self):
        why = self.extra.get("why")
        if self.extra["auth"] == "none" or why == "scheme":
            msg = "AKV10000: Request is missing a Bearer or PoP token."
        elif why == "aud":
            msg = (f"AKV10022: Invalid audience. Expected {VAULT_RESOURCE}, "
                   f"found: {self.extra.get('aud')}.")
        elif why == "exp":
            msg = "AKV10032: Token has expired."
        else:
            msg = f"AKV10004: Token validation failed: {why}."
        self._send(401, error_body("Unauthorized", msg), headers=self._challenge())

    def _vault(self):
        self._note_request()
        m = SECRET_PATH_RE.match(self.url.path)
        if self.extra["auth"] != "valid":
            self._unauthorized()
            return
        if self.extra["api_version"] not in self.state.api_versions:
            self._send(400, error_body(
                "BadParameter", "The request URI contains an invalid or missing api-version "
                "parameter. The supported versions are: 7.0,7.1,7.2,7.3,7.4,7.5."))
            return
        if m is None:
            self._send(404, error_body("NotFound", "The requested resource was not found."))
            return
        if self.command != "GET":
            self._send(405, error_body("MethodNotAllowed", "The fake serves GET only."),
                       headers=(("Allow", "GET"),))
            return
        name, version = self.extra["name"], self.extra["version"]
        if not NAME_RE.match(name) or (version and not VERSION_RE.match(version)):
            self._send(400, error_body("BadParameter", f"Invalid secret name or version: "
                                       f"'{name[:127]}'."))
            return
        if not self.state.get_allowed:
            appid = self.extra.get("appid") or "unknown"
            self._send(403, error_body(
                "Forbidden",
                f"The user, group or application 'appid={appid};oid=unknown;iss=https://sts."
                f"windows.net/{self.state.tenant}/' does not have secrets get permission on "
                f"key vault '{VAULT_NAME};location=westeurope'. For help resolving this issue, "
                "please see https://go.microsoft.com/fwlink/?linkid=2125287", "AccessDenied"))
            return
        found = self.state.lookup(name, version)
        if found is None:
            self._send(404, error_body(
                "SecretNotFound",
                f"A secret with (name/id) {name}{'/' + version if version else ''} was not "
                "found in this key vault. If you recently deleted this secret you may be able "
                "to recover it using the correct recovery command. For help resolving this "
                "issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"))
            return
        self._send(200, self._bundle(found), served=found["id"])

    def _scheme(self):
        return "https" if self.server.is_tls else "http"

    def _bundle(self, v):
        """A SecretBundle as Get Secret 7.4 returns it."""
        return {"value": v["value"].decode("utf-8", "surrogateescape"),
                "id": f"{self._scheme()}://{BIND_HOST}:{self.state.port}/secrets/{v['name']}/"
                      f"{v['id']}",
                "attributes": {"enabled": True, "created": v["created"],
                               "updated": v["updated"],
                               "recoveryLevel": "Recoverable+Purgeable",
                               "recoverableDays": 90},
                "tags": {}}

    # --- control API -------------------------------------------------------------------------

    def _control(self):
        path, method = self.url.path, self.command
        try:
            body = json.loads(self.body.decode("utf-8") or "{}") if method == "POST" else {}
            if not isinstance(body, dict):
                raise BadInput("the body must be a JSON object")
            answer = self._control_route(method, path, body)
        except (ValueError, UnicodeDecodeError) as e:  # BadInput is a ValueError
            self._send(400, {"error": "bad_request", "message": str(e)[:300]})
            return
        if answer is None:
            self._send(404, {"error": "not_found", "message": "no such control endpoint"})
        else:
            self._send(200, answer)

    def _control_route(self, method, path, body):
        m = re.fullmatch(r"/_control/secrets/([^/]+)", path)
        if method == "POST" and m:
            if not NAME_RE.match(m.group(1)):
                raise BadInput("bad secret name")
            version = self.state.add_version(m.group(1), secret_value_from(body))
            return {"name": m.group(1), "version": version}
        if method == "GET" and path == "/_control/secrets":
            return {"secrets": self.state.describe_secrets()}
        if method == "POST" and path == "/_control/script":
            return self._control_script(body)
        if method == "POST" and path == "/_control/clear":
            with self.state.lock:
                self.state.queue.clear()
                self.state.sticky = None
            return {"cleared": True}
        if method == "POST" and path == "/_control/permissions":
            if not isinstance(body.get("get"), bool):
                raise BadInput("get must be true or false")
            self.state.get_allowed = body["get"]
            return {"get": self.state.get_allowed}
        if method == "GET" and path == "/_control/requests":
            with self.state.log_lock:
                return {"requests": list(self.state.entries)}
        if method == "POST" and path == "/_control/reset":
            with self.state.log_lock:
                self.state.entries.clear()
            with self.state.lock:
                self.state.queue.clear()
                self.state.sticky = None
                self.state.get_allowed = True
            return {"reset": True}
        return None

    def _control_script(self, body):
        """{"responses": [E, ...]}: one each for the next requests; {"until_cleared": E}:
        E for every request after those, until POST /_control/clear."""
        unknown = set(body) - {"responses", "until_cleared"}
        if unknown or not body:
            raise BadInput("give responses and/or until_cleared")
        responses = body.get("responses", [])
        if not isinstance(responses, list):
            raise BadInput("responses must be a list")
        entries = [validate_script_entry(e) for e in responses]
        sticky = body.get("until_cleared")
        if sticky is not None:
            validate_script_entry(sticky)
        with self.state.lock:
            if len(self.state.queue) + len(entries) > MAX_QUEUE:
                raise BadInput("too many queued responses")
            self.state.queue.extend(entries)
            if sticky is not None:
                self.state.sticky = sticky
            return {"queued": len(self.state.queue), "until_cleared": self.state.sticky}


# --- server ---------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free)")
    ap.add_argument("--jwt-key-file", required=True,
                    help="HS256 key the accepted bearer tokens are signed with")
    ap.add_argument("--secret", action="append", metavar="NAME=FILE",
                    help="a secret's first version, read from FILE (repeatable)")
    ap.add_argument("--api-version", action="append",
                    help=f"an accepted api-version (repeatable; default {API_VERSION} only)")
    ap.add_argument("--tenant", default=DEFAULT_TENANT, help="tenant named in the challenge")
    ap.add_argument("--log", help="append one JSON line per request (never values or tokens)")
    ap.add_argument("--max-lifetime", type=float, default=600.0,
                    help="exit after this many seconds (default 600)")
    ap.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (for SDK "
                    "clients that refuse bearer tokens over http)")
    ap.add_argument("--tls-key", help="PEM key for --tls-cert")
    ap.add_argument("--verbose", action="store_true", help="access log on stderr")
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")

    state = State(args)
    if args.tls_cert:
        srv = TlsServer((BIND_HOST, args.port), Handler)
        srv.ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        srv.ssl_context.minimum_version = ssl.TLSVersion.TLSv1_2
        srv.ssl_context.load_cert_chain(args.tls_cert, args.tls_key)
    else:
        srv = Server((BIND_HOST, args.port), Handler)
    srv.state = state
    state.port = srv.server_address[1]

    def stop(*_):
        state.stopping.set()
        # shutdown() waits for serve_forever(), so call it from another thread.
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
