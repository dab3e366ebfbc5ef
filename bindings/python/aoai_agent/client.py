# SPDX-License-Identifier: MIT
"""A connection to the agent: requests, replies, and what they carry.

A Client keeps one connection and serialises requests on it with a lock, so
threads may share one.  When a connection it had already used turns out to
be closed (the agent restarted, or dropped it), a request that only reads
the agent's state (REPEATABLE_OPS) is sent once more on a new connection.
A process that forks gets a fresh connection (and lock) in the child rather
than sharing the parent's.
"""

import os
import re
import socket
import threading
import time
import weakref

from . import wire
from .errors import InvalidArgumentError, ProtocolError, from_reply

DEFAULT_TIMEOUT = 60.0  # seconds; above the agent's own bound on a token fetch
DEFAULT_SCOPE = "https://cognitiveservices.azure.com/.default"
MAX_URL = 8192
MAX_SCOPE = 1024
EXISTS_ACTIONS = ("override", "skip", "append")
_NAME_RE = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")
_SCOPE_RE = re.compile(r"[!-~]{1,%d}\Z" % MAX_SCOPE)
_BAD_HEADER_CHARS = re.compile(r"[\r\n\0]")
# Sending one of these twice is harmless: they change nothing in the agent.
REPEATABLE_OPS = frozenset(("headers", "token", "list", "status", "jwks"))


class Header:
    """One header of a `headers` reply; its repr never shows the value."""

    __slots__ = ("name", "value", "exists_action")

    def __init__(self, name, value, exists_action):
        self.name = name
        self.value = value
        self.exists_action = exists_action

    def __repr__(self):
        return (f"Header(name={self.name!r}, value=<{len(self.value)} chars>, "
                f"exists_action={self.exists_action!r})")


class AgentHeaders:
    """A `headers` reply: the profile that matched and its headers, in order."""

    __slots__ = ("profile", "headers")

    def __init__(self, profile, headers):
        self.profile = profile
        self.headers = headers

    def __repr__(self):
        return f"AgentHeaders(profile={self.profile!r}, headers={self.headers!r})"

    def merge(self, base=None):
        """A new dict: @base (the request's own headers, or None) with these merged
        as each header's exists_action says, names compared without case.
        override replaces the request's header, skip keeps it, append sends both,
        joined with ", " since a dict holds one value per name."""
        out = dict(base or {})
        own = {k.lower() for k in out}
        for h in self.headers:
            low = h.name.lower()
            if low in own:
                if h.exists_action == "skip":
                    continue
                if h.exists_action == "override":
                    for k in [k for k in out if k.lower() == low]:
                        del out[k]
                    own.discard(low)
            key = next((k for k in out if k.lower() == low), None)
            if key is None:
                out[h.name] = h.value
            else:
                out[key] = f"{out[key]}, {h.value}"
        return out


class Token:
    """An access token and its expiry.  `.token` and `.expires_on` are named as
    azure-core's AccessToken's are; the repr never shows the token."""

    __slots__ = ("token", "expires_on", "token_type", "profile", "scope", "source")

    def __init__(self, token, expires_on, token_type, profile, scope, source):
        self.token = token
        self.expires_on = expires_on  # seconds since the Unix epoch (UTC)
        self.token_type = token_type
        self.profile = profile
        self.scope = scope
        self.source = source

    @property
    def access_token(self):
        return self.token

    def __iter__(self):
        # token, expires_on = t: as azure-core's AccessToken unpacks.
        return iter((self.token, self.expires_on))

    def expires_in(self, now=None):
        """Seconds left until expiry (negative once expired)."""
        return self.expires_on - int(time.time() if now is None else now)

    def __repr__(self):
        return (f"Token(profile={self.profile!r}, scope={self.scope!r}, "
                f"source={self.source!r}, expires_on={self.expires_on}, token=<hidden>)")


