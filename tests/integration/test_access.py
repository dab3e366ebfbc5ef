# SPDX-License-Identifier: MIT
"""Per-program access (a profile's "allow": exe, uid, unit lists) and the
audit of releases and refusals: the distinct `denied` refusal (CLI exit 7),
a connection that outlives the process that opened it (and a pid recycled
meanwhile), the audit log lines and the per-profile counts in `aoai status`.

allow.unit is only checked here for its refusal: admitting a unit needs a
systemd manager to start the client in one, which the test container lacks;
the matching itself is unit-tested in tests/unit/test-peer.c."""

import json
import os
import re
import socket
import subprocess
import time

import pytest

from aoaitest import (CMD_TIMEOUT, PYTHON, RawClient, api_key_profile, assert_absent, describe,
                      expect_error, expect_ok, expect_rc, fail)
from test_token_cli import FakeImds

NS_LAST_PID = "/proc/sys/kernel/ns_last_pid"
RECYCLE_ATTEMPTS = 20  # per pid: other processes on the machine may take it first
RECYCLE_PIDS = 5       # pids tried before giving up
SLEEP = "/usr/bin/sleep"


def wire_headers(raw, url):
    with raw() as c:
        return c.request({"v": 1, "op": "headers", "url": url})


def wire_token(raw, **fields):
    with raw() as c:
        return c.request({"v": 1, "op": "token", **fields})


def self_exe():
    """This test process's executable as the agent reads it."""
    return os.readlink("/proc/self/exe")


def release_line(log, profile, result, pid=None):
    """The agent's audit line for @profile with @result (and @pid), or None."""
    for line in log.splitlines():
        if f"release profile={profile} " in line and line.endswith(f" result={result}") \
                and (pid is None or f" pid={pid} " in line):
            return line
    return None


@pytest.fixture
def imds():
    """imds(status, body) -> a FakeImds on loopback, stopped at teardown."""
    servers = []

    def start(status, body):
        servers.append(FakeImds(status, body))
        return servers[-1]

    yield start
    for s in servers:
        s.stop()


def imds_token(ctx, imds):
    token = "eyJ0eXAi." + ctx.secret(32) + ".c2ln"
    fake = imds(200, {"access_token": token, "expires_on": str(int(time.time()) + 3600),
                      "expires_in": "3600", "token_type": "Bearer",
                      "resource": "https://cognitiveservices.azure.com"})
    return token, fake


def mi_profile(host, endpoint, **extra):
    p = {"hosts": [host], "credential": {"type": "managed-identity", "endpoint": endpoint}}
    p.update(extra)
    return p


# --- allow.exe -------------------------------------------------------------------

def test_allow_exe_denied_exit_7(ctx, build, start_agent, aoai, raw):
    """A profile restricted to some executables answers `denied` to others."""
    cfg = ctx.write_config({"profiles": {
        "mine": api_key_profile("mine.example", allow={"exe": [os.path.realpath(build.aoai)]}),
        "theirs": api_key_profile("theirs.example", allow={"exe": ["/nonexistent/bin/tool"]}),
    }})
    a = start_agent(config=cfg)
    k1, k2 = ctx.secret(), ctx.secret()
    expect_rc(aoai("add", "mine", input=k1 + "\n"), 0, "add mine")
    expect_rc(aoai("add", "theirs", input=k2 + "\n"), 0, "add theirs")
    r = expect_rc(aoai("headers", "https://mine.example/"), 0, "allowed executable")
    if k1 not in r.stdout:
        fail("the allowed executable did not get the key")
    r = expect_rc(aoai("headers", "https://theirs.example/"), 7, "executable not allowed")
    assert_absent(k2, r.stdout + r.stderr, "a denied headers output")
    assert r.stdout == ""
    assert f'profile "theirs" does not allow {os.path.realpath(build.aoai)}' in r.stderr, \
        describe(r)
    # This test process (python) is not the allowed executable either.
    reply = expect_error(wire_headers(raw, "https://mine.example/"), "denied")
    assert reply["message"] == f'profile "mine" does not allow {self_exe()}', reply
    a.wait_log(lambda t: release_line(t, "theirs", "denied"), what="the denial's audit line")


