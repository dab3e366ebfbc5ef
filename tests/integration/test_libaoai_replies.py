# SPDX-License-Identifier: MIT
"""libaoai's `headers` call (aoai_get_headers(), read without jansson) against
a stand-in agent answering crafted replies: every malformed or refused reply
gets its own message and exit code through `aoai headers`, and no credential
of a refused reply reaches the output."""

import json
import socket
import struct
import threading

import pytest

from aoaitest import fail

URL = "https://contoso.openai.azure.com/openai/deployments/x/chat/completions"
FAKE = "SECRET-fake-0123456789"


class CraftedAgent:
    """Answers each connection's first frame with @reply (raw payload bytes)."""

    def __init__(self, path, reply):
        self.reply = reply
        self.requests = []
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(4)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                try:
                    (n,) = struct.unpack(">I", conn.recv(4, socket.MSG_WAITALL))
                    self.requests.append(conn.recv(n, socket.MSG_WAITALL))
                    conn.sendall(struct.pack(">I", len(self.reply)) + self.reply)
                except OSError:
                    pass

    def close(self):
        self.listener.close()


def ok_reply(headers, **extra):
    return {"v": 1, "ok": True, "profile": "contoso", "headers": headers, **extra}


def header(name="api-key", value=FAKE, **extra):
    return {"name": name, "value": value, **extra}


def raw(obj):
    return obj if isinstance(obj, bytes) else json.dumps(obj).encode()


@pytest.fixture
def crafted(ctx, aoai):
    """crafted(reply, *args) -> the CompletedProcess of `aoai headers URL ARGS` against it."""
    agents = []

    def answer(reply, *args):
        path = ctx.path(f"crafted{len(agents)}.sock")
        agents.append(CraftedAgent(path, raw(reply)))
        return aoai("headers", URL, *args, sock=path)

    yield answer
    for a in agents:
        a.close()


NOT_JSON = "the agent's reply is not a JSON object"
BAD_HEADER = "bad header in reply"
NO_HEADERS = "\"headers\" reply without headers"

PROTOCOL_CASES = [
    (b'{"v":1,"ok":true', NOT_JSON),
    (b"[]", NOT_JSON),
    (b'"v"', NOT_JSON),
    (b'{"v":1,"ok":true,"profile":"contoso","headers":[]} x', NOT_JSON),
    (b'{"v":1,"v":1,"ok":true,"profile":"contoso","headers":[]}', NOT_JSON),
    (b'{"v":1,"ok":true,"profile":"contoso","headers":[{"name":"a","name":"b","value":"c"}]}',
     NOT_JSON),
    (b'{"v":1,"ok":true,"profile":"contoso","headers":[{"name":"a","value":"x\\u0000"}]}',
     NOT_JSON),
    (b'{"v":1,"ok":true,"profile":"contoso","headers":[{"name":"a","value":"\xff"}]}', NOT_JSON),
    ({"v": 2, "ok": True}, "reply of an unknown protocol version"),
    ({"v": "1", "ok": True}, "reply of an unknown protocol version"),
    (b'{"v":1.0,"ok":true}', "reply of an unknown protocol version"),
    ({"ok": True}, "reply of an unknown protocol version"),
    ({"v": 1}, "reply without \"ok\""),
    ({"v": 1, "ok": "true"}, "reply without \"ok\""),
    ({"v": 1, "ok": False}, "error reply without an error code"),
    ({"v": 1, "ok": False, "error": 5, "message": "m"}, "error reply without an error code"),
    ({"v": 1, "ok": True, "headers": []}, NO_HEADERS),
    ({"v": 1, "ok": True, "profile": "contoso"}, NO_HEADERS),
    ({"v": 1, "ok": True, "profile": 1, "headers": []}, NO_HEADERS),
    ({"v": 1, "ok": True, "profile": "contoso", "headers": {}}, NO_HEADERS),
    (ok_reply([header()] * 65), "too many headers in reply"),
    (ok_reply([header(exists_action=1)]), "bad exists_action in reply"),
    (ok_reply([header(exists_action=None)]), "bad exists_action in reply"),
    (ok_reply([header(exists_action="replace")]), "unknown exists_action in reply"),
    (ok_reply([header(), header(exists_action="Skip")]), "unknown exists_action in reply"),
    (ok_reply([header(name="")]), BAD_HEADER),
    (ok_reply([header(name="a:b")]), BAD_HEADER),
    (ok_reply([header(name="a b")]), BAD_HEADER),
    (ok_reply([header(name="a\tb")]), BAD_HEADER),
    (ok_reply([header(name="a\nb")]), BAD_HEADER),
    (ok_reply([header(value=FAKE + "\r\nX-Evil: 1")]), BAD_HEADER),
    (ok_reply([header(value=1)]), BAD_HEADER),
    (ok_reply([{"value": FAKE}]), BAD_HEADER),
    (ok_reply([{"name": "api-key"}]), BAD_HEADER),
    (ok_reply([1]), BAD_HEADER),
    (ok_reply([header(), [FAKE]]), BAD_HEADER),
]


