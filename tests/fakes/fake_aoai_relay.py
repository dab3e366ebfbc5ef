# SPDX-License-Identifier: MIT
"""fake_aoai.py's routes for the tests of aoai-exec's relay: Azure's SSE
streaming of chat completions, large bodies both ways, scripted statuses and
upstream faults, and a record of when a client went away.

Streaming (Azure's exact shapes): a chat completion whose JSON body has
`"stream": true` is answered `text/event-stream`, chunked: one
`data: {...}\\n\\n` event per chunk (first the prompt filter results with
`choices: []`, then `choices[].delta` chunks: the role, the words of the
reply, the finish reason), then `data: [DONE]\\n\\n`.  With the query
parameter `fake-gate=NAME` the stream stops after its first event until
`POST /fake/gate?name=NAME` (unauthenticated, sent to the fake directly)
opens that gate, so a test can tell a relay that passes events on from one
that buffers without timing anything.

Routes (authenticated like the API, except /fake/gate):
  POST|PUT /fake/upload          reads the body (Content-Length or chunked,
                                 any size, never held whole); answers JSON
                                 {"sha256", "length", "chunked"}
  GET /fake/download?bytes=N[&mode=length|chunked|close]
                                 N deterministic bytes (fake_aoai_relay.pattern),
                                 their SHA-256 in X-Fake-Sha256; mode=close: no
                                 length, the body ends with the connection
  /fake/status?code=N[&retry_after=S]
                                 answers N with Azure's JSON error body
                                 (and Retry-After: S); 204 and 304 without a
                                 body or a length
  /fake/gzip                     a gzip-encoded JSON body (Content-Encoding: gzip,
                                 its SHA-256 in X-Fake-Sha256), two Set-Cookie and
                                 two X-Multi header lines
  /fake/both                     a response with Content-Length: 40 and a 5-byte
                                 chunked body ("hello")
  /fake/hints                    103 Early Hints, then 200 {"hinted": true}
  /fake/hang                     reads the request, answers nothing, and waits
                                 for the client to close (event "peer-closed")
  /fake/reset                    closes with a TCP reset, answering nothing
  /fake/garbage                  answers bytes that are not HTTP, then closes
  /fake/cut?mode=length|chunked|close&bytes=N
                                 a 200 promising 2N bytes (or chunked, or ended
                                 by the close), N bytes of body, then a TCP reset
  /fake/drip[?interval=S]        an endless SSE stream, one event every S
                                 seconds (default 0.05), until the client goes
                                 away (event "peer-closed" with the count sent)

--events FILE appends one JSON line per such happening: {"event": KIND,
"target": PATH, "time": T, ...}, kinds "gate-wait", "gate-open",
"peer-closed", "hang", "reset", "garbage", "cut", "upload-start" (an upload's
head is in), "upload" (its body read whole: length), "upload-cut" (its body
ended early: length so far).
"""

import gzip
import hashlib
import json
import os
import select
import socket
import struct
import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit

MAX_WAIT = 600.0            # seconds a gate, a hang or a drip lasts at most
MAX_UPLOAD = 1 << 30        # bytes of one upload
MAX_DOWNLOAD = 1 << 30      # bytes of one download
MAX_DRIP = 100000           # events of one drip
BLOCK = 64 * 1024           # bytes read or written at a time
MAX_CHUNK_LINE = 1024       # bytes of a chunk-size line
GZIP_BODY = gzip.compress(b'{"gzip": "' + b"z" * 4000 + b'"}', mtime=0)
GARBAGE = b"SSH-2.0-OpenSSH_9.2\r\nthis is not HTTP at all\r\n\r\n"
STREAM_WORDS = ("Hello!", " This", " answer", " streams", " from", " the", " fake",
                " Azure", " OpenAI", " endpoint.")


