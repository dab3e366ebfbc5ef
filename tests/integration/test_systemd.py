# SPDX-License-Identifier: MIT
"""systemd integration: the user units, socket activation with the real
systemd-socket-activate, and the sd_notify protocol (ready, status, reload,
stop, watchdog) seen from a datagram socket the test binds."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from aoaitest import (READY_TIMEOUT, assert_absent, describe, expect_rc, fail, pid_alive,
                      run)

ROOT = Path(__file__).resolve().parents[2]


def unit_settings(path):
    """{key: [values]} of a unit file (comments and sections dropped)."""
    out = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;[" or "=" not in line:
            continue
        k, v = line.split("=", 1)
        out.setdefault(k, []).append(v)
    return out


def test_units_install_and_verify(ctx, build):
    prefix = ctx.dir / "prefix"
    make = ["make", "-C", ROOT, "--no-print-directory", f"BUILD={build.root}",
            f"PREFIX={prefix}"]
    expect_rc(run([*make, "install"], os.environ.copy(), timeout=120), 0, "make install")
    units = prefix / "lib" / "systemd" / "user"
    sock, svc = units / "aoai-agent.socket", units / "aoai-agent.service"
    envd = prefix / "lib" / "environment.d" / "50-aoai-agent.conf"
    share = prefix / "share"
    comps = [share / "bash-completion" / "completions" / "aoai",
             share / "bash-completion" / "completions" / "aoai-exec",
             share / "zsh" / "vendor-completions" / "_aoai",
             share / "fish" / "vendor_completions.d" / "aoai.fish",
             share / "fish" / "vendor_completions.d" / "aoai-exec.fish",
             share / "man" / "man1" / "aoai-agent.1", share / "man" / "man1" / "aoai.1",
             share / "man" / "man1" / "aoai-exec.1", share / "man" / "man1" / "aoai-check.1",
             share / "man" / "man5" / "aoai-agent.json.5"]
    for p in (sock, svc, envd, prefix / "libexec" / "aoai" / "aoai-check", *comps):
        if not p.is_file():
            fail(f"make install did not install {p}")
    # The installed `aoai check` runs the installed aoai-check, which finds libaoai.
    r = run([str(prefix / "bin" / "aoai"), "check", "--help"], os.environ.copy(), timeout=30)
    expect_rc(r, 0, "installed aoai check --help")
    assert "validate-azure-ad-token" in r.stdout, describe(r)

    # Offline verification against a private runtime dir (no user manager in CI);
    # any message (unknown key, bad value, missing binary) is a failure.
    env = ctx.env(sock=False)
    r = run(["systemd-analyze", "verify", "--user", "--man=no", sock, svc], env, timeout=60)
    if r.returncode != 0 or r.stderr.strip() or r.stdout.strip():
        fail(f"systemd-analyze verify complained\n{describe(r)}")

    s = unit_settings(sock)
    assert s["ListenStream"] == ["%t/aoai/agent.sock"], s
    assert s["SocketMode"] == ["0600"] and s["DirectoryMode"] == ["0700"], s
    assert s["FileDescriptorName"] == ["agent"], s
    v = unit_settings(svc)
    assert v["Type"] == ["notify"] and v["Restart"] == ["on-failure"], v
    assert v["ExecStart"] == [f"{prefix}/bin/aoai-agent -D"], v
    assert v["ExecReload"] == ["kill -HUP $MAINPID"], v
    # The persistent store's directory is the one writable place besides ~/.azure.
    assert v["ReadWritePaths"] == ["-%h/.azure %h/.local/share/aoai"], v
    assert v["ExecStartPre"] == ["+mkdir -p -m 0700 %h/.local/share/aoai"], v
    for key, val in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                     ("ProtectHome", "read-only"), ("PrivateTmp", "yes"),
                     ("MemoryDenyWriteExecute", "yes"), ("LockPersonality", "yes"),
                     ("RestrictRealtime", "yes"), ("SystemCallArchitectures", "native"),
                     ("SystemCallFilter", "@system-service"),
                     ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6")):
        assert val in v.get(key, []), f"{key}={val} missing: {v.get(key)}"
    assert envd.read_text().splitlines()[-1] == \
        "AOAI_AUTH_SOCK=${XDG_RUNTIME_DIR}/aoai/agent.sock"

    # The security score, offline: must stay in the "OK" band.
    r = run(["systemd-analyze", "security", "--offline=yes", "--user", "--threshold=30", svc],
            env, timeout=60)
    expect_rc(r, 0, "systemd-analyze security")

    expect_rc(run([*make, "uninstall"], os.environ.copy(), timeout=60), 0, "make uninstall")
    for p in (sock, svc, envd, *comps):
        if p.exists() or p.is_symlink():
            fail(f"make uninstall left {p}")


def start_activated(ctx, build, sock, args=(), env=None):
    """systemd-socket-activate listening on @sock, exec'ing the agent on the
    first connection; returns (Popen, log path).  The socket file exists once
    the tool has printed "Listening on"."""
    log = ctx.path("activate.log")
    env = env or ctx.env(sock=False)
    passenv = [a for k in env for a in ("-E", k)]  # the tool passes on only these
    with open(log, "ab") as f:
        p = subprocess.Popen(["systemd-socket-activate", "-l", str(sock), *passenv,
                              str(build.agent), "-d", *args],
                             env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=f)
    deadline = time.monotonic() + READY_TIMEOUT
    while "Listening on" not in log.read_text(errors="replace"):
        if p.poll() is not None or time.monotonic() > deadline:
            p.kill()
            p.wait(5)
            fail(f"systemd-socket-activate did not listen:\n{log.read_text()}")
        time.sleep(0.05)
    return p, log


def test_socket_activation(ctx, build, aoai):
    d = ctx.dir / "act"
    d.mkdir(mode=0o700)
    sock = d / "agent.sock"
    cfg = ctx.write_config({"profiles": {"contoso": {
        "hosts": ["contoso.example"], "credential": {"type": "api-key"}}}})
    p, log = start_activated(ctx, build, sock, args=("-f", cfg))
    try:
        st = expect_rc(aoai("status", "--json", sock=sock), 0, "aoai status (activates)")
        status = json.loads(st.stdout)
        assert status["pid"] == p.pid, status  # the tool exec'd the agent in place
        assert status["socket"] == str(sock), status
        ino = os.lstat(sock).st_ino

        # A shell-started agent on the same path refuses while this one runs.
        r = run([build.agent, "-D", "-a", sock], ctx.env(sock=False), timeout=10)
        assert r.returncode != 0, describe(r)
        assert "already listening" in r.stderr, describe(r)
        assert os.lstat(sock).st_ino == ino, "the second agent replaced the socket"

        key = ctx.secret()
        r = expect_rc(aoai("add", "contoso", input=key + "\n", sock=sock), 0, "aoai add")
        assert_absent(key, r.stdout + r.stderr, "aoai add")
        listed = expect_rc(aoai("list", "--json", sock=sock), 0, "aoai list")
        assert_absent(key, listed.stdout + listed.stderr, "aoai list")
        (prof,) = json.loads(listed.stdout)["profiles"]
        assert prof["name"] == "contoso" and prof["state"] == "ready", prof

        os.kill(p.pid, signal.SIGTERM)
        assert p.wait(10) == 0, log.read_text()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
    # The socket file is systemd's: the agent neither removed nor replaced it.
    assert sock.is_socket() and os.lstat(sock).st_ino == ino, "socket file removed"
    text = log.read_text(errors="replace")
    assert "stopping" in text, text
    assert_absent(key, text, "the agent log")


class Notify:
    """A NOTIFY_SOCKET the test reads."""

    def __init__(self, path):
        self.path = path
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(str(path))
        self.msgs = []

    def wait_for(self, pred, what, timeout=READY_TIMEOUT):
        """Reads messages until one satisfies @pred(fields dict); returns it."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                fail(f"no {what} on NOTIFY_SOCKET; got {self.msgs}")
            self.s.settimeout(left)
            try:
                m = self.s.recv(4096).decode()
            except socket.timeout:
                continue
            self.msgs.append(m)
            fields = dict(l.split("=", 1) for l in m.split("\n") if "=" in l)
            if pred(fields):
                return fields

    def close(self):
        self.s.close()