def test_allow_exe_token(ctx, build, start_agent, imds, aoai, raw):
    """`aoai token` obeys allow.exe as `aoai headers` does."""
    token, fake = imds_token(ctx, imds)
    cfg = ctx.write_config({"profiles": {
        "vm": mi_profile("vm.openai.azure.com", fake.url,
                         allow={"exe": [os.path.realpath(build.aoai)]}),
        "guarded": mi_profile("g.openai.azure.com", fake.url,
                              allow={"exe": ["/nonexistent/bin/tool"]}),
    }})
    a = start_agent(config=cfg)
    r = expect_rc(aoai("token", "vm"), 0, "allowed executable")
    if r.stdout != token + "\n":
        fail("the allowed executable did not get the token")
    r = expect_rc(aoai("token", "guarded"), 7, "executable not allowed")
    assert r.stdout == "" and 'profile "guarded" does not allow' in r.stderr, describe(r)
    reply = expect_error(wire_token(raw, profile="vm"), "denied", "python asks for vm")
    assert_absent(token, json.dumps(reply), "a denied token reply")
    assert 'profile "vm"' in reply["message"], reply
    assert len(fake.requests) == 1, "a denied request must not fetch a token"
    log = a.wait_log(lambda t: release_line(t, "guarded", "denied"),
                     what="the token denial's audit line")
    assert_absent(token, log, "the agent log")


# --- allow.uid and allow.unit ---------------------------------------------------

def test_allow_uid(ctx, start_agent, aoai, raw):
    """allow.uid admits the uids listed and refuses the others.  Only the
    owner and root can connect at all, so the refusal is shown with a list
    that names some other uid."""
    me = os.getuid()
    other = 4242 if me != 4242 else 4343
    cfg = ctx.write_config({"profiles": {
        "mine": api_key_profile("mine.example", allow={"uid": [other, me]}),
        "theirs": api_key_profile("theirs.example", allow={"uid": [other]}),
    }})
    start_agent(config=cfg)
    k1, k2 = ctx.secret(), ctx.secret()
    expect_rc(aoai("add", "mine", input=k1 + "\n"), 0, "add mine")
    expect_rc(aoai("add", "theirs", input=k2 + "\n"), 0, "add theirs")
    expect_rc(aoai("headers", "https://mine.example/"), 0, f"uid {me} is listed")
    r = expect_rc(aoai("headers", "https://theirs.example/"), 7, f"uid {me} is not listed")
    assert_absent(k2, r.stdout + r.stderr, "a denied headers output")
    assert 'profile "theirs" does not allow' in r.stderr, describe(r)
    expect_ok(wire_headers(raw, "https://mine.example/"))
    expect_error(wire_headers(raw, "https://theirs.example/"), "denied")


def test_allow_unit_refuses_outside_the_unit(ctx, start_agent, aoai, raw):
    """A client that runs in no listed systemd unit is refused (admission
    needs a systemd manager: see the module docstring)."""
    cfg = ctx.write_config({"profiles": {
        "svc": api_key_profile("svc.example", allow={"unit": ["aoai-test-client.service"]}),
    }})
    start_agent(config=cfg)
    k = ctx.secret()
    expect_rc(aoai("add", "svc", input=k + "\n"), 0, "add")
    r = expect_rc(aoai("headers", "https://svc.example/"), 7, "not in the unit")
    assert_absent(k, r.stdout + r.stderr, "a denied headers output")
    expect_error(wire_headers(raw, "https://svc.example/"), "denied")


# --- a connection that outlives its process ---------------------------------------

class InheritedClient(RawClient):
    """A RawClient on a socket another process connected."""

    def __init__(self, sock, timeout=5.0):  # noqa: super().__init__ would connect
        self.sock = sock
        self.timeout = timeout
        sock.settimeout(timeout)


