# SPDX-License-Identifier: MIT
"""The preload hook's host list (docs/HOOK.md, "The host list"): the "hosts"
operation, transfers to hosts no profile covers going out without a question
to the agent, and no stale list after a reload, `aoai add --host` or
`aoai remove` — the very next transfer of a running program sees the change.

Programs: the real curl, and tests/preload/curl-client's `steps` (one handle,
URLs fed one by one on stdin) for a change between two transfers of one
process.  The fake endpoint answers /openai/v1/models with 200 only when the
request carries its api-key, so a status tells whether the header went out."""

import json
import shutil
import signal
import socket
import struct
import subprocess
import threading

import pytest

from aoaitest import api_key_profile, describe, expect_error, expect_ok, expect_rc, fail
from aoaitest import start_fake, stop_fake

CURL = shutil.which("curl") or "/usr/bin/curl"
STEP_TIMEOUT = 30.0  # seconds for one transfer of curl-client steps


@pytest.fixture
def hook(build):
    lib = (build.root / "lib" / "libaoai-preload.so").resolve()
    client = build.root / "tests" / "preload" / "curl-client"
    for p in (lib, client):
        if not p.is_file():
            pytest.fail(f"missing {p}: build first (`make all`)", pytrace=False)
    return {"lib": str(lib), "client": str(client)}


@pytest.fixture
def other_fake(ctx):
    fake = start_fake(ctx, name="other")
    yield fake
    stop_fake(fake)


def models(host, fake):
    return f"http://{host}:{fake.port}/openai/v1/models"


def audit(aoai_json):
    return aoai_json("status")["audit"]


def curl(ctx, hook, *urls, opts=()):
    """The real curl through the hook (with options @opts); the statuses of @urls, in order."""
    env = dict(ctx.env(), LD_PRELOAD=hook["lib"])
    argv = [CURL, "-q", "-sS", "--noproxy", "*", "--max-time", "10", *opts]
    for u in urls:
        argv += ["-o", "/dev/null", "-w", "%{http_code}\n", u]
    r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    expect_rc(r, 0, "curl")
    if "aoai-preload:" in r.stderr:
        fail(f"the hook complained:\n{describe(r)}")
    return [int(s) for s in r.stdout.split()]


class Steps:
    """curl-client steps: one process, one handle, a transfer per step()."""

    def __init__(self, ctx, hook):
        env = dict(ctx.env(), LD_PRELOAD=hook["lib"])
        self.proc = subprocess.Popen([hook["client"], "steps"], env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)

    def step(self, url):
        self.proc.stdin.write(url + "\n")
        self.proc.stdin.flush()
        result = {}
        reader = threading.Thread(target=lambda: result.update(line=self.proc.stdout.readline()))
        reader.start()
        reader.join(STEP_TIMEOUT)
        line = result.get("line", "")
        if not line:
            self.proc.kill()
            fail(f"curl-client steps gave no status for a transfer: {self.proc.stderr.read()}")
        return int(line.rsplit(": ", 1)[1])

    def close(self):
        self.proc.stdin.close()
        rc = self.proc.wait(timeout=STEP_TIMEOUT)
        err = self.proc.stderr.read()
        if rc != 0 or "aoai-preload:" in err:
            fail(f"curl-client steps exited {rc}: {err}")


@pytest.fixture
def steps(ctx, hook):
    made = []

    def start():
        s = Steps(ctx, hook)
        made.append(s)
        return s

    yield start
    for s in made:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


def config_with(ctx, fake, *hosts):
    """Profile "contoso" for @hosts, the key from @fake's key file."""
    return ctx.write_config({"profiles": {"contoso": {
        "hosts": list(hosts), "credential": {"type": "api-key", "file": str(fake.key_file)}}}})


# --- the operation ------------------------------------------------------------------

