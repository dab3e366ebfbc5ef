# SPDX-License-Identifier: MIT
"""What the fakes share: reading a secret file as the agent does, and a
threaded HTTP(S) server on loopback that does not print tracebacks for
clients that went away (stdlib only)."""

import ssl
import sys
from http.server import ThreadingHTTPServer

HANDSHAKE_TIMEOUT = 10.0  # seconds for a TLS client to complete its handshake
IDLE_TIMEOUT = 30.0       # seconds a TLS connection may sit idle between requests


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
