# SPDX-License-Identifier: MIT
"""aoai-exec's relay when things go wrong: an upstream that is unreachable,
resets, answers garbage, cuts a body short or hangs; a client that goes away
mid-stream; a connection from another uid; a TLS upstream whose certificate
is or is not trusted.  Each time the relay answers an Azure-shaped 502, or
cuts the client's response off visibly, and keeps serving."""

import http.client
import json
import os
import signal
import socket
import subprocess

import pytest

from aoaitest import PYTHON, describe, expect_rc, fail, start_fake, stop_fake
from relaytest import (IO_TIMEOUT, api_requests, azure_error, events, request, sha12,
                       sse_events, start_holder, wait_event)
from tlsca import make_ca

NOBODY = 65534
DEPLOYMENTS = "/openai/deployments?api-version=2022-12-01"


def expect_502(h, path, what):
    status, _, body = request(h, "GET", path)
    if status != 502:
        fail(f"{what}: expected 502, got {status} {body[:300]!r}")
    azure_error(body, what)


def still_serves(h, fake):
    status, _, body = request(h, "GET", DEPLOYMENTS)
    assert status == 200, f"the relay stopped serving: {status} {body[:300]!r}"


def test_upstream_unreachable(ctx, relay_scene, exec_child):
    h = start_holder(ctx, exec_child)
    stop_fake(relay_scene.fake)  # nothing listens on its port now
    expect_502(h, DEPLOYMENTS, "upstream unreachable")
    h.finish()


@pytest.mark.parametrize("route", ["reset", "garbage"])
def test_upstream_fails_before_answering(ctx, relay_scene, exec_child, route):
    h = start_holder(ctx, exec_child)
    expect_502(h, f"/fake/{route}", f"upstream {route}")
    wait_event(relay_scene.fake, route)
    still_serves(h, relay_scene.fake)
    h.finish()


@pytest.mark.parametrize("mode", ["length", "chunked", "close"])
def test_upstream_resets_mid_body(ctx, relay_scene, exec_child, mode):
    """The client must see the response cut off, never a complete-looking 200."""
    h = start_holder(ctx, exec_child)
    c = h.conn()
    try:
        c.request("GET", f"/fake/cut?mode={mode}&bytes=200000", headers=h.auth())
        r = c.getresponse()
        assert r.status == 200
        try:
            data = r.read()
        except (http.client.IncompleteRead, ConnectionError):
            pass  # cut off, as it must be
        else:
            fail(f"{mode}: the relay ended a cut upstream body cleanly ({len(data)} bytes, "
                 f"framing {r.getheader('Transfer-Encoding') or r.getheader('Content-Length')})")
    finally:
        c.close()
    still_serves(h, relay_scene.fake)
    h.finish()


def test_upstream_hangs(ctx, relay_scene, exec_child):
    """The client's timeout fires; the relay then drops the upstream transfer, and serves
    the next request."""
    h = start_holder(ctx, exec_child)
    c = h.conn(timeout=2)
    try:
        c.request("GET", "/fake/hang", headers=h.auth())
        with pytest.raises((TimeoutError, socket.timeout)):
            c.getresponse()
        wait_event(relay_scene.fake, "hang")
    finally:
        c.close()
    wait_event(relay_scene.fake, "peer-closed", "/fake/hang", timeout=10)
    still_serves(h, relay_scene.fake)
    h.finish()


def test_client_disconnects_mid_stream(ctx, relay_scene, exec_child):
    h = start_holder(ctx, exec_child)
    c = h.conn()
    try:
        c.request("GET", "/fake/drip?interval=0.05", headers=h.auth())
        r = c.getresponse()
        it = sse_events(r)
        assert [json.loads(next(it)) for _ in range(2)] == [{"n": 0}, {"n": 1}]
        assert events(relay_scene.fake, "peer-closed") == []
    finally:
        c.close()
    (ev,) = wait_event(relay_scene.fake, "peer-closed", "/fake/drip", timeout=5)
    still_serves(h, relay_scene.fake)
    h.finish()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_client_cuts_upload_short(ctx, relay_scene, exec_child, chunked):
    """A client that goes away mid-upload: the upstream sees its body end early (the relay
    closes), never a complete one."""
    h = start_holder(ctx, exec_child)
    s = socket.create_connection(("127.0.0.1", h.port), timeout=IO_TIMEOUT)
    try:
        framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {4 << 20}"
        s.sendall((f"POST /fake/upload HTTP/1.1\r\nHost: 127.0.0.1:{h.port}\r\n"
                   f"api-key: {h.placeholder}\r\n{framing}\r\n\r\n").encode())
        block = (b"10000\r\n" + b"c" * 0x10000 + b"\r\n") if chunked else b"c" * 0x10000
        for _ in range(16):  # 1 MB of the 4 MB (or of the unending chunked body)
            s.sendall(block)
        wait_event(relay_scene.fake, "upload-start")
    finally:
        s.close()
    (ev,) = wait_event(relay_scene.fake, "upload-cut", timeout=10)
    assert ev["length"] <= 1 << 20, ev
    assert events(relay_scene.fake, "upload") == [], "the upstream got a complete-looking body"
    still_serves(h, relay_scene.fake)
    h.finish()