def test_hosts_lists_every_profiles_patterns(ctx, start_agent, raw, aoai, fake_aoai):
    cfg = ctx.write_config({"profiles": {
        "one": api_key_profile("a.example", "*.b.example:8443", "[::1]:9000"),
        "two": api_key_profile("C.Example")}})
    start_agent(config=cfg)
    expect_rc(aoai("add", "added", "--host", "d.example", input=ctx.secret() + "\n"), 0, "add")
    with raw() as c:
        reply = expect_ok(c.request({"v": 1, "op": "hosts"}), "hosts")
    assert sorted(reply["hosts"]) == sorted(["a.example", "*.b.example:8443", "[::1]:9000",
                                             "c.example", "d.example"]), reply
    with raw() as c:
        expect_error(c.request({"v": 1, "op": "hosts", "url": "https://a.example/"}),
                     "bad_request", "hosts takes no field")


def test_agent_closes_list_connections_on_change_only(ctx, start_agent, raw, aoai, fake_aoai):
    start_agent(config=config_with(ctx, fake_aoai, fake_aoai.hostport))
    with raw() as watcher, raw() as other:
        expect_ok(watcher.request({"v": 1, "op": "hosts"}), "hosts")
        expect_ok(other.request({"v": 1, "op": "list"}), "list")
        # Neither a read-only request nor a secret without --host changes the list.
        expect_ok(watcher.request({"v": 1, "op": "status"}), "status")
        expect_rc(aoai("add", "plain", input=ctx.secret() + "\n"), 0, "add without --host")
        assert not watcher.closed_by_peer(timeout=0.2)
        expect_rc(aoai("add", "k", "--host", "e.example", input=ctx.secret() + "\n"), 0, "add")
        # Closed by the time `aoai add` got its answer.
        assert watcher.closed_by_peer(timeout=0.05), "the list's connection stayed open"
        assert not other.closed_by_peer(timeout=0.2), "a connection without the list closed"


def test_list_connection_with_a_request_in_flight_closes_at_once(ctx, start_agent, raw, aoai,
                                                                 aoai_json, identity):
    """A token wait on a connection that fetched the list does not hold the close back: the
    request is dropped (the hook resends it), the agent carries on."""
    start_agent(config=ctx.write_config({"profiles": {"vm": {
        "hosts": ["vm.example"], "credential": {
            "type": "managed-identity",
            "endpoint": identity.imds_authority + "/metadata/identity/oauth2/token"}}}}))
    identity.script("imds", {"hang": 30})
    with raw() as watcher:
        expect_ok(watcher.request({"v": 1, "op": "hosts"}), "hosts")
        watcher.send_json({"v": 1, "op": "headers", "url": "https://vm.example/x"})
        identity.wait_requests("imds", 1)
        expect_rc(aoai("add", "k", "--host", "e.example", input=ctx.secret() + "\n"), 0, "add")
        assert watcher.closed_by_peer(timeout=0.05), "the connection waited for its reply"
    assert aoai_json("list")["profiles"], "the agent carries on"


# --- the hook -----------------------------------------------------------------------

def test_uncovered_host_makes_no_agent_request(ctx, start_agent, aoai_json, hook, fake_aoai,
                                               other_fake):
    a = start_agent(config=config_with(ctx, fake_aoai, fake_aoai.hostport))
    # localhost is covered by no pattern: three transfers, no question asked.
    assert curl(ctx, hook, *[models("localhost", other_fake)] * 3,
                models("127.0.0.1", fake_aoai)) == [401, 401, 401, 200]
    got = audit(aoai_json)
    assert got["unmatched"] == 0, got
    assert got["profiles"]["contoso"]["released"] == 1, got
    assert "no credential for localhost" not in a.log()
    # Ports are the agent's to decide: a covered host on another port is asked about.
    assert curl(ctx, hook, models("127.0.0.1", other_fake)) == [401]
    assert audit(aoai_json)["unmatched"] == 1


def test_wildcards_and_case(ctx, start_agent, aoai_json, hook, fake_aoai):
    """*.suffix covers names below the suffix, in any case; the suffix itself, and names
    merely ending in it, are not asked about.  (Plain http to a name is no loopback URL to
    the agent, which refuses it as insecure_url, counted as unmatched: the count says
    which requests the hook asked about.)"""
    start_agent(config=config_with(ctx, fake_aoai, f"*.wild.test:{fake_aoai.port}"))
    resolve = []
    for h in ("a.wild.test", "b.a.wild.test", "wild.test", "notwild.test"):
        resolve += ["--resolve", f"{h}:{fake_aoai.port}:127.0.0.1"]
    assert curl(ctx, hook, models("A.Wild.Test", fake_aoai), models("b.a.wild.test", fake_aoai),
                models("wild.test", fake_aoai), models("notwild.test", fake_aoai),
                opts=resolve) == [401, 401, 401, 401]
    assert audit(aoai_json)["unmatched"] == 2


