# SPDX-License-Identifier: MIT
"""The wire protocol against malformed and hostile input (PROTOCOL.md):
every bad frame gets its documented error or a closed connection, never a
crash, and never disturbs other clients."""

import json
import struct
import time

import pytest

from aoaitest import PROTO_MAX_FRAME, expect_error, expect_ok, expect_rc, fail, wait_until

STATUS = {"v": 1, "op": "status"}


def still_usable(c):
    expect_ok(c.request(STATUS), "the connection should still be usable")


def agent_serves(raw, agent):
    with raw() as c:
        assert expect_ok(c.request(STATUS))["pid"] == agent.pid


@pytest.mark.parametrize("length", [0, PROTO_MAX_FRAME + 1, 0x7FFFFFFF, 0xFFFFFFFF])
def test_bad_length_gets_error_and_close(agent, raw, length):
    c = raw()
    c.send_raw(struct.pack(">I", length))
    expect_error(c.recv_frame(), "bad_request", f"length {length}")
    if not c.closed_by_peer(5):
        fail(f"the connection stayed open after a frame of length {length}")
    agent_serves(raw, agent)


def test_max_frame_accepted(agent, raw):
    body = json.dumps(STATUS).encode()
    payload = body + b" " * (PROTO_MAX_FRAME - len(body))
    assert len(payload) == PROTO_MAX_FRAME
    with raw() as c:
        c.send_frame(payload)
        expect_ok(c.recv_frame(), "a frame of exactly PROTO_MAX_FRAME bytes")


def test_truncated_frame_then_close(agent, raw):
    c = raw()
    c.send_raw(struct.pack(">I", 100) + b'{"v":1,"op":"st')
    c.close()
    c2 = raw()
    c2.send_raw(b"\x00\x00")  # half a header, then gone
    c2.close()
    agent_serves(raw, agent)
    assert agent.alive()


@pytest.mark.parametrize("payload,code", [
    (b"hello", "bad_request"),
    (b"[]", "bad_request"),
    (b"[1, 2]", "bad_request"),
    (b'"status"', "bad_request"),
    (b"42", "bad_request"),
    (b"null", "bad_request"),
    (b"{}", "bad_request"),
    (b'{"v": 1}', "bad_request"),
    (b'{"op": "status"}', "bad_request"),
    (b'{"v": "1", "op": "status"}', "bad_request"),
    (b'{"v": 1.5, "op": "status"}', "bad_request"),
    (b'{"v": 1, "op": 5}', "bad_request"),
    (b'{"v": 1, "op": null}', "bad_request"),
    (b'{"v": 1, "op": "status", "extra": 1}', "bad_request"),
    (b'{"v": 1, "op": "status"} trailing', "bad_request"),
    (b'{"v": 1, "op": "status"}{"v": 1, "op": "status"}', "bad_request"),
    (b'{"v": 1, "op": "st\xffatus"}', "bad_request"),
    (b'{"v": 1, "op": "frobnicate"}', "unknown_op"),
    (b'{"v": 1, "op": ""}', "unknown_op"),
    (b'{"v": 2, "op": "status"}', "unsupported_version"),
    (b'{"v": 0, "op": "status"}', "unsupported_version"),
    (b'{"v": 1, "op": "add", "name": 5, "secret": "x"}', "bad_request"),
    (b'{"v": 1, "op": "add", "name": "n", "secret": 5}', "bad_request"),
    (b'{"v": 1, "op": "add", "name": "n"}', "bad_request"),
    (b'{"v": 1, "op": "add", "name": "n", "secret": ""}', "bad_request"),
    (b'{"v": 1, "op": "add", "name": "n", "secret": "a\\u0000b"}', "bad_request"),
    (b'{"v": 1, "op": "add", "name": "n", "secret": "x", "lifetime": "1"}', "bad_request"),
    (b'{"v": 1, "op": "add", "name": "n", "secret": "x", "lifetime": -1}', "bad_request"),
    (b'{"v": 1, "op": "add", "name": "n", "secret": "x", "lifetime": 3153600001}',
     "bad_request"),
    (b'{"v": 1, "op": "add", "name": "n", "secret": "x", "lifetime": 1.5}', "bad_request"),
    (b'{"v": 1, "op": "add", "name": "a/b", "secret": "x"}', "bad_request"),
    (b'{"v": 1, "op": "add", "name": "", "secret": "x"}', "bad_request"),
    (b'{"v": 1, "op": "add", "name": "n", "secret": "x", "host": 7}', "bad_request"),
    (b'{"v": 1, "op": "headers"}', "bad_request"),
    (b'{"v": 1, "op": "headers", "url": 1}', "bad_request"),
    (b'{"v": 1, "op": "headers", "url": ""}', "bad_request"),
    (b'{"v": 1, "op": "remove"}', "bad_request"),
    (b'{"v": 1, "op": "remove", "name": "a", "all": true}', "bad_request"),
    (b'{"v": 1, "op": "remove", "all": false}', "bad_request"),
    (b'{"v": 1, "op": "remove", "all": "yes"}', "bad_request"),
    (b'{"v": 1, "op": "lock"}', "bad_request"),
    (b'{"v": 1, "op": "lock", "passphrase": 1}', "bad_request"),
    (b'{"v": 1, "op": "list", "verbose": true}', "bad_request"),
], ids=lambda x: x.decode("utf-8", "replace")[:40] if isinstance(x, bytes) else x)
def test_bad_message_error_code_connection_usable(agent, raw, payload, code):
    with raw() as c:
        c.send_frame(payload)
        reply = expect_error(c.recv_frame(), code, repr(payload))
        if code == "unsupported_version":
            assert reply.get("versions") == [1], reply
        still_usable(c)


