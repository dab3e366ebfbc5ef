# SPDX-License-Identifier: MIT
"""Memory hygiene, seen from outside: root scans the agent's whole address
space through /proc/PID/mem for a secret's bytes (held: found, and only in
pages the agent keeps PROT_NONE once releases are over; removed or expired:
found nowhere); an RLIMIT_MEMLOCK too small to lock secrets is reported once
and is not fatal; an agent run by an ordinary user is non-dumpable."""

import json
import os
import resource
import shutil
import time

import pytest

from aoaitest import (PYTHON, api_key_profile, describe, expect_rc, fail, register_secret,
                      run)

HOST = "mem.openai.azure.com"
URL = f"https://{HOST}/openai/v1/models"
NOBODY = 65534
MLOCK_WARNING = "cannot lock secrets in memory"

needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root: reads another process's memory "
                                       "and runs processes as another uid")


# Reservations this large are address space, not data (a sanitizer's shadow):
# reading them would take hours and find nothing of the agent's.
SCAN_MAX_MAPPING = 64 << 30
SCAN_CHUNK = 64 << 20


def mappings(pid):
    """(maps line, start, end, bytes resident or swapped) for each mapping."""
    out = []
    with open(f"/proc/{pid}/smaps", encoding="ascii", errors="replace") as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and not head[0].endswith(":"):
                lo, hi = (int(x, 16) for x in head[0].split("-"))
                out.append([line.rstrip("\n"), lo, hi, 0])
            elif head[0] in ("Rss:", "Swap:"):
                out[-1][3] += int(head[1]) * 1024
    return out


def read_mapping(fd, lo, hi, overlap):
    """Yields the mapping in chunks, each starting @overlap bytes early."""
    pos = lo
    while pos < hi:
        start = max(lo, pos - overlap)
        yield os.pread(fd, min(hi, pos + SCAN_CHUNK) - start, start)
        pos += SCAN_CHUNK


def scan_memory(pid, needle):
    """Reads every mapping of @pid that holds anything through /proc/PID/mem.
    Returns the maps lines of the mappings holding @needle and the number of
    bytes read.  Mappings the kernel will not hand out ([vvar], [vsyscall])
    are skipped; PROT_NONE ones are read too (root reads with FOLL_FORCE)."""
    hits, read = [], 0
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for line, lo, hi, present in mappings(pid):
            if present == 0 or hi - lo > SCAN_MAX_MAPPING or lo >= 1 << 63:
                continue  # nothing there, a reservation, or [vsyscall]
            try:
                for data in read_mapping(mem.fileno(), lo, hi, len(needle) - 1):
                    read += len(data)
                    if needle in data:
                        hits.append(line)
                        break
            except OSError:
                continue
    return hits, read


def perms(maps_line):
    return maps_line.split()[1]


def assert_held_concealed(pid, secret, what):
    """The positive control: the scan finds the held secret, and, once the
    agent has concealed it again (at most 100 ms after a release), only in
    pages nobody in the process can read (sodium memory, PROT_NONE)."""
    def scan():
        hits, read = scan_memory(pid, secret.encode())
        assert read > 1 << 20, f"the scan read only {read} bytes"
        if not hits:
            fail(f"{what}: the held secret was not found in the agent's memory ({read} bytes "
                 "read): the scan cannot be trusted")
        return hits

    last = []

    def concealed():
        last[:] = scan()
        return all(perms(h) == "---p" for h in last)

    if not wait_until_or_false(concealed, 5):
        fail(f"{what}: the secret is in readable memory:\n" + "\n".join(last))


