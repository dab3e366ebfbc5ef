# SPDX-License-Identifier: MIT
"""Signing a person in: `aoai login` with the device code flow (RFC 8628) against a
fake Entra ID (tests/fakes/fake_entra_user.py) and a fake OpenID Connect provider
(tests/fakes/fake_oidc.py), the refresh token the agent keeps (rotation, other
scopes, revocation → "sign-in required"), `aoai logout`, `aoai list`, and that no
code or token shows up anywhere it should not.  The person is the test, approving
the code at the fake."""

import json
import os
import re
import select
import signal
import subprocess
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest

from aoaitest import (PYTHON, assert_absent, expect_rc, fail, register_secret,
                      wait_until)
from exectest import exec_child  # noqa: F401 (a fixture)
from identity import FAKES_DIR, _opener, wait_first_lines

FAKE_ENTRA_USER = os.path.join(FAKES_DIR, "fake_entra_user.py")
FAKE_OIDC = os.path.join(FAKES_DIR, "fake_oidc.py")
CONTROL_TIMEOUT = 10.0
LOGIN_TIMEOUT = 30.0
SCOPE = "https://cognitiveservices.azure.com/.default"
AZ_CLI_CLIENT = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CODE_RE = re.compile(r"enter the code (\S+)")


class Fake:
    def __init__(self, proc, port, stderr_path, prefix="/_fake/"):
        self.proc, self.port, self.stderr_path = proc, port, stderr_path
        self.base = f"http://127.0.0.1:{port}"
        self.prefix = prefix  # of the person control API

    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + self.prefix + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with _opener().open(req, timeout=CONTROL_TIMEOUT) as r:
                return json.loads(r.read())
        except (OSError, ValueError) as e:
            fail(f"fake control {method} {path} failed: {e}")

    def approve(self, user_code, **kw):
        return self.control("POST", "approve", {"user_code": user_code, **kw})

    def settings(self, **kw):
        return self.control("POST", "settings", kw)

    def requests(self, endpoint=None, grant=None):
        entries = self.control("GET", "requests")["requests"]
        return [e for e in entries if (endpoint is None or e.get("endpoint") == endpoint)
                and (grant is None or e.get("grant_type") == grant)]

    def issued(self):
        """Every code and token the fake handed out, registered as secrets."""
        return [register_secret(s) for s in self.control("GET", "issued")["issued"]]


def start_python_fake(ctx, argv, name):
    stderr_path = ctx.path(f"{name}.stderr")
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen([PYTHON, *argv, "--port", "0", "--max-lifetime", "900"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                                env=ctx.base_env())
    (line,) = wait_first_lines(proc, 1, name, stderr_path)
    if not line.startswith("listening on 127.0.0.1:"):
        proc.kill()
        fail(f"{name} printed an unexpected first line: {line!r}")
    return Fake(proc, int(line.rsplit(":", 1)[1]), stderr_path)


def stop_python_fake(fake):
    fake.proc.terminate()
    try:
        fake.proc.wait(10)
    except subprocess.TimeoutExpired:
        fake.proc.kill()
        fake.proc.wait(5)
    fake.proc.stdout.close()
    text = fake.stderr_path.read_text(errors="replace")
    if "Traceback" in text:
        fail(f"fake failed:\n{text[-4000:]}")


@pytest.fixture
def entra(ctx):
    fake = start_python_fake(ctx, [FAKE_ENTRA_USER], "fake_entra_user")
    yield fake
    stop_python_fake(fake)


@pytest.fixture
def oidc_idp(ctx):
    secret_file = ctx.write_file("oidc.client-secret", ctx.secret() + "\n")
    key_file = ctx.write_file("oidc.jwt.key", ctx.secret(32) + "\n")
    fake = start_python_fake(ctx, [FAKE_OIDC, "--jwt-key-file", str(key_file),
                                   "--client-id", "confidential",
                                   "--client-secret-file", str(secret_file),
                                   "--issuer-path", "/realm"], "fake_oidc")
    fake.issuer = fake.base + "/realm"
    fake.prefix = "/_fake/person/"
    yield fake
    stop_python_fake(fake)


def user_profile(entra, host="127.0.0.1:9", **kw):
    cred = {"type": "user", "authority_host": entra.base, **kw}
    return {"hosts": [host], "credential": cred}


def config(ctx, **profiles):
    return ctx.write_config({"profiles": profiles})


class Login:
    """`aoai login PROFILE` running, its stderr read up to the provider's message."""

    def __init__(self, ctx, build, profile, *args, env=None):
        self.proc = subprocess.Popen([build.aoai, "login", profile, *args],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env or ctx.env())
        self.err = b""

    def read_code(self):
        deadline = time.monotonic() + LOGIN_TIMEOUT
        while not CODE_RE.search(self.err.decode(errors="replace")):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stderr], [], [], left)[0]:
                self.proc.kill()
                fail(f"aoai login printed no code in time: {self.err!r}")
            chunk = os.read(self.proc.stderr.fileno(), 4096)
            if not chunk:
                out = self.proc.stdout.read()
                fail(f"aoai login ended ({self.proc.wait(5)}) without a code:\n"
                     f"{self.err.decode(errors='replace')}{out.decode(errors='replace')}")
            self.err += chunk
        return CODE_RE.search(self.err.decode()).group(1).rstrip(".")

    def finish(self, timeout=LOGIN_TIMEOUT):
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            fail("aoai login did not end in time")
        self.err += err
        return self.proc.returncode, out.decode(errors="replace"), \
            self.err.decode(errors="replace")


