# SPDX-License-Identifier: MIT
"""The fake Azure OpenAI endpoint's helpers for the preload-hook tests, on their
own (no hook): HTTPS with the test CA (OpenSSL curl, GnuTLS git and pycurl),
/redirect, /echo, the log's header fingerprints and the dumb-HTTP git tree."""

import http.client
import json
import socket
import ssl

import pytest

from aoaitest import FAKE_AOAI, PYTHON, assert_absent, describe, expect_rc, fail, run
from preloadtest import (CURL, app_fps, fp, git_env, git_remote, make_git_repo,
                         pycurl_run, secret_fps, start_plain_fake, start_tls_fake, stop_checked)
from tlsca import make_ca

MSG_401 = ("Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
           "provide a valid key for an active subscription and use a correct regional API "
           "endpoint for your resource.")
CHAT = json.dumps({"messages": [{"role": "user", "content": "hi"}]})


@pytest.fixture
def ca(ctx):
    return make_ca(ctx)


@pytest.fixture
def tls_fake(ctx, ca):
    f = start_tls_fake(ctx, ca)
    yield f
    stop_checked(f)


def https(fake, ca, host="a.test"):
    """An http.client connection to @fake that verifies the certificate for @host."""
    sctx = ssl.create_default_context(cafile=str(ca.ca_cert))
    sock = socket.create_connection(("127.0.0.1", fake.port), timeout=10)
    conn = http.client.HTTPSConnection(host, fake.port, context=sctx, timeout=10)
    conn.sock = sctx.wrap_socket(sock, server_hostname=host)
    return conn


def request(conn, method, path, headers=(), body=None):
    """Sends a request with @headers (a list of pairs, repeats allowed); returns
    (status, response headers, body bytes)."""
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body.encode() if isinstance(body, str) else body)
        r = conn.getresponse()
        return r.status, r, r.read()
    finally:
        conn.close()


def curl(ctx, ca, fake, *args):
    argv = [CURL, "-q", "-sS", "--max-time", "10", "--cacert", str(ca.ca_cert)]
    for h in ("a.test", "b.test", "c.test"):
        argv += ["--resolve", f"{h}:{fake.port}:127.0.0.1"]
    return run(argv + list(map(str, args)), ctx.env(sock=False))


# --- TLS ------------------------------------------------------------------------------

def test_ca_certificate_names(ctx, ca):
    r = expect_rc(run(["openssl", "x509", "-in", ca.server_cert, "-noout", "-ext",
                       "subjectAltName"], ctx.base_env()), 0, "openssl x509")
    for name in ("DNS:a.test", "DNS:b.test", "DNS:c.test", "DNS:localhost", "IP Address:127.0.0.1"):
        assert name in r.stdout, r.stdout
    expect_rc(run(["openssl", "verify", "-CAfile", ca.ca_cert, ca.server_cert], ctx.base_env()),
              0, "openssl verify")


def test_tls_serves_api_like_plain(ctx, ca, tls_fake):
    assert tls_fake.base.startswith("https://127.0.0.1:")
    for host in ("a.test", "b.test", "localhost", "127.0.0.1"):
        status, _, body = request(https(tls_fake, ca, host), "POST", tls_fake.chat_url[len(
            tls_fake.base):], [("api-key", tls_fake.key), ("Content-Type", "application/json")],
            CHAT)
        assert status == 200, (host, body)
    status, _, body = request(https(tls_fake, ca), "POST", "/openai/v1/chat/completions",
                              [("Content-Type", "application/json")], CHAT)
    assert status == 401 and json.loads(body) == {"error": {"code": "401", "message": MSG_401}}
    assert [(r["status"], r["auth"]) for r in tls_fake.requests()] == \
        [(200, "api-key")] * 4 + [(401, None)]


def test_tls_with_real_curl_and_names(ctx, ca, tls_fake):
    r = expect_rc(curl(ctx, ca, tls_fake, "-H", "x-app: one", tls_fake.url("b.test")), 0, "curl")
    names = [h["name"].lower() for h in json.loads(r.stdout)["headers"]]
    assert names[0] == "host" and "x-app" in names, names
    (e,) = tls_fake.requests()
    assert e["host"] == f"b.test:{tls_fake.port}" and app_fps(e) == [fp("one")], e
    # The certificate does not cover other names: curl refuses (60: peer certificate).
    r = curl(ctx, ca, tls_fake, "--resolve", f"d.test:{tls_fake.port}:127.0.0.1",
             tls_fake.url("d.test"))
    assert r.returncode == 60, describe(r)
    # Without the CA: refused too.
    r = run([CURL, "-q", "-sS", "--max-time", "10", tls_fake.base + "/echo"], ctx.env())
    assert r.returncode == 60, describe(r)