def wait_until_or_false(pred, timeout, interval=0.05):
    """wait_until() that returns False at the deadline, for a custom message."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True


def assert_gone(pid, secret, what):
    hits, read = scan_memory(pid, secret.encode())
    assert read > 1 << 20, f"the scan read only {read} bytes"
    if hits:
        fail(f"{what}: the secret's bytes are still in the agent's memory, in:\n" +
             "\n".join(hits))


@pytest.fixture
def mem_agent(ctx, start_agent):
    def start(**kw):
        return start_agent(config=ctx.write_config({"profiles": {"mem": api_key_profile(HOST)}}),
                           **kw)
    return start


@needs_root
def test_removed_secret_leaves_no_copy(ctx, mem_agent, aoai, aoai_json):
    a = mem_agent()
    secret = ctx.secret(32)
    expect_rc(aoai("add", "mem", input=secret + "\n"), 0, "add")
    # Releases copy the value into headers, JSON and frames: all wiped after.
    for _ in range(3):
        expect_rc(aoai("headers", URL), 0, "headers")
    assert_held_concealed(a.pid, secret, "after add and three releases")
    expect_rc(aoai("remove", "mem"), 0, "remove")
    assert aoai_json("list")["secrets"] == []
    assert_gone(a.pid, secret, "after aoai remove")


@needs_root
def test_expired_secret_leaves_no_copy(ctx, mem_agent, aoai, aoai_json):
    a = mem_agent()
    secret = ctx.secret(32)
    # Long enough for the scans before it expires, even under valgrind.
    expect_rc(aoai("add", "mem", "-t", "3", input=secret + "\n"), 0, "add -t 3")
    expect_rc(aoai("headers", URL), 0, "headers before expiry")
    assert_held_concealed(a.pid, secret, "before expiry")
    # The agent wipes it on its own timer and logs it: the readiness signal.
    a.wait_log("1 secret(s) expired and were wiped", timeout=10, what="the expiry")
    assert aoai_json("list")["secrets"] == []
    assert_gone(a.pid, secret, "after expiry")


@needs_root
def test_lock_with_a_store_leaves_no_copy(ctx, start_agent, aoai, aoai_json):
    """`aoai lock` of an agent with a persistent store wipes the persisted
    secrets; unlocking (which decrypts them) leaves no copy but the held one."""
    a = start_agent(config=ctx.write_config({"store": {"kdf": "interactive"}}))
    secret, pw = ctx.secret(32), ctx.secret(8)
    expect_rc(aoai("passwd", input=pw + "\n"), 0, "passwd")
    expect_rc(aoai("add", "kept", "--host", HOST, "--persist", input=secret), 0, "add --persist")
    expect_rc(aoai("headers", URL), 0, "headers")
    assert_held_concealed(a.pid, secret, "after add --persist and a release")
    expect_rc(aoai("lock", input=pw + "\n"), 0, "lock")
    assert aoai_json("status")["store"]["state"] == "locked"
    assert_gone(a.pid, secret, "after aoai lock")
    expect_rc(aoai("unlock", input=pw + "\n"), 0, "unlock")
    expect_rc(aoai("headers", URL), 0, "headers after unlock")
    assert_held_concealed(a.pid, secret, "after unlock (decrypted from the store)")


def skip_under_asan(build):
    with open(build.agent, "rb") as f:
        if b"__asan_init" in f.read():
            pytest.skip("AddressSanitizer intercepts mlock() and always reports success")


@needs_root
def test_mlock_refusal_reported_once(ctx, build, mem_agent, aoai):
    skip_under_asan(build)
    a = mem_agent(memlock=0)
    for name in ("mem", "other"):
        expect_rc(aoai("add", name, input=ctx.secret() + "\n"), 0, f"add {name}")
    lines = [l for l in a.log().splitlines() if MLOCK_WARNING in l]
    assert len(lines) == 1, f"expected one warning, got {len(lines)}:\n{a.log()}"
    assert "RLIMIT_MEMLOCK is 0 bytes" in lines[0] and "LimitMEMLOCK=" in lines[0], lines[0]
    expect_rc(aoai("headers", URL), 0, "headers with unlocked secrets")


@needs_root
def test_mlock_allowed_no_warning(ctx, build, mem_agent, aoai):
    """The control of the test above: with room to lock two pages, no warning."""
    hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)[1]
    if hard != resource.RLIM_INFINITY and hard < 1 << 16:
        pytest.skip(f"the hard RLIMIT_MEMLOCK ({hard} bytes) leaves no room")
    a = mem_agent(memlock="unlimited" if hard == resource.RLIM_INFINITY else hard)
    for name in ("mem", "other"):
        expect_rc(aoai("add", name, input=ctx.secret() + "\n"), 0, f"add {name}")
    expect_rc(aoai("headers", URL), 0, "headers")
    assert MLOCK_WARNING not in a.log(), a.log()


def locked_kb(pid):
    """The agent's mlock'ed memory (kB), from /proc/PID/smaps_rollup."""
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("Locked:"))


MANY_SECRETS = 64


@needs_root
def test_secrets_share_locked_pages(ctx, build, mem_agent, aoai):
    """Values are packed into a few locked slabs (one page for the first, then
    doubling), not a page each: 65 secrets lock a few pages, where they took
    260 kB; and a secret is still held only in PROT_NONE memory once the
    release of another one is over."""
    skip_under_asan(build)  # the count of locked pages is what it checks
    hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)[1]
    if hard != resource.RLIM_INFINITY and hard < 1 << 20:
        pytest.skip(f"the hard RLIMIT_MEMLOCK ({hard} bytes) is below 1 MiB")
    a = mem_agent(memlock="unlimited" if hard == resource.RLIM_INFINITY else hard)
    before = locked_kb(a.pid)
    values = [ctx.secret(24) for _ in range(MANY_SECRETS)]
    for i, value in enumerate(values):
        expect_rc(aoai("add", f"s{i}", input=value + "\n"), 0, f"add s{i}")
    expect_rc(aoai("add", "mem", input=values[-1] + "\n"), 0, "add mem")
    grown = locked_kb(a.pid) - before
    assert 0 < grown <= 64, f"{MANY_SECRETS + 1} secrets locked {grown} kB (a page each: 260)"
    expect_rc(aoai("headers", URL), 0, "headers")
    assert_held_concealed(a.pid, values[0], "another secret, after a release")


# Run as uid 65534: starts the agent and, as a control, an ordinary process,
# both its children (so even a Yama ptrace_scope of 1 would allow the open
# but for dumpability); reports who owns their /proc files and whether their
# memory opens; then stops them.
PROBE = r"""
import ctypes, json, os, re, select, signal, subprocess, sys, time