def sign_in(ctx, build, fake, profile="me", username="ada@contoso.example", *args):
    login = Login(ctx, build, profile, *args)
    code = login.read_code()
    fake.approve(code, username=username)
    rc, out, err = login.finish()
    if rc != 0:
        fail(f"aoai login exited {rc}:\n{out}{err}")
    return out, err


def token(aoai, profile="me", *args):
    r = expect_rc(aoai("token", profile, "--json", *args), 0, "aoai token")
    return json.loads(r.stdout)


def assert_clean(agent, aoai, fake, *texts):
    """No code or token the fake issued in the agent's log, list, status or @texts."""
    issued = fake.issued()
    assert issued, "the fake issued nothing"
    outputs = [agent.log(), aoai("list", "--json").stdout, aoai("status", "--json").stdout,
               aoai("list").stdout, *texts]
    for s in issued:
        if s.startswith("fake-dc-") or s.startswith("fake-rt-"):
            for i, text in enumerate(outputs):
                assert_absent(s, text, f"output {i}")


# --- device code at Entra ID ----------------------------------------------------------

def test_device_code_entra(ctx, build, start_agent, entra, aoai):
    agent = start_agent(config=config(ctx, me=user_profile(entra)))
    r = aoai("token", "me")
    expect_rc(r, 6, "token before any sign-in")
    assert "sign-in required: run aoai login me" in r.stderr, r.stderr
    out, err = sign_in(ctx, build, entra)
    assert "To sign in, use a web browser to open the page" in err, err
    assert "Signed in for profile me as ada@contoso.example" in out, out
    dev = entra.requests("devicecode")
    assert len(dev) == 1 and dev[0]["path"] == "/organizations/oauth2/v2.0/devicecode", dev
    assert dev[0]["client_id"] == AZ_CLI_CLIENT, dev
    assert dev[0]["scope"] == SCOPE + " offline_access openid profile", dev
    polls = entra.requests("token", DEVICE_GRANT)
    assert polls and polls[-1].get("error") is None, polls
    # The token from the sign-in is served at once: no refresh needed.
    tok = token(aoai)
    register_secret(tok["accessToken"])
    assert entra.requests("token", "refresh_token") == []
    listed = json.loads(aoai("list", "--json").stdout)
    p = next(p for p in listed["profiles"] if p["name"] == "me")
    assert p["signin"] == {"state": "signed_in", "account": "ada@contoso.example",
                           "persisted": False}, p
    assert p["token"]["state"] == "valid" and p["token"]["expires_in"] > 3000, p
    table = aoai("list").stdout
    assert "signed in as ada@contoso.example" in table and "token expires in" in table, table
    assert_clean(agent, aoai, entra, out, err)


