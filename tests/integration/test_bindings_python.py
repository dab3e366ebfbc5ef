# SPDX-License-Identifier: MIT
"""The Python client bindings/python (import name aoai_agent) against a real
agent: headers and tokens, the error kinds and exit codes it shares with the
CLI, the SDK shapes (token_provider, httpx AgentAuth) through the fake Azure
OpenAI endpoint, reconnecting to a restarted agent, broken agents, and a
pip install from the tree."""

import asyncio
import hashlib
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

from aoaitest import (CHAT_BODY, CMD_TIMEOUT, PYTHON, TESTS_DIR, api_key_profile, assert_absent,
                      describe, expect_rc, fail, run, stop_fake)
from identity import start_fake_aoai_jwt

BINDING = os.path.join(os.path.dirname(TESTS_DIR), "bindings", "python")
if BINDING not in sys.path:
    sys.path.insert(0, BINDING)
import aoai_agent  # noqa: E402

try:
    import httpx
except ImportError:  # scripts/install-deps.sh test installs python3-httpx
    httpx = None

HOST = "contoso.openai.azure.com"
URL = f"https://{HOST}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"


def fp(value):
    """The fingerprint fake_aoai logs for a header value."""
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def needs_httpx():
    if httpx is None:
        pytest.fail("httpx is missing: scripts/install-deps.sh test installs python3-httpx",
                    pytrace=False)


def expect_headers(client, want):
    """Fails unless client.headers(URL) is @want (never printing a value bare)."""
    got = client.headers(URL)
    if got != want:
        fail(f"expected headers {want}, got {got}")


def expect_raises(cls, fn, *args, **kw):
    """Calls fn; returns the exception, which must be a @cls."""
    try:
        fn(*args, **kw)
    except aoai_agent.AoaiError as e:
        if not isinstance(e, cls):
            fail(f"expected {cls.__name__}, got {e!r}")
        return e
    fail(f"expected {cls.__name__}, nothing was raised")


@pytest.fixture
def keyed(ctx, start_agent, aoai):
    """An agent with the api-key profile "contoso" holding a fresh key; (agent, key, config)."""
    cfg = ctx.write_config({"profiles": {"contoso": api_key_profile(HOST),
                                         "nokey": api_key_profile("nokey.example")}})
    agent = start_agent(config=cfg)
    key = ctx.secret()
    expect_rc(aoai("add", "contoso", input=key + "\n"), 0, "aoai add")
    return agent, key, cfg


@pytest.fixture
def client(ctx):
    c = aoai_agent.Client(ctx.sock, timeout=10)
    yield c
    c.close()


# --- headers ------------------------------------------------------------------------

def test_headers_api_key(keyed, client):
    _, key, _ = keyed
    got = client.headers(URL)
    if got != {"api-key": key}:
        fail(f"unexpected headers: {got}")
    reply = client.agent_headers(URL)
    assert reply.profile == "contoso"
    (h,) = reply.headers
    assert (h.name, h.exists_action) == ("api-key", "override")
    if h.value != key:
        fail("the header's value is not the key")
    assert_absent(key, repr(reply) + repr(h) + repr(client), "a repr")
    # The request's own header of that name (any case) is replaced, others kept.
    merged = client.headers(URL, {"API-Key": "stale", "Content-Type": "application/json"})
    if merged != {"api-key": key, "Content-Type": "application/json"}:
        fail(f"unexpected merge: {merged}")


def test_headers_exists_actions(ctx, start_agent, aoai, client):
    cfg = ctx.write_config({"profiles": {"gw": api_key_profile("gw.example", headers={
        "api-key": "{secret}",
        "Ocp-Apim-Subscription-Key": {"value": "{secret:sub}", "exists_action": "skip"},
        "X-Static": {"value": "fixed-{secret:sub}", "exists_action": "append"},
    })}})
    start_agent(config=cfg)
    key, sub = ctx.secret(), ctx.secret()
    expect_rc(aoai("add", "gw", input=key + "\n"), 0, "add gw")
    expect_rc(aoai("add", "sub", input=sub + "\n"), 0, "add sub")
    url = "https://gw.example/x"
    mine = {"api-key": "mine", "ocp-apim-subscription-key": "mine", "X-STATIC": "mine"}
    got = client.headers(url, mine)
    want = {"api-key": key, "ocp-apim-subscription-key": "mine", "X-STATIC": f"mine, fixed-{sub}"}
    if got != want:
        fail(f"merge by exists_action: got {got}")
    got = client.headers(url)
    if got != {"api-key": key, "Ocp-Apim-Subscription-Key": sub, "X-Static": f"fixed-{sub}"}:
        fail(f"headers without a request's own: got {got}")


