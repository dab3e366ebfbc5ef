# SPDX-License-Identifier: MIT
"""Faults the agent must survive: running out of descriptors, being killed
with clients connected, its config file replaced while it reloads, and an
identity endpoint that accepts connections and never answers."""

import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import time

import pytest

import aoaitest
from aoaitest import (api_key_profile, describe, expect_error, expect_ok, expect_rc, fail,
                      wait_until)

STATUS = {"v": 1, "op": "status"}
LIST = {"v": 1, "op": "list"}
LOW_NOFILE = 64  # descriptors: enough to start, few enough to exhaust
CPU_WINDOW = 2.0  # seconds over which a refusing agent must stay (nearly) idle
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of @pid, from /proc/PID/stat (fields 14 and 15)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def connect(path):
    """A connected socket, retrying while the listen backlog is full (bounded)."""
    for _ in range(200):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(str(path))
            return s
        except (BlockingIOError, ConnectionRefusedError):
            s.close()
            time.sleep(0.01)
    fail("could not connect within the bounded retries")


class Client(aoaitest.RawClient):
    """A RawClient on a socket already connected."""

    def __init__(self, sock, timeout=5.0):  # pylint: disable=super-init-not-called
        self.sock = sock
        self.timeout = timeout


def try_request(path, obj=STATUS):
    """Connects, sends @obj.  Returns (socket, reply or None when the agent
    closed the connection without one)."""
    c = Client(connect(path))
    try:
        c.send_json(obj)
    except (ConnectionResetError, BrokenPipeError):
        pass  # refused already: its reply may still be waiting to be read
    try:
        return c.sock, c.recv_frame()
    except (EOFError, ConnectionResetError, BrokenPipeError):
        return c.sock, None


def fill_agent(path, limit, what):
    """Opens connections, each served once, until the agent refuses one.
    Returns (the served sockets, the refusal reply or None for a close)."""
    held = []
    for _ in range(limit):
        s, reply = try_request(path)
        if reply is None or not reply.get("ok"):
            s.close()
            return held, reply
        held.append(s)
    fail(f"{what}: no connection refused after {limit}")


def served_again(path):
    s, reply = try_request(path)
    s.close()
    return reply is not None and reply.get("ok")


# --- descriptor exhaustion -----------------------------------------------------

def test_connection_cap_from_low_descriptor_limit(ctx, start_agent):
    """With a descriptor limit of 64 the cap is below it: connections over the
    cap get a `limit` error, and the agent serves again once they close."""
    a = start_agent(nofile=LOW_NOFILE)
    held, reply = fill_agent(ctx.sock, LOW_NOFILE, "a capped agent")
    try:
        assert 0 < len(held) < LOW_NOFILE, len(held)
        if reply is None:
            fail("the connection over the cap was closed without a `limit` reply")
        expect_error(reply, "limit", "a connection over the cap")
        assert "too many connections" in reply["message"], reply
        a.wait_log(lambda t: "refused connection" in t, what="the refusal in the log")
    finally:
        for s in held:
            s.close()
    wait_until(lambda: served_again(ctx.sock), 10, "the agent to serve once connections close")
    assert a.alive()


def test_descriptor_exhaustion(ctx, start_agent):
    """Descriptors run out below the connection cap (the limit lowered while
    the agent runs): new clients are refused at once, the agent does not spin
    on its readable listening socket, and it serves again when descriptors
    are freed."""
    a = start_agent()
    resource.prlimit(a.pid, resource.RLIMIT_NOFILE, (LOW_NOFILE, LOW_NOFILE))
    held, reply = fill_agent(ctx.sock, LOW_NOFILE, "an agent out of descriptors")
    backlog = []
    try:
        assert 0 < len(held) < LOW_NOFILE, len(held)
        if reply is not None:
            expect_error(reply, "limit", "a connection without a descriptor")
            assert "out of file descriptors" in reply["message"], reply
        # More clients while descriptors are still short, left connected.
        backlog = [connect(ctx.sock) for _ in range(20)]
        before = cpu_seconds(a.pid)
        time.sleep(CPU_WINDOW)  # the measurement window, not a synchronisation
        used = cpu_seconds(a.pid) - before
        assert used < CPU_WINDOW / 2, f"agent used {used:.2f} s of CPU in {CPU_WINDOW} s: spinning"
        for s in backlog:  # each was refused: a `limit` reply then a close, or a close
            s.settimeout(5)
            data = s.recv(4096)
            assert not data or b'"limit"' in data, data
        a.wait_log(lambda t: "out of file descriptors" in t, what="the shedding in the log")
    finally:
        for s in held + backlog:
            s.close()
    wait_until(lambda: served_again(ctx.sock), 10, "the agent to serve once descriptors free up")
    assert a.alive()