def test_other_scope_and_rotation(ctx, build, start_agent, entra, aoai):
    agent = start_agent(config=config(ctx, me=user_profile(entra, tenant_id="contoso.example")))
    sign_in(ctx, build, entra)
    first = entra.issued()
    other = token(aoai, "me", "--scope", "api://other/.default")
    register_secret(other["accessToken"])
    refresh = entra.requests("token", "refresh_token")
    assert len(refresh) == 1, refresh
    assert refresh[0]["scope"] == "api://other/.default offline_access", refresh
    assert refresh[0]["path"] == "/contoso.example/oauth2/v2.0/token", refresh
    assert refresh[0].get("error") is None, refresh
    # The fake rotates: the first refresh token is now refused, so a second scope
    # only works if the agent kept the new one.
    token(aoai, "me", "--scope", "api://third/.default")
    refresh = entra.requests("token", "refresh_token")
    assert len(refresh) == 2 and refresh[1].get("error") is None, refresh
    assert [s for s in entra.issued() if s.startswith("fake-rt-")] != \
        [s for s in first if s.startswith("fake-rt-")]
    assert_clean(agent, aoai, entra)


def test_revoked_refresh_token_means_sign_in_required(ctx, build, start_agent, entra, aoai):
    agent = start_agent(config=config(ctx, me=user_profile(entra)))
    sign_in(ctx, build, entra)
    entra.control("POST", "revoke", {})
    r = aoai("token", "me", "--scope", "api://other/.default")
    expect_rc(r, 6, "token after revocation")
    assert "sign-in required: run aoai login me" in r.stderr, r.stderr
    assert "invalid_grant" in r.stderr and "AADSTS70008" in r.stderr, r.stderr
    # Every later request says so too, without asking the provider again.
    n = len(entra.requests("token", "refresh_token"))
    r = aoai("token", "me", "--scope", "api://again/.default")
    expect_rc(r, 6, "token after revocation, again")
    assert "sign-in required: run aoai login me" in r.stderr, r.stderr
    assert len(entra.requests("token", "refresh_token")) == n
    p = next(p for p in json.loads(aoai("list", "--json").stdout)["profiles"]
             if p["name"] == "me")
    assert p["signin"]["state"] == "required", p
    # Signing in again mends it.
    sign_in(ctx, build, entra)
    token(aoai, "me", "--scope", "api://again/.default")
    assert_clean(agent, aoai, entra, r.stderr)


def test_logout(ctx, build, start_agent, entra, aoai):
    agent = start_agent(config=config(ctx, me=user_profile(entra)))
    sign_in(ctx, build, entra)
    token(aoai)
    r = expect_rc(aoai("logout", "me"), 0, "logout")
    assert "Signed out of me" in r.stdout, r.stdout
    r = aoai("token", "me")
    expect_rc(r, 6, "token after logout")
    assert "sign-in required: run aoai login me" in r.stderr, r.stderr
    r = expect_rc(aoai("logout", "me"), 0, "logout again")
    assert "Nobody was signed in for me" in r.stdout, r.stdout
    expect_rc(aoai("logout", "nosuch"), 1, "logout of an unknown profile")
    assert_clean(agent, aoai, entra)


def test_lock_forgets_sign_in(ctx, build, start_agent, entra, aoai):
    start_agent(config=config(ctx, me=user_profile(entra)))
    sign_in(ctx, build, entra)
    pw = ctx.secret()
    expect_rc(aoai("lock", input=f"{pw}\n"), 0, "lock")
    expect_rc(aoai("unlock", input=f"{pw}\n"), 0, "unlock")
    r = aoai("token", "me")
    expect_rc(r, 6, "token after lock and unlock")
    assert "sign-in required: run aoai login me" in r.stderr, r.stderr


# --- what the provider refuses --------------------------------------------------------

def test_slow_down_honoured(ctx, build, start_agent, entra, aoai):
    start_agent(config=config(ctx, me=user_profile(entra)))
    entra.settings(interval=1, slow_down=1)
    login = Login(ctx, build, "me")
    code = login.read_code()
    wait_until(lambda: len(entra.requests("token", DEVICE_GRANT)) >= 2, 15,
               "a poll after slow_down")
    entra.approve(code)
    rc, out, err = login.finish()
    assert rc == 0, err
    times = [e["time"] for e in entra.requests("token", DEVICE_GRANT)]
    gaps = [b - a for a, b in zip(times, times[1:])]
    # slow_down adds 5 s to the interval of 1 s (RFC 8628 §3.5), for every later poll.
    assert gaps and gaps[0] >= 5.5, gaps
    assert all(g >= 5.5 for g in gaps), gaps