def test_module_functions_find_the_socket(ctx, start_agent, aoai):
    """The default client finds the socket as PROTOCOL.md says: AOAI_AUTH_SOCK,
    else XDG_RUNTIME_DIR/aoai/agent.sock (an agent started without -a)."""
    cfg = ctx.write_config({"profiles": {"contoso": api_key_profile(HOST)}})
    start_agent(config=cfg, sock=None)
    key = ctx.secret()
    default_sock = ctx.runtime / "aoai" / "agent.sock"
    expect_rc(aoai("add", "contoso", input=key + "\n", sock=default_sock), 0, "aoai add")
    script = ("import sys, json, aoai_agent\n"
              "print(json.dumps([aoai_agent.socket_path(), aoai_agent.headers(sys.argv[1]),"
              " [p['name'] for p in aoai_agent.list_profiles()]]))\n")
    for env in (ctx.env(sock=False), ctx.env(sock=default_sock)):
        r = expect_rc(run([PYTHON, "-c", script, URL], dict(env, PYTHONPATH=BINDING)), 0,
                      "module-level headers()")
        path, headers, profiles = json.loads(r.stdout)
        assert path == str(default_sock), path
        if headers != {"api-key": key} or profiles != ["contoso"]:
            fail(f"unexpected reply through the default client: {r.stdout}")


# --- tokens -------------------------------------------------------------------------

@pytest.fixture
def mi_agent(ctx, start_agent, identity):
    """An agent whose only token profile "mi" takes tokens from the fake IMDS,
    for a fake Azure OpenAI endpoint that accepts them; (agent, fake)."""
    fake = start_fake_aoai_jwt(ctx, identity)
    cfg = ctx.write_config({"profiles": {
        "mi": {"hosts": [fake.hostport],
               "credential": {"type": "managed-identity", "endpoint": identity.imds_url}},
        "contoso": api_key_profile(HOST)}})
    yield start_agent(config=cfg), fake
    stop_fake(fake)


def test_token(mi_agent, client, identity, aoai):
    before = int(time.time())
    tok = client.token()
    assert isinstance(tok, aoai_agent.Token)
    assert tok.profile == "mi" and tok.source == "imds" and tok.token_type == "Bearer", repr(tok)
    assert tok.scope == aoai_agent.DEFAULT_SCOPE, repr(tok)
    assert tok.expires_on > before + 60 and 0 < tok.expires_in() <= 3600 * 24, repr(tok)
    if not tok.token or tok.access_token != tok.token:
        fail("the Token has no token, or access_token is another")
    assert_absent(tok.token, repr(tok), "the Token's repr")
    r = expect_rc(aoai("token", "mi"), 0, "aoai token")
    if r.stdout != tok.token + "\n":
        fail("aoai token printed another token than the binding got")
    same = client.token("mi", aoai_agent.DEFAULT_SCOPE)
    if same.token != tok.token:
        fail("the cached token was not served")
    assert len(identity.requests("imds")) == 1


