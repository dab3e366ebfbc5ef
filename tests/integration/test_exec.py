# SPDX-License-Identifier: MIT
"""aoai-exec: profile selection, the child's environment, the hook in
LD_PRELOAD, --no-env, exit codes and signals (api-key profiles with
--key-in-env or --no-relay: aoai-exec becomes the command; otherwise it
supervises it, serving the relay or the identity endpoint)."""

import json
import re
import signal
import time

import pytest

from aoaitest import CHAT_BODY, PYTHON, describe, expect_rc, expect_version, fail
from exectest import CONFLICTING, ENV_PROBE, fp, probe
from preloadtest import CURL, CURL_TIMEOUT, preload_path

# A child that POSTs a chat request the way the openai SDKs build it from the environment.
SDK_LIKE = r"""
import json, os, sys, urllib.request
url = os.environ["AZURE_OPENAI_ENDPOINT"].rstrip("/") + \
    "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
req = urllib.request.Request(url, data=sys.argv[1].encode(), method="POST",
    headers={"api-key": os.environ["AZURE_OPENAI_API_KEY"], "Content-Type": "application/json"})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(req, timeout=10) as r:
    print(r.status)
"""


def test_api_key_environment(ctx, build, key_scene, aoai_exec):
    """By default the child gets the relay (test_exec_relay.py): a loopback endpoint
    and a placeholder, never the key; --key-in-env gives it the key itself."""
    env = ctx.env(**CONFLICTING, LD_PRELOAD="libm.so.6")
    report, r = probe(aoai_exec, ctx, env=env)
    got = report["vars"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", got.get("AZURE_OPENAI_ENDPOINT", "")) and \
        got["AZURE_OPENAI_ENDPOINT"] != f"http://{key_scene.fake.hostport}/", got
    if got.get("AZURE_OPENAI_API_KEY") in (None, fp(key_scene.key),
                                           fp(CONFLICTING["AZURE_OPENAI_API_KEY"])):
        fail(f"AZURE_OPENAI_API_KEY is not the relay's placeholder: {got}")
    assert got.get("AOAI_EXEC") == "k", got
    left = sorted(set(CONFLICTING) & set(got) - {"AZURE_OPENAI_API_KEY", "OPENAI_API_KEY"})
    assert not left, f"conflicting variables left in the child's environment: {left}"
    assert got.get("OPENAI_API_KEY") == got["AZURE_OPENAI_API_KEY"], got
    report, _ = probe(aoai_exec, ctx, "--key-in-env", env=env)
    got_env = report["vars"]
    assert got_env.get("AZURE_OPENAI_ENDPOINT") == f"http://{key_scene.fake.hostport}/", got_env
    if got_env.get("AZURE_OPENAI_API_KEY") != fp(key_scene.key):
        fail(f"--key-in-env: AZURE_OPENAI_API_KEY is not the agent's key: {got_env}")
    assert got.get("LD_PRELOAD") == f"{preload_path(build)}:libm.so.6", got
    assert "aoai-exec" not in r.stderr, describe(r)

    # What an SDK does with those variables works against the fake.
    r = expect_rc(aoai_exec("--", PYTHON, "-c", SDK_LIKE, CHAT_BODY, env=env), 0, "sdk-like")
    assert r.stdout.strip() == "200", describe(r)


def test_options_leave_out(ctx, key_scene, aoai_exec):
    env = ctx.env(LD_PRELOAD="libm.so.6")
    report, _ = probe(aoai_exec, ctx, "--no-env", "--no-preload", env=env)
    got = report["vars"]
    assert "AZURE_OPENAI_API_KEY" not in got and got["AOAI_EXEC"] == "k", got
    assert got["AZURE_OPENAI_ENDPOINT"] == f"http://{key_scene.fake.hostport}/", got
    assert got["LD_PRELOAD"] == "libm.so.6", got


def test_no_env_curl_through_hook(ctx, key_scene, aoai_exec):
    """The key is not in the environment of the program, and curl still gets 200."""
    envfile, out = ctx.path("child.environ"), ctx.path("out.json")
    script = ('cat /proc/$$/environ > "$1"; exec "$2" -q -sS --max-time "$3" -o "$4" '
              '-w "%{http_code}" -H "Content-Type: application/json" -d "$5" "$6"')
    r = expect_rc(aoai_exec("--no-env", "--", "/bin/sh", "-c", script, "sh", envfile, CURL,
                            CURL_TIMEOUT, out, CHAT_BODY, key_scene.fake.chat_url), 0,
                  "aoai-exec --no-env curl")
    assert r.stdout.strip() == "200", describe(r)
    environ = envfile.read_bytes()
    if key_scene.key.encode() in environ:
        fail("the API key is in the child's /proc/PID/environ despite --no-env")
    assert b"AOAI_EXEC=k\0" in environ and b"libaoai-preload.so" in environ
    (req,) = [e for e in key_scene.fake.requests() if e["path"].endswith("/chat/completions")]
    assert req["header_fps"].get("api-key") == [fp(key_scene.key)[3:]], req


def test_profile_selection(ctx, start_agent, aoai_exec):
    key_file = ctx.write_file("k.key", ctx.secret() + "\n")
    cfg = {"profiles": {
        "one": {"hosts": ["one.openai.azure.com"], "credential": {"type": "api-key",
                                                                  "file": str(key_file)}},
        "wild": {"hosts": ["*.openai.azure.com"], "credential": {"type": "api-key",
                                                                 "file": str(key_file)}}}}
    start_agent(config=ctx.write_config(cfg))
    r = expect_rc(aoai_exec("--", "true"), 2, "two profiles, none chosen")
    assert "one, wild" in r.stderr and "-p" in r.stderr, describe(r)

    def chosen(endpoint, *opts):
        report, _ = probe(aoai_exec, ctx, "--no-env", *opts,
                          env=ctx.env(AZURE_OPENAI_ENDPOINT=endpoint))
        return report["vars"]["AOAI_EXEC"], report["vars"].get("AZURE_OPENAI_ENDPOINT")

    assert chosen("https://one.openai.azure.com/") == ("one", "https://one.openai.azure.com/")
    assert chosen("https://two.openai.azure.com/") == ("wild", "https://two.openai.azure.com/")
    assert chosen("https://two.openai.azure.com/", "-p", "one") == \
        ("one", "https://one.openai.azure.com/")
    r = expect_rc(aoai_exec("--", "true", env=ctx.env(AZURE_OPENAI_ENDPOINT="https://x.test/")),
                  4, "no profile for the endpoint")
    assert "x.test:443" in r.stderr, describe(r)
    r = expect_rc(aoai_exec("-p", "nope", "--", "true"), 1, "unknown profile")
    assert '"nope"' in r.stderr, describe(r)


def test_nesting_refused(ctx, key_scene, aoai_exec):
    r = expect_rc(aoai_exec("--", "true", env=ctx.env(AOAI_EXEC="k")), 1, "nested")
    assert "already running under aoai-exec" in r.stderr, describe(r)
    # From inside: the child's own aoai-exec is refused, the outer one passes that on.
    r = expect_rc(aoai_exec("--", str(ctx.build.root / "bin" / "aoai-exec"), "--", "true"), 1,
                  "nested from inside")
    assert "already running under aoai-exec" in r.stderr, describe(r)


def test_errors(ctx, aoai_exec, agent):
    expect_rc(aoai_exec(), 2, "no command")
    expect_rc(aoai_exec("--bogus", "true"), 2, "unknown option")
    expect_rc(aoai_exec("--", "true"), 4, "no profile at all")
    r = expect_rc(aoai_exec("--", "true", env=ctx.env(sock=ctx.path("none.sock"))), 3, "no agent")
    assert 'eval "$(aoai-agent)"' in r.stderr, describe(r)
    r = expect_rc(aoai_exec("--", "true", env=ctx.env(sock=False, XDG_RUNTIME_DIR="")), 3,
                  "no socket path")
    assert 'eval "$(aoai-agent)"' in r.stderr, describe(r)


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(ctx, aoai_exec, flag):
    expect_version(aoai_exec(flag, env=ctx.env(sock=ctx.path("none.sock"))), "aoai-exec")


def test_exit_status_exec(ctx, key_scene, aoai_exec):
    expect_rc(aoai_exec("--", "/bin/sh", "-c", "exit 7"), 7, "exit 7")
    r = expect_rc(aoai_exec("--", "/nonexistent/cmd"), 127, "not found")
    assert "/nonexistent/cmd" in r.stderr, describe(r)
    expect_rc(aoai_exec("--", str(ctx.dir)), 126, "not executable")
    # Seen from a shell: 128+15.
    sh = '"$1" -- /bin/sh -c \'kill -TERM $$\'; echo $?'
    r = expect_rc(_sh(ctx, sh, ctx.build.root), 0, "sh")
    assert r.stdout.strip() == "143", describe(r)


def _sh(ctx, script, root):
    from aoaitest import run
    return run(["/bin/sh", "-c", script, "sh", root / "bin" / "aoai-exec"], ctx.env())


def test_exit_status_supervised(ctx, mi_scene, aoai_exec):
    mi_scene.start()
    expect_rc(aoai_exec("--", "/bin/sh", "-c", "exit 7"), 7, "exit 7")
    expect_rc(aoai_exec("--", "/bin/sh", "-c", "kill -TERM $$"), 143, "killed by SIGTERM")
    expect_rc(aoai_exec("--", "/bin/sh", "-c", "kill -KILL $$"), 137, "killed by SIGKILL")
    expect_rc(aoai_exec("--", "/nonexistent/cmd"), 127, "not found")


# The handler writes with os.write: print() is not reentrant, and the next
# signal can arrive while print() is still returning from the last line.
SIGNAL_CHILD = r"""
import os, signal, sys, time
def on(sig, frame):
    os.write(1, f"got {signal.Signals(sig).name}\n".encode())
    if sig == signal.SIGTERM:
        sys.exit(3)
for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGINT):
    signal.signal(s, on)
print("ready", flush=True)
deadline = time.monotonic() + 15
while time.monotonic() < deadline:
    time.sleep(0.05)
sys.exit(9)
"""


def test_signals_forwarded(ctx, mi_scene, exec_child):
    mi_scene.start()
    c = exec_child("--", PYTHON, "-c", SIGNAL_CHILD)
    assert c.line() == "ready"
    for sig in (signal.SIGHUP, signal.SIGUSR1, signal.SIGINT):
        c.proc.send_signal(sig)
        assert c.line() == f"got {sig.name}", c.stderr()
    c.proc.send_signal(signal.SIGTERM)
    assert c.line() == "got SIGTERM", c.stderr()
    rc = c.wait()
    assert rc == 3, f"aoai-exec exited {rc}; stderr:\n{c.stderr()}"