def pattern_block(i):
    """Block @i (BLOCK bytes) of the deterministic download content."""
    return hashlib.sha256(b"aoai-relay-block-%d" % i).digest() * (BLOCK // 32)


def pattern(n):
    """Yields the first @n bytes of the deterministic download content, a block at a time."""
    i = 0
    while n > 0:
        b = pattern_block(i)[:n]
        n -= len(b)
        i += 1
        yield b


FRAMINGS = ("length", "chunked", "close")


def framing(mode, n):
    """The headers that frame a body of @n bytes: Content-Length, chunked, or neither
    (the body ends when the connection closes, as HTTP/1.0 servers do)."""
    if mode == "length":
        return [("Content-Length", str(n))]
    if mode == "chunked":
        return [("Transfer-Encoding", "chunked")]
    return [("Connection", "close")]


class BodyError(ValueError):
    pass


class RelayRoutes:
    """Mixed into fake_aoai's Handler (self.server: gates, gates_lock, events_path)."""

    RELAY_ROUTES = ("/fake/upload", "/fake/download", "/fake/status", "/fake/hang",
                    "/fake/reset", "/fake/garbage", "/fake/cut", "/fake/drip", "/fake/gzip",
                    "/fake/both", "/fake/hints")

    # --- plumbing -----------------------------------------------------

    def _event(self, kind, **fields):
        path = getattr(self.server, "events_path", None)
        if not path:
            return
        entry = {"event": kind, "target": urlsplit(self.path).path, "time": round(time.time(), 3),
                 **fields}
        line = (json.dumps(entry, sort_keys=True) + "\n").encode()
        with self.server.log_lock:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def _gate(self, name):
        with self.server.gates_lock:
            return self.server.gates.setdefault(name, threading.Event())

    def _body_chunks(self):
        """Yields the request body in pieces (Content-Length or chunked); BodyError."""
        te = self.headers.get("Transfer-Encoding", "").lower()
        if te == "chunked":
            yield from self._chunked_body()
            return
        if te not in ("", "identity"):
            raise BodyError("unsupported Transfer-Encoding")
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            raise BodyError("bad Content-Length")
        if n < 0 or n > MAX_UPLOAD:
            raise BodyError("bad Content-Length")
        while n > 0:
            b = self.rfile.read(min(n, BLOCK))
            if not b:
                raise BodyError("body cut short")
            n -= len(b)
            yield b

    def _chunked_body(self):
        total = 0
        while True:
            line = self.rfile.readline(MAX_CHUNK_LINE)
            if not line.endswith(b"\n"):
                raise BodyError("bad chunk-size line")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BodyError("bad chunk size")
            if size == 0:
                break
            total += size
            if total > MAX_UPLOAD:
                raise BodyError("body too large")
            while size > 0:
                b = self.rfile.read(min(size, BLOCK))
                if not b:
                    raise BodyError("body cut short")
                size -= len(b)
                yield b
            if self.rfile.readline(MAX_CHUNK_LINE).strip() != b"":
                raise BodyError("no CRLF after a chunk")
        while True:  # trailers
            line = self.rfile.readline(MAX_CHUNK_LINE)
            if line in (b"\r\n", b"\n", b""):
                break

    def _chunk(self, data):
        """Writes one chunk of a chunked response (b"" ends it)."""
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _head(self, status, headers, auth):
        self._log(status, auth)
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("apim-request-id", str(uuid.uuid4()))
        self.end_headers()

    def _reset(self):
        """Closes the connection with a TCP reset (SO_LINGER 0)."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def _wait_peer_close(self, limit):
        """Waits (at most @limit s) until the client closes; True if it did."""
        deadline = time.monotonic() + limit
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self.server.stopping_event.is_set():
                return False
            if select.select([self.connection], [], [], min(left, 0.5))[0]:
                try:
                    data = self.connection.recv(BLOCK)
                except (ConnectionResetError, OSError):
                    return True
                if not data:
                    return True

    # --- routes -------------------------------------------------------

    def _relay_route(self, path, query, auth):
        """Serves /fake/gate and RELAY_ROUTES; True if @path was one of them."""
        if path == "/fake/gate":
            name = query.get("name", [""])[0]
            if not name:
                self._error(400, "BadRequest", "give name=GATE", auth)
            else:
                self._gate(name).set()
                self._event("gate-open", gate=name)
                self._send(200, {"opened": name}, auth)
            return True
        if path not in self.RELAY_ROUTES:
            return False
        if auth is None:
            self._drain_body()
            self._error(401, "401", self.MSG_401, None)
            return True
        getattr(self, "_fake_" + path[len("/fake/"):])(query, auth)
        return True

    def _drain_body(self):
        try:
            for _ in self._body_chunks():
                pass
        except (BodyError, OSError):
            self.close_connection = True

    def _fake_upload(self, query, auth):
        h, n = hashlib.sha256(), 0
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        self._event("upload-start", chunked=chunked,
                    content_length=self.headers.get("Content-Length"))
        try:
            for b in self._body_chunks():
                h.update(b)
                n += len(b)
        except (BodyError, OSError) as e:
            self._event("upload-cut", length=n, chunked=chunked, why=str(e))
            self.close_connection = True
            try:
                self._error(400, "BadRequest", str(e), auth)
            except OSError:
                pass
            return
        self._event("upload", length=n, chunked=chunked)
        self._send(200, {"sha256": h.hexdigest(), "length": n, "chunked": chunked}, auth)

    def _fake_download(self, query, auth):
        self._drain_body()
        try:
            n = int(query.get("bytes", ["0"])[0])
        except ValueError:
            n = -1
        mode = query.get("mode", ["length"])[0]
        if not 0 <= n <= MAX_DOWNLOAD or mode not in FRAMINGS:
            self._error(400, "BadRequest", "give bytes=N and mode=length|chunked|close", auth)
            return
        h = hashlib.sha256()
        for b in pattern(n):
            h.update(b)
        headers = [("Content-Type", "application/octet-stream"), ("X-Fake-Sha256", h.hexdigest())]
        headers += framing(mode, n)
        self._head(200, headers, auth)
        for b in pattern(n):
            if mode == "chunked":
                self._chunk(b)
            else:
                self.wfile.write(b)
        if mode == "chunked":
            self._chunk(b"")
        if mode == "close":
            self.close_connection = True

    def _fake_status(self, query, auth):
        self._drain_body()
        try:
            code = int(query.get("code", ["0"])[0])
        except ValueError:
            code = 0
        if not 200 <= code <= 599:
            self._error(400, "BadRequest", "give code=200..599", auth)
            return
        if code in (204, 304):  # no body, no length: as servers answer these
            self._head(code, [("ETag", '"fake"')], auth)
            return
        extra = []
        if "retry_after" in query:
            extra.append(("Retry-After", query["retry_after"][0][:32]))
        msg = {401: self.MSG_401,
               429: "Requests to the ChatCompletions_Create Operation under Azure OpenAI API "
                    "have exceeded call rate limit. Please retry after 7 seconds."}
        self._send(code, {"error": {"code": str(code), "message": msg.get(code, "scripted")}},
                   auth, extra)

    def _fake_gzip(self, query, auth):
        self._drain_body()
        body = GZIP_BODY
        self._head(200, [("Content-Type", "application/json"), ("Content-Encoding", "gzip"),
                         ("Content-Length", str(len(body))), ("Set-Cookie", "a=1; Path=/"),
                         ("Set-Cookie", "b=2; Path=/"), ("X-Multi", "one"), ("X-Multi", "two"),
                         ("X-Fake-Sha256", hashlib.sha256(body).hexdigest())], auth)
        self.wfile.write(body)

    def _fake_both(self, query, auth):
        """Content-Length: 40 beside Transfer-Encoding: chunked, and a 5-byte chunked body
        (RFC 9112 6.3: the chunked framing wins; a proxy must drop the length)."""
        self._drain_body()
        self._log(200, auth)
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         b"Content-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"5\r\nhello\r\n0\r\n\r\n")

    def _fake_hints(self, query, auth):
        """103 Early Hints, then the answer: {"hinted": true}."""
        self._drain_body()
        body = b'{"hinted": true}'
        self._log(200, auth)
        self.wfile.write(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n")
        self.wfile.flush()
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def _fake_hang(self, query, auth):
        self._drain_body()
        self._log(None, auth)
        self._event("hang")
        closed = self._wait_peer_close(MAX_WAIT)
        if closed:
            self._event("peer-closed")
        self.close_connection = True

    def _fake_reset(self, query, auth):
        self._drain_body()
        self._log(None, auth)
        self._event("reset")
        self._reset()

    def _fake_garbage(self, query, auth):
        self._drain_body()
        self._log(None, auth)
        self._event("garbage")
        self.wfile.write(GARBAGE)
        self.close_connection = True

    def _fake_cut(self, query, auth):
        self._drain_body()
        mode = query.get("mode", ["length"])[0]
        try:
            n = int(query.get("bytes", ["1000"])[0])
        except ValueError:
            n = -1
        if mode not in FRAMINGS or not 1 <= n <= MAX_DOWNLOAD // 2:
            self._error(400, "BadRequest", "give mode=length|chunked|close and bytes=N", auth)
            return
        headers = [("Content-Type", "application/octet-stream")] + framing(mode, 2 * n)
        self._head(200, headers, auth)
        body = b"".join(pattern(n))
        if mode == "chunked":
            self._chunk(body)
        else:
            self.wfile.write(body)
        self._event("cut", sent=n)
        self._reset()

    def _fake_drip(self, query, auth):
        self._drain_body()
        try:
            interval = float(query.get("interval", ["0.05"])[0])
        except ValueError:
            interval = -1
        if not 0.001 <= interval <= 10:
            self._error(400, "BadRequest", "interval in [0.001, 10]", auth)
            return
        self._sse_head(auth)
        sent = 0
        try:
            while sent < MAX_DRIP and not self.server.stopping_event.is_set():
                self._chunk(b"data: %s\n\n" % json.dumps({"n": sent}).encode())
                sent += 1
                if select.select([self.connection], [], [], interval)[0]:
                    if not self.connection.recv(BLOCK, socket.MSG_PEEK):
                        break  # EOF: the client went away
        except OSError:
            pass
        self._event("peer-closed", sent=sent)
        self.close_connection = True

    # --- SSE chat completions -----------------------------------------

    def _sse_head(self, auth):
        self._head(200, [("Content-Type", "text/event-stream; charset=utf-8"),
                         ("Cache-Control", "no-cache"),
                         ("x-request-id", str(uuid.uuid4())),
                         ("Transfer-Encoding", "chunked")], auth)

    def _chat_stream(self, req, model, auth):
        """A chat completion streamed as Azure does (see the module docstring)."""
        gate = parse_qs(urlsplit(self.path).query).get("fake-gate", [None])[0]
        cid = "chatcmpl-" + uuid.uuid4().hex[:29]
        created = int(time.time())

        def chunk(delta, finish=None):
            return {"choices": [{"content_filter_results": {}, "delta": delta,
                                 "finish_reason": finish, "index": 0, "logprobs": None}],
                    "created": created, "id": cid, "model": model,
                    "object": "chat.completion.chunk", "system_fingerprint": "fp_fake"}

        first = {"choices": [], "created": 0, "id": "", "model": "", "object": "",
                 "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {
                     k: {"filtered": False, "severity": "safe"}
                     for k in ("hate", "self_harm", "sexual", "violence")}}]}
        events = [chunk({"content": "", "refusal": None, "role": "assistant"})]
        events += [chunk({"content": w}) for w in STREAM_WORDS]
        events.append(chunk({}, "stop"))
        self._sse_head(auth)
        self._sse_event(first)
        if gate:
            self._event("gate-wait", gate=gate)
            if not self._gate(gate).wait(MAX_WAIT):
                self.close_connection = True
                return
        for e in events:
            self._sse_event(e)
        self._chunk(b"data: [DONE]\n\n")
        self._chunk(b"")

    def _sse_event(self, obj):
        self._chunk(b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n")
