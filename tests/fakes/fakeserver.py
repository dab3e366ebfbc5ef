# SPDX-License-Identifier: MIT
"""What the fakes share: reading a secret file as the agent does, a
threaded HTTP(S) server on loopback that does not print tracebacks for
clients that went away, the plumbing of a request handler, the request log,
and scripted responses (stdlib only)."""

import json
import os
import re
import signal
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANDSHAKE_TIMEOUT = 10.0  # seconds for a TLS client to complete its handshake
IDLE_TIMEOUT = 30.0       # seconds a TLS connection may sit idle between requests
MAX_BODY = 64 * 1024      # bytes of a request body
MAX_WAIT = 600.0          # seconds of a scripted hang or delay
HTML_BODY = (b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n"
             b"<body><h1>Service Unavailable</h1><p>The service is temporarily unavailable."
             b"</p></body></html>\n")


def read_secret_file(path):
    """The file's bytes without one trailing newline (like `aoai add`); ValueError if empty."""
    with open(path, "rb") as f:
        data = f.read(64 * 1024)
    if data.endswith(b"\r\n"):
        data = data[:-2]
    elif data.endswith(b"\n"):
        data = data[:-1]
    if not data:
        raise ValueError(f"{path} is empty")
    return data


def append_log_line(path, entry):
    """Appends @entry to the request log @path as one JSON line (created 0600)."""
    line = (json.dumps(entry, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


# --- scripted responses (the fakes' control APIs) ---------------------------------

class BadInput(ValueError):
    pass


def number(v, lo, hi, what):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
        raise BadInput(f"{what} must be a number in [{lo}, {hi}]")
    return v


def validate_script_entry(e, extra=()):
    """One scripted response: {"status": N[, "body", "headers", EXTRA...]} |
    {"hang": true|SECONDS} | {"drop": true} | {"non_json": true}, each
    optionally with "delay": SECONDS, or a bare delay.  @extra: keys a fake
    adds to status responses."""
    if not isinstance(e, dict) or not e:
        raise BadInput("each response must be a non-empty object")
    unknown = set(e) - {"status", "body", "headers", "hang", "delay", "non_json", "drop",
                        *extra}
    if unknown:
        raise BadInput(f"unknown keys {sorted(unknown)}")
    kinds = [k for k in ("status", "hang", "non_json", "drop") if k in e]
    if len(kinds) > 1:
        raise BadInput(f"one of status/hang/non_json/drop per response, not {kinds}")
    if "delay" in e:
        number(e["delay"], 0, MAX_WAIT, "delay")
    if "hang" in e and e["hang"] is not True:
        number(e["hang"], 0, MAX_WAIT, "hang")
    for flag in ("non_json", "drop"):
        if flag in e and e[flag] is not True:
            raise BadInput(f"{flag} must be true")
    if "status" in e:
        s = e["status"]
        if isinstance(s, bool) or not isinstance(s, int) or not 200 <= s <= 599:
            raise BadInput("status must be an integer in [200, 599]")
    elif {"body", "headers", *extra} & set(e):
        raise BadInput(f"{', '.join(sorted({'body', 'headers', *extra}))} go with status")
    if "body" in e and not isinstance(e["body"], (dict, list, str)):
        raise BadInput("body must be an object, a list or a string")
    if "headers" in e:
        h = e["headers"]
        if not isinstance(h, dict) or len(h) > 32:
            raise BadInput("headers must be an object")
        for k, v in h.items():
            if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}", k) or \
                    not isinstance(v, str) or len(v) > 1024 or re.search(r"[\r\n\0]", v):
                raise BadInput("bad header name or value")
    return e


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    block_on_close = False
    is_tls = False

    def handle_error(self, request, client_address):
        # A client that went away (or failed its TLS handshake) is not worth a traceback.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, ssl.SSLError, OSError)):
            return
        super().handle_error(request, client_address)


class TlsServer(Server):
    """HTTPS; the handshake happens in the request's thread, so a client that never
    completes it cannot stall the accept loop."""
    is_tls = True

    def finish_request(self, request, client_address):
        request.settimeout(HANDSHAKE_TIMEOUT)
        tls = self.ssl_context.wrap_socket(request, server_side=True)
        try:
            tls.settimeout(IDLE_TIMEOUT)
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass


def stop_on_signals(stop, max_lifetime):
    """Calls @stop on SIGTERM, SIGINT or after @max_lifetime seconds, so a
    forgotten fake cannot outlive a test run.  Returns the timer (cancel it)."""
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    timer = threading.Timer(max_lifetime, stop)
    timer.daemon = True
    timer.start()
    return timer


class Handler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1; every method goes to self._handle(); the server's
    `state` carries `verbose`.  Subclasses set server_version and _handle."""
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle holds
    # the body of every reply after the first on a kept-alive connection.
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        if self.server.state.verbose:
            name = self.server_version.split("/")[0].replace("-", "_")
            sys.stderr.write("%s: %s %s\n" % (name, self.address_string(), fmt % args))

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def do_PUT(self):
        self._handle()

    def do_DELETE(self):
        self._handle()

    def do_PATCH(self):
        self._handle()

    @property
    def state(self):
        return self.server.state

    def _read_body(self):
        """The body (at most MAX_BODY bytes, Content-Length framed), or None."""
        if self.headers.get("Transfer-Encoding", "").lower() not in ("", "identity"):
            return None
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            n = int(length)
        except ValueError:
            return None
        if n < 0 or n > MAX_BODY:
            return None
        data = self.rfile.read(n)
        return data if len(data) == n else None

    def _abort(self):
        """Closes the connection without an answer."""
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass

    def _play_script(self, e, answer_status):
        """Plays one scripted entry (see validate_script_entry); @answer_status(e)
        sends a status response.  True when it answered (or refused to); a bare
        delay returns False, and the request is served as usual."""
        if "delay" in e:
            self.state.stopping.wait(e["delay"])
        if e.get("drop"):
            self._log(None, scripted="drop")
            self._abort()
            return True
        if "hang" in e:
            self._log(None, scripted="hang")
            self.state.stopping.wait(MAX_WAIT if e["hang"] is True else e["hang"])
            self._abort()
            return True
        if e.get("non_json"):
            self._send(200, HTML_BODY, content_type="text/html; charset=utf-8",
                       scripted="non_json")
            return True
        if "status" in e:
            answer_status(e)
            return True
        self.extra["scripted"] = "delay"
        return False