def test_long_fields_refused(ctx, agent, raw):
    with raw() as c:
        for req in [
            {"v": 1, "op": "add", "name": "n" * 65, "secret": "x"},
            {"v": 1, "op": "add", "name": "n", "secret": "x" * 16385},
            {"v": 1, "op": "add", "name": "n", "secret": "x", "host": "h" * 256},
            {"v": 1, "op": "headers", "url": "https://a.example/" + "p" * 8192},
            {"v": 1, "op": "lock", "passphrase": "p" * 1025},
        ]:
            expect_error(c.request(req), "bad_request", json.dumps(req)[:60])
        still_usable(c)
        assert expect_ok(c.request({"v": 1, "op": "list"}))["secrets"] == []


def test_pipelined_requests_in_order(agent, raw):
    frames = b""
    for req in (STATUS, {"v": 1, "op": "list"}, {"v": 1, "op": "nope"}, STATUS):
        body = json.dumps(req).encode()
        frames += struct.pack(">I", len(body)) + body
    with raw() as c:
        c.send_raw(frames)
        r1, r2, r3, r4 = (c.recv_frame() for _ in range(4))
    assert "pid" in expect_ok(r1) and "profiles" in expect_ok(r2)
    expect_error(r3, "unknown_op")
    assert "pid" in expect_ok(r4)


def test_frame_split_across_writes(agent, raw):
    body = json.dumps(STATUS).encode()
    data = struct.pack(">I", len(body)) + body
    with raw() as c:
        for i in range(len(data)):
            c.send_raw(data[i:i + 1])
        expect_ok(c.recv_frame())


def test_half_sent_frame_does_not_block_others(ctx, agent, raw, aoai):
    bad = raw(timeout=15)
    bad.send_raw(struct.pack(">I", 50) + b'{"v":')
    for _ in range(3):
        st = expect_rc(aoai("status", "--json"), 0, "status while another client is stuck")
        assert json.loads(st.stdout)["pid"] == agent.pid
    agent_serves(raw, agent)
    # Once the stuck client completes its frame it is answered normally.
    bad.send_raw(b' 1, "op": "status"}' + b" " * (50 - 5 - 19))
    expect_ok(bad.recv_frame())


def test_idle_partial_frame_dropped(agent, raw):
    """A partial frame idle for 10 s is refused with a `limit` error, then
    the connection is closed (PROTOCOL.md)."""
    c = raw(timeout=20)
    t0 = time.monotonic()
    c.send_raw(struct.pack(">I", 20) + b"{")
    try:
        reply = c.recv_frame(16)
    except TimeoutError:
        fail("a partial frame idle for 16 s was not dropped (expected after 10 s)")
    took = time.monotonic() - t0
    expect_error(reply, "limit", "a partial frame past the time limit")
    assert "timed out" in reply["message"], reply
    assert took >= 9.0, f"dropped after {took:.1f}s, before the 10 s idle limit"
    assert c.closed_by_peer(5), "the connection stays open after the refusal"
    agent_serves(raw, agent)