def test_notify_reload_stop(ctx, start_agent):
    n = Notify(ctx.dir / "notify")
    try:
        a = start_agent(env=ctx.env(sock=False, NOTIFY_SOCKET=n.path))
        f = n.wait_for(lambda f: f.get("READY") == "1", "READY=1")
        assert re.fullmatch(r"0 profiles, 0 secrets, 0 tokens", f.get("STATUS", "")), f
        before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        a.send_signal(signal.SIGHUP)
        f = n.wait_for(lambda f: f.get("RELOADING") == "1", "RELOADING=1")
        usec = int(f.get("MONOTONIC_USEC", "0"))
        after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        assert before <= usec <= after, (before, usec, after)
        n.wait_for(lambda f: f.get("READY") == "1", "READY=1 after the reload")
        a.send_signal(signal.SIGTERM)
        n.wait_for(lambda f: f.get("STOPPING") == "1", "STOPPING=1")
        assert a.wait() == 0
    finally:
        n.close()


def test_notify_status_reports_reload_error(ctx, start_agent):
    cfg = ctx.write_config({"profiles": {}})
    n = Notify(ctx.dir / "notify")
    try:
        a = start_agent(config=cfg, env=ctx.env(sock=False, NOTIFY_SOCKET=n.path))
        n.wait_for(lambda f: f.get("READY") == "1", "READY=1")
        ctx.write_config("{ not json")
        a.send_signal(signal.SIGHUP)
        f = n.wait_for(lambda f: f.get("READY") == "1", "READY=1 after a failed reload")
        assert "last error:" in f.get("STATUS", "") and str(cfg) in f["STATUS"], f
    finally:
        n.close()