class Client:
    """One connection to the agent at @path (default: found from the
    environment at each connect, as PROTOCOL.md says), with @timeout seconds
    for each request (connect, send and the whole reply; None: no limit)."""

    def __init__(self, path=None, timeout=DEFAULT_TIMEOUT):
        self._path = os.fspath(path) if path is not None else None
        self.timeout = timeout
        self._lock = threading.Lock()
        self._sock = None
        self._pid = None
        _clients.add(self)

    def __repr__(self):
        return f"Client(path={self._path!r}, timeout={self.timeout!r})"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        with self._lock:
            self._drop()

    def _drop(self):
        # In a forked child this closes only the child's copy of the descriptor.
        if self._sock is not None:
            self._sock.close()
        self._sock = None

    # --- the exchange ----------------------------------------------------------

    def call(self, op, **fields):
        """Sends the request @op with @fields (None values left out) and returns
        the successful reply as a dict.  Raises an AoaiError subclass for an
        error reply (its kind and the agent's message), NoAgentError,
        ProtocolError."""
        request = {"v": wire.PROTO_VERSION, "op": op}
        request.update({k: v for k, v in fields.items() if v is not None})
        frame = wire.encode(request)
        reply = self._exchange(frame, op in REPEATABLE_OPS)
        if reply["ok"]:
            return reply
        kind, message = reply.get("error"), reply.get("message")
        if not isinstance(kind, str) or not isinstance(message, str):
            raise ProtocolError("the agent sent an error reply without error and message")
        raise from_reply(kind, message)

    def _exchange(self, frame, repeatable):
        with self._lock:
            reused = repeatable and self._sock is not None and self._pid == os.getpid()
            try:
                return self._once(frame)
            except (EOFError, BrokenPipeError, ConnectionResetError):
                self._drop()
                if not reused:
                    raise ProtocolError("the agent closed the connection without replying") \
                        from None
            # The connection we kept was closed: a restarted agent.  Once more.
            try:
                return self._once(frame)
            except (EOFError, BrokenPipeError, ConnectionResetError):
                self._drop()
                raise ProtocolError("the agent closed the connection without replying") \
                    from None

    def _once(self, frame):
        """One request on the kept connection (made first if need be).  Any
        failure but a closed connection drops it and becomes a ProtocolError."""
        if self._sock is None or self._pid != os.getpid():
            self._drop()
            path = self._path if self._path is not None else wire.socket_path()
            self._sock = wire.connect(path, self.timeout)
            self._pid = os.getpid()
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        try:
            wire.send(self._sock, frame, deadline)
            return wire.recv(self._sock, deadline)
        except (EOFError, BrokenPipeError, ConnectionResetError):
            raise
        except socket.timeout:
            self._drop()
            raise ProtocolError(f"no reply from the agent within {self.timeout:g} s") from None
        except ProtocolError:
            self._drop()
            raise
        except OSError as e:
            self._drop()
            raise ProtocolError(f"the connection to the agent failed: "
                                f"{os.strerror(e.errno) if e.errno else e}") from None

    # --- operations ------------------------------------------------------------

    def agent_headers(self, url):
        """The agent's `headers` reply for a request to @url, as AgentHeaders."""
        _check_url(url)
        reply = self.call("headers", url=url)
        profile, items = reply.get("profile"), reply.get("headers")
        if not isinstance(profile, str) or not isinstance(items, list):
            raise ProtocolError("the agent sent a headers reply without profile and headers")
        return AgentHeaders(profile, [_header(h) for h in items])

    def headers(self, url, base=None):
        """The headers to send with a request to @url: the agent's, merged into
        @base (the request's own, if any) as AgentHeaders.merge() does."""
        return self.agent_headers(url).merge(base)

    def token(self, profile=None, scope=None):
        """An access token (a Token) of the token profile @profile (default: the
        agent's only one) for @scope (default: the profile's)."""
        if profile is not None and (not isinstance(profile, str) or not _NAME_RE.match(profile)):
            raise InvalidArgumentError("invalid profile name: 1-64 characters of "
                                       "A-Z a-z 0-9 . _ -")
        if scope is not None and (not isinstance(scope, str) or not _SCOPE_RE.match(scope)):
            raise InvalidArgumentError(f"invalid scope: 1-{MAX_SCOPE} printable ASCII "
                                       "characters without spaces")
        r = self.call("token", profile=profile, scope=scope)
        value, expires_on = r.get("access_token"), r.get("expires_on")
        if not isinstance(value, str) or not value or type(expires_on) is not int:
            raise ProtocolError("the agent sent a token reply without access_token and "
                                "expires_on")
        return Token(value, expires_on, r.get("token_type", "Bearer"), r.get("profile"),
                     r.get("scope"), r.get("source"))

    def list_profiles(self):
        """The agent's profiles, as `list` describes them (names, hosts,
        credential type, state; never a secret): a list of dicts."""
        profiles = self.call("list").get("profiles")
        if not isinstance(profiles, list):
            raise ProtocolError("the agent sent a list reply without profiles")
        return profiles

    def status(self):
        """The agent's `status` reply, as a dict."""
        return self.call("status")


def _check_url(url):
    if not isinstance(url, str):
        raise InvalidArgumentError("the URL must be a str")
    n = len(url.encode("utf-8", "surrogatepass"))
    if n < 1 or n > MAX_URL:
        raise InvalidArgumentError(f"the URL must be 1-{MAX_URL} bytes")


def _header(h):
    if not isinstance(h, dict):
        raise ProtocolError("the agent sent a header that is not an object")
    name, value, action = h.get("name"), h.get("value"), h.get("exists_action")
    if not isinstance(name, str) or not name or not isinstance(value, str) \
            or action not in EXISTS_ACTIONS:
        raise ProtocolError("the agent sent a header without name, value and exists_action")
    if _BAD_HEADER_CHARS.search(name) or _BAD_HEADER_CHARS.search(value) or ":" in name:
        raise ProtocolError("the agent sent a header with a line break or NUL")
    return Header(name, value, action)


# --- the default client, and forks ----------------------------------------------

_default = None
_default_lock = threading.Lock()
_clients = weakref.WeakSet()


def _after_fork_in_child():
    # A lock held by another thread of the parent at fork() would stay held
    # forever in the child; the connection is replaced at its next request.
    global _default_lock
    _default_lock = threading.Lock()
    for c in list(_clients):
        c._lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def default_client():
    """The Client the module-level functions share, made at first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Client()
        return _default


def headers(url, base=None):
    """Client.headers() on the default client."""
    return default_client().headers(url, base)


def agent_headers(url):
    """Client.agent_headers() on the default client."""
    return default_client().agent_headers(url)


def token(profile=None, scope=None):
    """Client.token() on the default client."""
    return default_client().token(profile, scope)


def list_profiles():
    """Client.list_profiles() on the default client."""
    return default_client().list_profiles()
