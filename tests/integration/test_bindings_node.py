# SPDX-License-Identifier: MIT
"""The Node client bindings/node, driven by tests/integration/bindings_node_client.mjs
against a real agent (and, for broken agents, a scripted one on a socket of ours):
headers and tokens, the CLI's error kinds and exit codes, one kept connection that
never holds the process open, pipelining, reconnecting, the real `openai` SDK with
the token provider and the fetch wrapper, and `npm pack`.

The driver prints fingerprints of header values and tokens, never the values."""

import hashlib
import json
import shutil
import socket
import struct
import tarfile
import threading
import time
from pathlib import Path

import pytest

from aoaitest import (api_key_profile, assert_absent, describe, expect_ok, expect_rc, fail,
                      register_secret, run)
from exectest import Child
from test_exec_sdk import node_modules  # noqa: F401  (the fixture: openai from npm, once)

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "bindings_node_client.mjs"
PACKAGE = HERE.parent.parent / "bindings" / "node"
NODE_TIMEOUT = 20.0
PROMPT_EXIT = 5.0  # seconds a finished script may take to exit: startup, not a hang
START_HINT = 'start one with eval "$(aoai-agent)", or use the systemd agent with eval "$(aoai env)"'


def fp(value):
    return "fp:" + hashlib.sha256(value.encode()).hexdigest()[:12]


@pytest.fixture(scope="session")
def node():
    path = shutil.which("node")
    if not path:
        pytest.fail("node is required (scripts/install-deps.sh test installs it)", pytrace=False)
    return path


def drive(ctx, node, *args, env=None, timeout=NODE_TIMEOUT, rc=0):
    """Runs the driver; returns its last stdout line, decoded."""
    r = expect_rc(run([node, DRIVER, *args], env or ctx.env(), timeout=timeout), rc,
                  f"node driver {args[0]}")
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        fail(f"the driver printed no JSON:\n{describe(r)}")


@pytest.fixture
def two_keys(ctx, start_agent):
    """An agent with api-key profiles a (a.example.com) and b (b.example.com), each with
    its key in a file, nokey (no secret) and vm (a managed identity nobody serves)."""
    keys = {"a": ctx.secret(), "b": ctx.secret()}
    profiles = {n: {"hosts": [f"{n}.example.com"],
                    "credential": {"type": "api-key",
                                   "file": str(ctx.write_file(f"{n}.key", k + "\n"))}}
                for n, k in keys.items()}
    profiles["nokey"] = api_key_profile("nokey.example.com")
    # Nothing listens on port 1: the identity endpoint is down.
    imds = "http://127.0.0.1:1/metadata/identity/oauth2/token"
    profiles["vm"] = {"hosts": ["vm.example.com"],
                      "credential": {"type": "managed-identity", "endpoint": imds}}
    agent = start_agent(config=ctx.write_config({"profiles": profiles}))
    return agent, keys


def test_headers_of_api_key_profiles(ctx, node, two_keys):
    _, keys = two_keys
    for name, key in keys.items():
        got = drive(ctx, node, "headers", f"https://{name}.example.com/openai/models?x=1")
        assert got == {"headers": {"api-key": fp(key)}}, got
    got = drive(ctx, node, "list")
    assert ["a", "api-key", "ready"] in got["profiles"], got
    assert ["nokey", "api-key", "missing_secret"] in got["profiles"], got


def test_socket_from_xdg_runtime_dir(ctx, node, start_agent):
    key = ctx.secret()
    cfg = {"profiles": {"a": {"hosts": ["a.example.com"],
                              "credential": {"type": "api-key",
                                             "file": str(ctx.write_file("a.key", key))}}}}
    start_agent(config=ctx.write_config(cfg), sock=None)  # $XDG_RUNTIME_DIR/aoai/agent.sock
    got = drive(ctx, node, "headers", "https://a.example.com/", env=ctx.env(sock=False))
    assert got == {"headers": {"api-key": fp(key)}}, got


