# SPDX-License-Identifier: MIT
"""aoai-exec's relay as an HTTP intermediary: what it passes on unchanged
(method, path, query, end-to-end headers), what it drops (hop-by-hop
headers), HEAD, pipelined requests, curl's `Expect: 100-continue` uploads,
and a client that stops reading a big body (the relay must stop reading
the upstream rather than buffer it)."""

import hashlib
import http.client
import json
import os
import select
import socket
import time

from aoaitest import CURL, describe, expect_rc, fail
from relaytest import (IO_TIMEOUT, MB, api_requests, check_peak_rss, events, request, sha12,
                       read_hashed, start_holder, status_of, warm_hwm)

BIG = 20 * MB
RSS_LIMIT_KB = 40 * 1024
GROWTH_LIMIT_KB = 8 * 1024  # what a 20 MB body may add to aoai-exec's working set
PAUSE = 1.0  # seconds a slow client stops reading: the scenario, not a synchronisation
ANSWER_TIMEOUT = 5.0  # seconds for an answer the relay can give at once


def test_request_forwarded_unchanged(ctx, relay_scene, exec_child):
    h = start_holder(ctx, exec_child)
    target = "/echo/x?a=1&b=%2F%20c+d&empty="
    status, _, body = request(h, "PATCH", target, b'{"k": 1}', {
        "X-App": "app-value", "User-Agent": "relay-test/1", "Content-Type": "application/json",
        "Keep-Alive": "timeout=5", "TE": "trailers", "Proxy-Authorization": "Basic eDp5",
        "Connection": "keep-alive, X-Conn-Listed", "X-Conn-Listed": "hop"})
    assert status == 200, (status, body[:300])
    (seen,) = api_requests(relay_scene.fake, "/echo/x")
    assert seen["method"] == "PATCH" and seen["query"] == "a=1&b=%2F%20c+d&empty=", seen
    names = seen["headers"]
    assert seen["header_fps"]["x-app"] == [sha12("app-value")], seen
    assert seen["header_fps"]["api-key"] == [sha12(relay_scene.key)], seen
    assert "user-agent" in names and "content-type" in names, names
    hop = sorted({"keep-alive", "te", "proxy-authorization", "x-conn-listed"} & set(names))
    assert not hop, f"hop-by-hop headers went upstream: {hop}"
    echoed = {e["name"].lower(): e["fp"] for e in json.loads(body)["headers"]}
    assert echoed.get("user-agent") == sha12("relay-test/1"), echoed
    h.finish()


def test_path_sent_as_is(ctx, relay_scene, exec_child):
    """Dot segments and doubled slashes are the upstream's to interpret, not the relay's."""
    h = start_holder(ctx, exec_child)
    for target in ("/echo/a/../b", "/echo//c", "/echo/%2e%2e/d"):
        status, _, _ = request(h, "GET", target)
        assert status == 200, (target, status)
    got = [e["path"] for e in relay_scene.fake.requests()]
    assert got == ["/echo/a/../b", "/echo//c", "/echo/%2e%2e/d"], got
    h.finish()


def test_head(ctx, relay_scene, exec_child):
    h = start_holder(ctx, exec_child)
    path = "/echo/head"  # the same headers each time: the same length of body
    c = h.conn()
    try:
        c.request("GET", path, headers=h.auth())
        r = c.getresponse()
        get_len = len(r.read())
        c.request("HEAD", path, headers=h.auth())
        r = c.getresponse()
        assert r.status == 200 and r.read() == b""
        assert int(r.getheader("Content-Length")) == get_len, r.getheaders()
        c.request("GET", path, headers=h.auth())  # the connection is still in step
        r = c.getresponse()
        assert r.status == 200 and len(r.read()) == get_len
    finally:
        c.close()
    h.finish()


