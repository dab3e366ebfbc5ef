# SPDX-License-Identifier: MIT
"""aoai-exec's local managed-identity endpoint (App Service, 2019-08-01) for a
token profile: it serves the agent's tokens, which the fake Azure OpenAI
endpoint accepts, to the child's header only, and is gone when the child is."""

import http.client
import json
import os
import socket
from urllib.parse import quote, urlsplit

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


def get(endpoint, query, headers=None, host=None, method="GET"):
    """(status, decoded JSON body) of one request to the endpoint."""
    u = urlsplit(endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
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