def test_tls_garbage_and_plain_http_do_not_break_it(ctx, ca, tls_fake):
    with socket.create_connection(("127.0.0.1", tls_fake.port), timeout=10) as s:
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: a.test\r\n\r\n")
        s.settimeout(10)
        try:
            s.recv(100)
        except OSError:
            pass
    with socket.create_connection(("127.0.0.1", tls_fake.port), timeout=10):
        pass  # connects and leaves without a handshake
    status, _, _ = request(https(tls_fake, ca), "GET", "/echo")
    assert status == 200


def test_tls_needs_cert_and_key(ctx, ca):
    kf = ctx.write_file("k", "x\n")
    r = run([PYTHON, FAKE_AOAI, "--key-file", kf, "--tls-cert", ca.server_cert],
            ctx.base_env())
    assert r.returncode == 2 and "go together" in r.stderr, describe(r)


# --- /redirect and /echo ----------------------------------------------------------------

@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_redirect(ctx, ca, tls_fake, code):
    to = "http://127.0.0.1:1/x?y=1"
    status, r, _ = request(https(tls_fake, ca), "GET",
                           f"/redirect?code={code}&to=http%3A%2F%2F127.0.0.1%3A1%2Fx%3Fy%3D1")
    assert status == code and r.getheader("Location") == to


def test_redirect_defaults_and_errors(ctx, fake_aoai):
    conn = http.client.HTTPConnection("127.0.0.1", fake_aoai.port, timeout=10)
    status, r, _ = request(conn, "GET", "/redirect?to=https://b.test/")
    assert status == 302 and r.getheader("Location") == "https://b.test/"
    for q in ("/redirect?code=302", "/redirect?to=x&code=200", "/redirect?to=x&code=abc"):
        conn = http.client.HTTPConnection("127.0.0.1", fake_aoai.port, timeout=10)
        assert request(conn, "GET", q)[0] == 400, q


def test_redirect_followed_by_curl(ctx, ca, tls_fake):
    plain = start_plain_fake(ctx)
    try:
        to = plain.url("127.0.0.1", "/echo?hop=2")
        r = expect_rc(curl(ctx, ca, tls_fake, "-L", "-H", "x-app: both",
                           tls_fake.url("a.test", "/redirect?code=307&to=" + to)), 0, "curl -L")
        assert json.loads(r.stdout)["headers"]
        (first,) = tls_fake.requests()
        (second,) = plain.requests()
        assert first["path"] == "/redirect" and first["status"] == 307
        assert second["path"] == "/echo" and second["query"] == "hop=2"
        assert app_fps(first) == app_fps(second) == [fp("both")]
    finally:
        stop_checked(plain)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_echo_fingerprints_in_order(ctx, ca, tls_fake, method):
    key, other = tls_fake.key, ctx.secret()
    hdrs = [("X-App", "first"), ("api-key", key), ("Authorization", "Bearer " + other),
            ("API-KEY", other), ("Ocp-Apim-Subscription-Key", other), ("X-Other", other)]
    status, _, body = request(https(tls_fake, ca), method, "/echo/sub?q=1", hdrs,
                              body="{}" if method in ("POST", "PUT", "PATCH") else None)
    assert status == 200
    assert_absent(key, body, "the /echo answer")
    assert_absent(other, body, "the /echo answer")
    echoed = [(h["name"], h["fp"]) for h in json.loads(body)["headers"]]
    want = [(n, fp(v)) for n, v in hdrs]
    assert echoed[1:1 + len(want)] == want, echoed  # after Host, before Content-Length
    assert echoed[0][0] == "Host"
    (e,) = tls_fake.requests()
    assert e["method"] == method and e["path"] == "/echo/sub" and e["query"] == "q=1"
    assert e["header_fps"] == {"x-app": [fp("first")], "api-key": [fp(key), fp(other)],
                               "authorization": [fp("Bearer " + other)],
                               "ocp-apim-subscription-key": [fp(other)]}, e
    assert e["auth"] == "api-key"  # the first api-key header is the one Azure reads
    assert "x-other" in e["headers"]
    with open(tls_fake.log) as f:
        text = f.read()
    assert_absent(key, text, "the fake's log")
    assert_absent(other, text, "the fake's log")


