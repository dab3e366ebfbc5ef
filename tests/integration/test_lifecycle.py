# SPDX-License-Identifier: MIT
"""Starting and stopping the agent: sockets, modes, shell output, daemon and
command modes, readiness (stdout line and sd_notify), signals."""

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import time

import pytest

from aoaitest import (CMD_TIMEOUT, describe, expect_rc, expect_version, fail, parse_sh_env,
                      pid_alive, run, wait_until)


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(ctx, build, flag):
    expect_version(run([build.agent, flag], ctx.env()), "aoai-agent")


def test_ready_line_is_sh_and_socket_listens(ctx, start_agent):
    a = start_agent()
    env = parse_sh_env(a.env_text, ctx.base_env())
    assert env["AOAI_AUTH_SOCK"] == str(ctx.sock)
    assert env["AOAI_AGENT_PID"] == str(a.proc.pid), "-d runs in the foreground: pid is its own"
    # The line is the readiness signal: the socket accepts right away, no retry.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(str(ctx.sock))
    finally:
        s.close()


def test_default_socket_path_and_modes(ctx, start_agent, aoai):
    a = start_agent(sock=None)
    d = ctx.runtime / "aoai"
    sock = d / "agent.sock"
    assert parse_sh_env(a.env_text, ctx.base_env())["AOAI_AUTH_SOCK"] == str(sock)
    st_dir = os.stat(d)
    st_sock = os.stat(sock)
    assert stat.S_ISDIR(st_dir.st_mode)
    assert stat.S_IMODE(st_dir.st_mode) == 0o700, oct(st_dir.st_mode)
    assert stat.S_ISSOCK(st_sock.st_mode)
    assert stat.S_IMODE(st_sock.st_mode) == 0o600, oct(st_sock.st_mode)
    assert st_sock.st_uid == os.getuid()
    # A client without AOAI_AUTH_SOCK finds it through XDG_RUNTIME_DIR.
    r = expect_rc(aoai("status", "--json", env=ctx.env(sock=False)), 0, "status, default socket")
    assert json.loads(r.stdout)["pid"] == a.pid


def test_explicit_socket_mode(ctx, start_agent):
    start_agent()
    assert stat.S_IMODE(os.stat(ctx.sock).st_mode) == 0o600


@pytest.mark.parametrize("flag", ["-s", None])
def test_sh_output(ctx, start_agent, flag):
    """-s, and the default with SHELL=/bin/sh, print sh syntax that sh evaluates."""
    a = start_agent(args=[flag] if flag else [], debug=False)
    assert "setenv" not in a.env_text and "set -gx" not in a.env_text
    env = parse_sh_env(a.env_text, ctx.base_env())
    assert env == {"AOAI_AUTH_SOCK": str(ctx.sock), "AOAI_AGENT_PID": str(a.pid)}


def test_default_shell_kind_from_SHELL(ctx, start_agent):
    a = start_agent(env=ctx.env(sock=False, SHELL="/bin/tcsh"), debug=False)
    assert f"setenv AOAI_AGENT_PID '{a.pid}';" in a.env_text.splitlines(), a.env_text


def test_socket_path_needing_quotes(ctx, start_agent):
    d = ctx.dir / "it's a dir"
    d.mkdir(mode=0o700)
    sock = d / "agent.sock"
    a = start_agent(sock=sock)
    assert parse_sh_env(a.env_text, ctx.base_env())["AOAI_AUTH_SOCK"] == str(sock)


def _shell(names):
    for n in names:
        p = shutil.which(n)
        if p:
            return p
    return None


@pytest.mark.parametrize("flag,shells,opts", [
    ("-c", ("tcsh", "csh"), ["-f"]),
    ("--fish", ("fish",), ["--no-config"]),
])
def test_csh_fish_output(ctx, start_agent, flag, shells, opts):
    d = ctx.dir / "it's here"
    d.mkdir(mode=0o700)
    sock = d / "agent.sock"
    a = start_agent(sock=sock, args=[flag], debug=False)
    expected = "setenv AOAI_AGENT_PID" if flag == "-c" else "set -gx AOAI_AGENT_PID"
    assert expected in a.env_text, a.env_text
    sh = _shell(shells)
    if sh is None:
        pytest.skip(f"{'/'.join(shells)} is not installed: {flag} output checked only as text")
    out = ctx.write_file("env.out", a.env_text)
    script = f'source {out}; printf "%s\\n%s\\n" "$AOAI_AUTH_SOCK" "$AOAI_AGENT_PID"'
    r = expect_rc(run([sh, *opts, "-c", script], ctx.base_env()), 0,
                  f"{sh} evaluating {flag} output")
    assert r.stdout.splitlines()[-2:] == [str(sock), str(a.pid)], describe(r)