def test_bodiless_statuses(ctx, relay_scene, exec_child):
    """204 and 304 carry no body: the relay must not add one (not even a last chunk), so
    the next response on the connection is read in step."""
    h = start_holder(ctx, exec_child)
    c = h.conn()
    try:
        for code in (204, 304, 204):
            c.request("GET", f"/fake/status?code={code}", headers=h.auth())
            r = c.getresponse()
            assert r.status == code and r.read() == b"" and r.getheader("ETag") == '"fake"'
            if r.getheader("Transfer-Encoding") is not None:
                fail(f"a {code} came with Transfer-Encoding (so a body): {r.getheaders()}")
            c.request("GET", "/echo/after", headers=h.auth())
            try:
                r = c.getresponse()
            except http.client.HTTPException as e:
                fail(f"after a {code}, the next response is out of step: {e!r}")
            assert r.status == 200 and json.loads(r.read())["headers"], code
    finally:
        c.close()
    h.finish()


def test_encoded_body_and_repeated_headers(ctx, relay_scene, exec_child):
    """A gzip body is passed on as sent (not decoded), repeated header lines all arrive."""
    h = start_holder(ctx, exec_child)
    c = h.conn()
    try:
        c.request("GET", "/fake/gzip", headers={**h.auth(), "Accept-Encoding": "gzip"})
        r = c.getresponse()
        body = r.read()
        headers = r.getheaders()
    finally:
        c.close()
    assert r.status == 200 and r.getheader("Content-Encoding") == "gzip", headers
    assert hashlib.sha256(body).hexdigest() == r.getheader("X-Fake-Sha256"), len(body)
    cookies = [v for k, v in headers if k.lower() == "set-cookie"]
    multi = [v for k, v in headers if k.lower() == "x-multi"]
    assert cookies == ["a=1; Path=/", "b=2; Path=/"] and multi == ["one", "two"], headers
    (seen,) = api_requests(relay_scene.fake, "/fake/gzip")
    assert "accept-encoding" in seen["headers"], seen
    h.finish()


def test_response_length_beside_chunked(ctx, relay_scene, exec_child):
    """An upstream answer with Content-Length beside chunked framing: the chunked body
    wins (RFC 9112, 6.3) and the client gets it with one, true framing."""
    h = start_holder(ctx, exec_child)
    c = h.conn(timeout=ANSWER_TIMEOUT)
    try:
        c.request("GET", "/fake/both", headers=h.auth())
        r = c.getresponse()
        try:
            body = r.read()
        except (http.client.IncompleteRead, TimeoutError) as e:
            fail(f"the body came framed as {r.getheader('Content-Length')} bytes "
                 f"(Transfer-Encoding {r.getheader('Transfer-Encoding')}): {e!r}")
    finally:
        c.close()
    assert r.status == 200 and body == b"hello", (r.status, body)
    h.finish()


def test_early_hints_then_answer(ctx, relay_scene, exec_child):
    """A 103 before the answer: the client gets the 200 and its body in step (the 103
    passed on or not)."""
    h = start_holder(ctx, exec_child)
    s = socket.create_connection(("127.0.0.1", h.port), timeout=IO_TIMEOUT)
    try:
        s.sendall((f"GET /fake/hints HTTP/1.1\r\nHost: 127.0.0.1:{h.port}\r\n"
                   f"api-key: {h.placeholder}\r\nConnection: close\r\n\r\n").encode())
        raw = read_until_close(s, ANSWER_TIMEOUT)
    finally:
        s.close()
    if raw is None:
        fail("no answer (or the connection left open) after a 103")
    while raw.startswith(b"HTTP/1.1 1"):  # informational answers, each a head alone
        raw = raw.split(b"\r\n\r\n", 1)[1]
    assert status_of(raw) == 200, raw[:300]
    head, body = raw.split(b"\r\n\r\n", 1)
    assert json.loads(body) == {"hinted": True}, raw[:300]
    assert b"Early Hints" not in body and b"\nLink:" not in head, raw[:300]
    h.finish()