def test_header_fps_on_every_logged_request(ctx, fake_aoai):
    conn = http.client.HTTPConnection("127.0.0.1", fake_aoai.port, timeout=10)
    request(conn, "POST", fake_aoai.chat_url[len(fake_aoai.base):],
            [("api-key", fake_aoai.key), ("Content-Type", "application/json")], CHAT)
    conn = http.client.HTTPConnection("127.0.0.1", fake_aoai.port, timeout=10)
    request(conn, "GET", "/openai/v1/models")
    ok, denied = fake_aoai.requests()
    assert (ok["status"], secret_fps(ok)) == (200, {"api-key": [fp(fake_aoai.key)]}), ok
    assert (denied["status"], denied["header_fps"]) == (401, {}), denied
    assert ok["host"] == f"127.0.0.1:{fake_aoai.port}"


# --- git over dumb HTTP ----------------------------------------------------------------

@pytest.fixture
def git_fake(ctx, ca):
    root, head = make_git_repo(ctx)
    f = start_tls_fake(ctx, ca, name="git", extra=["--git-root", root])
    f.head = head
    yield f
    stop_checked(f)


def test_git_tree_needs_auth(ctx, ca, git_fake):
    status, _, body = request(https(git_fake, ca), "GET", "/git/repo.git/info/refs")
    assert status == 401 and json.loads(body) == {"error": {"code": "401", "message": MSG_401}}
    status, r, body = request(https(git_fake, ca), "GET", "/git/repo.git/info/refs",
                              [("api-key", git_fake.key)])
    assert status == 200 and git_fake.head.encode() in body
    status, r, body = request(https(git_fake, ca), "HEAD", "/git/repo.git/HEAD",
                              [("api-key", git_fake.key)])
    assert status == 200 and body == b"" and int(r.getheader("Content-Length")) > 0
    for path in ("/git/repo.git/../../git.key", "/git/%2e%2e/git.key", "/git/repo.git/",
                 "/git/repo.git/objects/nope", "/git//etc/passwd"):
        status, _, _ = request(https(git_fake, ca), "GET", path, [("api-key", git_fake.key)])
        assert status == 404, path
    status, _, _ = request(https(git_fake, ca), "POST", "/git/repo.git/info/refs",
                           [("api-key", git_fake.key)], body="x")
    assert status == 405


def test_git_clone_with_extra_header_from_a_file(ctx, ca, git_fake):
    """Without the hook: git's own http.extraHeader (from a 0600 global config file, so
    the key stays out of argv) gets the clone through; without it, 401."""
    url = git_fake.url("a.test", "/git/repo.git")
    resolve = f"a.test:{git_fake.port}:127.0.0.1"
    dest = ctx.path("denied")
    r = git_remote(ctx, ca.ca_cert, resolve, "clone", "-q", url, dest)
    assert r.returncode != 0 and not dest.exists(), describe(r)
    assert [e["status"] for e in git_fake.requests()][:1] == [401], git_fake.requests()

    cfg = ctx.write_file("gitconfig-key", f"[http]\n\textraHeader = api-key: {git_fake.key}\n")
    env = git_env(ctx, GIT_CONFIG_GLOBAL=cfg)
    r = git_remote(ctx, ca.ca_cert, resolve, "ls-remote", url, env=env)
    expect_rc(r, 0, "git ls-remote")
    if f"{git_fake.head}\tHEAD" not in r.stdout.splitlines():
        fail(f"ls-remote did not list HEAD:\n{describe(r)}")
    dest = ctx.path("clone")
    expect_rc(git_remote(ctx, ca.ca_cert, resolve, "clone", "-q", url, dest, env=env), 0,
              "git clone")
    assert (dest / "README").read_text() == "served by fake_aoai --git-root\n"
    granted = [e for e in git_fake.requests() if e["auth"] == "api-key"]
    assert granted and all(secret_fps(e) == {"api-key": [fp(git_fake.key)]} for e in granted)
    assert {e["path"] for e in granted} >= {"/git/repo.git/info/refs"}


# --- pycurl (GnuTLS libcurl) ------------------------------------------------------------

def test_pycurl_reaches_tls_fake(ctx, ca, tls_fake):
    resolve = [f"{h}:{tls_fake.port}:127.0.0.1" for h in ("a.test", "b.test")]
    urls = [tls_fake.url("a.test", "/echo?n=1"), tls_fake.url("b.test", "/echo?n=2")]
    for mode in ("easy", "reuse", "multi"):
        out, _ = pycurl_run(ctx, ctx.env(sock=False), mode, urls, ca.ca_cert, resolve,
                            ["x-app: py"])
        assert [o["status"] for o in out] == [200, 200], (mode, out)
    assert len(tls_fake.requests()) == 6
    assert all(app_fps(e) == [fp("py")] for e in tls_fake.requests())