def test_token_of_managed_identity(ctx, node, mi_scene, aoai_json):
    mi_scene.start()
    named = drive(ctx, node, "token", "mi")
    only = drive(ctx, node, "token")  # without a profile: the agent's only token profile
    tok = aoai_json("token", "mi")
    register_secret(tok["accessToken"])
    assert named["fp"] == fp(tok["accessToken"]) == only["fp"], "not the agent's token"
    assert named["expiresOn"] == tok["expires_on"], (named, tok["expires_on"])
    assert named["expiresOnTimestamp"] == named["expiresOn"] * 1000, named
    assert named["expiresOn"] > time.time() + 60, named
    assert (named["profile"], named["source"], named["tokenType"]) == ("mi", "imds", "Bearer")
    assert named["scope"] == "https://cognitiveservices.azure.com/.default", named
    # Both clients and the CLI were served from the agent's cache: one identity request.
    assert len(mi_scene.identity.requests("imds")) == 1, mi_scene.identity.requests("imds")


@pytest.mark.parametrize("url,kind,code", [
    ("https://elsewhere.example.net/x", "no_match", 4),
    ("http://a.example.com/", "insecure_url", 4),
    ("https://nokey.example.com/", "missing_secret", 6),
    ("https://vm.example.com/", "unavailable", 6),
    ("ftp://a.example.com/", "bad_request", 1),
])
def test_error_kinds_as_the_cli(ctx, node, two_keys, aoai, url, kind, code):
    _, keys = two_keys
    got = drive(ctx, node, "error", url)
    assert (got["error"], got["kind"], got["exitCode"]) == ("AoaiError", kind, code), got
    cli = expect_rc(aoai("headers", url), code, f"aoai headers {url}")
    assert got["message"] and got["message"] in cli.stderr, (got, cli.stderr)
    for key in keys.values():
        assert_absent(key, got["message"], "the error message")


def test_locked(ctx, node, two_keys, raw):
    with raw() as c:
        expect_ok(c.request({"v": 1, "op": "lock", "passphrase": "correct horse"}), "lock")
    got = drive(ctx, node, "error", "https://a.example.com/")
    assert (got["kind"], got["exitCode"]) == ("locked", 5), got


def test_no_agent(ctx, node):
    missing = ctx.path("nobody.sock")
    got = drive(ctx, node, "error", "https://a.example.com/", env=ctx.env(sock=missing))
    assert (got["kind"], got["exitCode"]) == ("no_agent", 3), got
    assert got["message"] == (f"cannot reach the agent at {missing}: No such file or "
                              f"directory: {START_HINT}"), got

    stale = ctx.path("stale.sock")  # a socket file nobody listens on
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(stale))
    s.close()
    got = drive(ctx, node, "error", "https://a.example.com/", env=ctx.env(sock=stale))
    assert (got["kind"], got["exitCode"]) == ("no_agent", 3), got
    assert "(a stale socket: its agent has stopped)" in got["message"], got

    env = ctx.env(sock=False)
    del env["XDG_RUNTIME_DIR"]
    got = drive(ctx, node, "error", "https://a.example.com/", env=env)
    assert (got["kind"], got["exitCode"]) == ("no_agent", 3), got
    assert got["message"].startswith("no agent socket: AOAI_AUTH_SOCK and XDG_RUNTIME_DIR"), got
    assert START_HINT in got["message"], got


def test_process_exits_when_idle(ctx, node, two_keys):
    # The kept connection is still open when the script ends: it must not hold Node.
    for mode, url in (("headers", "https://a.example.com/"), ("error", "https://c.example.com/")):
        start = time.monotonic()
        drive(ctx, node, mode, url, timeout=PROMPT_EXIT)
        assert time.monotonic() - start < PROMPT_EXIT


def test_parallel_requests_on_one_connection(ctx, node, two_keys):
    _, keys = two_keys
    urls = ["https://a.example.com/", "https://b.example.com/", "https://c.example.com/"]
    got = drive(ctx, node, "parallel", "301", *urls)
    results = got["results"]
    assert len(results) == 301
    for i, r in enumerate(results):
        want = urls[i % 3]
        assert r["url"] == want, (i, r)
        if "c.example" in want:
            assert r == {"url": want, "kind": "no_match"}, (i, r)
        else:
            name = want[8]
            assert r["headers"] == {"api-key": fp(keys[name])}, (i, r)
    # Every request went on the one kept connection (the status request's own).
    assert got["connections"] == 1, got