@pytest.mark.parametrize("reply,words", PROTOCOL_CASES)
def test_malformed_reply(crafted, reply, words):
    r = crafted(reply)
    if r.returncode != 1 or r.stdout != "":
        fail(f"a malformed reply should exit 1 with nothing printed, got {r.returncode}: "
             f"{r.stderr!r}")
    expected = f"invalid reply from the agent: {words}"
    assert expected in r.stderr, (expected, r.stderr)
    assert "SECRET" not in r.stderr, r.stderr


@pytest.mark.parametrize("code,rc", [
    ("locked", 5), ("no_match", 4), ("insecure_url", 4), ("missing_secret", 6),
    ("unavailable", 6), ("denied", 7), ("bad_request", 1), ("a_code_from_the_future", 1),
])
def test_error_reply(crafted, code, rc):
    r = crafted({"v": 1, "ok": False, "error": code, "message": f"{code}: do this next"})
    assert r.returncode == rc and f"{code}: do this next" in r.stderr, (code, r)
    assert r.stdout == ""


@pytest.mark.parametrize("message", [None, 5, ["x"]])
def test_error_reply_without_a_message_string(crafted, message):
    r = crafted({"v": 1, "ok": False, "error": "locked", "message": message})
    assert r.returncode == 5 and "the agent is locked" in r.stderr, r


def test_unknown_members_skipped_and_default_action(crafted):
    reply = ok_reply([header("X-One", FAKE + "1", later={"a": [1, 2.5e3, None]}),
                      header("X-Two", "caf\u00e9 \"q\" \\ \U0001F600", exists_action="append")],
                     audit={"n": 1}, future=[True, False])
    r = crafted(reply)
    assert r.returncode == 0, r
    want = f"X-One: {FAKE}1\nX-Two: caf\u00e9 \"q\" \\ \U0001F600\n"
    assert r.stdout == want, r.stdout


def test_json_output(crafted):
    r = crafted(ok_reply([header(exists_action="skip"), header("X-B", "b\\u0041")],
                         profile="pr\u00f6file"), "--json")
    assert r.returncode == 0, r
    assert json.loads(r.stdout) == {"profile": "pr\u00f6file", "headers": [
        {"name": "api-key", "value": FAKE, "exists_action": "skip"},
        {"name": "X-B", "value": "b\\u0041", "exists_action": "override"}]}, r.stdout


def test_request_is_the_documented_headers_request(ctx, aoai):
    path = ctx.path("req.sock")
    agent = CraftedAgent(path, raw(ok_reply([])))
    try:
        url = URL + "?q=\"quote\"\\back\ttab\u00e9"
        r = aoai("headers", url, sock=path)
    finally:
        agent.close()
    assert r.returncode == 0 and r.stdout == "", r
    assert json.loads(agent.requests[0]) == {"v": 1, "op": "headers", "url": url}
