# SPDX-License-Identifier: MIT
"""A profile whose allow.exe lists aoai-exec, with an agent of an ordinary
user: aoai-exec makes itself non-dumpable, after which that agent cannot
read its /proc/PID/exe; it is identified by the connection it made before,
which it keeps for its lifetime.  Run as uid 65534 (so root only), from a
copy of the binaries that uid can reach."""

import json
import os
import shutil
import time

import pytest

from aoaitest import PYTHON, as_user, describe, expect_rc, fail, register_secret, run
from exectest import ENV_PROBE, fp
from test_access import mi_profile
from test_exec_identity import HOLD, get, query
from test_token_cli import FakeImds

NOBODY = 65534

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="runs the agent and aoai-exec as uid 65534: needs root")


class Nobody:
    """A copy of bin/ and lib/ uid 65534 can run, a home it owns (which
    holds the agent's socket and configuration), and its environment."""

    def __init__(self, ctx, build):
        self.ctx = ctx
        self.bin = ctx.dir / "bin"
        shutil.copytree(build.root / "bin", self.bin)
        if (build.root / "lib").is_dir():
            shutil.copytree(build.root / "lib", ctx.dir / "lib", symlinks=True)
        os.chmod(ctx.dir, 0o711)
        for p in (self.bin, ctx.dir / "lib"):
            if p.exists():
                os.chmod(p, 0o755)
        self.home = ctx.dir / "nobody"
        self.home.mkdir(mode=0o700)
        os.chown(self.home, NOBODY, NOBODY)
        self.sock = self.home / "agent.sock"
        self.exec_exe = os.path.realpath(self.bin / "aoai-exec")
        self.aoai_exe = os.path.realpath(self.bin / "aoai")

    def env(self):
        env = {"PATH": f"{self.bin}:/usr/bin:/bin", "HOME": str(self.home),
               "XDG_RUNTIME_DIR": str(self.home), "LANG": "C.UTF-8",
               "AOAI_AUTH_SOCK": str(self.sock)}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        return env

    def config(self, obj):
        path = self.home / "agent.json"
        path.write_text(json.dumps(obj))
        os.chown(path, NOBODY, NOBODY)
        return path

    def run(self, *argv, input=None):
        return run([*as_user(NOBODY), *map(str, argv)], self.env(), input=input)


@pytest.fixture
def nobody(ctx, build):
    return Nobody(ctx, build)


def start(nb, start_agent, cfg):
    a = start_agent(config=nb.config(cfg), sock=nb.sock, env=nb.env(), user=NOBODY)
    r = nb.run(PYTHON, "-c", f"import os; print(os.stat('/proc/{a.pid}/status').st_uid)")
    assert expect_rc(r, 0, "the agent's owner").stdout.strip() == "0", \
        "the agent should run as uid 65534 and be non-dumpable"
    return a


def test_api_key_environment(ctx, nobody, start_agent):
    """The environment path (--key-in-env): aoai-exec, listed, gets the key
    for its child; `aoai`, not listed, is refused."""
    start(nobody, start_agent, {"profiles": {"k": {
        "hosts": ["k.example"], "credential": {"type": "api-key"},
        "allow": {"exe": [nobody.exec_exe]}}}})
    k = ctx.secret()
    expect_rc(nobody.run(nobody.bin / "aoai", "add", "k", input=k + "\n"), 0, "add")
    r = expect_rc(nobody.run(nobody.bin / "aoai-exec", "-p", "k", "--key-in-env", "--",
                             PYTHON, "-c", ENV_PROBE,
                             "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_API_KEY"),
                  0, "aoai-exec with a profile that lists it")
    got = json.loads(r.stdout.strip().splitlines()[-1])["vars"]
    assert got.get("AZURE_OPENAI_API_KEY") == fp(k), describe(r)
    assert "--key-in-env" in r.stderr, describe(r)
    r = expect_rc(nobody.run(nobody.bin / "aoai", "headers", "https://k.example/"), 7,
                  "aoai is not listed")
    assert f'profile "k" does not allow {nobody.aoai_exe}' in r.stderr, describe(r)


def test_identity_endpoint(ctx, nobody, start_agent, exec_child):
    """The identity endpoint's requests, made long after aoai-exec became
    non-dumpable, are served; `aoai token` is refused.  Once the agent has
    restarted, aoai-exec must reconnect, and the new agent cannot identify
    it: the refusal says why."""
    fake = FakeImds(200, {})
    try:
        token, fake.body = imds_token_body(ctx)
        cfg = {"profiles": {"mi": mi_profile("mi.example", fake.url,
                                             allow={"exe": [nobody.exec_exe]})}}
        a = start(nobody, start_agent, cfg)
        header_file = nobody.home / "identity-header"
        c = exec_child("-p", "mi", "--", PYTHON, "-c", HOLD, header_file, env=nobody.env(),
                       binary=nobody.bin / "aoai-exec", prefix=as_user(NOBODY))
        endpoint = c.line()
        header = register_secret(header_file.read_text())
        status, body = get(endpoint, query(), {"X-IDENTITY-HEADER": header})
        assert status == 200, body
        if register_secret(body["access_token"]) != token:
            fail("the endpoint did not serve the agent's token")
        r = expect_rc(nobody.run(nobody.bin / "aoai", "token", "mi"), 7, "aoai is not listed")
        assert f'profile "mi" does not allow {nobody.aoai_exe}' in r.stderr, describe(r)

        a.stop()
        start(nobody, start_agent, cfg)
        status, body = get(endpoint, query(), {"X-IDENTITY-HEADER": header})
        assert status == 403, body
        assert "could not be read when it connected" in body["message"], body
        assert "the agent restarted" in body["message"], body
        c.send("\n")
        assert c.wait() == 0, c.stderr()
        assert "could not be read when it connected" in c.stderr(), c.stderr()
    finally:
        fake.stop()


def imds_token_body(ctx):
    """A token and the IMDS answer that carries it."""
    token = "eyJ0eXAi." + ctx.secret(32) + ".c2ln"
    return token, {"access_token": token, "expires_on": str(int(time.time()) + 3600),
                   "expires_in": "3600", "token_type": "Bearer",
                   "resource": "https://cognitiveservices.azure.com"}