# As uid NOBODY: connects to argv[1], sends a request with the placeholder read
# from stdin, prints what came back: "closed" (EOF or reset, no byte) or "data".
OTHER_UID = r"""
import os, socket, sys
assert os.getuid() == 65534 and os.geteuid() == 65534
port, placeholder = int(sys.argv[1]), sys.stdin.readline().strip()
s = socket.create_connection(("127.0.0.1", port), timeout=5)
try:
    s.sendall(("GET /openai/deployments?api-version=2022-12-01 HTTP/1.1\r\n"
               f"Host: 127.0.0.1:{port}\r\napi-key: {placeholder}\r\n\r\n").encode())
    data = s.recv(4096)
except (ConnectionResetError, BrokenPipeError):
    data = b""
except socket.timeout:
    data = None
print("closed" if data == b"" else "timeout" if data is None else "data", flush=True)
"""


def test_other_uid_refused(ctx, relay_scene, exec_child):
    if os.geteuid() != 0:
        pytest.skip("needs root, to run a client as uid 65534")
    h = start_holder(ctx, exec_child)
    r = subprocess.run([PYTHON, "-c", OTHER_UID, str(h.port)], input=h.placeholder + "\n",
                       capture_output=True, text=True, timeout=30, cwd="/",
                       env={"PATH": "/usr/bin:/bin"}, user=NOBODY, group=NOBODY,
                       extra_groups=[])
    assert r.stdout.strip() == "closed", f"uid {NOBODY}: {r.stdout!r} {r.stderr[-500:]}"
    assert relay_scene.fake.requests() == [], "another uid's request reached the upstream"
    still_serves(h, relay_scene.fake)
    h.finish()


# --- TLS upstream ---------------------------------------------------------------------

@pytest.fixture
def tls_scene(ctx, start_agent):
    ca = make_ca(ctx)
    fake = start_fake(ctx, name="tls", extra=["--tls-cert", ca.server_cert,
                                              "--tls-key", ca.server_key])
    hostport = f"localhost:{fake.port}"
    cfg = {"profiles": {"t": {"hosts": [hostport],
                              "credential": {"type": "api-key", "file": str(fake.key_file)}}}}
    start_agent(config=ctx.write_config(cfg))
    yield fake, ca, f"https://{hostport}/"
    stop_fake(fake)


def test_tls_upstream_verified(ctx, tls_scene, exec_child):
    """CURL_CA_BUNDLE names the CA: 200; without it the certificate is untrusted: 502."""
    fake, ca, endpoint = tls_scene
    h = start_holder(ctx, exec_child, "-p", "t",
                     env=ctx.env(AZURE_OPENAI_ENDPOINT=endpoint, CURL_CA_BUNDLE=ca.ca_cert))
    status, _, body = request(h, "GET", DEPLOYMENTS)
    assert status == 200, (status, body[:300])
    (seen,) = api_requests(fake, "/openai/deployments")
    assert seen["header_fps"] == {"api-key": [sha12(fake.key)]}, seen
    h.finish()
    # SSL_CERT_FILE when CURL_CA_BUNDLE is not set, as the curl tool does.
    h = start_holder(ctx, exec_child, "-p", "t",
                     env=ctx.env(AZURE_OPENAI_ENDPOINT=endpoint, SSL_CERT_FILE=ca.ca_cert))
    status, _, body = request(h, "GET", DEPLOYMENTS)
    assert status == 200, (status, body[:300])
    h.finish()
    h = start_holder(ctx, exec_child, "-p", "t", env=ctx.env(AZURE_OPENAI_ENDPOINT=endpoint))
    expect_502(h, DEPLOYMENTS, "untrusted certificate")
    assert len(api_requests(fake, "/openai/deployments")) == 2, "sent over an untrusted TLS"
    h.finish()


def test_agent_gone(ctx, relay_scene, exec_child):
    """The agent stops: a request gets a prompt Azure-shaped 5xx, not a hang, and not the
    upstream without its key."""
    h = start_holder(ctx, exec_child)
    still_serves(h, relay_scene.fake)
    relay_scene.agent.stop()
    status, _, body = request(h, "GET", DEPLOYMENTS, timeout=10)
    if not 500 <= status <= 599:
        fail(f"agent gone: expected a 5xx, got {status} {body[:300]!r}")
    azure_error(body, "agent gone")
    assert len(api_requests(relay_scene.fake, "/openai/deployments")) == 1, \
        "a request went upstream without the agent's header"
    h.finish()