def test_descriptors_exhausted_without_reserve(ctx, start_agent):
    """Descriptors so short that even the reserve one cannot be used (the
    limit lowered below every descriptor the agent holds): the agent stops
    accepting without spinning, clients wait in the backlog, and they are
    served once the limit is raised again."""
    a = start_agent()
    limits = resource.prlimit(a.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(a.pid, resource.RLIMIT_NOFILE, (3, limits[1]))
    waiting = []
    try:
        waiting = [connect(ctx.sock) for _ in range(5)]
        a.wait_log(lambda t: "accepting slowly" in t, what="the agent to notice")
        before = cpu_seconds(a.pid)
        time.sleep(CPU_WINDOW)  # the measurement window, not a synchronisation
        used = cpu_seconds(a.pid) - before
        assert used < CPU_WINDOW / 2, f"agent used {used:.2f} s of CPU in {CPU_WINDOW} s: spinning"
        resource.prlimit(a.pid, resource.RLIMIT_NOFILE, limits)
        for s in waiting:
            expect_ok(Client(s).request(STATUS), "a client that waited in the backlog")
        a.wait_log(lambda t: "accepting connections" in t, what="the agent to recover")
    finally:
        for s in waiting:
            s.close()
    assert a.alive()


# --- the agent killed under its clients ----------------------------------------

HOST = "faults.openai.azure.com"
URL = f"https://{HOST}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"


def key_config(ctx):
    """An api-key profile whose key is in a file, so a restarted agent has it."""
    key_file = ctx.write_file("api.key", ctx.secret() + "\n")
    return ctx.write_config({"profiles": {
        "key": api_key_profile(HOST, credential={"type": "api-key", "file": str(key_file)})}})


def connections(ctx):
    with aoaitest.RawClient(ctx.sock) as c:
        return expect_ok(c.request(STATUS), "status")["connections"]


def test_sigkill_with_clients_connected(ctx, start_agent, aoai, loadgen):
    """SIGKILL while libaoai clients are mid-request and others sit idle:
    each gets a broken-connection error (never a hang), new clients get
    "cannot reach the agent" (exit 3, no agent reachable), and an agent restarted on the same path
    replaces the stale socket and serves clients that reconnect."""
    cfg = key_config(ctx)
    a = start_agent(config=cfg)
    idle = aoaitest.RawClient(ctx.sock)
    expect_ok(idle.request(STATUS), "an idle client's first request")
    busy = subprocess.Popen([str(loadgen), "--socket", str(ctx.sock), "--url", URL, "--clients",
                             "20", "--duration", "30"], env=ctx.env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: connections(ctx) >= 22, 10, "20 busy clients and the idle one")
        a.send_signal(signal.SIGKILL)
        a.wait(10)
        a.expect_exit = None  # killed on purpose
        out, err = busy.communicate(timeout=30)  # would time out if a client hung
    finally:
        if busy.poll() is None:
            busy.kill()
            busy.wait(10)
    res = json.loads(out)
    assert res["requests"] > 0, res
    assert res["failures"] == 20 and res["failures_io"] + res["failures_noagent"] == 20, res
    assert res["failures_io"] > 0 and "connection to the agent broke" in res["first_error"], res
    assert idle.closed_by_peer(5), "the idle client's connection is not closed"
    idle.close()
    r = expect_rc(aoai("headers", URL), 3, "a new client with the agent dead")
    assert "cannot reach the agent" in r.stderr and str(ctx.sock) in r.stderr, describe(r)
    assert os.path.exists(ctx.sock), "the killed agent's socket file is left behind"
    start_agent(config=cfg)  # on the same path: the stale socket is replaced
    expect_rc(aoai("headers", URL), 0, "headers from the restarted agent")
    again = subprocess.run([str(loadgen), "--socket", str(ctx.sock), "--url", URL, "--clients",
                            "20", "--duration", "1"], env=ctx.env(), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=30)
    res = json.loads(again.stdout)
    assert res["failures"] == 0 and res["requests"] > 0, res


@pytest.fixture
def silent_endpoint():
    """The URL of a token endpoint that accepts connections (the kernel
    completes them) and never answers."""
    ep = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ep.bind(("127.0.0.1", 0))
    ep.listen(16)
    yield f"http://127.0.0.1:{ep.getsockname()[1]}/token"
    ep.close()


def mi_profile(endpoint):
    return {"hosts": [HOST], "credential": {"type": "managed-identity", "endpoint": endpoint}}


@contextlib.contextmanager
def token_client(ctx):
    """`aoai token vm` running in the background; killed if still running at the end."""
    waiting = subprocess.Popen([str(ctx.build.aoai), "token", "vm"], env=ctx.env(),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        yield waiting
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.wait(10)


def test_sigkill_while_a_client_waits_for_a_token(ctx, start_agent, silent_endpoint):
    """A client blocked on a token fetch when the agent is killed gets the
    broken-connection error at once (exit 1, its message), not a hang."""
    a = start_agent(config=ctx.write_config({"profiles": {"vm": mi_profile(silent_endpoint)}}))
    with token_client(ctx) as waiting:
        wait_until(lambda: token_state(ctx) == "fetching", 10, "the fetch to start")
        a.send_signal(signal.SIGKILL)
        a.wait(10)
        a.expect_exit = None
        out, err = waiting.communicate(timeout=10)
    assert waiting.returncode == 1, (waiting.returncode, err)
    assert "agent" in err and ("closed" in err or "broke" in err), err
    assert out == ""


def token_state(ctx):
    with aoaitest.RawClient(ctx.sock) as c:
        (p,) = [p for p in expect_ok(c.request(LIST), "list")["profiles"] if p["name"] == "vm"]
        return p["token"]["state"]


# --- an identity endpoint that accepts and never answers ------------------------

def test_silent_token_endpoint_times_out(ctx, start_agent, aoai, silent_endpoint):
    """A token endpoint that completes the TCP handshake and never answers:
    the waiting client gets a clear timeout error within the agent's bounds
    (three attempts of 10 s), and other clients are served meanwhile."""
    key_file = ctx.write_file("api.key", ctx.secret() + "\n")
    a = start_agent(config=ctx.write_config({"profiles": {
        "vm": mi_profile(silent_endpoint),
        "key": api_key_profile("key.example.com",
                               credential={"type": "api-key", "file": str(key_file)}),
    }}))
    served = 0
    with token_client(ctx) as waiting:
        with aoaitest.RawClient(ctx.sock) as c:
            # Bounded: the agent gives up after 3 × 10 s and two backoffs.
            deadline = time.monotonic() + 90
            while waiting.poll() is None and time.monotonic() < deadline:
                expect_ok(c.request({"v": 1, "op": "headers",
                                     "url": "https://key.example.com/x"}, timeout=5),
                          "an api-key client while the token fetch hangs")
                served += 1
                time.sleep(0.2)  # pacing, not synchronisation
        out, err = waiting.communicate(timeout=10)
    assert served > 0
    assert waiting.returncode == 6, (waiting.returncode, err)
    assert "vm" in err and "imds" in err and "timed out" in err.lower(), err
    assert out == ""
    assert a.alive()
    expect_rc(aoai("status"), 0, "status after the timeout")


# --- the config file replaced while reloads happen -----------------------------

def profiles_config(ctx, prefix, n, key_file):
    return {"profiles": {
        f"{prefix}{i}": api_key_profile(f"{prefix}{i}.example",
                                        credential={"type": "api-key", "file": str(key_file)})
        for i in range(n)}}


def write_slowly(path, text, chunks):
    """Truncates @path and writes @text in @chunks pieces, yielding between
    them so the caller can send SIGHUP to the agent mid-write."""
    data = text.encode()
    step = max(1, len(data) // chunks)
    with open(path, "wb", buffering=0) as f:
        f.truncate(0)
        for off in range(0, len(data), step):
            yield
            f.write(data[off:off + step])
            os.fsync(f.fileno())


def test_config_replaced_mid_reload(ctx, start_agent):
    """The config file swapped under SIGHUP reloads, atomically (rename) and
    not (truncate, then slow writes): the agent never crashes and always
    serves one complete configuration, old or new; a half-written file is
    rejected with the file named."""
    key_file = ctx.write_file("api.key", ctx.secret() + "\n")
    old = profiles_config(ctx, "old", 3, key_file)
    new = profiles_config(ctx, "new", 40, key_file)
    complete = {frozenset(old["profiles"]), frozenset(new["profiles"])}
    cfg = ctx.write_config(old)
    a = start_agent(config=cfg)
    c = aoaitest.RawClient(ctx.sock)

    def check():
        names = frozenset(p["name"] for p in expect_ok(c.request(LIST), "list")["profiles"])
        if names not in complete:
            fail(f"the agent serves a configuration that is neither old nor new: {sorted(names)}")

    try:
        for round_ in range(6):  # bounded
            target = new if round_ % 2 == 0 else old
            ctx.write_config(target)  # atomic
            a.send_signal(signal.SIGHUP)
            check()
            text = json.dumps(old if target is new else new, indent=2)
            for _ in write_slowly(cfg, text, 8):  # truncate + slow write
                a.send_signal(signal.SIGHUP)
                check()
            a.send_signal(signal.SIGHUP)
            check()
            assert a.alive(), "the agent died during reloads"
        # A half-written file, left so: rejected, naming the file.
        gen = write_slowly(cfg, json.dumps(new, indent=2), 4)
        next(gen)
        next(gen)
        with aoaitest.RawClient(ctx.sock) as r:
            expect_error(r.request({"v": 1, "op": "reload"}), "bad_config", "a half-written file")
        wait_until(lambda: str(cfg) in (status(c).get("last_reload_error") or ""), 5,
                   "the reload error to name the file")
        check()
        for _ in gen:  # finish the write: the new configuration loads
            pass
        with aoaitest.RawClient(ctx.sock) as r:
            expect_ok(r.request({"v": 1, "op": "reload"}), "reload of the finished file")
        names = frozenset(p["name"] for p in expect_ok(c.request(LIST), "list")["profiles"])
        assert names == frozenset(new["profiles"]), sorted(names)
        assert status(c)["last_reload_error"] is None
    finally:
        c.close()
    assert a.alive()


def status(c):
    return expect_ok(c.request(STATUS), "status")
