# SPDX-License-Identifier: MIT
"""The fake Azure OpenAI endpoint's routes for the relay's tests
(tests/fakes/fake_aoai_relay.py), spoken to directly: the relay's tests rely
on them behaving as described."""

import gzip
import hashlib
import os
import sys
import http.client
import json
import select
import socket
import threading

import pytest

from aoaitest import stop_fake
from relaytest import (CHAT_PATH, IO_TIMEOUT, V1_CHAT_PATH, chat_body, events, open_gate,
                       sse_events, start_relay_fake, wait_event)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "fakes"))
import fake_aoai_relay  # noqa: E402


@pytest.fixture
def fake(ctx):
    f = start_relay_fake(ctx)
    yield f
    stop_fake(f)


def conn(fake, timeout=IO_TIMEOUT):
    return http.client.HTTPConnection("127.0.0.1", fake.port, timeout=timeout)


def key(fake, **extra):
    return {"api-key": fake.key, **extra}


def test_stream_shapes(fake):
    for path in (CHAT_PATH, V1_CHAT_PATH):
        c = conn(fake)
        c.request("POST", path, chat_body(stream=True, model="gpt-4o"),
                  key(fake, **{"Content-Type": "application/json"}))
        r = c.getresponse()
        assert r.status == 200 and r.getheader("Content-Type").startswith("text/event-stream")
        assert r.getheader("Transfer-Encoding") == "chunked"
        evs = list(sse_events(r))
        c.close()
        assert evs[-1] == "[DONE]", evs
        objs = [json.loads(e) for e in evs[:-1]]
        assert objs[0]["choices"] == [] and objs[0]["prompt_filter_results"], objs[0]
        chunks = objs[1:]
        assert all(o["object"] == "chat.completion.chunk" for o in chunks)
        assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
        assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
        text = "".join(o["choices"][0]["delta"].get("content") or "" for o in chunks)
        assert text == "".join(fake_aoai_relay.STREAM_WORDS), text
        assert len({o["id"] for o in chunks}) == 1


def test_stream_gate_holds_until_opened(fake):
    c = conn(fake)
    c.request("POST", CHAT_PATH + "&fake-gate=g1", chat_body(stream=True), key(fake))
    r = c.getresponse()
    it = sse_events(r)
    first = json.loads(next(it))
    assert first["choices"] == []
    wait_event(fake, "gate-wait")
    # Held: nothing more arrives while the gate is shut (nor is buffered: the
    # fake sent the first event alone).
    assert not select.select([c.sock], [], [], 0.3)[0], "the gated stream went on"
    open_gate(fake, "g1")
    rest = list(it)
    assert rest[-1] == "[DONE]" and len(rest) > 3, rest
    c.close()


@pytest.mark.parametrize("chunked", [False, True])
def test_upload(fake, chunked):
    size = 3 * 1024 * 1024 + 17
    data = b"".join(fake_aoai_relay.pattern(size))
    c = conn(fake)
    if chunked:
        c.request("POST", "/fake/upload", body=iter([data[:1000], data[1000:]]),
                  headers=key(fake), encode_chunked=True)
    else:
        c.request("POST", "/fake/upload", body=data, headers=key(fake))
    r = c.getresponse()
    got = json.loads(r.read())
    assert r.status == 200, got
    assert got == {"sha256": hashlib.sha256(data).hexdigest(), "length": size,
                   "chunked": chunked}
    # Keep-alive after a big body: a second request on the same connection.
    c.request("POST", "/fake/upload", body=b"x", headers=key(fake))
    assert json.loads(c.getresponse().read())["length"] == 1
    c.close()
    c = conn(fake)
    c.request("POST", "/fake/upload", body=b"abc")
    r = c.getresponse()
    assert r.status == 401
    r.read()
    c.close()


@pytest.mark.parametrize("mode", ["length", "chunked", "close"])
def test_download(fake, mode):
    size = 2 * 1024 * 1024 + 5
    c = conn(fake)
    c.request("GET", f"/fake/download?bytes={size}&mode={mode}", headers=key(fake))
    r = c.getresponse()
    h = hashlib.sha256()
    n = 0
    while True:
        b = r.read(65536)
        if not b:
            break
        h.update(b)
        n += len(b)
    c.close()
    assert r.status == 200 and n == size
    assert r.getheader("X-Fake-Sha256") == h.hexdigest()
    assert (r.getheader("Transfer-Encoding") == "chunked") == (mode == "chunked")
    assert (r.getheader("Content-Length") is None) == (mode != "length")


def test_status_and_retry_after(fake):
    c = conn(fake)
    c.request("GET", "/fake/status?code=429&retry_after=7", headers=key(fake))
    r = c.getresponse()
    body = json.loads(r.read())
    c.close()
    assert r.status == 429 and r.getheader("Retry-After") == "7"
    assert body["error"]["code"] == "429" and "retry" in body["error"]["message"]