def test_watchdog_pings(ctx, start_agent):
    n = Notify(ctx.dir / "notify")
    try:
        # WATCHDOG_PID names the agent itself: start_agent runs it directly.
        env = ctx.env(sock=False, NOTIFY_SOCKET=n.path, WATCHDOG_USEC=400000)
        a = start_agent(env=env)
        n.wait_for(lambda f: f.get("READY") == "1", "READY=1")
        t0 = time.monotonic()
        for i in range(3):
            f = n.wait_for(lambda f: f.get("WATCHDOG") == "1", f"WATCHDOG=1 #{i + 1}")
            assert "STATUS" in f, f
        # three pings at half the interval: about 0.6s, well under 3 intervals
        assert time.monotonic() - t0 < 5.0
        assert pid_alive(a.pid)
    finally:
        n.close()


def test_watchdog_for_another_pid_is_ignored(ctx, start_agent):
    n = Notify(ctx.dir / "notify")
    try:
        env = ctx.env(sock=False, NOTIFY_SOCKET=n.path, WATCHDOG_USEC=200000, WATCHDOG_PID=1)
        start_agent(env=env)
        n.wait_for(lambda f: f.get("READY") == "1", "READY=1")
        n.s.settimeout(1.0)  # five intervals: a ping would have arrived
        try:
            while True:
                m = n.s.recv(4096).decode()
                if "WATCHDOG=1" in m.split("\n"):
                    fail("the agent pinged a watchdog set up for another pid")
        except socket.timeout:
            pass
    finally:
        n.close()


@pytest.mark.parametrize("flag,shell,opts,script", [
    ("-s", "sh", [], 'eval "$(cat "$1")"; printf "%s\\n" "$AOAI_AUTH_SOCK"'),
    ("-c", "csh", ["-f"], 'eval "`cat $argv[1]`"; printf "%s\\n" "$AOAI_AUTH_SOCK"'),
    ("-c", "tcsh", ["-f"], 'eval "`cat $argv[1]`"; printf "%s\\n" "$AOAI_AUTH_SOCK"'),
    ("--fish", "fish", ["--no-config"], 'source $argv[1]; printf "%s\\n" "$AOAI_AUTH_SOCK"'),
])
def test_aoai_env_in_each_shell(ctx, aoai, flag, shell, opts, script):
    """`aoai env` output, as the systemd units' users eval it, sets the variable in
    sh, csh (Debian's csh package, BSD csh; without it /usr/bin/csh is tcsh), tcsh
    and fish.  The runtime dir holds a space and a quote."""
    path = shutil.which(shell, path="/usr/bin:/bin")
    if path is None:
        pytest.skip(f"{shell} is not installed")
    rt = ctx.dir / "it's run"
    rt.mkdir(mode=0o700)
    env = ctx.env(sock=False, XDG_RUNTIME_DIR=rt)
    r = expect_rc(aoai("env", flag, env=env), 0, f"aoai env {flag}")
    out = ctx.write_file("env.out", r.stdout)
    argv = [path, *opts, "-c", script] + (["sh", out] if shell == "sh" else [out])
    if shell in ("csh", "tcsh"):  # csh -c takes the script's arguments in argv
        argv = [path, *opts, "-c", script, out]
    r2 = expect_rc(run(argv, ctx.base_env()), 0, f"{shell} evaluating aoai env {flag}")
    assert r2.stdout.splitlines()[-1:] == [str(rt / "aoai" / "agent.sock")], \
        describe(r) + "\n" + describe(r2)