def test_reconnects_after_agent_restart(ctx, node, start_agent, build):
    keys = [ctx.secret(), ctx.secret()]
    key_file = ctx.write_file("a.key", keys[0])
    cfg = ctx.write_config({"profiles": {"a": {"hosts": ["a.example.com"], "credential": {
        "type": "api-key", "file": str(key_file)}}}})
    first = start_agent(config=cfg)
    c = Child(ctx, build, [DRIVER, "restart", "https://a.example.com/"], binary=node)
    try:
        before = json.loads(c.line())
        assert before == {"phase": "before", "headers": {"api-key": fp(keys[0])}}, before
        first.stop()
        ctx.write_file("a.key", keys[1])
        start_agent(config=cfg)
        c.send("go\n")
        after = json.loads(c.line())
        assert after == {"phase": "after", "headers": {"api-key": fp(keys[1])}}, \
            (after, c.stderr())
        assert c.wait() == 0, c.stderr()
    finally:
        c.kill()
        c.proc.stdin.close()
        c.proc.stdout.close()


# --- a scripted agent: what a real one does only when it breaks -----------------------

class ScriptedAgent:
    """Listens on @path; connection i is handled by @script(i, conn)."""

    def __init__(self, path, script):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(16)
        self.script = script
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            i = self.connections
            self.connections += 1
            with conn:
                conn.settimeout(NODE_TIMEOUT)
                try:
                    self.script(i, conn)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


def read_frame(conn):
    head = b""
    while len(head) < 4:
        chunk = conn.recv(4 - len(head))
        if not chunk:
            return None
        head += chunk
    (n,) = struct.unpack(">I", head)
    body = b""
    while len(body) < n:
        chunk = conn.recv(n - len(body))
        if not chunk:
            return None
        body += chunk
    return json.loads(body)


def send_reply(conn, obj):
    body = json.dumps(obj).encode()
    conn.sendall(struct.pack(">I", len(body)) + body)


HEADERS_OK = {"v": 1, "ok": True, "profile": "p",
              "headers": [{"name": "api-key", "value": "k", "exists_action": "override"}]}


@pytest.fixture
def scripted(ctx):
    agents = []

    def start(script):
        a = ScriptedAgent(ctx.path("scripted.sock"), script)
        agents.append(a)
        return a

    yield start
    for a in agents:
        a.close()


def test_request_resent_once_when_the_connection_drops(ctx, node, scripted):
    # The first connection answers one request and closes on the next, as an agent
    # that restarted between two requests; the client sends it again, once.
    def script(i, conn):
        while (req := read_frame(conn)) is not None:
            if req.get("op") == "headers" and i == 0 and req["url"].endswith("/2"):
                return
            send_reply(conn, HEADERS_OK)

    agent = scripted(script)
    got = drive(ctx, node, "sequence", "https://x/1", "https://x/2", "https://x/3",
                env=ctx.env(sock=agent.sock.getsockname()))
    assert got["results"] == [{"api-key": fp("k")}] * 3, got
    assert agent.connections == 2, agent.connections


def test_no_endless_resend(ctx, node, scripted):
    agent = scripted(lambda i, conn: read_frame(conn))  # reads, then closes: never answers
    got = drive(ctx, node, "error", "https://x/", env=ctx.env(sock=agent.sock.getsockname()))
    assert (got["kind"], got["exitCode"]) == ("io", 1), got
    assert agent.connections == 2, agent.connections


def test_reply_timeout(ctx, node, scripted):
    def script(i, conn):
        read_frame(conn)
        read_frame(conn)  # never answers; returns when the client gives up and closes

    agent = scripted(script)
    got = drive(ctx, node, "timeout", "300", "https://x/",
                env=ctx.env(sock=agent.sock.getsockname()))
    assert (got["kind"], got["exitCode"]) == ("io", 1), got
    assert got["message"] == "no reply from the agent within 300 ms", got
    assert agent.connections == 1, agent.connections  # a timeout is not sent again