def test_idle_connection_between_frames_kept(agent, raw):
    """Only a *partial* frame times out: a connection idle between requests stays."""
    with raw() as c:
        still_usable(c)
        assert not c.closed_by_peer(0.5)
        still_usable(c)


def test_many_clients(agent, raw):
    clients = [raw() for _ in range(50)]
    for c in clients:
        c.send_json(STATUS)
    for c in clients:
        expect_ok(c.recv_frame())
    for c in clients:
        c.close()
    agent_serves(raw, agent)


def test_client_gone_before_reply(agent, raw):
    """A client that sends and vanishes must not hurt the agent (SIGPIPE ignored)."""
    for _ in range(20):
        c = raw()
        c.send_json({"v": 1, "op": "list"})
        c.close()
    agent_serves(raw, agent)
    assert agent.alive()


def test_garbage_burst(agent, raw):
    import random
    rng = random.Random(1234)  # fixed seed: reproducible
    for _ in range(30):
        c = raw()
        n = rng.randrange(1, 64)
        body = bytes(rng.randrange(256) for _ in range(n))
        c.send_raw(struct.pack(">I", n) + body)
        try:
            reply = c.recv_frame()
            if reply["ok"] is not False:
                fail(f"random bytes were accepted: {body!r}")
        except (EOFError, ConnectionResetError):
            pass
        c.close()
    agent_serves(raw, agent)


def test_deeply_nested_json(agent, raw):
    with raw() as c:
        c.send_frame(b"[" * 100000 + b"]" * 100000)
        expect_error(c.recv_frame(), "bad_request", "deeply nested JSON")
        still_usable(c)
        c.send_frame(b'{"v": 1, "op": "status", "x": ' + b"{\"a\":" * 5000 + b"1" +
                     b"}" * 5001)
        expect_error(c.recv_frame(), "bad_request", "deeply nested object")
        still_usable(c)


def test_non_reading_client_does_not_block_others(agent, raw):
    """A client that pipelines many requests and never reads its replies."""
    body = json.dumps({"v": 1, "op": "list"}).encode()
    frame = struct.pack(">I", len(body)) + body
    hog = raw()
    hog.sock.setblocking(False)
    sent = 0
    for _ in range(2000):  # bounded; stops early once the socket buffer is full
        try:
            sent += hog.sock.send(frame * 50)
        except BlockingIOError:
            break
    assert sent > 0
    for _ in range(3):
        agent_serves(raw, agent)
    hog.close()
    agent_serves(raw, agent)


def test_connection_cap(agent, raw):
    """More connections than the agent's cap: the earliest are served, the
    excess get an error or a close, and the agent recovers when they go."""
    import socket as so
    conns = []
    try:
        for _ in range(1100):
            for _attempt in range(200):  # the listen backlog may be full for a moment
                s = so.socket(so.AF_UNIX, so.SOCK_STREAM)
                try:
                    s.connect(str(agent.sock))
                    break
                except (BlockingIOError, ConnectionRefusedError):
                    s.close()
                    time.sleep(0.005)
            else:
                fail("could not connect within the bounded retries")
            conns.append(s)
        body = json.dumps(STATUS).encode()
        first = conns[0]
        first.settimeout(5)
        first.sendall(struct.pack(">I", len(body)) + body)
        (n,) = struct.unpack(">I", first.recv(4))
        assert n > 0
        last = conns[-1]
        last.settimeout(5)
        try:
            last.sendall(struct.pack(">I", len(body)) + body)
            head = last.recv(4)
            if head:
                (n,) = struct.unpack(">I", head)
                data = b""
                while len(data) < n:
                    chunk = last.recv(n - len(data))
                    if not chunk:
                        break
                    data += chunk
                reply = json.loads(data)
                assert reply["ok"] or reply["error"] == "limit", reply
        except (BrokenPipeError, ConnectionResetError):
            pass
    finally:
        for s in conns:
            s.close()

    def served():
        # The agent sees the closes asynchronously: until it has, "limit" is right.
        with raw() as c:
            reply = c.request(STATUS)
        if not reply["ok"] and reply["error"] != "limit":
            fail(f"unexpected reply after the flood: {json.dumps(reply)}")
        return reply["ok"]

    wait_until(served, 10, "the agent to serve again after the connections closed")
    assert agent.alive()