COMP = ROOT / "client" / "completions"


def test_bash_completion(ctx):
    """The bash completion parses, loads, and completes commands and options."""
    expect_rc(run(["bash", "-n", COMP / "aoai.bash"], ctx.base_env()), 0, "bash -n")
    script = (f'source {COMP / "aoai.bash"} || exit 9\n'
              'comp() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); "$F"; '
              'printf "%s\\n" "${COMPREPLY[*]}"; }\n'
              'F=_aoai comp aoai st\n'
              'F=_aoai comp aoai env --f\n'
              'F=_aoai comp aoai -S /tmp/s rel\n'
              'F=_aoai_exec comp aoai-exec --no-p\n'
              'F=_aoai comp aoai check --openid\n'
              'complete -p aoai aoai-exec\n')
    r = expect_rc(run(["bash", "--norc", "--noprofile", "-c", script], ctx.base_env()), 0,
                  "bash completion")
    lines = r.stdout.splitlines()
    assert lines[:5] == ["status", "--fish", "reload", "--no-preload", "--openid-config"], \
        describe(r)
    assert "_aoai aoai" in r.stdout and "_aoai_exec aoai-exec" in r.stdout, describe(r)


def test_fish_completion(ctx):
    for f in ("aoai.fish", "aoai-exec.fish"):
        expect_rc(run(["fish", "--no-config", "-n", COMP / f], ctx.base_env()), 0, f"fish -n {f}")
    script = (f"source {COMP / 'aoai.fish'}; source {COMP / 'aoai-exec.fish'}; "
              "complete -C 'aoai rel'; complete -C 'aoai env --f'; "
              "complete -C 'aoai-exec --no-i'; complete -C 'aoai check --named'")
    r = expect_rc(run(["fish", "--no-config", "-c", script], ctx.base_env()), 0,
                  "fish completion")
    words = [l.split("\t")[0] for l in r.stdout.splitlines()]
    assert words == ["reload", "--fish", "--no-identity", "--named-value"], describe(r)


def test_zsh_completion(ctx):
    zsh = shutil.which("zsh", path="/usr/bin:/bin")
    if zsh is None:
        pytest.skip("zsh is not installed: _aoai is checked by bash and fish only")
    expect_rc(run([zsh, "-n", COMP / "_aoai"], ctx.base_env()), 0, "zsh -n _aoai")


@pytest.mark.parametrize("page,name", [
    ("aoai-agent.1", "aoai-agent"), ("aoai.1", "aoai"), ("aoai-exec.1", "aoai-exec"),
    ("aoai-check.1", "aoai-check"), ("aoai-agent.json.5", "aoai-agent.json"),
])
def test_man_page(ctx, page, name):
    """Each page formats without a groff warning and has a NAME line whatis can index."""
    path = ROOT / "client" / "man" / page
    env = dict(ctx.base_env(), MANWIDTH="80", MAN_DISABLE_SECCOMP="1")
    r = expect_rc(run(["man", "--warnings", "-E", "UTF-8", "-l", path], env), 0, f"man {page}")
    if r.stderr.strip():
        fail(f"man --warnings complained about {page}\n{describe(r)}")
    assert name.upper() in r.stdout, describe(r)
    r = expect_rc(run(["lexgrog", path], env), 0, f"lexgrog {page}")
    assert r.stdout.startswith(f'{path}: "{name} - '), describe(r)
