# SPDX-License-Identifier: MIT
"""What the fakes share: reading a secret file as the agent does, a
threaded HTTP(S) server on loopback that does not print tracebacks for
clients that went away, and the plumbing of a request handler (stdlib only)."""

import signal
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANDSHAKE_TIMEOUT = 10.0  # seconds for a TLS client to complete its handshake
IDLE_TIMEOUT = 30.0       # seconds a TLS connection may sit idle between requests
MAX_BODY = 64 * 1024      # bytes of a request body


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