def test_daemon_eval_status_kill(ctx, build, aoai):
    """eval "$(aoai-agent -s -a SOCK)"; aoai status; aoai-agent -k."""
    env = ctx.base_env()
    try:
        r = subprocess.run([str(build.agent), "-s", "-a", str(ctx.sock)], env=env,
                           capture_output=True, text=True, timeout=CMD_TIMEOUT,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        fail("the daemonising agent did not return (does the daemon keep stdout open?)")
    expect_rc(r, 0, "aoai-agent -s (daemon)")
    vals = parse_sh_env(r.stdout, env)
    assert vals["AOAI_AUTH_SOCK"] == str(ctx.sock)
    pid = int(vals["AOAI_AGENT_PID"])
    ctx.track_pid(pid)
    assert f"echo Agent pid {pid};" in r.stdout.splitlines(), r.stdout
    assert pid_alive(pid)
    st = expect_rc(aoai("status", "--json", env=ctx.env(sock=vals["AOAI_AUTH_SOCK"])), 0,
                   "status of the daemon")
    assert json.loads(st.stdout)["pid"] == pid

    k = run([build.agent, "-k"], ctx.env(sock=False, AOAI_AGENT_PID=pid, SHELL="/bin/sh"))
    expect_rc(k, 0, "aoai-agent -k")
    lines = k.stdout.splitlines()
    assert "unset AOAI_AUTH_SOCK;" in lines and "unset AOAI_AGENT_PID;" in lines, k.stdout
    wait_until(lambda: not pid_alive(pid), 5, "the killed agent to exit")
    wait_until(lambda: not os.path.exists(ctx.sock), 5, "the killed agent's socket to go")
    expect_rc(aoai("status"), 3, "status after -k")


def test_kill_without_pid_fails(ctx, build):
    r = run([build.agent, "-k"], ctx.env(sock=False))
    assert r.returncode != 0, describe(r)
    assert r.stderr.strip(), "-k without AOAI_AGENT_PID should say why on stderr"


def test_command_mode(ctx, build):
    """aoai-agent -a SOCK sh -c '...; exit 7' exits 7 and the agent goes with it."""
    script = ('printf "sock=%s\\npid=%s\\n" "$AOAI_AUTH_SOCK" "$AOAI_AGENT_PID"; '
              'aoai status --json > status.json || exit 99; exit 7')
    r = run([build.agent, "-a", ctx.sock, "sh", "-c", script], ctx.env(sock=False), cwd=ctx.dir)
    expect_rc(r, 7, "command mode")
    got = dict(l.split("=", 1) for l in r.stdout.splitlines() if "=" in l)
    assert got["sock"] == str(ctx.sock)
    pid = int(got["pid"])
    assert json.loads((ctx.dir / "status.json").read_text())["pid"] == pid
    wait_until(lambda: not pid_alive(pid), 5, "the agent to exit with its command")
    wait_until(lambda: not os.path.exists(ctx.sock), 5, "the socket to be removed")


def test_command_mode_exit_zero_and_signal(ctx, build):
    r = run([build.agent, "-a", ctx.sock, "sh", "-c", "true"], ctx.env(sock=False))
    expect_rc(r, 0, "command mode, command exits 0")
    r = run([build.agent, "-a", ctx.sock, "sh", "-c", "kill -TERM $$"], ctx.env(sock=False))
    # A command killed by a signal: the shell convention is 128+N (or the signal itself).
    assert r.returncode in (128 + signal.SIGTERM, -signal.SIGTERM), describe(r)
    wait_until(lambda: not os.path.exists(ctx.sock), 5, "the socket to be removed")


def test_second_agent_refused(ctx, start_agent, build, aoai):
    first = start_agent()
    r = run([build.agent, "-D", "-a", ctx.sock], ctx.env(sock=False))
    expect_rc(r, 1, "second agent on a live socket")
    assert r.stderr.strip(), "the second agent should say why it exits"
    assert first.alive()
    st = expect_rc(aoai("status", "--json"), 0, "first agent still serves")
    assert json.loads(st.stdout)["pid"] == first.pid


def test_stale_socket_replaced(ctx, start_agent, aoai):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(ctx.sock))
    s.close()  # the file stays, nobody listens
    assert stat.S_ISSOCK(os.stat(ctx.sock).st_mode)
    a = start_agent()
    st = expect_rc(aoai("status", "--json"), 0, "status after replacing a stale socket")
    assert json.loads(st.stdout)["pid"] == a.pid


def test_not_a_socket_is_left_alone(ctx, build):
    ctx.sock.write_text("precious")
    r = run([build.agent, "-D", "-a", ctx.sock], ctx.env(sock=False), timeout=10)
    assert r.returncode != 0, describe(r)
    assert ctx.sock.read_text() == "precious", "the agent replaced a regular file"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_removes_socket(ctx, start_agent, sig):
    a = start_agent()
    assert os.path.exists(ctx.sock)
    assert a.stop(sig) == 0
    assert not os.path.exists(ctx.sock)


