# SPDX-License-Identifier: MIT
"""The agent's wire format (protocol/PROTOCOL.md): where the socket is, and
frames of a big-endian uint32 length and that many bytes of UTF-8 JSON.

Lengths are checked against PROTO_MAX_FRAME before anything is allocated
for the payload, on both directions.  The bytes of a reply (which may hold a
key or a token) are received into one bytearray that is zeroed once decoded;
the decoded Python strings cannot be wiped, and are the caller's to drop.
"""

import errno
import json
import os
import socket
import struct
import time

from .errors import START_HINT, NoAgentError, ProtocolError

PROTO_VERSION = 1
PROTO_MAX_FRAME = 256 * 1024
SOCK_ENV = "AOAI_AUTH_SOCK"
SOCK_UNDER_RUNTIME = "aoai/agent.sock"
_LEN = struct.Struct(">I")
_UCRED = struct.Struct("=iII")  # struct ucred: pid, uid, gid


def socket_path():
    """$AOAI_AUTH_SOCK, else $XDG_RUNTIME_DIR/aoai/agent.sock (an absolute
    XDG_RUNTIME_DIR only), as the C clients find it.  Raises NoAgentError when
    neither is set."""
    path = os.environ.get(SOCK_ENV)
    if path:
        return path
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and runtime.startswith("/"):
        return os.path.join(runtime, SOCK_UNDER_RUNTIME)
    raise NoAgentError("no agent socket: AOAI_AUTH_SOCK and XDG_RUNTIME_DIR are both unset: "
                       + START_HINT)


def connect(path, timeout):
    """A socket connected to the agent at @path (close-on-exec, as Python makes
    every socket), which must run as our user or root.  Raises NoAgentError
    saying why and what to do."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(path)
    except socket.timeout:
        sock.close()
        raise NoAgentError(f"cannot reach the agent at {path}: connection timed out") from None
    except OSError as e:
        sock.close()
        raise NoAgentError(_connect_message(path, e)) from None
    if not _peer_trusted(sock):
        # Whoever listens there could read our URLs and hand back its own headers.
        sock.close()
        raise NoAgentError(f"the agent at {path} runs as another user: not using it")
    return sock


def _peer_trusted(sock):
    """True when the process listening at the other end is us or root, as the
    C clients require (SO_PEERCRED gives its uid as of listen())."""
    cred = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    _pid, uid, _gid = _UCRED.unpack(cred)
    return uid == os.getuid() or uid == 0


def _connect_message(path, e):
    reason = os.strerror(e.errno) if e.errno else str(e)
    if e.errno == errno.ENOENT:
        return f"cannot reach the agent at {path}: {reason}: {START_HINT}"
    if e.errno == errno.ECONNREFUSED:
        # The file is there but nobody listens: an agent that has stopped.
        return (f"cannot reach the agent at {path}: {reason} (a stale socket: its agent has "
                f"stopped): {START_HINT}")
    return f"cannot reach the agent at {path}: {reason}"


def encode(request):
    """The frame for the request object @request."""
    payload = json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(payload) > PROTO_MAX_FRAME:
        raise ProtocolError(f"request of {len(payload)} bytes exceeds the frame limit")
    return _LEN.pack(len(payload)) + payload


def send(sock, frame, deadline):
    _settimeout(sock, deadline)
    sock.sendall(frame)


def _settimeout(sock, deadline):
    if deadline is None:  # no timeout
        sock.settimeout(None)
        return
    left = deadline - time.monotonic()
    if left <= 0:
        raise socket.timeout("timed out")
    sock.settimeout(left)


def _recv_into(sock, buf, deadline):
    """Fills @buf (a memoryview) from @sock; EOFError if the agent closes first."""
    got = 0
    while got < len(buf):
        _settimeout(sock, deadline)
        n = sock.recv_into(buf[got:])
        if n == 0:
            raise EOFError(got)
        got += n


def recv(sock, deadline):
    """Reads one reply frame and returns its decoded object (a dict with v and ok).

    Raises EOFError(0) when the agent closed the connection before sending a
    byte of it, socket.timeout / OSError as the socket does, ProtocolError for
    anything that is not a valid reply."""
    head = bytearray(_LEN.size)
    _recv_into(sock, memoryview(head), deadline)
    (length,) = _LEN.unpack(head)
    if length < 1 or length > PROTO_MAX_FRAME:
        raise ProtocolError(f"the agent sent a frame of invalid length {length}")
    payload = bytearray(length)
    try:
        try:
            _recv_into(sock, memoryview(payload), deadline)
        except EOFError:
            raise ProtocolError("the agent closed the connection in the middle of a reply") \
                from None
        return _decode(payload)
    finally:
        payload[:] = bytes(len(payload))


def _decode(payload):
    try:
        reply = json.loads(payload.decode("utf-8"))
    except ValueError:
        # Never quote the payload: it may hold a secret.
        raise ProtocolError("the agent sent a reply that is not UTF-8 JSON") from None
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        raise ProtocolError("the agent sent a reply without \"ok\"")
    if type(reply.get("v")) is not int or reply["v"] != PROTO_VERSION:
        raise ProtocolError("the agent replied in a protocol version this client does not speak")
    return reply
