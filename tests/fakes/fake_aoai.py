#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A stand-in Azure OpenAI endpoint for the tests and `make demo`.

Serves the request shapes clients use and authenticates exactly as Azure
does: an `api-key` header (or `Authorization: Bearer …` when --bearer-file is
given, or a bearer JWT minted by tests/fakes/fake_identity.py or the fake `az`
when --jwt-key-file is given: HS256 with that key, unexpired, audience Azure
OpenAI), otherwise 401 with Azure's JSON body.  It binds 127.0.0.1 only, prints
`listening on 127.0.0.1:PORT` once bound, and exits on SIGTERM/SIGINT or after
--max-lifetime seconds, so a forgotten instance cannot outlive a test run.

Accepted secrets are read from files (never argv).  --log appends one JSON
line per request with the header *names* and whether `api-key` /
`Authorization` were present — never a header value; for an accepted JWT also
its `src` claim (which fake issued it) as `bearer_src`; and `header_fps`, the
fingerprints (first 12 hex digits of the SHA-256 of the value) of every
`api-key`, `Authorization`, `Ocp-Apim-Subscription-Key` and `X-App` header, in
the order received, so a test can tell exactly which values arrived.

Test helpers beyond Azure (for the LD_PRELOAD hook's tests):
  --tls-cert F --tls-key F   serve HTTPS instead of HTTP (same first line)
  /redirect?to=URL&code=N    answers N (301, 302, 303, 307, 308; default 302)
                             with `Location: URL`; no authentication
  /echo                      any method, no authentication: JSON
                             {"headers": [{"name": n, "fp": fingerprint}]}
                             for every request header in order (never a value)
  --git-root DIR             serves DIR's files read-only under /git/ for git's
                             dumb-HTTP protocol (run `git update-server-info` in
                             the repository), with the API's authentication

Streaming chat completions (`"stream": true`, Azure's SSE shapes) and the
routes of the relay's tests (/fake/upload, /fake/download, faults, gates,
--events FILE) are described in fake_aoai_relay.py.
"""

import argparse
import hashlib
import hmac
import json
import os
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jwt_hs256  # noqa: E402
import fakeserver  # noqa: E402
from fake_aoai_relay import RelayRoutes  # noqa: E402
from fakeserver import Server, TlsServer  # noqa: E402

BIND_HOST = "127.0.0.1"
JWT_AUDIENCES = ("https://cognitiveservices.azure.com", "https://cognitiveservices.azure.com/")
MAX_BODY = 1024 * 1024
DEFAULT_DEPLOYMENTS = ("gpt-4o", "gpt-4o-mini")
MODEL_OF = {"gpt-4o": "gpt-4o-2024-08-06", "gpt-4o-mini": "gpt-4o-mini-2024-07-18"}

MSG_401 = ("Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
           "provide a valid key for an active subscription and use a correct regional API "
           "endpoint for your resource.")
MSG_DEPLOYMENT = ("The API deployment for this resource does not exist. If you created the "
                  "deployment within the last 5 minutes, please wait a moment and try again.")
REPLY_TEXT = "Hello! This answer comes from the fake Azure OpenAI endpoint on loopback."
# Headers whose values the log fingerprints (lower case).
FP_HEADERS = ("api-key", "authorization", "ocp-apim-subscription-key", "x-app")
REDIRECT_CODES = (301, 302, 303, 307, 308)
GIT_PREFIX = "/git/"
LISTEN_BACKLOG = 256


def fingerprint(value):
    """The first 12 hex digits of the SHA-256 of a header value as received."""
    if isinstance(value, str):
        try:
            value = value.encode("latin-1")  # http.server decoded the header bytes so
        except UnicodeEncodeError:
            value = value.encode("utf-8", "surrogateescape")
    return hashlib.sha256(value).hexdigest()[:12]


def read_secret_file(path):
    """The file's content without one trailing newline (like `aoai add`)."""
    if path is None:
        return None
    try:
        return fakeserver.read_secret_file(path)
    except ValueError as e:
        sys.exit(f"fake_aoai: {e}")


class Handler(RelayRoutes, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle holds
    # the body of every reply after the first on a kept-alive connection.
    disable_nagle_algorithm = True
    server_version = "fake-aoai/1"
    MSG_401 = MSG_401

    def version_string(self):
        return self.server_version

    # --- plumbing -----------------------------------------------------

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("fake_aoai: %s %s\n" % (self.address_string(), fmt % args))

    def _read_body(self):
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            return None
        if length is None:
            return b""
        try:
            n = int(length)
        except ValueError:
            self.close_connection = True
            return None
        if n < 0 or n > MAX_BODY:
            self.close_connection = True
            return None
        return self.rfile.read(n)

    def _auth(self):
        """Returns "api-key", "bearer", "jwt" or None, comparing in constant time."""
        self.bearer_src = None
        key = self.headers.get("api-key")
        if key is not None and self.server.key is not None:
            if hmac.compare_digest(key.encode("utf-8", "surrogateescape"), self.server.key):
                return "api-key"
        auth = self.headers.get("Authorization")
        if auth is None:
            return None
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer":
            return None
        token = token.strip().encode("utf-8", "surrogateescape")
        if self.server.bearer is not None and hmac.compare_digest(token, self.server.bearer):
            return "bearer"
        if self.server.jwt_key is not None:
            try:
                claims = jwt_hs256.verify(self.server.jwt_key, token)
            except jwt_hs256.JwtError:
                return None
            if claims.get("aud") not in JWT_AUDIENCES:
                return None
            src = claims.get("src")
            self.bearer_src = src if isinstance(src, str) else None
            return "jwt"
        return None

    def _log(self, status, auth):
        if not self.server.log_path:
            return
        names = [k.lower() for k in self.headers.keys()]
        split = urlsplit(self.path)
        entry = {
            "time": round(time.time(), 3),
            "method": self.command,
            "path": split.path,
            "host": self.headers.get("Host"),
            "query": split.query,
            "headers": names,
            "api_key_present": "api-key" in names,
            "authorization_present": "authorization" in names,
            "auth": auth,
            "status": status,
            "header_fps": self._header_fps(),
        }
        if auth == "jwt":
            entry["bearer_src"] = getattr(self, "bearer_src", None)
        line = (json.dumps(entry, sort_keys=True) + "\n").encode()
        with self.server.log_lock:
            fd = os.open(self.server.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def _header_fps(self):
        fps = {}
        for name, value in self.headers.items():
            if name.lower() in FP_HEADERS:
                fps.setdefault(name.lower(), []).append(fingerprint(value))
        return fps

    def _send(self, status, obj, auth, extra_headers=()):
        body = (json.dumps(obj) + "\n").encode()
        # Logged before answering, so a client that has its response finds the entry.
        self._log(status, auth)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("apim-request-id", str(uuid.uuid4()))
        self.send_header("x-request-id", str(uuid.uuid4()))
        for name, value in extra_headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status, code, message, auth):
        self._send(status, {"error": {"code": code, "message": message}}, auth)

    # --- routing ------------------------------------------------------

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_HEAD(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def do_PATCH(self):
        self._dispatch()

    def do_OPTIONS(self):
        self._dispatch()

    def _dispatch(self):
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        query = parse_qs(split.query)
        auth = self._auth()
        # The relay's test routes read (or refuse) bodies of any size themselves.
        if path.startswith("/fake/") and self._relay_route(path, query, auth):
            return
        body = self._read_body()
        if body is None:
            self._error(400, "BadRequest", "Request body is malformed or too large.", None)
            return

        # A test helper, not Azure: a redirect, to check headers do not follow it.
        if path == "/fake/redirect":
            target = query.get("to", [""])[0]
            self._send(302, {"redirect": target}, auth, [("Location", target)])
            return
        if path == "/redirect":
            self._redirect(query, auth)
            return
        if path == "/echo" or path.startswith("/echo/"):
            self._send(200, {"headers": [{"name": n, "fp": fingerprint(v)}
                                         for n, v in self.headers.items()]}, auth)
            return
        if auth is None:
            self._error(401, "401", MSG_401, None)
            return
        if self.server.git_root is not None and split.path.startswith(GIT_PREFIX):
            self._git_file(split.path[len(GIT_PREFIX):], auth)
            return
        parts = path.split("/")[1:]
        if parts[:2] == ["openai", "v1"]:
            self._route_v1(parts[2:], body, auth)
            return
        if not query.get("api-version", [""])[0]:
            self._error(404, "404", "Resource not found", auth)
            return
        if self.command == "POST" and len(parts) == 5 and parts[:2] == ["openai", "deployments"] \
                and parts[3:] == ["chat", "completions"]:
            if parts[2] not in self.server.deployments:
                self._error(404, "DeploymentNotFound", MSG_DEPLOYMENT, auth)
                return
            self._chat(body, MODEL_OF.get(parts[2], parts[2]), auth)
        elif self.command == "GET" and parts == ["openai", "deployments"]:
            self._send(200, self._deployment_list(), auth)
        elif self.command == "GET" and parts == ["openai", "models"]:
            self._send(200, self._model_list(azure=True), auth)
        else:
            self._error(404, "404", "Resource not found", auth)

    def _route_v1(self, rest, body, auth):
        if self.command == "POST" and rest == ["chat", "completions"]:
            try:
                model = json.loads(body or b"{}").get("model")
            except (ValueError, AttributeError):
                model = None
            if not isinstance(model, str) or not model:
                model = DEFAULT_DEPLOYMENTS[0]
            self._chat(body, MODEL_OF.get(model, model), auth)
        elif self.command == "GET" and rest == ["models"]:
            self._send(200, self._model_list(azure=False), auth)
        else:
            self._error(404, "404", "Resource not found", auth)

    # --- test helpers -------------------------------------------------

    def _redirect(self, query, auth):
        target = query.get("to", [""])[0]
        try:
            code = int(query.get("code", ["302"])[0])
        except ValueError:
            code = 0
        if not target or code not in REDIRECT_CODES:
            self._error(400, "BadRequest", "give to=URL and code=301|302|303|307|308", auth)
            return
        self._send(code, {"redirect": target}, auth, [("Location", target)])

    def _git_file(self, rel, auth):
        """A file of the --git-root tree, for git's dumb-HTTP protocol (GET/HEAD only)."""
        if self.command not in ("GET", "HEAD"):
            self._error(405, "MethodNotAllowed", "read-only", auth)
            return
        parts = unquote(rel).split("/")
        if any(p in ("", ".", "..") or "\0" in p for p in parts):
            self._error(404, "404", "Resource not found", auth)
            return
        root = self.server.git_root
        full = os.path.realpath(os.path.join(root, *parts))
        if not full.startswith(root + os.sep) or not os.path.isfile(full):
            self._error(404, "404", "Resource not found", auth)
            return
        try:
            with open(full, "rb") as f:
                data = f.read()
        except OSError:
            self._error(404, "404", "Resource not found", auth)
            return
        self._log(200, auth)
        self.send_response(200)
        # Not application/x-git-upload-pack-advertisement: git falls back to dumb HTTP.
        self.send_header("Content-Type", "text/plain" if parts[-1] in ("refs", "HEAD", "packs")
                         else "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    # --- responses ----------------------------------------------------

    def _chat(self, body, model, auth):
        try:
            req = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            req = None
        if not isinstance(req, dict) or not isinstance(req.get("messages"), list) \
                or not req["messages"]:
            self._send(400, {"error": {
                "message": "'messages' is a required property", "type": "invalid_request_error",
                "param": "messages", "code": None}}, auth)
            return
        if req.get("stream") is True:
            self._chat_stream(req, model, auth)
            return
        prompt_tokens = sum(len(str(m.get("content", "")).split()) + 4
                            for m in req["messages"] if isinstance(m, dict))
        completion_tokens = len(REPLY_TEXT.split())
        self._send(200, {
            "id": "chatcmpl-" + uuid.uuid4().hex[:29],
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": REPLY_TEXT},
                "finish_reason": "stop",
            }],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
            "system_fingerprint": "fp_fake",
        }, auth)

    def _deployment_list(self):
        now = int(time.time())
        return {"object": "list", "data": [{
            "id": d, "model": MODEL_OF.get(d, d), "owner": "organization-owner",
            "object": "deployment", "status": "succeeded", "created_at": now, "updated_at": now,
            "scale_settings": {"scale_type": "standard"}} for d in self.server.deployments]}

    def _model_list(self, azure):
        now = int(time.time())
        models = sorted({MODEL_OF.get(d, d) for d in self.server.deployments})
        if azure:
            return {"object": "list", "data": [{
                "id": m, "object": "model", "created_at": now, "status": "succeeded",
                "lifecycle_status": "generally-available",
                "capabilities": {"chat_completion": True, "completion": False,
                                 "embeddings": False, "fine_tune": False, "inference": True},
            } for m in models]}
        return {"object": "list", "data": [
            {"id": m, "object": "model", "created": now, "owned_by": "system"} for m in models]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free)")
    ap.add_argument("--key-file", help="file holding the accepted api-key")
    ap.add_argument("--bearer-file", help="file holding an accepted bearer token")
    ap.add_argument("--jwt-key-file",
                    help="file holding the HS256 key of accepted bearer JWTs (fake_identity.py)")
    ap.add_argument("--log", help="append one JSON line per request (header names only)")
    ap.add_argument("--deployment", action="append", help="deployment name (repeatable)")
    ap.add_argument("--max-lifetime", type=float, default=600.0,
                    help="exit after this many seconds (default 600)")
    ap.add_argument("--verbose", action="store_true", help="access log on stderr")
    ap.add_argument("--tls-cert", help="PEM certificate (chain): serve HTTPS")
    ap.add_argument("--tls-key", help="PEM private key for --tls-cert")
    ap.add_argument("--git-root", help="serve this directory read-only under /git/ "
                    "(git dumb HTTP), authenticated like the API")
    ap.add_argument("--events", help="append one JSON line per streaming or fault event "
                    "of the relay's test routes (fake_aoai_relay.py)")
    args = ap.parse_args(argv)
    if args.key_file is None and args.bearer_file is None and args.jwt_key_file is None:
        ap.error("give --key-file, --bearer-file and/or --jwt-key-file")
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    if args.git_root is not None and not os.path.isdir(args.git_root):
        ap.error(f"--git-root {args.git_root}: not a directory")

    if args.tls_cert:
        ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ssl_ctx.load_cert_chain(args.tls_cert, args.tls_key)
        srv = TlsServer((BIND_HOST, args.port), Handler, bind_and_activate=False)
        srv.ssl_context = ssl_ctx
    else:
        srv = Server((BIND_HOST, args.port), Handler, bind_and_activate=False)
    # A relay opens dozens of upstream connections at once: a backlog of 5 would
    # make some of them wait for a SYN retransmission.
    srv.request_queue_size = LISTEN_BACKLOG
    try:
        srv.server_bind()
        srv.server_activate()
    except OSError as e:
        srv.server_close()
        sys.exit(f"fake_aoai: cannot listen on {BIND_HOST}:{args.port}: {e}")
    srv.git_root = os.path.realpath(args.git_root) if args.git_root is not None else None
    srv.key = read_secret_file(args.key_file)
    srv.bearer = read_secret_file(args.bearer_file)
    srv.jwt_key = read_secret_file(args.jwt_key_file)
    srv.log_path = args.log
    srv.log_lock = threading.Lock()
    srv.verbose = args.verbose
    srv.deployments = tuple(args.deployment or DEFAULT_DEPLOYMENTS)
    srv.events_path = args.events
    srv.gates = {}
    srv.gates_lock = threading.Lock()
    srv.stopping_event = threading.Event()

    def stop(*_):
        srv.stopping_event.set()  # ends hangs, drips and gated streams
        for gate in list(srv.gates.values()):
            gate.set()
        # shutdown() waits for serve_forever(), so call it from another thread.
        threading.Thread(target=srv.shutdown, daemon=True).start()

    timer = fakeserver.stop_on_signals(stop, args.max_lifetime)

    host, port = srv.server_address[:2]
    print(f"listening on {host}:{port}", flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        timer.cancel()
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