def test_faults(fake):
    # reset: no response at all
    c = conn(fake)
    c.request("GET", "/fake/reset", headers=key(fake))
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
        c.getresponse()
    c.close()
    wait_event(fake, "reset")
    # garbage: not HTTP
    c = conn(fake)
    c.request("GET", "/fake/garbage", headers=key(fake))
    with pytest.raises(http.client.HTTPException):
        c.getresponse()
    c.close()
    # cut: a body shorter than promised, both framings
    for mode in ("length", "chunked", "close"):
        c = conn(fake)
        c.request("GET", f"/fake/cut?mode={mode}&bytes=5000", headers=key(fake))
        r = c.getresponse()
        assert r.status == 200
        with pytest.raises((http.client.IncompleteRead, ConnectionError)):
            r.read()
        c.close()
    assert len(events(fake, "cut")) == 3


@pytest.mark.parametrize("chunked", [False, True])
def test_upload_cut_short_is_recorded(fake, chunked):
    s = socket.create_connection(("127.0.0.1", fake.port), timeout=IO_TIMEOUT)
    framing = "Transfer-Encoding: chunked" if chunked else "Content-Length: 100000"
    s.sendall((f"POST /fake/upload HTTP/1.1\r\nHost: x\r\napi-key: {fake.key}\r\n"
               f"{framing}\r\n\r\n").encode() + (b"400\r\n" if chunked else b"")
              + b"z" * 1024)
    s.close()
    (ev,) = wait_event(fake, "upload-cut")
    assert ev["length"] == 1024 and ev["chunked"] == chunked, ev
    assert events(fake, "upload") == []


def test_hang_sees_the_client_close(fake):
    c = conn(fake)
    c.request("GET", "/fake/hang", headers=key(fake))
    wait_event(fake, "hang")
    assert events(fake, "peer-closed") == []
    c.close()
    wait_event(fake, "peer-closed", "/fake/hang", timeout=5)


def test_drip_sees_the_client_close(fake):
    c = conn(fake)
    c.request("GET", "/fake/drip?interval=0.02", headers=key(fake))
    r = c.getresponse()
    it = sse_events(r)
    assert json.loads(next(it)) == {"n": 0}
    assert json.loads(next(it)) == {"n": 1}
    c.close()
    r.close()
    (ev,) = wait_event(fake, "peer-closed", "/fake/drip", timeout=5)
    assert ev["sent"] >= 2


def test_many_gated_streams(fake):
    """64 streams held open at once, released together."""
    n, firsts, results = 64, threading.Barrier(65, timeout=30), []

    def one():
        c = conn(fake, timeout=30)
        try:
            c.request("POST", CHAT_PATH + "&fake-gate=many", chat_body(stream=True), key(fake))
            it = sse_events(c.getresponse())
            next(it)
            firsts.wait()
            results.append(list(it)[-1])
        finally:
            c.close()

    threads = [threading.Thread(target=one, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    firsts.wait()
    open_gate(fake, "many")
    for t in threads:
        t.join(30)
    assert results == ["[DONE]"] * n


def test_gzip_and_repeated_headers(fake):
    c = conn(fake)
    c.request("GET", "/fake/gzip", headers=key(fake))
    r = c.getresponse()
    body = r.read()
    c.close()
    assert r.status == 200 and r.getheader("Content-Encoding") == "gzip"
    assert hashlib.sha256(body).hexdigest() == r.getheader("X-Fake-Sha256")
    assert json.loads(gzip.decompress(body))["gzip"].startswith("zzz")
    assert [v for k, v in r.getheaders() if k == "Set-Cookie"] == ["a=1; Path=/", "b=2; Path=/"]


def test_length_beside_chunked_and_early_hints(fake):
    c = conn(fake)
    c.request("GET", "/fake/both", headers=key(fake))
    r = c.getresponse()
    assert r.getheader("Content-Length") == "40" and r.read() == b"hello"  # chunked wins
    c.close()
    s = socket.create_connection(("127.0.0.1", fake.port), timeout=IO_TIMEOUT)
    s.sendall(f"GET /fake/hints HTTP/1.1\r\nHost: x\r\napi-key: {fake.key}\r\n"
              "Connection: close\r\n\r\n".encode())
    raw = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        raw += b
    s.close()
    hints, rest = raw.split(b"\r\n\r\n", 1)
    assert hints.startswith(b"HTTP/1.1 103 ") and b"Link: </a.css>" in hints, raw
    assert rest.startswith(b"HTTP/1.1 200 ") and rest.endswith(b'{"hinted": true}'), raw