@pytest.mark.parametrize("reply,message", [
    (struct.pack(">I", 0x7FFFFFFF), "invalid length 2147483647"),
    (struct.pack(">I", 0), "invalid length 0"),
    (struct.pack(">I", 9) + b"not json!", "not JSON"),
    (struct.pack(">I", 13) + b'{"v":2,"ok":1', "not JSON"),
    (struct.pack(">I", 15) + b'{"v":2,"ok":[]}', "without v=1 and ok"),
])
def test_broken_replies(ctx, node, scripted, reply, message):
    def script(i, conn):
        read_frame(conn)
        conn.sendall(reply)
        read_frame(conn)  # holds the connection open: the client must not wait for more

    agent = scripted(script)
    got = drive(ctx, node, "error", "https://x/", env=ctx.env(sock=agent.sock.getsockname()))
    assert (got["kind"], got["exitCode"]) == ("protocol", 1), got
    assert message in got["message"], got
    assert agent.connections == 1, agent.connections


# --- the real openai SDK and fetch --------------------------------------------------

def test_openai_sdk_with_token_provider(ctx, node, mi_scene, node_modules, aoai_json):  # noqa: F811
    mi_scene.start()
    got = drive(ctx, node, "chat", mi_scene.fake.base, "mi",
                env=ctx.env(NODE_PATH=node_modules))
    assert got["status"] == 200 and "fake Azure OpenAI" in got["content"], got
    tok = aoai_json("token", "mi")
    register_secret(tok["accessToken"])
    assert got["tokens"] == [fp(tok["accessToken"])], "the SDK did not get the agent's token"
    (req,) = [e for e in mi_scene.fake.requests() if e["path"].endswith("/chat/completions")]
    assert req["auth"] == "jwt", req
    assert req["header_fps"]["authorization"] == [fp("Bearer " + tok["accessToken"])[3:]], req


def test_fetch_wrapper(ctx, node, key_scene):
    got = drive(ctx, node, "fetch", key_scene.fake.chat_url)
    assert (got["plain"], got["wrapped"]) == (401, 200), got
    assert "fake Azure OpenAI" in got["content"], got
    plain, wrapped = [e for e in key_scene.fake.requests() if e["path"].endswith("/completions")]
    assert not plain["api_key_present"], plain
    assert wrapped["header_fps"].get("api-key") == [fp(key_scene.key)[3:]], wrapped


def test_openai_sdk_with_fetch_wrapper(ctx, node, key_scene, node_modules):  # noqa: F811
    # The SDK's own api-key ("not-the-key") is overridden, as the profile's header says.
    got = drive(ctx, node, "sdkfetch", key_scene.fake.base, env=ctx.env(NODE_PATH=node_modules))
    assert got["status"] == 200 and "fake Azure OpenAI" in got["content"], got
    (req,) = [e for e in key_scene.fake.requests() if e["path"].endswith("/chat/completions")]
    assert req["header_fps"].get("api-key") == [fp(key_scene.key)[3:]], req


# --- the package ---------------------------------------------------------------------

def npm_env(ctx):
    return ctx.env(npm_config_cache=ctx.path("npm-cache"), npm_config_update_notifier="false",
                   npm_config_audit="false", npm_config_fund="false")