def test_token_provider(mi_agent, client, identity):
    provide = aoai_agent.token_provider(client=client)
    first = provide()
    if not isinstance(first, str) or not first:
        fail(f"token_provider() returned a {type(first).__name__}, not a token")
    if provide() != first or aoai_agent.token_provider("mi", client=client)() != first:
        fail("token_provider does not hand out the agent's cached token")
    # Used as openai does: "Authorization: Bearer <provider()>".
    needs_httpx()
    _, fake = mi_agent
    r = httpx.post(fake.chat_url, content=CHAT_BODY,
                   headers={"Authorization": f"Bearer {provide()}",
                            "Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 200, r.text


def test_azure_core_credential(mi_agent, client):
    """AgentCredential in azure-core's bearer-token policy, as Azure SDK clients use it."""
    from azure.core.pipeline import Pipeline
    from azure.core.pipeline.policies import BearerTokenCredentialPolicy
    from azure.core.pipeline.transport import HttpRequest, RequestsTransport

    _, fake = mi_agent
    cred = aoai_agent.AgentCredential(client=client)
    tok, expires_on = cred.get_token(aoai_agent.DEFAULT_SCOPE)
    if tok != client.token().token or expires_on != client.token().expires_on:
        fail("AgentCredential.get_token() is not the agent's token")
    expect_raises(aoai_agent.InvalidArgumentError, cred.get_token, "a", "b")
    policy = BearerTokenCredentialPolicy(cred, aoai_agent.DEFAULT_SCOPE)
    with Pipeline(transport=RequestsTransport(), policies=[policy]) as pipeline:
        req = HttpRequest("POST", fake.chat_url, data=CHAT_BODY,
                          headers={"Content-Type": "application/json"})
        # The fake listens on loopback without TLS.
        resp = pipeline.run(req, enforce_https=False).http_response
    assert resp.status_code == 200, resp.text()
    last = fake.requests()[-1]
    assert (last["auth"], last["bearer_src"]) == ("jwt", "imds"), last


def test_token_errors(keyed, client, aoai):
    # keyed's agent has api-key profiles only.
    e = expect_raises(aoai_agent.NoMatchError, client.token)
    assert (e.kind, e.exit_code) == ("no_match", 4), repr(e)
    expect_rc(aoai("token"), e.exit_code, "aoai token: no token profile")
    e = expect_raises(aoai_agent.AoaiError, client.token, "nosuch")
    assert (e.kind, e.exit_code) == ("not_found", 1) and "nosuch" in str(e), repr(e)
    e = expect_raises(aoai_agent.AoaiError, client.token, "contoso")
    assert (e.kind, e.exit_code) == ("bad_request", 1), repr(e)
    for bad in ({"scope": "a b"}, {"scope": "x" * 1025}, {"profile": "a/b"}):
        e = expect_raises(aoai_agent.InvalidArgumentError, client.token, **bad)
        assert isinstance(e, ValueError) and (e.kind, e.exit_code) == ("invalid", 2), repr(e)


# --- errors -------------------------------------------------------------------------

@pytest.mark.parametrize("url,cls,kind,code", [
    ("https://elsewhere.example.net/x", aoai_agent.NoMatchError, "no_match", 4),
    (f"http://{HOST}/x", aoai_agent.NoMatchError, "insecure_url", 4),
    ("https://nokey.example/x", aoai_agent.UnavailableError, "missing_secret", 6),
    ("ftp://x.example/", aoai_agent.AoaiError, "bad_request", 1),
])
def test_error_kinds_match_the_cli(keyed, client, aoai, url, cls, kind, code):
    _, key, _ = keyed
    e = expect_raises(cls, client.headers, url)
    assert (e.kind, e.exit_code) == (kind, code), repr(e)
    assert e.message == str(e) and e.message, repr(e)
    assert_absent(key, str(e) + repr(e), "the error")
    r = aoai("headers", url)
    if r.returncode != code or e.message not in r.stderr:
        fail(f"the CLI says otherwise for {kind}:\n{describe(r)}")


def test_locked(keyed, client, aoai):
    expect_rc(aoai("lock", input="pass phrase\n"), 0, "lock")
    e = expect_raises(aoai_agent.LockedError, client.headers, URL)
    assert (e.kind, e.exit_code) == ("locked", 5), repr(e)
    expect_rc(aoai("unlock", input="pass phrase\n"), 0, "unlock")
    assert list(client.headers(URL)) == ["api-key"]


def test_no_agent(ctx):
    nothing = ctx.path("nothing.sock")
    e = expect_raises(aoai_agent.NoAgentError, aoai_agent.Client(nothing).headers, URL)
    assert (e.kind, e.exit_code) == ("no_agent", 3), repr(e)
    assert str(nothing) in str(e) and 'eval "$(aoai-agent)"' in str(e), str(e)
    assert 'eval "$(aoai env)"' in str(e), str(e)
    # A socket file nobody listens on: the agent has stopped.
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(ctx.path("stale.sock")))
    stale.close()
    e = expect_raises(aoai_agent.NoAgentError, aoai_agent.Client(ctx.path("stale.sock")).token)
    assert "stale socket" in str(e) and "aoai-agent" in str(e), str(e)
    # Neither AOAI_AUTH_SOCK nor XDG_RUNTIME_DIR: the same advice as aoai's.
    env = {k: v for k, v in ctx.env(sock=False).items() if k != "XDG_RUNTIME_DIR"}
    script = ("import aoai_agent\ntry:\n aoai_agent.token()\n"
              "except aoai_agent.NoAgentError as e:\n print(e.exit_code, e)\n")
    r = expect_rc(run([PYTHON, "-c", script], dict(env, PYTHONPATH=BINDING)), 0, "no socket")
    assert r.stdout.startswith("3 no agent socket: ") and "aoai-agent" in r.stdout, r.stdout


# Binds as root, then listens as uid 65534, and answers any request with a
# valid reply: only the client's check of the listener's uid refuses it.
FOREIGN_AGENT = r"""
import json, os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
os.setgid(65534)
os.setuid(65534)
s.listen(1)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    n = struct.unpack(">I", c.recv(4, socket.MSG_WAITALL))[0]
    c.recv(n, socket.MSG_WAITALL)
    reply = json.dumps({"v": 1, "ok": True, "profile": "x", "headers": []}).encode()
    c.sendall(struct.pack(">I", len(reply)) + reply)
    c.close()
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="listens as uid 65534: needs root")
def test_agent_of_another_user_is_not_used(ctx):
    path = ctx.path("foreign.sock")
    p = subprocess.Popen([PYTHON, "-c", FOREIGN_AGENT, str(path)], stdout=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, env=ctx.base_env())
    try:
        if not select.select([p.stdout], [], [], CMD_TIMEOUT)[0] \
                or p.stdout.readline() != b"ready\n":
            fail("the stand-in agent of uid 65534 did not start")
        e = expect_raises(aoai_agent.NoAgentError, aoai_agent.Client(path).headers, URL)
        assert e.exit_code == 3 and "runs as another user" in str(e), repr(e)
    finally:
        p.kill()
        p.wait(CMD_TIMEOUT)
        p.stdout.close()


# --- httpx ----------------------------------------------------------------------------

@pytest.fixture
def fake_keyed(ctx, start_agent, aoai, fake_aoai):
    """An agent with an api-key profile for the fake Azure OpenAI endpoint, holding its key."""
    cfg = ctx.write_config({"profiles": {"fake": api_key_profile(fake_aoai.hostport)}})
    agent = start_agent(config=cfg)
    expect_rc(aoai("add", "fake", input=fake_aoai.key + "\n"), 0, "aoai add")
    return agent


def test_httpx_auth_api_key(fake_keyed, fake_aoai, client):
    needs_httpx()
    body = {"content": CHAT_BODY, "headers": {"Content-Type": "application/json"}}
    with httpx.Client(timeout=10) as plain:
        assert plain.post(fake_aoai.chat_url, **body).status_code == 401
    auth = aoai_agent.AgentAuth(client)
    assert isinstance(auth, httpx.Auth) and aoai_agent.AgentAuth.__name__ == "AgentAuth"
    with httpx.Client(auth=auth, timeout=10) as hc:
        r = hc.post(fake_aoai.chat_url, **body)
        assert r.status_code == 200, r.text
        assert "Hello" in r.json()["choices"][0]["message"]["content"]
        # The request's own api-key is overridden: exactly one, the agent's.
        r = hc.get(f"{fake_aoai.base}/echo", headers={"API-KEY": "mine"})
        fps = [h["fp"] for h in r.json()["headers"] if h["name"].lower() == "api-key"]
        assert fps == [fp(fake_aoai.key)], fps
    # A URL no profile covers: the request is never sent.
    sent = len(fake_aoai.requests())
    with httpx.Client(auth=auth, timeout=10) as hc:
        e = expect_raises(aoai_agent.NoMatchError, hc.get,
                          f"http://localhost:{fake_aoai.port}/echo")
    assert e.kind == "no_match" and len(fake_aoai.requests()) == sent


def test_httpx_is_optional(ctx):
    script = ("import sys\n"
              "import aoai_agent\n"
              "print('httpx' in sys.modules)\n"
              "sys.modules['httpx'] = None  # as if not installed\n"
              "try:\n from aoai_agent import AgentAuth\n"
              "except ImportError as e:\n print(e)\n")
    r = expect_rc(run([PYTHON, "-c", script], ctx.env(PYTHONPATH=BINDING)), 0, "no httpx")
    if r.stdout.splitlines()[:1] != ["False"] or "AgentAuth needs httpx" not in r.stdout:
        fail(f"importing aoai_agent imports httpx, or AgentAuth without it:\n{describe(r)}")


def test_httpx_async_client(fake_keyed, fake_aoai, client):
    needs_httpx()

    async def post():
        async with httpx.AsyncClient(auth=aoai_agent.AgentAuth(client), timeout=10) as hc:
            return await hc.post(fake_aoai.chat_url, content=CHAT_BODY,
                                 headers={"Content-Type": "application/json"})

    r = asyncio.run(post())
    assert r.status_code == 200, r.text


def test_httpx_auth_exists_actions(ctx, start_agent, aoai, fake_aoai, client):
    needs_httpx()
    cfg = ctx.write_config({"profiles": {"gw": api_key_profile(fake_aoai.hostport, headers={
        "api-key": "{secret}",
        "Ocp-Apim-Subscription-Key": {"value": "{secret:sub}", "exists_action": "skip"},
        "X-App": {"value": "{secret:sub}", "exists_action": "append"},
    })}})
    start_agent(config=cfg)
    key, sub = ctx.secret(), ctx.secret()
    expect_rc(aoai("add", "gw", input=key + "\n"), 0, "add gw")
    expect_rc(aoai("add", "sub", input=sub + "\n"), 0, "add sub")
    mine = {"api-key": "mine", "Ocp-Apim-Subscription-Key": "mine", "X-App": "mine"}
    with httpx.Client(auth=aoai_agent.AgentAuth(client), timeout=10) as hc:
        r = hc.get(f"{fake_aoai.base}/echo", headers=mine)
    got = {}
    for h in r.json()["headers"]:
        got.setdefault(h["name"].lower(), []).append(h["fp"])
    want = {"api-key": [fp(key)], "ocp-apim-subscription-key": [fp("mine")],
            "x-app": [fp("mine"), fp(sub)]}
    for name, fps in want.items():
        assert got.get(name) == fps, (name, got.get(name))


def test_httpx_auth_token_profile(mi_agent, client):
    needs_httpx()
    _, fake = mi_agent
    with httpx.Client(timeout=10) as plain:
        assert plain.post(fake.chat_url, content=CHAT_BODY).status_code == 401
    with httpx.Client(auth=aoai_agent.AgentAuth(client), timeout=10) as hc:
        r = hc.post(fake.chat_url, content=CHAT_BODY,
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    last = fake.requests()[-1]
    assert (last["auth"], last["bearer_src"]) == ("jwt", "imds"), last


# --- the connection -------------------------------------------------------------------

def test_reconnects_after_agent_restart(ctx, keyed, start_agent, client, aoai):
    agent, key, cfg = keyed

    def restart(old):
        old.stop()
        new = start_agent(config=cfg)
        k = ctx.secret()
        expect_rc(aoai("add", "contoso", input=k + "\n"), 0, "aoai add")
        return new, k

    expect_headers(client, {"api-key": key})
    # The kept connection is to an agent that restarted since: sent once more.
    agent, key = restart(agent)
    if client.headers(URL) != {"api-key": key}:
        fail("no headers from the restarted agent")
    agent, key = restart(agent)
    if client.headers(URL) != {"api-key": key}:
        fail("no headers from the agent restarted a second time")
    # A request that changes something is not sent twice: the caller decides.
    agent, key = restart(agent)
    e = expect_raises(aoai_agent.ProtocolError, client.call, "remove", name="contoso")
    assert "closed the connection" in str(e), repr(e)
    if client.headers(URL) != {"api-key": key}:
        fail("the secret was removed by a request reported as failed")
    # No agent at all: the request fails, saying so.
    agent.stop()
    e = expect_raises(aoai_agent.NoAgentError, client.headers, URL)
    assert e.exit_code == 3, repr(e)


def test_threads_share_a_client(keyed, client):
    _, key, _ = keyed
    bad = []

    def work():
        for _ in range(50):
            if client.headers(URL) != {"api-key": key}:
                bad.append(1)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(CMD_TIMEOUT)
    assert not any(t.is_alive() for t in threads) and not bad, len(bad)


def test_forked_child_gets_its_own_connection(keyed, client):
    """A child must not use its parent's connection (their replies would
    cross), nor wait for a lock a parent's thread held at fork()."""
    _, key, _ = keyed
    expect_headers(client, {"api-key": key})
    parents = client._sock
    assert parents is not None, "the client keeps its connection"
    rfd, wfd = os.pipe()
    with client._lock:  # as if another thread were in the middle of a request
        pid = os.fork()
        if pid == 0:
            try:
                ok = client.headers(URL) == {"api-key": key}
                os.write(wfd, json.dumps([ok, client._sock is not parents]).encode())
            finally:
                os._exit(0)
    os.close(wfd)
    try:
        if not select.select([rfd], [], [], CMD_TIMEOUT)[0]:
            os.kill(pid, signal.SIGKILL)
            fail("the forked child got no headers: it waits for its parent's lock")
        got = os.read(rfd, 4096)
    finally:
        os.close(rfd)
        os.waitpid(pid, 0)
    assert json.loads(got or b"null") == [True, True], got
    # The parent's connection is the same, and still works.
    expect_headers(client, {"api-key": key})
    assert client._sock is parents