def connect_in_child(path):
    """Creates a socket here, connects it in a forked child that then exits
    (and is reaped): the agent's peer is the child, the socket ours.
    Returns (client, child pid)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            s.connect(str(path))
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        s.close()
        fail("the child could not connect to the agent")
    return InheritedClient(s), pid


def spawn_at_pid(pid, argv):
    """Starts @argv so that it gets @pid, by setting the kernel's last pid
    (root only); bounded retries, as other processes may take it first.
    Returns the Popen or None."""
    for _ in range(RECYCLE_ATTEMPTS):
        with open(NS_LAST_PID, "w") as f:
            f.write(str(pid - 1))
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        if p.pid == pid:
            return p
        p.kill()
        p.wait(CMD_TIMEOUT)
    return None


def test_connection_outliving_its_process(ctx, start_agent, aoai):
    """The process that connected has exited: whoever holds the socket now
    is not it, so profiles with an allow list refuse (exe "?" in the log);
    profiles without one still answer."""
    cfg = ctx.write_config({"profiles": {
        "guarded": api_key_profile("guarded.example", allow={"exe": [self_exe()]}),
        "open": api_key_profile("open.example"),
    }})
    a = start_agent(config=cfg)
    k1, k2 = ctx.secret(), ctx.secret()
    expect_rc(aoai("add", "guarded", input=k1 + "\n"), 0, "add guarded")
    expect_rc(aoai("add", "open", input=k2 + "\n"), 0, "add open")
    # Control: this process, connecting itself, is admitted.
    with RawClient(ctx.sock) as c:
        expect_ok(c.request({"v": 1, "op": "headers", "url": "https://guarded.example/"}))

    c, child = connect_in_child(ctx.sock)
    with c:
        reply = c.request({"v": 1, "op": "headers", "url": "https://guarded.example/"})
        expect_error(reply, "denied", "a connection whose process exited")
        assert_absent(k1, json.dumps(reply), "the denied reply")
        assert reply["message"] == (f'profile "guarded" does not allow pid {child}, which has '
                                    'exited (the connection outlived it)'), reply
        expect_ok(c.request({"v": 1, "op": "headers", "url": "https://open.example/"}))
    line = a.wait_log(lambda t: release_line(t, "guarded", "denied", pid=child),
                      what=f"the denial for pid {child}")
    assert " exe=? " in release_line(line, "guarded", "denied", pid=child), line


def test_process_exiting_after_releases(ctx, start_agent, aoai):
    """The process that connected was admitted, then exits while its
    socket lives on in another: the agent, which watches the process from
    its first release instead of asking the kernel at each one, refuses the
    next request on that connection all the same."""
    cfg = ctx.write_config({"profiles": {
        "guarded": api_key_profile("guarded.example", allow={"exe": [self_exe()]}),
    }})
    a = start_agent(config=cfg)
    k = ctx.secret()
    expect_rc(aoai("add", "guarded", input=k + "\n"), 0, "add")
    request = {"v": 1, "op": "headers", "url": "https://guarded.example/"}
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            s.connect(str(ctx.sock))
            for _ in range(3):  # admitted: the first release takes the pidfd, then it is watched
                code = 0 if InheritedClient(s).request(request).get("ok") is True else 2
                if code:
                    break
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child was not admitted"
    with InheritedClient(s) as c:
        reply = c.request(request)
        expect_error(reply, "denied", "a connection whose process exited after releases")
        assert_absent(k, json.dumps(reply), "the denied reply")
    line = a.wait_log(lambda t: release_line(t, "guarded", "denied", pid=pid),
                      what=f"the denial for pid {pid}")
    assert " exe=? " in release_line(line, "guarded", "denied", pid=pid), line


@pytest.mark.skipif(os.geteuid() != 0 or not os.access(NS_LAST_PID, os.W_OK),
                    reason="setting the next pid needs root")
def test_recycled_pid_not_attributed(ctx, start_agent, aoai):
    """The connecting process exits and its pid is given to an allowed
    program: /proc/PID/exe now names that program, but the agent's pidfd
    says the connecting process is gone, so the request is refused."""
    sleep_exe = os.path.realpath(SLEEP)
    cfg = ctx.write_config({"profiles": {
        "guarded": api_key_profile("guarded.example", allow={"exe": [sleep_exe]}),
    }})
    a = start_agent(config=cfg)
    k = ctx.secret()
    expect_rc(aoai("add", "guarded", input=k + "\n"), 0, "add")
    impostor = None
    for _ in range(RECYCLE_PIDS):
        c, child = connect_in_child(ctx.sock)
        impostor = spawn_at_pid(child, [SLEEP, "60"])
        if impostor:
            break
        c.close()
    if impostor is None:
        pytest.skip(f"no pid could be recycled in {RECYCLE_PIDS} tries (a busy machine)")
    try:
        assert os.readlink(f"/proc/{child}/exe") == sleep_exe, "the pid was not recycled"
        with c:
            reply = c.request({"v": 1, "op": "headers", "url": "https://guarded.example/"})
            expect_error(reply, "denied", f"pid {child} recycled by {SLEEP}")
            assert_absent(k, json.dumps(reply), "the denied reply")
        line = a.wait_log(lambda t: release_line(t, "guarded", "denied", pid=child),
                          what=f"the denial for pid {child}")
        assert " exe=? " in release_line(line, "guarded", "denied", pid=child), line
    finally:
        impostor.kill()
        impostor.wait(CMD_TIMEOUT)


# --- audit ---------------------------------------------------------------------------

def audit_of(aoai_json):
    return aoai_json("status")["audit"]


def test_audit_counts(ctx, start_agent, imds, aoai, aoai_json):
    """A known sequence of releases and refusals, counted per profile in
    `aoai status` (text and --json); the counts survive a reload."""
    token, fake = imds_token(ctx, imds)
    cfg = ctx.write_config({"profiles": {
        "contoso": api_key_profile("contoso.example"),
        "nokey": api_key_profile("nokey.example"),
        "guarded": api_key_profile("guarded.example", allow={"exe": ["/nonexistent/tool"]}),
        "vm": mi_profile("vm.example", fake.url),
        "down": mi_profile("down.example", "http://127.0.0.1:1/token"),
    }})
    a = start_agent(config=cfg)
    before = audit_of(aoai_json)
    assert before == {"profiles": {}, "unmatched": 0,
                      "other": {"released": 0, "refused": 0}}, before
    assert "none since start" in expect_rc(aoai("status"), 0, "status").stdout
    k1, k2 = ctx.secret(), ctx.secret()
    expect_rc(aoai("add", "contoso", input=k1 + "\n"), 0, "add contoso")
    expect_rc(aoai("add", "guarded", input=k2 + "\n"), 0, "add guarded")

    for _ in range(2):
        expect_rc(aoai("headers", "https://contoso.example/"), 0, "release")
    expect_rc(aoai("headers", "https://nokey.example/"), 6, "missing secret")
    expect_rc(aoai("headers", "https://guarded.example/"), 7, "denied")
    expect_rc(aoai("headers", "https://elsewhere.example/"), 4, "no profile: unmatched")
    expect_rc(aoai("headers", "http://contoso.example/"), 4, "plain http: unmatched")
    expect_rc(aoai("token", "vm"), 0, "token release")
    expect_rc(aoai("headers", "https://vm.example/"), 0, "headers from the cached token")
    expect_rc(aoai("token", "down"), 6, "token unavailable")
    expect_rc(aoai("token", "nosuch"), 1, "unknown profile: unmatched")
    expect_rc(aoai("lock", input="pass phrase\n"), 0, "lock")
    expect_rc(aoai("headers", "https://contoso.example/"), 5, "locked")
    expect_rc(aoai("token", "vm"), 5, "token while locked")
    expect_rc(aoai("unlock", input="pass phrase\n"), 0, "unlock")

    want = {"profiles": {"contoso": {"released": 2, "refused": 1},
                         "nokey": {"released": 0, "refused": 1},
                         "guarded": {"released": 0, "refused": 1},
                         "vm": {"released": 2, "refused": 1},
                         "down": {"released": 0, "refused": 1}},
            "unmatched": 3, "other": {"released": 0, "refused": 0}}
    got = audit_of(aoai_json)
    assert got == want, got
    expect_rc(aoai("reload"), 0, "reload")
    assert audit_of(aoai_json) == want, "the counts must survive a reload"

    text = expect_rc(aoai("status"), 0, "status").stdout
    for row in (r"contoso +2 +1", r"nokey +0 +1", r"guarded +0 +1", r"vm +2 +1",
                r"down +0 +1", r"\(unmatched\) +0 +3"):
        if not re.search(rf"^{row}$", text, re.M):
            fail(f"no row {row!r} in `aoai status`:\n{text}")
    assert re.search(r"^PROFILE +RELEASED +REFUSED$", text, re.M), text
    for secret in (k1, k2, token):
        assert_absent(secret, text + json.dumps(got), "aoai status")


def test_audit_lines_carry_the_fields(ctx, build, start_agent, imds, aoai):
    """Refusals are logged with the same fields as releases (pid, uid, exe,
    profile, host or scope, outcome), and never with the secret; the release
    line itself is checked in test_hygiene.py."""
    token, fake = imds_token(ctx, imds)
    cfg = ctx.write_config({"profiles": {
        "guarded": api_key_profile("guarded.example", allow={"exe": ["/nonexistent/tool"]}),
        "vm": mi_profile("vm.example", fake.url),
    }})
    a = start_agent(config=cfg)
    k = ctx.secret()
    expect_rc(aoai("add", "guarded", input=k + "\n"), 0, "add")
    exe = os.path.realpath(build.aoai)
    uid = os.getuid()
    cases = [(["headers", "https://guarded.example/"], 7, "guarded", "host=guarded.example:443",
              "denied"),
             (["token", "vm"], 0, "vm", "token scope=https://cognitiveservices.azure.com/.default",
              "ok")]
    for args, rc, profile, where, result in cases:
        p = subprocess.Popen([str(build.aoai), *args], env=ctx.env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        assert p.wait(CMD_TIMEOUT) == rc, args
        want = f"release profile={profile} {where} pid={p.pid} uid={uid} exe={exe} result={result}"
        a.wait_log(lambda t: any(line.endswith(want) for line in t.splitlines()),
                   what=f"the line {want!r}")
    for secret in (k, token):
        assert_absent(secret, a.log(), "the agent log")


# --- fork + exec after connect -------------------------------------------------------

# Connects, completes one request (so the agent has accepted the connection
# and read the executable), then forks: the parent, whose pid the agent
# holds, execs argv[3:]; the child waits until that exec has happened (its
# close-on-exec pipe reaches EOF), asks for headers on the inherited socket,
# prints {"peer": PID, "reply": …} and stops the parent.
SPOOF = r"""
import json, os, signal, socket, struct, sys