def test_pipelined_requests(ctx, relay_scene, exec_child):
    h = start_holder(ctx, exec_child)
    one = (f"GET /echo/p{{}} HTTP/1.1\r\nHost: 127.0.0.1:{h.port}\r\n"
           f"api-key: {h.placeholder}\r\n\r\n")
    s = socket.create_connection(("127.0.0.1", h.port), timeout=IO_TIMEOUT)
    try:
        s.sendall((one.format(1) + one.format(2)).encode())
        f = s.makefile("rb")
        statuses = []
        for _ in range(2):
            line = f.readline()
            statuses.append(status_of(line))
            length = None
            while True:
                hl = f.readline()
                if hl in (b"\r\n", b""):
                    break
                if hl.lower().startswith(b"content-length:"):
                    length = int(hl.split(b":")[1])
            assert length is not None, "no Content-Length"
            f.read(length)
    finally:
        s.close()
    assert statuses == [200, 200], statuses
    assert [e["path"] for e in relay_scene.fake.requests()] == ["/echo/p1", "/echo/p2"]
    h.finish()


def test_curl_big_upload(ctx, relay_scene, aoai_exec):
    """curl sends `Expect: 100-continue` before a big body; the upload arrives whole."""
    data = hashlib.sha256(b"curl").digest() * (BIG // 32)
    path = ctx.path("big.bin")
    path.write_bytes(data)
    script = ('exec "$1" -q -sS --max-time 60 -H "api-key: $AZURE_OPENAI_API_KEY" '
              '--data-binary @"$2" "${AZURE_OPENAI_ENDPOINT}fake/upload"')
    r = expect_rc(aoai_exec("--no-preload", "--", "/bin/sh", "-c", script, "sh", CURL, path,
                            timeout=90), 0, "curl upload")
    try:
        got = json.loads(r.stdout)
    except ValueError:
        fail(f"curl's upload got no JSON answer:\n{describe(r)}")
    assert got == {"sha256": hashlib.sha256(data).hexdigest(), "length": BIG,
                   "chunked": False}, got


def test_slow_reader_bounded(ctx, build, relay_scene, exec_child):
    """A client that stops reading a 20 MB download: aoai-exec must not buffer the rest."""
    h = start_holder(ctx, exec_child)
    base = warm_hwm(h)
    c = h.conn(timeout=60)
    try:
        c.request("GET", f"/fake/download?bytes={BIG}&mode=length", headers=h.auth())
        r = c.getresponse()
        digest = hashlib.sha256()
        first = r.read(MB)
        digest.update(first)
        time.sleep(PAUSE)  # the slow client; the relay has to hold the upstream back
        check_peak_rss(build, h.exec_pid, RSS_LIMIT_KB, "while the client paused", base,
                       GROWTH_LIMIT_KB)
        n = read_hashed(r, digest, len(first))
    finally:
        c.close()
    assert n == BIG and digest.hexdigest() == r.getheader("X-Fake-Sha256"), n
    check_peak_rss(build, h.exec_pid, RSS_LIMIT_KB, "for a slowly read download", base,
                   GROWTH_LIMIT_KB)
    h.finish()


def test_placeholder_is_per_run_secret_of_the_child(ctx, relay_scene, exec_child):
    """The placeholder is not written anywhere aoai-exec's argv or the fake can see."""
    h = start_holder(ctx, exec_child)
    status, _, _ = request(h, "GET", "/echo/ph")
    assert status == 200
    with open(relay_scene.fake.log) as f:
        log = f.read()
    if h.placeholder in log or sha12(h.placeholder) in log:
        fail("the placeholder (or its fingerprint) reached the upstream")
    if h.placeholder.encode() in open(f"/proc/{h.exec_pid}/cmdline", "rb").read():
        fail("the placeholder is in aoai-exec's argv")
    assert os.path.exists(f"/proc/{h.child_pid}")
    h.finish()


def test_close_delimited_download(ctx, relay_scene, exec_child):
    """An upstream body that ends with its connection (no length, not chunked) arrives
    whole, and the client can tell where it ends."""
    h = start_holder(ctx, exec_child)
    c = h.conn(timeout=60)
    try:
        c.request("GET", f"/fake/download?bytes={4 * MB}&mode=close", headers=h.auth())
        r = c.getresponse()
        data = r.read()
    finally:
        c.close()
    assert r.status == 200 and len(data) == 4 * MB, (r.status, len(data))
    assert hashlib.sha256(data).hexdigest() == r.getheader("X-Fake-Sha256")
    # The upstream closed its connection: the next request opens another.
    status, _, _ = request(h, "GET", "/echo/after-close")
    assert status == 200
    h.finish()


def test_big_request_header(ctx, relay_scene, exec_child):
    """A 24 KB header value is relayed, or refused with 431; never a hang or a crash."""
    h = start_holder(ctx, exec_child)
    value = "v" * (24 * 1024)
    status, _, body = request(h, "GET", "/echo/big", headers={"X-App": value},
                              timeout=ANSWER_TIMEOUT)
    if status == 200:
        (seen,) = api_requests(relay_scene.fake, "/echo/big")
        assert seen["header_fps"]["x-app"] == [sha12(value)], seen
    elif status != 431:
        fail(f"a 24 KB header: {status} {body[:300]!r}")
    status, _, _ = request(h, "GET", "/echo/small")
    assert status == 200
    h.finish()


def test_content_length_with_chunked_refused_or_chunked(ctx, relay_scene, exec_child):
    """Both framings at once (a request-smuggling shape): refused with 400, or the body
    read as chunked, as RFC 9112 says, and sent upstream with one framing: never the
    client's Content-Length beside a body of another length."""
    h = start_holder(ctx, exec_child)
    s = socket.create_connection(("127.0.0.1", h.port), timeout=IO_TIMEOUT)
    try:
        s.sendall((f"POST /fake/upload HTTP/1.1\r\nHost: 127.0.0.1:{h.port}\r\n"
                   f"api-key: {h.placeholder}\r\nContent-Length: 40\r\n"
                   "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                   "5\r\nhello\r\n0\r\n\r\n").encode())
        raw = read_until_close(s, ANSWER_TIMEOUT)
    finally:
        s.close()
    upstream = [(e["headers"], e["status"]) for e in relay_scene.fake.requests()]
    if raw is None:
        fail(f"no answer within {ANSWER_TIMEOUT:.0f}s; the upstream saw "
             f"{events(relay_scene.fake)} with headers {upstream}")
    status = status_of(raw)
    if status == 200:
        got = json.loads(raw.split(b"\r\n\r\n", 1)[1])
        assert got["length"] == 5 and got["sha256"] == hashlib.sha256(b"hello").hexdigest(), got
    elif status != 400:
        fail(f"Content-Length with chunked: got {raw[:300]!r}")
    h.finish()


def read_until_close(s, timeout):
    """All @s sends until it closes, or None if it is still open after @timeout s."""
    buf, deadline = b"", time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            return None
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return buf
        if not chunk:
            return buf
        buf += chunk


def test_curl_http2_upgrade_ignored(ctx, relay_scene, aoai_exec):
    """`curl --http2` on http:// asks to upgrade to h2c; a server may ignore that and answer
    in HTTP/1.1 (RFC 9110, 7.8), and only WebSocket is refused."""
    script = ('exec "$1" -q -sS --http2 --max-time 10 -o /dev/null -w "%{http_code}" '
              '-H "api-key: $AZURE_OPENAI_API_KEY" "${AZURE_OPENAI_ENDPOINT}echo/h2c"')
    r = expect_rc(aoai_exec("--no-preload", "--", "/bin/sh", "-c", script, "sh", CURL), 0,
                  "curl --http2")
    if r.stdout != "200":
        fail(f"curl --http2 through the relay got {r.stdout}, not 200:\n{describe(r)}")
