# SPDX-License-Identifier: MIT
"""SO_PEERCRED: a peer with another uid is disconnected without a reply and
logged, even when the socket's file modes would let it connect; a flood of
such peers is logged at a limited rate, summarised, while releases are
still audited one by one."""

import os
import re
import shutil
import stat
import subprocess
import time

import pytest

from aoaitest import PYTHON, describe, expect_rc, fail, run

NOBODY = 65534

PROBE = r"""
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
body = b'{"v": 1, "op": "status"}'
try:
    s.sendall(struct.pack(">I", len(body)) + body)
    data = s.recv(4096)
except (ConnectionResetError, BrokenPipeError):
    data = b""
except socket.timeout:
    print("timeout"); sys.exit(3)
print("reply" if data else "closed")
"""


def setpriv_path():
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.fail("setpriv (util-linux) is missing: scripts/install-deps.sh test installs it")
    return setpriv


def as_nobody():
    return [setpriv_path(), "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a client as another uid")
def test_other_uid_refused(ctx, build, start_agent, aoai):
    # Binaries must be reachable for uid 65534: copy them with the library next door.
    bindir = ctx.dir / "bin"
    shutil.copytree(build.root / "bin", bindir)
    if (build.root / "lib").is_dir():
        shutil.copytree(build.root / "lib", ctx.dir / "lib", symlinks=True)
    os.chmod(ctx.dir, 0o711)
    for p in (bindir, ctx.dir / "lib"):
        if p.exists():
            os.chmod(p, 0o755)
    a = start_agent()
    os.chmod(ctx.sock, 0o666)
    assert stat.S_IMODE(os.stat(ctx.sock).st_mode) == 0o666

    env = ctx.env(HOME="/")
    r = run([*as_nobody(), bindir / "aoai", "-S", ctx.sock, "status"], env)
    assert r.returncode != 0, describe(r)
    assert str(a.pid) not in r.stdout, "another uid got the status reply"

    r = run([*as_nobody(), PYTHON, "-c", PROBE, ctx.sock], env)
    expect_rc(r, 0, "raw probe as uid 65534")
    assert r.stdout.strip() == "closed", describe(r)

    a.wait_log(f"refused connection from uid {NOBODY}", what="the refusal")
    st = expect_rc(aoai("status"), 0, "the owner is still served")
    assert str(a.pid) in st.stdout


# Connects @n times, each time until the agent closes the connection; after
# the first half, prints "half" and waits for a line on stdin.  Prints the
# number of connections the agent closed.
FLOOD = r"""
import socket, sys
path, n = sys.argv[1], int(sys.argv[2])
closed = 0
for i in range(n):
    if i == n // 2:
        print("half", flush=True)
        sys.stdin.readline()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    try:
        closed += s.recv(1) == b""
    except ConnectionResetError:
        closed += 1
    s.close()
print(closed, flush=True)
"""

# agent/server/refusal_log.h
REFUSAL_LOG_BURST = 10
REFUSAL_LOG_INTERVAL = 5.0
FLOOD_CONNECTIONS = 2000
SUMMARY = re.compile(r"suppressed (\d+) refusal lines in the last (\d+) s$", re.M)


def refusals_logged(text):
    """(refusal lines, suppressed lines summarised, summaries)."""
    shown = len(re.findall(rf"refused connection from uid {NOBODY} ", text))
    counts = [int(m.group(1)) for m in SUMMARY.finditer(text)]
    return shown, sum(counts), len(counts)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a client as another uid")
def test_refusal_flood_is_rate_limited_releases_are_not(ctx, start_agent, aoai):
    """Another uid's 2,000 connections through a loosened socket: at most
    the burst of lines per interval, then summaries whose counts add up to
    every refusal; an owner's release in the middle of it is audited."""
    host = "flood.example.com"
    os.chmod(ctx.dir, 0o711)
    a = start_agent()
    os.chmod(ctx.sock, 0o666)
    expect_rc(aoai("add", "k", "--host", host, input=ctx.secret()), 0, "add")
    start = time.monotonic()
    flood = subprocess.Popen([*as_nobody(), PYTHON, "-c", FLOOD, str(ctx.sock),
                              str(FLOOD_CONNECTIONS)], env=ctx.env(HOME="/"),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        if flood.stdout.readline().strip() != "half":
            fail("the flood stopped before its first half")
        expect_rc(aoai("headers", f"https://{host}/"), 0, "a release during the flood")
        flood.stdin.write("go\n")
        flood.stdin.flush()
        out, _ = flood.communicate(timeout=120)
    finally:
        if flood.poll() is None:
            flood.kill()
            flood.wait()
    duration = time.monotonic() - start
    assert flood.returncode == 0 and out.strip() == str(FLOOD_CONNECTIONS), out
    text = a.wait_log(lambda t: sum(refusals_logged(t)[:2]) >= FLOOD_CONNECTIONS,
                      timeout=REFUSAL_LOG_INTERVAL * 2 + 5,
                      what="summaries that account for every refusal")
    shown, suppressed, summaries = refusals_logged(text)
    assert shown + suppressed == FLOOD_CONNECTIONS, (shown, suppressed)
    intervals = int(duration // REFUSAL_LOG_INTERVAL) + 2
    if shown > REFUSAL_LOG_BURST * intervals or summaries > intervals:
        fail(f"{shown} refusal lines and {summaries} summaries in {duration:.1f} s: "
             f"more than {REFUSAL_LOG_BURST} lines and one summary per "
             f"{REFUSAL_LOG_INTERVAL:.0f} s")
    release = f"release profile=k host={host}:443 "
    lines = text.splitlines()
    at = [i for i, line in enumerate(lines) if release in line and line.endswith("result=ok")]
    first_refusal = next(i for i, line in enumerate(lines) if "refused connection" in line)
    last_summary = max(i for i, line in enumerate(lines) if SUMMARY.search(line))
    if len(at) != 1 or not first_refusal < at[0] < last_summary:
        fail(f"the release during the flood is not audited in its place:\n{text[-4000:]}")