@pytest.mark.parametrize("how,error,description", [
    ("deny", "access_denied", "The user denied the sign-in request"),
    ("expire", "expired_token", "This device code has expired"),
])
def test_refused_sign_in(ctx, build, start_agent, entra, aoai, how, error, description):
    agent = start_agent(config=config(ctx, me=user_profile(entra)))
    login = Login(ctx, build, "me")
    code = login.read_code()
    if how == "deny":
        entra.approve(code, deny=True)
    else:
        entra.control("POST", "expire", {"user_code": code})
    rc, out, err = login.finish()
    assert rc == 6, (rc, err)
    assert error in err and description in err, err
    expect_rc(aoai("token", "me"), 6, "token after a failed sign-in")
    assert_clean(agent, aoai, entra, out, err)


def test_ctrl_c_cancels(ctx, build, start_agent, entra, aoai):
    agent = start_agent(config=config(ctx, me=user_profile(entra)))
    login = Login(ctx, build, "me")
    code = login.read_code()
    wait_until(lambda: len(entra.requests("token", DEVICE_GRANT)) >= 1, 10, "a first poll")
    login.proc.send_signal(signal.SIGINT)
    rc, _, err = login.finish()
    assert rc == 130 and "cancelled" in err, (rc, err)
    agent.wait_log(lambda log: "sign-in" in log, what="the agent's log")
    n = len(entra.requests("token", DEVICE_GRANT))
    time.sleep(2.5)  # the interval is 1 s: polling would have gone on meanwhile
    assert len(entra.requests("token", DEVICE_GRANT)) <= n + 1
    n = len(entra.requests("token", DEVICE_GRANT))
    time.sleep(1.5)
    assert len(entra.requests("token", DEVICE_GRANT)) == n
    # Approving now changes nothing: nobody is signed in.
    entra.approve(code)
    expect_rc(aoai("token", "me"), 6, "token after a cancelled sign-in")


URL_RE = re.compile(r"^(http://\S+)$", re.M)


def read_url(login):
    """The authorization URL `aoai login --browser` printed."""
    deadline = time.monotonic() + LOGIN_TIMEOUT
    while not URL_RE.search(login.err.decode(errors="replace")):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([login.proc.stderr], [], [], left)[0]:
            login.proc.kill()
            fail(f"aoai login printed no URL in time: {login.err!r}")
        chunk = os.read(login.proc.stderr.fileno(), 4096)
        if not chunk:
            fail(f"aoai login ended without a URL: {login.err!r}")
        login.err += chunk
    return URL_RE.search(login.err.decode()).group(1)


def browse(url):
    """What a browser does with the URL: follow the redirect to the loopback listener."""
    with _opener().open(url, timeout=CONTROL_TIMEOUT) as r:
        return r.status, r.read().decode()


def test_browser_entra(ctx, build, start_agent, entra, aoai):
    agent = start_agent(config=config(ctx, me=user_profile(entra)))
    login = Login(ctx, build, "me", "--browser")
    url = read_url(login)
    q = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path == "/organizations/oauth2/v2.0/authorize", url
    assert q["code_challenge_method"] == ["S256"] and len(q["code_challenge"][0]) == 43, q
    assert q["client_id"] == [AZ_CLI_CLIENT] and q["response_type"] == ["code"], q
    assert q["scope"] == [SCOPE + " offline_access openid profile"], q
    redirect = q["redirect_uri"][0]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", redirect), redirect
    # A request without the sign-in's state is turned away; the listener goes on.
    try:
        _opener().open(redirect + "?code=x&state=wrong", timeout=CONTROL_TIMEOUT)
        fail("the listener accepted a redirect with the wrong state")
    except urllib.error.HTTPError as e:
        assert e.code == 400
    status, page = browse(url)
    assert status == 200 and "You can close this window" in page, page
    rc, out, err = login.finish()
    assert rc == 0, err
    assert "Signed in for profile me as ada@contoso.example" in out, out
    # The listener is gone.
    with pytest.raises(OSError):
        _opener().open(redirect, timeout=2)
    tok = token(aoai)
    register_secret(tok["accessToken"])
    grants = entra.requests("token", "authorization_code")
    assert len(grants) == 1 and grants[0].get("error") is None, grants
    assert_clean(agent, aoai, entra, out, err)
    for s in entra.issued():
        if s.startswith("fake-ac-"):
            assert_absent(s, agent.log(), "the agent's log")