def test_npm_pack_and_install(ctx, node, two_keys):
    npm = shutil.which("npm")
    if not npm:
        pytest.fail("npm is required (scripts/install-deps.sh test installs it)", pytrace=False)
    _, keys = two_keys
    dest = ctx.path("pack")
    dest.mkdir()
    r = expect_rc(run([npm, "pack", "--pack-destination", dest], npm_env(ctx), cwd=PACKAGE,
                      timeout=60), 0, "npm pack")
    (tarball,) = dest.glob("aoai-agent-*.tgz")
    with tarfile.open(tarball) as t:
        names = sorted(t.getnames())
    assert names == ["package/README.md", "package/index.d.ts", "package/index.js",
                     "package/package.json"], names
    assert not list(PACKAGE.glob("*.tgz")), "npm pack wrote into the source tree"

    prefix = ctx.path("prefix")
    prefix.mkdir()
    expect_rc(run([npm, "install", "--offline", "--prefix", prefix, tarball], npm_env(ctx),
                  timeout=60), 0, "npm install of the tarball")
    script = ("import { headers, AoaiError, exitCodeFor } from 'aoai-agent';\n"
              "const h = await headers('https://a.example.com/');\n"
              "console.log(JSON.stringify({ names: Object.keys(h), isClass: typeof AoaiError, "
              "code: exitCodeFor('denied') }));\n")
    r = expect_rc(run([node, "--input-type=module", "-e", script], ctx.env(), cwd=prefix,
                      timeout=PROMPT_EXIT), 0, "import of the installed package")
    assert json.loads(r.stdout) == {"names": ["api-key"], "isClass": "function", "code": 7}, \
        describe(r)
    assert_absent(keys["a"], r.stdout, "the script's output")


# --- redirects: the agent's headers go only where the agent says ------------------

class Recorder:
    """An HTTP server on 127.0.0.1 answering from @routes {path: (status, location)}
    (else 200 with the path), recording each request's method, path, body and the
    fingerprint of its api-key header."""

    def __init__(self, routes=None):
        import http.server
        seen = self.seen = []
        self.routes = routes if routes is not None else {}
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode() if n else ""
                key = self.headers.get_all("api-key") or []
                seen.append({"method": self.command, "path": self.path, "body": body,
                             "api-key": [fp(k) for k in key], "x-app": self.headers["x-app"],
                             "authorization": self.headers["authorization"]})
                status, location = recorder.routes.get(self.path, (200, None))
                out = f"{self.command} {self.path} {body}".encode()
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PUT = _any

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def redirect_scene(ctx, start_agent):
    inside, outside = Recorder(), Recorder()
    key = ctx.secret()
    inside.routes.update({
        "/away": (307, f"{outside.base}/landed"),
        "/see-other": (303, "/final"),
        "/moved": (308, "/final"),
    })
    cfg = {"profiles": {"in": {"hosts": [f"127.0.0.1:{inside.port}"], "credential": {
        "type": "api-key", "file": str(ctx.write_file("in.key", key))}}}}
    start_agent(config=ctx.write_config(cfg))
    yield inside, outside, key
    inside.close()
    outside.close()


def test_fetch_redirect_leaves_headers_behind(ctx, node, redirect_scene):
    inside, outside, key = redirect_scene
    got = drive(ctx, node, "send", "POST", f"{inside.base}/away", "payload")
    assert got == {"status": 200, "url": f"{outside.base}/landed",
                   "body": "POST /landed payload"}, got
    assert inside.seen == [{"method": "POST", "path": "/away", "body": "payload",
                            "api-key": [fp(key)], "x-app": "mine",
                            "authorization": "Bearer mine"}], inside.seen
    # The request's own headers follow the redirect, but for its credentials (as
    # fetch does across origins); the agent's do not.
    assert outside.seen == [{"method": "POST", "path": "/landed", "body": "payload",
                             "api-key": [], "x-app": "mine", "authorization": None}], \
        outside.seen


def test_fetch_redirect_within_the_host(ctx, node, redirect_scene):
    inside, _, key = redirect_scene
    got = drive(ctx, node, "send", "POST", f"{inside.base}/see-other", "payload")
    assert (got["status"], got["body"]) == (200, "GET /final "), got
    got = drive(ctx, node, "send", "PUT", f"{inside.base}/moved", "again")
    assert (got["status"], got["body"]) == (200, "PUT /final again"), got
    assert [(e["method"], e["path"], e["api-key"]) for e in inside.seen] == [
        ("POST", "/see-other", [fp(key)]), ("GET", "/final", [fp(key)]),
        ("PUT", "/moved", [fp(key)]), ("PUT", "/final", [fp(key)])], inside.seen
    # Within the origin the program's own credentials go along.
    assert {e["authorization"] for e in inside.seen} == {"Bearer mine"}, inside.seen
