# SPDX-License-Identifier: MIT
"""SO_PEERCRED: a peer with another uid is disconnected without a reply and
logged, even when the socket's file modes would let it connect."""

import os
import shutil
import stat

import pytest

from aoaitest import PYTHON, describe, expect_rc, run

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


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a client as another uid")
def test_other_uid_refused(ctx, build, start_agent, aoai):
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.fail("setpriv (util-linux) is missing: scripts/install-deps.sh test installs it")
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

    as_nobody = [setpriv, "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups"]
    env = ctx.env(HOME="/")
    r = run([*as_nobody, bindir / "aoai", "-S", ctx.sock, "status"], env)
    assert r.returncode != 0, describe(r)
    assert str(a.pid) not in r.stdout, "another uid got the status reply"

    r = run([*as_nobody, PYTHON, "-c", PROBE, ctx.sock], env)
    expect_rc(r, 0, "raw probe as uid 65534")
    assert r.stdout.strip() == "closed", describe(r)

    a.wait_log(f"refused connection from uid {NOBODY}", what="the refusal")
    st = expect_rc(aoai("status"), 0, "the owner is still served")
    assert str(a.pid) in st.stdout