def test_browser_opened_by_default(ctx, build, start_agent, entra, aoai):
    start_agent(config=config(ctx, me=user_profile(entra)))
    script = ctx.write_file("browser.py", "import sys, urllib.request\n"
                            "o = urllib.request.build_opener(urllib.request.ProxyHandler({}))\n"
                            "o.open(sys.argv[1], timeout=10).read()\n", mode=0o700)
    wrapper = ctx.write_file("browser", f"#!/bin/sh\nexec {PYTHON} {script} \"$1\"\n",
                             mode=0o700)
    login = subprocess.run([build.aoai, "login", "me"], env=ctx.env(BROWSER=str(wrapper)),
                           capture_output=True, text=True, timeout=LOGIN_TIMEOUT)
    assert login.returncode == 0, login.stderr
    assert "Signed in for profile me" in login.stdout, login.stdout
    assert len(entra.requests("authorize")) == 1 and entra.requests("devicecode") == []


def test_browser_denied(ctx, build, start_agent, entra, aoai):
    start_agent(config=config(ctx, me=user_profile(entra)))
    entra.settings(browser="deny")
    login = Login(ctx, build, "me", "--browser")
    status, page = browse(read_url(login))
    assert status == 200 and "failed" in page, page
    rc, _, err = login.finish()
    assert rc == 6 and "access_denied" in err and "User declined" in err, (rc, err)
    expect_rc(aoai("token", "me"), 6, "token after a denied sign-in")


def test_browser_profile_without_a_browser(ctx, build, start_agent, entra, aoai):
    start_agent(config=config(ctx, web=user_profile(entra, flow="browser")))
    r = aoai("login", "web")  # no display, no $BROWSER, no --browser
    expect_rc(r, 6, "login of a browser profile without a browser")
    assert "aoai login web --browser" in r.stderr, r.stderr
    assert entra.requests() == []


def test_browser_oidc_public_client(ctx, build, start_agent, oidc_idp, aoai):
    cred = {"type": "oidc", "issuer": oidc_idp.issuer, "client_id": "public-cli"}
    start_agent(config=ctx.write_config({"profiles": {
        "me": {"hosts": ["127.0.0.1:9"], "credential": cred, "scope": "api://aoai/read"}}}))
    login = Login(ctx, build, "me", "--browser")
    url = read_url(login)
    assert url.startswith(oidc_idp.base + "/authorize?"), url
    browse(url)
    rc, out, err = login.finish()
    assert rc == 0 and "ada@contoso.example" in out, err
    register_secret(token(aoai)["accessToken"])


def test_login_refusals(ctx, build, start_agent, entra, aoai):
    key = ctx.write_file("key", ctx.secret() + "\n")
    start_agent(config=ctx.write_config({"profiles": {
        "me": user_profile(entra),
        "key": {"hosts": ["127.0.0.1:8"], "credential": {"type": "api-key",
                                                          "file": str(key)}}}}))
    expect_rc(aoai("login", "nosuch"), 1, "login of an unknown profile")
    r = aoai("login", "key")
    expect_rc(r, 1, "login of an api-key profile")
    assert "does not sign a person in" in r.stderr, r.stderr
    expect_rc(aoai("login"), 2, "login without a profile")
    expect_rc(aoai("login", "me", "--browser", "--device-code"), 2, "both flows")


# --- the rest of the agent goes on ----------------------------------------------------

def test_hanging_provider_delays_nobody(ctx, build, start_agent, entra, aoai):
    key = ctx.secret()
    keyfile = ctx.write_file("key", key + "\n")
    start_agent(config=ctx.write_config({"profiles": {
        "me": user_profile(entra),
        "key": {"hosts": ["127.0.0.1:8"], "credential": {"type": "api-key",
                                                          "file": str(keyfile)}}}}))
    login = Login(ctx, build, "me")
    login.read_code()
    entra.settings(hang=8)
    wait_until(lambda: len(entra.requests("token", DEVICE_GRANT)) >= 1, 10, "a first poll")
    time.sleep(1.2)  # the next poll is now hanging at the fake
    for _ in range(5):
        t0 = time.monotonic()
        r = expect_rc(aoai("headers", "http://127.0.0.1:8/x"), 0, "headers meanwhile")
        assert time.monotonic() - t0 < 2.0
        assert key in r.stdout
    entra.settings(hang=0)
    login.proc.send_signal(signal.SIGINT)
    login.finish()