def die_with_me():
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

agent_bin, sock, log = sys.argv[1:4]
with open(log, "ab") as err:
    agent = subprocess.Popen([agent_bin, "-D", "-a", sock], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=err, preexec_fn=die_with_me)
control = subprocess.Popen(["sleep", "60"], preexec_fn=die_with_me)
out, deadline = b"", time.monotonic() + 15
while not re.search(rb"AOAI_AGENT_PID\D*(\d+)", out):
    left = deadline - time.monotonic()
    if left <= 0 or not select.select([agent.stdout], [], [], left)[0]:
        sys.exit("agent not ready")
    chunk = os.read(agent.stdout.fileno(), 4096)
    if not chunk:
        sys.exit("agent exited")
    out += chunk
pid = int(re.search(rb"AOAI_AGENT_PID\D*(\d+)", out).group(1))

def look(p):
    try:
        open(f"/proc/{p}/mem", "rb").close()
        mem = "opened"
    except PermissionError:
        mem = "denied"
    with open(f"/proc/{p}/status") as f:
        uid = next(int(l.split()[1]) for l in f if l.startswith("Uid:"))
    return {"runs_as": uid, "status_uid": os.stat(f"/proc/{p}/status").st_uid, "mem": mem}

report = {"agent_pid": pid, "popen_pid": agent.pid, "uid": os.getuid(),
          "agent": look(pid), "control": look(control.pid)}
for child in (agent, control):
    child.terminate()
    child.wait(10)
report["agent_exit"] = agent.returncode
print(json.dumps(report))
"""


@needs_root
def test_agent_of_ordinary_user_is_not_dumpable(ctx, build):
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        fail("setpriv (util-linux) is missing: scripts/install-deps.sh test installs it")
    # Binaries uid 65534 can run: a copy, with the library next door.
    shutil.copytree(build.root / "bin", ctx.dir / "bin")
    if (build.root / "lib").is_dir():
        shutil.copytree(build.root / "lib", ctx.dir / "lib", symlinks=True)
    os.chmod(ctx.dir, 0o711)
    for p in (ctx.dir / "bin", ctx.dir / "lib"):
        if p.exists():
            os.chmod(p, 0o755)
    home = ctx.dir / "nobody"
    home.mkdir(mode=0o700)
    os.chown(home, NOBODY, NOBODY)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_RUNTIME_DIR": str(home),
           "LANG": "C.UTF-8"}
    log = home / "agent.log"
    r = run([setpriv, "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups",
             PYTHON, "-c", PROBE, ctx.dir / "bin" / "aoai-agent", home / "agent.sock", log],
            env, timeout=60)
    expect_rc(r, 0, "the probe as uid 65534")
    rep = json.loads(r.stdout)
    assert rep["uid"] == NOBODY and rep["agent_pid"] == rep["popen_pid"], describe(r)
    # The control shows what a dumpable process of the same uid looks like.
    assert rep["control"] == {"runs_as": NOBODY, "status_uid": NOBODY, "mem": "opened"}, rep
    assert rep["agent"] == {"runs_as": NOBODY, "status_uid": 0, "mem": "denied"}, rep
    assert rep["agent_exit"] == 0, (rep, log.read_text(errors="replace"))


@needs_root
def test_client_secret_leaves_no_copy_after_token_fetch(ctx, start_agent, identity, aoai_json):
    """A token request carries the client secret (form body, libcurl's and
    OpenSSL's buffers): once the token is in, only the held secret is left."""
    tenant, client = "72f988bf-86f1-41af-91ab-2d7cd011db47", "0c9a3d5e-0000-4000-8000-000000000001"
    cfg = {"profiles": {"aoai": {"hosts": [HOST], "credential": {
               "type": "client-secret", "tenant_id": tenant, "client_id": client, "secret": "sp"}}},
           "secrets": {"sp": {"file": str(identity.client_secret_file)}}}
    a = start_agent(config=ctx.write_config(cfg),
                    env=ctx.env(sock=False, AZURE_AUTHORITY_HOST=identity.authority))
    tok = aoai_json("token")
    register_secret(tok["accessToken"])  # the log is checked for it at teardown
    assert tok["tokenType"] == "Bearer", tok
    assert len(identity.requests("entra")) == 1  # the fake checked the client secret
    assert_held_concealed(a.pid, identity.client_secret, "after the token fetch")