def test_reload_adding_host_applies_to_the_very_next_transfer(ctx, start_agent, aoai, hook,
                                                               steps, fake_aoai):
    start_agent(config=config_with(ctx, fake_aoai, "unrelated.example"))
    s = steps()
    url = models("localhost", fake_aoai)
    assert s.step(url) == 401
    assert s.step(url) == 401
    config_with(ctx, fake_aoai, "unrelated.example", f"localhost:{fake_aoai.port}")
    expect_rc(aoai("reload"), 0, "aoai reload")
    assert s.step(url) == 200, "the first transfer after the reload lacked the header"
    assert s.step(url) == 200
    config_with(ctx, fake_aoai, "unrelated.example")
    expect_rc(aoai("reload"), 0, "aoai reload")
    assert s.step(url) == 401, "the first transfer after the host went still had the header"
    s.close()


def test_sighup_reload(ctx, start_agent, hook, steps, fake_aoai):
    a = start_agent(config=config_with(ctx, fake_aoai, "unrelated.example"))
    s = steps()
    url = models("localhost", fake_aoai)
    assert s.step(url) == 401
    config_with(ctx, fake_aoai, f"localhost:{fake_aoai.port}")
    a.send_signal(signal.SIGHUP)
    a.wait_log(lambda log: "configuration reloaded" in log, what="the reload")
    assert s.step(url) == 200
    s.close()


def test_add_and_remove_host_apply_to_the_very_next_transfer(ctx, start_agent, aoai, hook,
                                                              steps, fake_aoai):
    start_agent(config=config_with(ctx, fake_aoai, fake_aoai.hostport))
    s = steps()
    url = models("localhost", fake_aoai)
    assert s.step(url) == 401
    expect_rc(aoai("add", "local", "--host", f"localhost:{fake_aoai.port}",
                   input=fake_aoai.key + "\n"), 0, "aoai add --host")
    assert s.step(url) == 200
    expect_rc(aoai("remove", "local"), 0, "aoai remove")
    assert s.step(url) == 401
    # The configured host kept its header throughout.
    assert s.step(models("127.0.0.1", fake_aoai)) == 200
    s.close()


# --- an agent without "hosts" -------------------------------------------------------

class OldAgent:
    """A stand-in for an agent before "hosts": unknown_op for it, and for
    "headers" the api-key (for every URL, counting the questions)."""

    def __init__(self, path, key):
        self.key = key
        self.asked = []
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(str(path))
        self.srv.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    @staticmethod
    def _recv(conn, n):
        buf = b""
        while len(buf) < n:
            chunk = conn.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def _answer(self, req):
        if req.get("op") != "headers":
            return {"v": 1, "ok": False, "error": "unknown_op",
                    "message": "field \"op\": unknown operation"}
        self.asked.append(req["url"])
        return {"v": 1, "ok": True, "profile": "old",
                "headers": [{"name": "api-key", "value": self.key,
                             "exists_action": "override"}]}

    def _talk(self, conn):
        with conn:
            try:
                while True:
                    (n,) = struct.unpack(">I", self._recv(conn, 4))
                    out = json.dumps(self._answer(json.loads(self._recv(conn, n)))).encode()
                    conn.sendall(struct.pack(">I", len(out)) + out)
            except (EOFError, OSError):
                return

    def close(self):
        self.srv.close()


def test_agent_without_hosts_is_asked_every_time(ctx, hook, fake_aoai):
    old = OldAgent(ctx.sock, fake_aoai.key)
    try:
        assert curl(ctx, hook, models("localhost", fake_aoai),
                    models("127.0.0.1", fake_aoai)) == [200, 200]
    finally:
        old.close()
    assert old.asked == [models("localhost", fake_aoai), models("127.0.0.1", fake_aoai)]