def test_headers_serve_the_signed_in_token(ctx, build, start_agent, entra, aoai):
    start_agent(config=config(ctx, me=user_profile(entra)))
    r = aoai("headers", "http://127.0.0.1:9/openai/x")
    expect_rc(r, 6, "headers before sign-in")
    assert "sign-in required: run aoai login me" in r.stderr, r.stderr
    sign_in(ctx, build, entra)
    tok = token(aoai)["accessToken"]
    r = expect_rc(aoai("headers", "http://127.0.0.1:9/openai/x"), 0, "headers")
    assert f"Bearer {tok}" in r.stdout


# --- a generic OpenID Connect provider ------------------------------------------------

def test_device_code_oidc_public_client(ctx, build, start_agent, oidc_idp, aoai):
    cred = {"type": "oidc", "issuer": oidc_idp.issuer, "client_id": "public-cli"}
    agent = start_agent(config=ctx.write_config({"profiles": {
        "me": {"hosts": ["127.0.0.1:9"], "credential": cred, "scope": "api://aoai/read"}}}))
    out, err = sign_in(ctx, build, oidc_idp, "me", "grace@example.org")
    assert "grace@example.org" in out, out
    dev = oidc_idp.requests("devicecode")
    assert len(dev) == 1 and dev[0]["path"] == "/oauth/device/code", dev
    assert dev[0]["client_id"] == "public-cli", dev
    assert dev[0]["scope"] == "api://aoai/read offline_access openid profile", dev
    tok = token(aoai)
    register_secret(tok["accessToken"])
    other = token(aoai, "me", "--scope", "api://aoai/write")
    register_secret(other["accessToken"])
    refresh = oidc_idp.requests("token", "refresh_token")
    assert len(refresh) == 1 and refresh[0]["scope"] == "api://aoai/write", refresh
    assert_clean(agent, aoai, oidc_idp, out, err)


def test_reload_keeps_or_drops_the_sign_in(ctx, build, start_agent, entra, aoai):
    cfg = config(ctx, me=user_profile(entra))
    start_agent(config=cfg)
    sign_in(ctx, build, entra)
    # The same profile, another scope: the sign-in stays.
    prof = user_profile(entra)
    prof["scope"] = "api://changed/.default"
    ctx.write_config({"profiles": {"me": prof}})
    expect_rc(aoai("reload"), 0, "reload")
    tok = token(aoai)
    register_secret(tok["accessToken"])
    # Another client id signs in elsewhere: the refresh token is dropped.
    ctx.write_config({"profiles": {"me": user_profile(
        entra, client_id="0c9a3d5e-0000-4000-8000-000000000001")}})
    expect_rc(aoai("reload"), 0, "reload")
    r = aoai("token", "me")
    expect_rc(r, 6, "token after the client id changed")
    assert "sign-in required: run aoai login me" in r.stderr, r.stderr


def test_lock_during_sign_in(ctx, build, start_agent, entra, aoai):
    start_agent(config=config(ctx, me=user_profile(entra)))
    login = Login(ctx, build, "me")
    code = login.read_code()
    pw = ctx.secret()
    expect_rc(aoai("lock", input=f"{pw}\n"), 0, "lock")
    entra.approve(code)
    rc, _, err = login.finish()
    assert rc == 5 and "the agent was locked meanwhile" in err, (rc, err)
    expect_rc(aoai("unlock", input=f"{pw}\n"), 0, "unlock")
    r = aoai("token", "me")
    expect_rc(r, 6, "token after a sign-in the lock cut short")
    assert "sign-in required: run aoai login me" in r.stderr, r.stderr