def request(s, obj):
    body = json.dumps(obj).encode()
    s.sendall(struct.pack(">I", len(body)) + body)
    buf = b""
    while len(buf) < 4 or len(buf) < 4 + struct.unpack(">I", buf[:4])[0]:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("the agent closed the connection")
        buf += chunk
    return json.loads(buf[4:])

path, url = sys.argv[1:3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(path)
if not request(s, {"v": 1, "op": "status"}).get("ok"):
    sys.exit("status failed")
r, w = os.pipe()  # both close-on-exec
if os.fork() > 0:
    os.close(r)
    os.execv(sys.argv[3], sys.argv[3:])
os.close(w)
os.read(r, 1)  # EOF: the parent's exec has replaced its image (or it died)
reply = request(s, {"v": 1, "op": "headers", "url": url})
print(json.dumps({"peer": os.getppid(), "reply": reply}), flush=True)
os.kill(os.getppid(), signal.SIGTERM)
"""


def test_fork_exec_after_connect_refused(ctx, build, start_agent, aoai):
    """A program that is not allowed connects, then forks and execs an
    allowed one: the pid the agent holds now runs the allowed program, but
    the request comes from the other half of the fork.  The agent decides
    on the program that connected and says that the pid has exec'd since."""
    sleep_exe, aoai_exe = os.path.realpath(SLEEP), os.path.realpath(build.aoai)
    cfg = ctx.write_config({"profiles": {
        "guarded": api_key_profile("guarded.example", allow={"exe": [sleep_exe, aoai_exe]}),
    }})
    a = start_agent(config=cfg)
    k = ctx.secret()
    expect_rc(aoai("add", "guarded", input=k + "\n"), 0, "add")
    # Control: a listed program that connects itself is admitted.
    r = expect_rc(aoai("headers", "https://guarded.example/"), 0, "the listed aoai")
    if k not in r.stdout:
        fail("the listed program did not get the key")

    p = subprocess.run([PYTHON, "-c", SPOOF, str(ctx.sock), "https://guarded.example/",
                        SLEEP, "60"], env=ctx.env(), capture_output=True, text=True,
                       timeout=CMD_TIMEOUT)
    lines = p.stdout.strip().splitlines()
    if not lines:
        fail(f"the spoofing script printed nothing:\n{describe(p)}")
    got = json.loads(lines[-1])
    reply, peer = got["reply"], got["peer"]
    assert_absent(k, json.dumps(reply), "the spoofed request's reply")
    expect_error(reply, "denied", "a request after the connecting pid exec'd sleep")
    assert reply["message"] == (f'profile "guarded" does not allow pid {peer}, which exec\'d '
                                f'{sleep_exe} since it connected as {self_exe()}'), reply
    line = a.wait_log(lambda t: release_line(t, "guarded", "denied", pid=peer),
                      what=f"the denial for pid {peer}")
    assert f" exe={self_exe()} " in release_line(line, "guarded", "denied", pid=peer), line
