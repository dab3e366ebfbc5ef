# SPDX-License-Identifier: MIT
"""Harness for the tests of aoai-exec (build/bin/aoai-exec).

Fixtures:
    aoai_exec(*args, env=None, timeout=...)  -> CompletedProcess of aoai-exec ARGS
    key_scene    an agent with the api-key profile "k" for a plain-http fake_aoai
                 on 127.0.0.1 (scene.fake, scene.key), nothing else configured
    mi_scene     an agent with the managed-identity profile "mi" (IMDS of the fake
                 identity service) for a fake_aoai that accepts its JWTs
                 (scene.fake, scene.identity)

Child programs report what they see with ENV_PROBE: the names of the
variables they got, the values of those that are not secret, and fingerprints
(fp()) of those that are, so no secret is ever printed.
"""

import hashlib
import json
import os
import select
import subprocess
import time

import pytest

import aoaitest
from aoaitest import PYTHON, fail, run, start_fake, stop_fake
from identity import start_fake_aoai_jwt

EXEC_TIMEOUT = 20.0
SECRET_VARS = ("AZURE_OPENAI_API_KEY", "OPENAI_API_KEY", "IDENTITY_HEADER")
CONFLICTING = {
    "AZURE_OPENAI_API_KEY": "stale-key", "AZURE_OPENAI_AD_TOKEN": "stale-token",
    "OPENAI_API_KEY": "sk-stale", "AZURE_CLIENT_SECRET": "stale-secret",
    "AZURE_CLIENT_ID": "0c9a3d5e-0000-4000-8000-000000000001",
    "AZURE_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47",
    "AZURE_CLIENT_CERTIFICATE_PATH": "/nonexistent.pem", "AZURE_USERNAME": "u",
    "AZURE_PASSWORD": "p", "AZURE_FEDERATED_TOKEN_FILE": "/nonexistent.jwt",
    "IDENTITY_ENDPOINT": "http://127.0.0.1:1/msi/token", "IDENTITY_HEADER": "stale-header",
    "IDENTITY_SERVER_THUMBPRINT": "00", "MSI_ENDPOINT": "http://127.0.0.1:1/msi",
    "MSI_SECRET": "stale-msi", "IMDS_ENDPOINT": "http://127.0.0.1:1",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://127.0.0.1:1",
    "AZURE_TOKEN_CREDENTIALS": "dev",
}

# Prints {"vars": {NAME: value or "fp:…"}, "sockets": N} for the variables of interest.
ENV_PROBE = r"""
import hashlib, json, os, sys
names = sys.argv[1].split(",")
secret = set(sys.argv[2].split(","))
out = {}
for n in names:
    v = os.environ.get(n)
    if v is not None:
        out[n] = "fp:" + hashlib.sha256(v.encode()).hexdigest()[:12] if n in secret else v
socks = 0
for fd in os.listdir("/proc/self/fd"):
    try:
        socks += os.readlink("/proc/self/fd/" + fd).startswith("socket:")
    except OSError:
        pass
print(json.dumps({"vars": out, "sockets": socks}))
"""


def fp(value):
    if isinstance(value, str):
        value = value.encode()
    return "fp:" + hashlib.sha256(value).hexdigest()[:12]


def exec_path(build):
    return build.root / "bin" / "aoai-exec"


@pytest.fixture
def aoai_exec(ctx, build):
    binary = exec_path(build)
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.fail(f"missing binary {binary}: build first (`make all`)", pytrace=False)

    def runner(*args, env=None, timeout=EXEC_TIMEOUT, input=None):
        return run([binary, *args], env or ctx.env(), input=input, timeout=timeout)

    return runner


def probe(aoai_exec, ctx, *opts, names=(), env=None):
    """Runs ENV_PROBE under aoai-exec OPTS; returns its decoded report."""
    names = list(names) + list(CONFLICTING) + ["AZURE_OPENAI_ENDPOINT", "AOAI_EXEC",
                                               "LD_PRELOAD", "IDENTITY_ENDPOINT"]
    r = aoaitest.expect_rc(aoai_exec(*opts, "--", PYTHON, "-c", ENV_PROBE, ",".join(names),
                                     ",".join(SECRET_VARS), env=env), 0, "aoai-exec probe")
    try:
        return json.loads(r.stdout.strip().splitlines()[-1]), r
    except (ValueError, IndexError):
        fail(f"the probe printed no JSON:\n{aoaitest.describe(r)}")


class Scene:
    pass


@pytest.fixture
def key_scene(ctx, start_agent):
    s = Scene()
    s.fake = start_fake(ctx)
    s.key = s.fake.key
    cfg = {"profiles": {"k": {"hosts": [s.fake.hostport],
                              "credential": {"type": "api-key", "file": str(s.fake.key_file)}}}}
    s.agent = start_agent(config=ctx.write_config(cfg))
    yield s
    stop_fake(s.fake)


@pytest.fixture
def mi_scene(ctx, start_agent, identity):
    s = Scene()
    s.identity = identity
    s.fake = start_fake_aoai_jwt(ctx, identity)
    s.config = {"profiles": {"mi": {"hosts": [s.fake.hostport],
                                    "credential": {"type": "managed-identity",
                                                   "endpoint": identity.imds_url}}}}
    s.start = lambda: start_agent(config=ctx.write_config(s.config))
    yield s
    stop_fake(s.fake)


class Child:
    """aoai-exec ARGS in the background, its stdout read line by line with a deadline
    (@binary: another aoai-exec; @prefix: an argv to run it under, e.g. as_user())."""

    def __init__(self, ctx, build, args, env=None, binary=None, prefix=()):
        self.err_path = ctx.path(f"exec-{time.monotonic_ns()}.stderr")
        binary = binary or exec_path(build)
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([*map(str, prefix), str(binary), *map(str, args)],
                                         env=env or ctx.env(), stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=err)
        self.buf = b""

    def line(self, timeout=EXEC_TIMEOUT):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                self.kill()
                fail(f"no line from the child within {timeout}s; stderr:\n{self.stderr()}")
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                fail(f"the child closed stdout; got {self.buf!r}; stderr:\n{self.stderr()}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def wait(self, timeout=EXEC_TIMEOUT):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            fail(f"aoai-exec did not exit within {timeout}s; stderr:\n{self.stderr()}")

    def stderr(self):
        return aoaitest.redact(self.err_path.read_text(errors="replace"))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def exec_child(ctx, build):
    """exec_child(*args, env=None, binary=None, prefix=()) -> a running Child; killed at
    teardown."""
    children = []

    def start(*args, env=None, binary=None, prefix=()):
        c = Child(ctx, build, args, env, binary, prefix)
        children.append(c)
        return c

    yield start
    for c in children:
        c.kill()
        for f in (c.proc.stdin, c.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