class BrokenAgent:
    """A stand-in agent on a Unix socket answering a connection's first request
    with @reply (raw bytes) and closing it; @reply None: never answering."""

    def __init__(self, path, reply):
        self.reply = reply
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(4)
        self.conns = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.conns.append(conn)
            try:
                (n,) = struct.unpack(">I", conn.recv(4, socket.MSG_WAITALL))
                conn.recv(n, socket.MSG_WAITALL)
                if self.reply is not None:
                    conn.sendall(self.reply)
                    conn.close()
            except OSError:
                pass

    def close(self):
        self.listener.close()
        for c in self.conns:
            c.close()


def frame(obj):
    data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return struct.pack(">I", len(data)) + data


@pytest.mark.parametrize("reply,words", [
    (struct.pack(">I", 0), "invalid length 0"),
    (struct.pack(">I", 0xFFFFFFFF), "invalid length 4294967295"),
    (struct.pack(">I", 256 * 1024 + 1) + b"{", "invalid length 262145"),
    (frame(b'{"v":1,"ok":true,"access_token":"SECRET"'), "not UTF-8 JSON"),
    (frame({"v": 2, "ok": True}), "version"),
    (frame({"v": 1}), "without \"ok\""),
    (frame({"v": 1, "ok": True, "access_token": "SECRET"}), "without access_token"),
    (struct.pack(">I", 100) + b'{"v":1,"ok":true,"access_token":"SECRET', "middle of a reply"),
    (b"", "closed the connection"),
])
def test_broken_agent(ctx, reply, words):
    fake = BrokenAgent(ctx.path("broken.sock"), reply)
    try:
        c = aoai_agent.Client(ctx.path("broken.sock"), timeout=10)
        e = expect_raises(aoai_agent.ProtocolError, c.token)
        c.close()
    finally:
        fake.close()
    assert (e.kind, e.exit_code) == ("protocol", 1) and words in str(e), repr(e)
    assert "SECRET" not in str(e) + repr(e), repr(e)