def test_agent_restarted(ctx, relay_scene, exec_child, start_agent):
    """The agent restarts (same socket): the relay's next request gets the new one's key."""
    h = start_holder(ctx, exec_child)
    still_serves(h, relay_scene.fake)
    relay_scene.agent.stop()
    start_agent(config=ctx.write_config(relay_scene.config))
    status, _, body = request(h, "GET", DEPLOYMENTS)
    if status != 200:
        fail(f"after the agent restarted: {status} {body[:300]!r}")
    assert len(api_requests(relay_scene.fake, "/openai/deployments")) == 2
    h.finish()


def test_agent_locked(ctx, relay_scene, exec_child, aoai):
    """`aoai lock`: 503 with Azure's error shape, nothing upstream; `aoai unlock`: served."""
    h = start_holder(ctx, exec_child)
    pw = ctx.secret(8)
    expect_rc(aoai("lock", input=pw + "\n"), 0, "lock")
    status, _, body = request(h, "GET", DEPLOYMENTS)
    if status != 503:
        fail(f"locked agent: expected 503, got {status} {body[:300]!r}")
    azure_error(body, "locked agent")
    assert api_requests(relay_scene.fake, "/openai/deployments") == [], "sent upstream while locked"
    expect_rc(aoai("unlock", input=pw + "\n"), 0, "unlock")
    still_serves(h, relay_scene.fake)
    h.finish()


def test_relay_gone_after_child_exits(ctx, relay_scene, exec_child):
    """A grandchild outliving the child finds the relay closed."""
    script = ('sleep 30 </dev/null >/dev/null 2>&1 & echo $!; '
              'echo "$AZURE_OPENAI_ENDPOINT"; read line')
    c = exec_child("--", "/bin/sh", "-c", script)
    grandchild = int(c.line())
    endpoint = c.line()
    try:
        port = int(endpoint.rsplit(":", 1)[1].strip("/"))
        socket.create_connection(("127.0.0.1", port), timeout=5).close()  # open now
        c.send("\n")
        assert c.wait() == 0, c.stderr()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            fail("the relay still accepts connections after the child exited")
        except ConnectionRefusedError:
            pass
    finally:
        os.kill(grandchild, 9)


SIGNAL_CHILD = r"""
import os, signal, sys, time
def on(sig, frame):
    os.write(1, f"got {signal.Signals(sig).name}\n".encode())
    if sig == signal.SIGTERM:
        sys.exit(3)
for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
    signal.signal(s, on)
print("ready", flush=True)
deadline = time.monotonic() + 15
while time.monotonic() < deadline:
    time.sleep(0.05)
sys.exit(9)
"""


def test_signals_forwarded(ctx, relay_scene, exec_child):
    """aoai-exec now stays to relay: it passes signals on and exits as the child did."""
    c = exec_child("--", PYTHON, "-c", SIGNAL_CHILD)
    assert c.line() == "ready"
    for sig in (signal.SIGHUP, signal.SIGINT):
        c.proc.send_signal(sig)
        assert c.line() == f"got {sig.name}", c.stderr()
    c.proc.send_signal(signal.SIGTERM)
    assert c.line() == "got SIGTERM", c.stderr()
    rc = c.wait()
    assert rc == 3, f"aoai-exec exited {rc}; stderr:\n{c.stderr()}"


# urllib as most programs use it: the environment's proxy settings apply.
URLLIB_DEFAULT = r"""
import os, urllib.request
url = os.environ["AZURE_OPENAI_ENDPOINT"] + "openai/deployments?api-version=2022-12-01"
req = urllib.request.Request(url, headers={"api-key": os.environ["AZURE_OPENAI_API_KEY"]})
with urllib.request.urlopen(req, timeout=10) as r:
    print(r.status)
"""


def test_http_proxy_setting_bypasses_the_relay(ctx, tls_scene, aoai_exec):
    """A user's http_proxy (no no_proxy for loopback) must not take the child's requests
    to its relay: no proxy can reach this machine's 127.0.0.1.  The upstream is https, so
    http_proxy concerns only the child's leg."""
    fake, ca, endpoint = tls_scene
    dead = "http://127.0.0.1:9"  # the discard port: nothing listens
    env = ctx.env(AZURE_OPENAI_ENDPOINT=endpoint, CURL_CA_BUNDLE=ca.ca_cert, http_proxy=dead,
                  HTTP_PROXY=dead)
    r = aoai_exec("-p", "t", "--", PYTHON, "-c", URLLIB_DEFAULT, env=env)
    if r.returncode != 0 or r.stdout.strip() != "200":
        fail("with http_proxy set, the child's request to the relay went to the proxy "
             f"(aoai-exec could add 127.0.0.1 and localhost to no_proxy):\n{describe(r)}")
