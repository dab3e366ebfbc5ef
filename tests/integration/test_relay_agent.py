# SPDX-License-Identifier: MIT
"""aoai-relay: the relay of every profile with "relay": {"listen": …}, for
programs that cannot be wrapped.  The agent's checks of relay.listen, `list`,
aoai-relay binding the address itself and under systemd-socket-activate, its
placeholder file, `aoai env`, and SIGTERM."""

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from aoaitest import (CHAT_BODY, READY_TIMEOUT, assert_absent, describe, expect_rc, fail,
                      run)

PLACEHOLDER_PREFIX = "aoai-relay-"
HEX = set("0123456789abcdef")
CHAT_PATH = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def relay_binary(build):
    path = build.root / "bin" / "aoai-relay"
    if not os.access(path, os.X_OK):
        pytest.fail(f"missing binary {path}: build first (`make all`)", pytrace=False)
    return path


def key_path(ctx):
    return ctx.config_home / "aoai" / "relay.key"


class Relay:
    """aoai-relay in the background, its stderr in a file."""

    def __init__(self, ctx, argv, env):
        self.err_path = ctx.path(f"relay-{time.monotonic_ns()}.stderr")
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([str(a) for a in argv], env=env,
                                         stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err)

    def stderr(self):
        return self.err_path.read_text(errors="replace")

    def wait_line(self, line, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while line not in self.stderr():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                fail(f"no {line!r} from aoai-relay (exit {self.proc.returncode}):\n"
                     f"{self.stderr()}")
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            fail(f"aoai-relay did not exit within {timeout}s of signal {sig}:\n{self.stderr()}")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def relays(ctx, build):
    """relays(argv_prefix=(), env=None) -> a started Relay; killed at teardown."""
    started = []

    def start(prefix=(), env=None):
        r = Relay(ctx, [*prefix, relay_binary(build)], env or ctx.env())
        started.append(r)
        return r

    yield start
    for r in started:
        r.kill()


def relay_config(fake, port, **extra_profiles):
    cfg = {"profiles": {"k": {"hosts": [fake.hostport],
                              "credential": {"type": "api-key", "file": str(fake.key_file)},
                              "relay": {"listen": f"127.0.0.1:{port}"}}}}
    cfg["profiles"].update(extra_profiles)
    return cfg


@pytest.fixture
def relay_scene(ctx, start_agent, fake_aoai):
    class Scene:
        pass
    s = Scene()
    s.fake = fake_aoai
    s.port = free_port()
    s.agent = start_agent(config=ctx.write_config(relay_config(fake_aoai, s.port)))
    return s


def post_chat(port, key, ip="127.0.0.1"):
    """POSTs a chat request to the relay on @ip:@port with api-key @key: (status, body)."""
    req = urllib.request.Request(f"http://{ip}:{port}{CHAT_PATH}",
                                 data=CHAT_BODY.encode(), method="POST",
                                 headers={"Content-Type": "application/json", "api-key": key})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def read_placeholder(ctx):
    text = key_path(ctx).read_text()
    key = text.strip()
    assert text == key + "\n", "relay.key is one line"
    assert key.startswith(PLACEHOLDER_PREFIX) and len(key) == len(PLACEHOLDER_PREFIX) + 64, key
    assert set(key[len(PLACEHOLDER_PREFIX):]) <= HEX, key
    return key


# --- the agent's configuration -------------------------------------------------------

def agent_refuses(ctx, build, cfg):
    path = ctx.write_config(cfg)
    r = run([build.agent, "-D", "-a", ctx.sock, "-f", path], ctx.env(sock=False), timeout=10)
    assert r.returncode != 0, describe(r)
    assert not os.path.exists(ctx.sock), "the agent listens despite a bad config"
    return path, r.stderr


def profile(listen=None, relay=None, host="a.example"):
    p = {"hosts": [host], "credential": {"type": "api-key"}}
    p["relay"] = relay if relay is not None else {"listen": listen}
    return p


@pytest.mark.parametrize("listen,why", [
    ("10.0.0.1:8787", "loopback"),
    ("0.0.0.0:8787", "loopback"),
    ("[::1]:8787", "127.x.y.z"),
    ("example.com:8787", "127.x.y.z"),
    ("127.0.0.1", "127.x.y.z"),
    ("127.0.0.1:0", "65535"),
    ("127.0.0.1:65536", "65535"),
    ("127.0.0.1:+80", "65535"),
    ("localhost:", "65535"),
])
def test_bad_listen_is_refused_naming_file_profile_key(ctx, build, listen, why):
    path, err = agent_refuses(ctx, build, {"profiles": {"p1": profile(listen)}})
    assert str(path) in err, err
    assert 'profile "p1"' in err and 'key "relay.listen"' in err, err
    assert why in err, err


@pytest.mark.parametrize("relay,key,why", [
    ({"listen": "127.0.0.1:8787", "port": 1}, "relay.port", ""),
    ({}, "relay.listen", "required"),
    ("127.0.0.1:8787", "relay", "object"),
    ({"listen": 8787}, "relay.listen", ""),
])
def test_bad_relay_object_is_refused(ctx, build, relay, key, why):
    path, err = agent_refuses(ctx, build, {"profiles": {"p1": profile(relay=relay)}})
    assert str(path) in err and 'profile "p1"' in err and f'key "{key}"' in err, err
    assert why in err, err


def test_relay_listen_is_unique_across_profiles(ctx, build):
    path, err = agent_refuses(ctx, build, {"profiles": {
        "p1": profile("127.0.0.1:8787"),
        "p2": profile("localhost:8787", host="b.example"),
    }})
    assert str(path) in err and 'key "relay.listen"' in err, err
    assert 'profile "p2"' in err and '"p1"' in err and "127.0.0.1:8787" in err, err


def test_list_shows_relay(ctx, start_agent, aoai_json):
    start_agent(config=ctx.write_config({"profiles": {
        "p1": profile("localhost:8787"),
        "p2": profile("127.1.2.3:65535", host="b.example"),
        "p3": {"hosts": ["c.example"], "credential": {"type": "api-key"}},
    }}))
    by_name = {p["name"]: p for p in aoai_json("list")["profiles"]}
    assert by_name["p1"]["relay"] == "127.0.0.1:8787", by_name["p1"]
    assert by_name["p2"]["relay"] == "127.1.2.3:65535", by_name["p2"]
    assert "relay" not in by_name["p3"], by_name["p3"]


# --- aoai-relay ---------------------------------------------------------------------------

def test_relay_serves_with_stable_placeholder(ctx, relay_scene, relays):
    s = relay_scene
    assert not key_path(ctx).exists()
    r = relays()
    r.wait_line(f'aoai-relay: profile "k": http://127.0.0.1:{s.port}/')
    key = read_placeholder(ctx)
    st = os.stat(key_path(ctx))
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == os.getuid(), oct(st.st_mode)
    assert stat.S_IMODE(os.stat(key_path(ctx).parent).st_mode) == 0o700

    status, body = post_chat(s.port, key)
    assert status == 200, body
    assert json.loads(body)["choices"], body
    assert s.fake.requests()[-1]["auth"] == "api-key", s.fake.requests()[-1]
    status, body = post_chat(s.port, PLACEHOLDER_PREFIX + "0" * 64)
    assert status == 401, body
    assert len(s.fake.requests()) == 1, "a request with a wrong placeholder went upstream"
    assert r.stop() == 0, r.stderr()
    assert_absent(s.fake.key, r.stderr(), "aoai-relay's stderr")

    # A second run keeps the placeholder a user has pasted into a tool.
    r = relays()
    r.wait_line(f'aoai-relay: profile "k": http://127.0.0.1:{s.port}/')
    assert read_placeholder(ctx) == key
    status, body = post_chat(s.port, key)
    assert status == 200, body
    assert r.stop(signal.SIGINT) == 0, r.stderr()


def test_relay_on_another_loopback_address(ctx, start_agent, fake_aoai, relays):
    """127.x.y.z, not only 127.0.0.1: the relay takes requests for the address it serves."""
    port = free_port()
    cfg = relay_config(fake_aoai, port)
    cfg["profiles"]["k"]["relay"]["listen"] = f"127.0.0.2:{port}"
    start_agent(config=ctx.write_config(cfg))
    r = relays()
    r.wait_line(f'aoai-relay: profile "k": http://127.0.0.2:{port}/')
    status, body = post_chat(port, read_placeholder(ctx), ip="127.0.0.2")
    assert status == 200, body
    assert r.stop() == 0, r.stderr()


def test_relay_refuses_a_key_file_others_can_read(ctx, relay_scene, relays):
    path = key_path(ctx)
    path.parent.mkdir(mode=0o700)
    path.write_text(PLACEHOLDER_PREFIX + "1" * 64 + "\n")
    os.chmod(path, 0o644)
    r = relays()
    assert r.proc.wait(READY_TIMEOUT) == 1, r.stderr()
    assert str(path) in r.stderr() and "chmod 600" in r.stderr(), r.stderr()


def test_relay_without_relay_config_says_what_to_add(ctx, start_agent, fake_aoai, relays):
    start_agent(config=ctx.write_config({"profiles": {"k": {
        "hosts": [fake_aoai.hostport],
        "credential": {"type": "api-key", "file": str(fake_aoai.key_file)}}}}))
    r = relays()
    assert r.proc.wait(READY_TIMEOUT) == 1, r.stderr()
    assert '"relay": {"listen": "127.0.0.1:8787"}' in r.stderr(), r.stderr()
    assert not key_path(ctx).exists(), "relay.key made with nothing to relay"


def test_relay_without_agent_fails(ctx, relays):
    r = relays()
    assert r.proc.wait(READY_TIMEOUT) == 3, r.stderr()
    assert "aoai-relay: " in r.stderr(), r.stderr()


# --- under systemd ---------------------------------------------------------------------

def activated(ctx, relays, port):
    env = ctx.env()
    passenv = [a for k in env for a in ("-E", k)]
    return relays(prefix=("systemd-socket-activate", "-l", f"127.0.0.1:{port}", *passenv),
                  env=env)


def wait_listening(r, port):
    deadline = time.monotonic() + READY_TIMEOUT
    while "Listening on" not in r.stderr():
        if r.proc.poll() is not None or time.monotonic() > deadline:
            r.kill()
            fail(f"systemd-socket-activate did not listen on {port}:\n{r.stderr()}")
        time.sleep(0.05)


@pytest.mark.skipif(not any(os.access(os.path.join(d, "systemd-socket-activate"), os.X_OK)
                            for d in os.environ.get("PATH", "").split(":")),
                    reason="systemd-socket-activate is not installed")
def test_socket_activation(ctx, relay_scene, relays):
    s = relay_scene
    r = activated(ctx, relays, s.port)
    wait_listening(r, s.port)
    # The first connection starts aoai-relay on the socket systemd holds.
    key_path(ctx).parent.mkdir(mode=0o700)
    key = PLACEHOLDER_PREFIX + "ab" * 32
    fd = os.open(key_path(ctx), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, (key + "\n").encode())
    os.close(fd)
    status, body = post_chat(s.port, key)
    assert status == 200, body
    r.wait_line(f'aoai-relay: profile "k": http://127.0.0.1:{s.port}/')
    assert r.stop() == 0, r.stderr()


@pytest.mark.skipif(not any(os.access(os.path.join(d, "systemd-socket-activate"), os.X_OK)
                            for d in os.environ.get("PATH", "").split(":")),
                    reason="systemd-socket-activate is not installed")
def test_socket_activation_unknown_address(ctx, relay_scene, relays):
    other = free_port()
    r = activated(ctx, relays, other)
    wait_listening(r, other)
    with socket.create_connection(("127.0.0.1", other), timeout=10) as c:
        c.settimeout(READY_TIMEOUT)
        try:
            got = c.recv(1)
        except ConnectionResetError:  # the listening socket closed with us queued on it
            got = b""
        assert got == b"", "the socket of no profile was served"
    assert r.proc.wait(READY_TIMEOUT) == 1, r.stderr()
    want = f'add "relay": {{"listen": "127.0.0.1:{other}"}}'
    assert f"127.0.0.1:{other}" in r.stderr() and want in r.stderr(), r.stderr()


# --- aoai env --------------------------------------------------------------------------

def test_env_prints_relay_comment(ctx, relay_scene, relays, aoai):
    s = relay_scene
    e = expect_rc(aoai("env"), 0, "aoai env before aoai-relay ran")
    line = [ln for ln in e.stdout.splitlines() if 'relay of profile "k"' in ln]
    assert line and line[0].startswith("#") and "run aoai-relay once" in line[0], e.stdout

    r = relays()
    r.wait_line(f'aoai-relay: profile "k": http://127.0.0.1:{s.port}/')
    key = read_placeholder(ctx)
    e = expect_rc(aoai("env"), 0, "aoai env")
    want = (f'# relay of profile "k": AZURE_OPENAI_ENDPOINT=http://127.0.0.1:{s.port}/ '
            f"AZURE_OPENAI_API_KEY={key}")
    assert want in e.stdout.splitlines(), e.stdout
    # Comments: the shell that evaluates the output sets nothing from them.
    sh = run(["/bin/sh", "-c", 'eval "$1"; echo "${AZURE_OPENAI_API_KEY-unset}"', "sh",
              e.stdout], ctx.env())
    assert sh.stdout.strip() == "unset", describe(sh)
    assert r.stop() == 0, r.stderr()


# --- installed units and page -------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def unit_settings(path):
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and line[0] not in "#;[" and "=" in line:
            k, v = line.split("=", 1)
            out.setdefault(k, []).append(v)
    return out


def test_units_install_verify_uninstall(ctx, build):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    prefix = ctx.dir / "prefix"
    make = ["make", "-C", ROOT, "--no-print-directory", f"BUILD={build.root}",
            f"PREFIX={prefix}"]
    expect_rc(run([*make, "install"], os.environ.copy(), timeout=120), 0, "make install")
    units = prefix / "lib" / "systemd" / "user"
    sock, svc = units / "aoai-relay.socket", units / "aoai-relay.service"
    page = prefix / "share" / "man" / "man1" / "aoai-relay.1"
    binary = prefix / "bin" / "aoai-relay"
    for p in (sock, svc, page, binary):
        if not p.is_file():
            fail(f"make install did not install {p}")
    r = run(["systemd-analyze", "verify", "--user", "--man=no", sock, svc], ctx.env(sock=False),
            timeout=60)
    if r.returncode != 0 or r.stderr.strip() or r.stdout.strip():
        fail(f"systemd-analyze verify complained\n{describe(r)}")
    assert unit_settings(sock)["ListenStream"] == ["127.0.0.1:8787"]
    v = unit_settings(svc)
    assert v["ExecStart"] == [f"{prefix}/bin/aoai-relay"], v
    assert "aoai-agent.socket" in " ".join(v["After"]) and v["Wants"] == ["aoai-agent.socket"]
    expect_rc(run([*make, "uninstall"], os.environ.copy(), timeout=60), 0, "make uninstall")
    for p in (sock, svc, page, binary):
        assert not p.exists(), f"make uninstall left {p}"


def test_man_page():
    r = run(["man", "--warnings", "-E", "UTF-8", "-l", ROOT / "client" / "man" / "aoai-relay.1"],
            {"MANWIDTH": "80", "MAN_DISABLE_SECCOMP": "1", "PATH": "/usr/bin:/bin"})
    expect_rc(r, 0, "man aoai-relay.1")
    assert not r.stderr.strip(), describe(r)
    assert "AOAI-RELAY" in r.stdout and "relay.key" in r.stdout, describe(r)