def test_timeout(ctx):
    fake = BrokenAgent(ctx.path("mute.sock"), None)
    try:
        c = aoai_agent.Client(ctx.path("mute.sock"), timeout=0.3)
        start = time.monotonic()
        e = expect_raises(aoai_agent.ProtocolError, c.headers, URL)
        took = time.monotonic() - start
        c.close()
    finally:
        fake.close()
    assert "no reply from the agent within 0.3 s" in str(e) and took < 5, (str(e), took)


# --- installation ---------------------------------------------------------------------

def test_pip_install(ctx, keyed):
    _, key, _ = keyed
    r = run([PYTHON, "-m", "pip", "--version"], ctx.env())
    if r.returncode != 0:
        pytest.fail("pip is missing: scripts/install-deps.sh test installs python3-pip",
                    pytrace=False)
    # From a copy: building writes build/ and *.egg-info next to the sources.
    src = ctx.path("src")
    shutil.copytree(BINDING, src, ignore=shutil.ignore_patterns("build", "*.egg-info",
                                                                "__pycache__"))
    target = ctx.path("site")
    r = run([PYTHON, "-m", "pip", "install", "--no-build-isolation", "--no-index",
             "--disable-pip-version-check", "--no-warn-script-location", "--target",
             target, src], ctx.env(), timeout=120)
    expect_rc(r, 0, "pip install")
    # -I: neither PYTHONPATH nor the current directory; only the target.
    script = ("import sys; sys.path.insert(0, sys.argv[2])\n"
              "import json, aoai_agent\n"
              "print(json.dumps([aoai_agent.__file__, aoai_agent.headers(sys.argv[1])]))\n")
    r = expect_rc(run([PYTHON, "-I", "-c", script, URL, target], ctx.env(), cwd=ctx.dir), 0,
                  "the installed package")
    path, headers = json.loads(r.stdout)
    assert path.startswith(str(target) + "/"), path
    if headers != {"api-key": key}:
        fail(f"the installed package got {headers}")