def test_exec_identity_endpoint_serves_the_sign_in(ctx, build, start_agent, entra, aoai,
                                                   exec_child):
    from test_exec_identity import HOLD, get, query
    start_agent(config=config(ctx, me=user_profile(entra)))
    sign_in(ctx, build, entra)
    header_file = ctx.path("identity-header")
    c = exec_child("-p", "me", "--", PYTHON, "-c", HOLD, header_file, env=ctx.env())
    endpoint = c.line()
    header = register_secret(header_file.read_text())
    status, body = get(endpoint, query(), {"X-IDENTITY-HEADER": header})
    assert status == 200, body
    register_secret(body["access_token"])
    if body["access_token"] != token(aoai)["accessToken"]:
        fail("aoai-exec's identity endpoint served another token than the agent's")
    c.send("\n")
    assert c.wait() == 0, c.stderr()


# --- aoai check on a signed-in profile's token -------------------------------------------

POLICY_ENTRA = os.path.join(os.path.dirname(__file__), "policies", "validate-jwt-entra.xml")
COGNITIVE = "https://cognitiveservices.azure.com"


def check_json(aoai, *args, rc=0):
    r = expect_rc(aoai("check", *args, "--json"), rc, "aoai check --json")
    return json.loads(r.stdout)


def failing(doc):
    return sorted(c["check"] for c in doc["checks"] if not c["ok"])


def test_check_a_signed_in_entra_profile(ctx, build, start_agent, entra, aoai):
    """The fake Entra signs its tokens (RS256, keys at its jwks_uri): the docs'
    single-tenant validate-jwt pointed at it passes the agent's token for a user
    profile, and fails it for another audience."""
    agent = start_agent(config=config(ctx, me=user_profile(entra, tenant_id="contoso.example")))
    r = expect_rc(aoai("check", "--profile", "me"), 6, "check before the sign-in")
    assert "sign-in required: run aoai login me" in r.stderr, r.stderr
    sign_in(ctx, build, entra)
    named = {"aad-authority": entra.base, "aad-tenant-id": "contoso.example",
             "aad-audience": COGNITIVE, "claim-name": "upn", "claim-value": "ada@contoso.example"}
    args = ["--profile", "me", "--policy", POLICY_ENTRA]
    for k, v in named.items():
        args += ["--named-value", f"{k}={v}"]
    doc = check_json(aoai, *args)
    assert doc["token"] == 'the agent\'s, profile "me"', doc
    assert [c["check"] for c in doc["checks"]] == ["signature", "exp", "nbf", "aud", "iss",
                                                  "upn"], doc["checks"]
    assert doc["keys"][0]["openid_config"] == \
        f"{entra.base}/contoso.example/.well-known/openid-configuration", doc["keys"]
    args[-1] = "claim-value=bob@contoso.example"
    assert failing(check_json(aoai, *args, rc=1)) == ["upn"]
    doc = check_json(aoai, "--profile", "me", "--audience", "api://elsewhere", "--openid-config",
                     f"{entra.base}/contoso.example/v2.0/.well-known/openid-configuration", rc=1)
    assert failing(doc) == ["aud"], doc["checks"]
    assert_clean(agent, aoai, entra)


def test_check_an_oidc_profile_with_its_openid_config(ctx, build, start_agent, oidc_idp, aoai):
    """A public oidc profile's token checked with --openid-config of its (non-Entra)
    issuer: the keys come from the discovery document's jwks_uri."""
    cred = {"type": "oidc", "issuer": oidc_idp.issuer, "client_id": "aoai-cli"}
    agent = start_agent(config=config(ctx, me={"hosts": ["127.0.0.1:9"], "credential": cred,
                                               "scope": "api://aoai/read"}))
    sign_in(ctx, build, oidc_idp)
    url = oidc_idp.issuer + "/.well-known/openid-configuration"
    doc = check_json(aoai, "--profile", "me", "--openid-config", url,
                     "--audience", "api://aoai/read")
    assert all(c["ok"] for c in doc["checks"]), doc["checks"]
    assert doc["claims"]["iss"] == oidc_idp.issuer, doc["claims"]
    assert doc["keys"][0]["openid_config"] == url, doc["keys"]
    doc = check_json(aoai, "--profile", "me", "--openid-config", url, "--issuer",
                     "https://other.example/", rc=1)
    assert failing(doc) == ["iss"], doc["checks"]
    assert_clean(agent, aoai, oidc_idp)
