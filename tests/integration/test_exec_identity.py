# SPDX-License-Identifier: MIT
"""aoai-exec's local managed-identity endpoint (App Service, 2019-08-01) for a
token profile: it serves the agent's tokens, which the fake Azure OpenAI
endpoint accepts, to the child's header only, and is gone when the child is."""

import http.client
import json
import os
import select
import socket
import subprocess
import time
from urllib.parse import quote, urlsplit

import pytest

import aoaitest
from aoaitest import CHAT_BODY, PYTHON, fail, register_secret
from exectest import CONFLICTING, fp, probe

RESOURCE = "https://cognitiveservices.azure.com"

# Prints IDENTITY_ENDPOINT, writes IDENTITY_HEADER to argv[1] (0600), waits for a line.
HOLD = r"""
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, os.environ["IDENTITY_HEADER"].encode())
os.close(fd)
print(os.environ["IDENTITY_ENDPOINT"], flush=True)
sys.stdin.readline()
"""


def get(endpoint, query, headers=None, host=None, method="GET", timeout=10):
    """(status, decoded JSON body) of one request to the endpoint."""
    u = urlsplit(endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.putrequest(method, u.path + ("?" + query if query else ""), skip_host=True)
        conn.putheader("Host", host or u.netloc)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    try:
        return resp.status, json.loads(body)
    except ValueError:
        fail(f"the endpoint answered {resp.status} with a body that is not JSON: {body[:300]!r}")


def query(resource=RESOURCE, version="2019-08-01"):
    return f"api-version={version}&resource={quote(resource, safe='')}"


def start_holder(ctx, exec_child, *opts):
    header_file = ctx.path("identity-header")
    c = exec_child(*opts, "--", PYTHON, "-c", HOLD, header_file,
                   env=ctx.env(**CONFLICTING))
    endpoint = c.line()
    header = register_secret(header_file.read_text())
    return c, endpoint, header


def test_environment(ctx, mi_scene, aoai_exec):
    mi_scene.start()
    report, _ = probe(aoai_exec, ctx, env=ctx.env(**CONFLICTING))
    got = report["vars"]
    assert got["AOAI_EXEC"] == "mi", got
    assert got["AZURE_OPENAI_ENDPOINT"] == f"http://{mi_scene.fake.hostport}/", got
    assert "AZURE_OPENAI_API_KEY" not in got, got
    u = urlsplit(got["IDENTITY_ENDPOINT"])
    assert (u.scheme, u.hostname, u.path) == ("http", "127.0.0.1", "/msi/token"), got
    assert got["IDENTITY_HEADER"] != fp(CONFLICTING["IDENTITY_HEADER"]), got
    assert report["sockets"] == 0, f"the child inherited sockets: {report}"
    for name in ("MSI_ENDPOINT", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT",
                 "AZURE_CLIENT_ID", "AZURE_TOKEN_CREDENTIALS"):
        assert name not in got, got
    # --no-identity: no endpoint, and aoai-exec becomes the command.
    report, _ = probe(aoai_exec, ctx, "--no-identity", env=ctx.env(**CONFLICTING))
    assert "IDENTITY_ENDPOINT" not in report["vars"], report


def test_serves_agent_tokens(ctx, build, mi_scene, exec_child, aoai_json):
    mi_scene.start()
    c, endpoint, header = start_holder(ctx, exec_child)
    status, body = get(endpoint, query(), {"X-IDENTITY-HEADER": header})
    assert status == 200, body
    token = register_secret(body["access_token"])
    assert set(body) == {"access_token", "expires_on", "resource", "token_type"}, list(body)
    assert body["resource"] == RESOURCE and body["token_type"] == "Bearer", body["resource"]
    assert isinstance(body["expires_on"], str) and body["expires_on"].isdigit()
    agent_tok = aoai_json("token", "mi")
    register_secret(agent_tok["accessToken"])
    if agent_tok["accessToken"] != token or agent_tok["expires_on"] != int(body["expires_on"]):
        fail("the endpoint's token is not the agent's")
    # Scope forms map to the same agent cache entry.
    for res in (RESOURCE + "/", RESOURCE + "/.default"):
        status, b = get(endpoint, query(res), {"X-IDENTITY-HEADER": header})
        register_secret(b.get("access_token", ""))
        assert status == 200 and b["resource"] == res, (status, b.get("resource"))
        if b["access_token"] != token:
            fail(f"resource {res}: another token than the agent's cached one")
    assert len(mi_scene.identity.requests("imds")) == 1
    # The fake Azure OpenAI endpoint accepts it.
    r = aoaitest.run(["curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
                      "-H", "Content-Type: application/json", "-H", "@-", "-d", CHAT_BODY,
                      mi_scene.fake.chat_url], ctx.env(), input=f"Authorization: Bearer {token}\n")
    assert r.stdout == "200", aoaitest.describe(r)
    c.send("\n")
    assert c.wait() == 0, c.stderr()


def test_refusals(ctx, mi_scene, exec_child):
    mi_scene.start()
    c, endpoint, header = start_holder(ctx, exec_child)
    good = {"X-IDENTITY-HEADER": header}
    netloc = urlsplit(endpoint).netloc
    cases = [
        ("no header", query(), {}, None, 401),
        ("wrong header", query(), {"X-IDENTITY-HEADER": "0" * 64}, None, 401),
        ("short header", query(), {"X-IDENTITY-HEADER": header[:32]}, None, 401),
        ("longer header", query(), {"X-IDENTITY-HEADER": header + "0"}, None, 401),
        ("X-Forwarded-For", query(), {**good, "X-Forwarded-For": "192.0.2.1"}, None, 403),
        ("Forwarded", query(), {**good, "Forwarded": "for=192.0.2.1"}, None, 403),
        ("foreign Host", query(), good, "evil.example:80", 403),
        ("localhost Host", query(), good, netloc.replace("127.0.0.1", "localhost"), 403),
        ("old api-version", query(version="2017-09-01"), good, None, 400),
        ("no api-version", f"resource={quote(RESOURCE, safe='')}", good, None, 400),
        ("no resource", "api-version=2019-08-01", good, None, 400),
        ("two resources", query() + "&resource=https%3A%2F%2Fx", good, None, 400),
        ("resource with space", query("https://a b"), good, None, 400),
        ("client_id", query() + "&client_id=0c9a3d5e-0000-4000-8000-000000000001", good,
         None, 400),
    ]
    for what, q, headers, host, want in cases:
        status, body = get(endpoint, q, headers, host)
        if status != want or "access_token" in body:
            fail(f"{what}: expected {want}, got {status} {body}")
        assert body.get("statusCode") == want and isinstance(body.get("message"), str), body
    status, body = get(endpoint, query(), good, method="POST")
    assert status == 405, body
    status, body = get(endpoint.replace("/msi/token", "/other"), query(), good)
    assert status == 404, body
    assert mi_scene.identity.requests("imds") == [], "a refused request reached the agent"
    c.send("\n")
    assert c.wait() == 0, c.stderr()


def test_agent_failure(ctx, mi_scene, exec_child):
    mi_scene.identity.script("imds", *[{"status": 400, "body": {
        "error": "invalid_request", "error_description": "Identity not found"}}] * 3)
    mi_scene.start()
    c, endpoint, header = start_holder(ctx, exec_child)
    status, body = get(endpoint, query(), {"X-IDENTITY-HEADER": header})
    assert status in (500, 503) and "Identity not found" in body["message"], (status, body)
    c.send("\n")
    assert c.wait() == 0
    assert "Identity not found" in c.stderr()


def test_gone_after_child_exits(ctx, mi_scene, exec_child):
    """A grandchild outliving the child finds the endpoint closed."""
    mi_scene.start()
    script = ('sleep 30 </dev/null >/dev/null 2>&1 & echo $!; '
              'echo "$IDENTITY_ENDPOINT"; read line')
    c = exec_child("--", "/bin/sh", "-c", script)
    grandchild = int(c.line())
    endpoint = c.line()
    try:
        u = urlsplit(endpoint)
        socket.create_connection((u.hostname, u.port), timeout=5).close()  # open now
        c.send("\n")
        assert c.wait() == 0, c.stderr()
        assert aoaitest.pid_alive(grandchild)
        try:
            socket.create_connection((u.hostname, u.port), timeout=5).close()
            fail("the identity endpoint still accepts connections after the child exited")
        except ConnectionRefusedError:
            pass
    finally:
        os.kill(grandchild, 9)


# Mirrors identity.c: IDENTITY_HEAD_DEADLINE_SEC and IDENTITY_TIMEOUT_SEC.
HEAD_DEADLINE = 5.0
INACTIVITY_TIMEOUT = 30.0
NOBODY = 65534
FLOOD = 200

# As uid NOBODY: opens and holds argv[3] idle connections to argv[1]:argv[2], prints
# "held N"; on a line from stdin, prints "closed M": how many of them the server
# closed (EOF or reset) within argv[4] seconds.  Every wait is bounded.
FLOODER = r"""
import os, select, socket, sys, time
host, port, count, grace = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
assert os.getuid() == 65534 and os.geteuid() == 65534, os.getuid()
socks = []
for _ in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3.0)
    try:
        s.connect((host, port))
    except OSError:
        s.close()
        break
    socks.append(s)
print("held", len(socks), flush=True)
sys.stdin.readline()
closed = 0
deadline = time.monotonic() + grace
for s in socks:
    left = max(0.0, deadline - time.monotonic())
    if not select.select([s], [], [], left)[0]:
        continue
    try:
        closed += s.recv(1) == b""
    except ConnectionResetError:
        closed += 1
print("closed", closed, flush=True)
"""


def read_line(proc, timeout):
    """One line of @proc's stdout within @timeout seconds, else None."""
    if not select.select([proc.stdout], [], [], timeout)[0]:
        return None
    return proc.stdout.readline().decode().strip()


def test_other_uid_cannot_starve(ctx, mi_scene, exec_child):
    """FLOOD idle connections from uid NOBODY are closed at accept; the owner is served."""
    if os.geteuid() != 0:
        pytest.skip("needs root, to run the flooding client as uid 65534")
    mi_scene.start()
    c, endpoint, header = start_holder(ctx, exec_child)
    status, body = get(endpoint, query(), {"X-IDENTITY-HEADER": header})  # the agent caches it
    assert status == 200, body
    register_secret(body["access_token"])
    u = urlsplit(endpoint)
    flooder = subprocess.Popen([PYTHON, "-c", FLOODER, u.hostname, str(u.port), str(FLOOD), "5"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd="/",
                               env={"PATH": "/usr/bin:/bin"}, user=NOBODY, group=NOBODY,
                               extra_groups=[])
    try:
        held = read_line(flooder, 60.0)
        assert held and held.startswith("held "), f"the flooder did not report: {held!r}"
        start = time.monotonic()
        try:
            status, body = get(endpoint, query(), {"X-IDENTITY-HEADER": header}, timeout=5)
        except (socket.timeout, ConnectionError) as e:
            fail(f"with {held} connections of uid {NOBODY}, the owner's request failed: {e!r}")
        elapsed = time.monotonic() - start
        register_secret(body.get("access_token", ""))
        assert status == 200, body
        assert elapsed < 2.0, f"the owner waited {elapsed:.1f}s"
        assert held == f"held {FLOOD}", f"the flooder could not connect: {held}"
        flooder.stdin.write(b"\n")
        flooder.stdin.flush()
        closed = read_line(flooder, 30.0)
        assert closed == f"closed {FLOOD}", f"the server left uid {NOBODY}'s open: {closed!r}"
    finally:
        flooder.kill()
        flooder.wait(5)
    c.send("\n")
    assert c.wait() == 0, c.stderr()
    # Said once, not once per connection.
    assert c.stderr().count(f"refusing connections from uid {NOBODY} ") == 1, c.stderr()


def request_head(endpoint, extra=b""):
    u = urlsplit(endpoint)
    return (f"GET {u.path}?{query()} HTTP/1.1\r\nHost: {u.netloc}\r\n".encode() + extra)


def read_response(s, timeout):
    """Reads one response with a Content-Length body from @s; its status line."""
    s.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        assert chunk, f"the server closed before answering: {buf!r}"
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    length = [int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
              if line.lower().startswith(b"content-length:")]
    assert length, head
    while len(body) < length[0]:
        chunk = s.recv(4096)
        assert chunk, "the server closed in the middle of a response"
        body += chunk
    return head.split(b"\r\n", 1)[0].decode()


def test_head_deadline(ctx, mi_scene, exec_child):
    """A request head not complete within HEAD_DEADLINE closes its connection, however it
    drips; a connection idle after a response is closed by then too."""
    mi_scene.start()
    c, endpoint, header = start_holder(ctx, exec_child)
    u = urlsplit(endpoint)
    conns = {name: socket.create_connection((u.hostname, u.port), timeout=5)
             for name in ("partial", "drip", "keep-alive")}
    started = dict.fromkeys(conns, time.monotonic())
    conns["partial"].sendall(request_head(endpoint))  # no blank line: never complete
    drip = request_head(endpoint, b"X-Padding: " + b"a" * 100)
    conns["keep-alive"].sendall(request_head(endpoint, b"\r\n"))  # no X-IDENTITY-HEADER: 401
    assert read_response(conns["keep-alive"], 5).startswith("HTTP/1.1 401"), "no 401"
    started["keep-alive"] = time.monotonic()
    closed, sent, next_drip = {}, 0, time.monotonic()
    limit = time.monotonic() + HEAD_DEADLINE + 7
    while len(closed) < len(conns) and time.monotonic() < limit:
        if "drip" not in closed and time.monotonic() >= next_drip:
            try:
                conns["drip"].send(drip[sent:sent + 1])
                sent += 1
            except (BrokenPipeError, ConnectionResetError):
                closed["drip"] = time.monotonic()
            next_drip += 1.0
        open_ = [s for name, s in conns.items() if name not in closed]
        wait = max(0.0, min(next_drip, limit) - time.monotonic())
        for s in select.select(open_, [], [], wait)[0]:
            name = next(n for n, v in conns.items() if v is s)
            try:
                data = s.recv(4096)
            except ConnectionResetError:
                data = b""
            assert data == b"", f"{name}: unexpected data {data[:200]!r}"
            closed[name] = time.monotonic()
    for s in conns.values():
        s.close()
    took_all = {name: round(closed[name] - started[name], 1) for name in closed}
    for name in conns:
        assert name in closed, f"{name}: still open after {HEAD_DEADLINE + 7:.0f}s; {took_all}"
        # A response ends its connection today (identity_http.c answers before any body,
        # so libmicrohttpd reads no further request); the bound holds either way.
        earliest = 0 if name == "keep-alive" else HEAD_DEADLINE - 1
        took = closed[name] - started[name]
        assert earliest <= took <= HEAD_DEADLINE + 3 < INACTIVITY_TIMEOUT, \
            f"{name}: closed after {took:.1f}s, not by the {HEAD_DEADLINE:.0f}s deadline"
    assert sent >= HEAD_DEADLINE - 1, f"the drip sent only {sent} bytes"
    # The endpoint still serves a complete request.
    status, body = get(endpoint, query(), {"X-IDENTITY-HEADER": header})
    register_secret(body.get("access_token", ""))
    assert status == 200, body
    c.send("\n")
    assert c.wait() == 0, c.stderr()