def test_sd_notify_ready(ctx, start_agent):
    path = ctx.dir / "notify"
    n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    n.bind(str(path))
    n.settimeout(10)
    try:
        start_agent(env=ctx.env(sock=False, NOTIFY_SOCKET=path))
        msgs = []
        deadline = time.monotonic() + 10
        while not any("READY=1" in m.split("\n") for m in msgs):
            if time.monotonic() > deadline:
                fail(f"no READY=1 on NOTIFY_SOCKET; got {msgs}")
            n.settimeout(max(deadline - time.monotonic(), 0.01))
            msgs.append(n.recv(4096).decode())
    finally:
        n.close()


def test_missing_explicit_config_is_error(ctx, build):
    r = run([build.agent, "-D", "-a", ctx.sock, "-f", ctx.dir / "nope.json"],
            ctx.env(sock=False), timeout=10)
    assert r.returncode != 0, describe(r)
    assert "nope.json" in r.stderr, describe(r)
    assert not os.path.exists(ctx.sock)


def test_broken_config_at_start_is_error(ctx, build):
    cfg = ctx.write_config({"profiles": {"p1": {"hosts": ["a.example"],
                                                "credential": {"type": "bogus"}}}})
    r = run([build.agent, "-D", "-a", ctx.sock, "-f", cfg], ctx.env(sock=False), timeout=10)
    assert r.returncode != 0, describe(r)
    assert str(cfg) in r.stderr and "p1" in r.stderr, describe(r)


def test_default_config_file_is_read(ctx, start_agent, aoai_json):
    ctx.write_config({"profiles": {"fromdefault": {"hosts": ["x.example"],
                                                   "credential": {"type": "api-key"}}}},
                     name=ctx.config_home / "aoai" / "agent.json")
    start_agent()
    names = [p["name"] for p in aoai_json("list")["profiles"]]
    assert names == ["fromdefault"]


def test_status_fields(ctx, start_agent, aoai_json):
    cfg = ctx.write_config({"profiles": {}})
    a = start_agent(config=cfg, args=["-t", "90"])
    st = aoai_json("status")
    assert st["pid"] == a.pid
    assert st["socket"] == str(ctx.sock)
    assert st["config"] == str(cfg)
    assert st["locked"] is False
    assert st["default_lifetime"] == 90
    assert st["profiles"] == 0 and st["secrets"] == 0
    assert isinstance(st["version"], str) and st["version"]
    assert isinstance(st["uptime"], int) and st["uptime"] >= 0


@pytest.mark.parametrize("life,seconds", [("45", 45), ("30s", 30), ("5m", 300), ("1h", 3600),
                                          ("2d", 172800)])
def test_default_lifetime_syntax(start_agent, aoai_json, life, seconds):
    start_agent(args=["-t", life])
    assert aoai_json("status")["default_lifetime"] == seconds


@pytest.mark.parametrize("life", ["abc", "-5", "5x", ""])
def test_bad_lifetime_refused(ctx, build, life):
    r = run([build.agent, "-D", "-a", ctx.sock, "-t", life], ctx.env(sock=False), timeout=10)
    assert r.returncode != 0, describe(r)
    assert not os.path.exists(ctx.sock)


@pytest.mark.parametrize("where", ["too long", "no such dir"])
def test_unusable_socket_path(ctx, build, where):
    sock = (ctx.dir / ("d" * 120) / "agent.sock") if where == "too long" else \
        (ctx.dir / "missing" / "agent.sock")
    if where == "too long":
        sock.parent.mkdir(mode=0o700)
    r = run([build.agent, "-D", "-a", sock], ctx.env(sock=False), timeout=10)
    assert r.returncode != 0, describe(r)
    assert r.stderr.strip(), "the agent should say why it cannot listen"


def test_kill_prints_csh(ctx, build, start_agent):
    """-k with -c prints csh syntax (and actually stops the agent named by the pid)."""
    a = start_agent()
    a.expect_exit = 0
    k = run([build.agent, "-c", "-k"], ctx.env(sock=False, AOAI_AGENT_PID=a.pid))
    expect_rc(k, 0, "aoai-agent -c -k")
    lines = k.stdout.splitlines()
    assert "unsetenv AOAI_AUTH_SOCK;" in lines and "unsetenv AOAI_AGENT_PID;" in lines, k.stdout
    assert a.wait(10) == 0
    assert not os.path.exists(ctx.sock)


def test_sigterm_right_after_ready(ctx, build):
    """Once the readiness line is out, SIGTERM must already mean a clean exit
    (regression: signals were set up after the line was printed)."""
    from aoaitest import Agent
    for i in range(20):
        a = Agent(build.agent, ctx.env(sock=False), ctx.path(f"race{i}.log"), sock=ctx.sock)
        a.start()
        rc = a.stop(signal.SIGTERM)
        if rc != 0:
            fail(f"attempt {i}: SIGTERM right after readiness gave exit {rc}\n{a.log()}")
        assert not os.path.exists(ctx.sock), f"attempt {i}: socket left behind"
