# SPDX-License-Identifier: MIT
"""Fixtures for the integration tests: the built binaries, a private
per-test environment, agents, the `aoai` CLI, the fake Azure OpenAI endpoint.

Run: AOAI_BUILD=/abs/build /usr/bin/python3 -m pytest -q tests/integration
"""

import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import aoaitest  # noqa: E402
from aoaitest import Agent, RawClient, fail, run, start_fake, stop_fake  # noqa: E402


def pytest_terminal_summary(terminalreporter):
    """`make check` sums up every suite in one line: ours goes to the file named
    by AOAI_CHECK_SUMMARY, as "integration 12 passed, 1 skipped"."""
    path = os.environ.get("AOAI_CHECK_SUMMARY")
    if not path:
        return
    stats = terminalreporter.stats
    words = (("passed", "passed"), ("failed", "failed"), ("error", "errors"),
             ("skipped", "skipped"), ("xfailed", "xfailed"), ("xpassed", "xpassed"))
    counts = [f"{len(stats[k])} {word}" for k, word in words if stats.get(k)]
    with open(path, "a") as f:
        f.write("integration " + (", ".join(counts) or "ran no tests") + "\n")


class Build:
    def __init__(self, root):
        self.root = Path(root)
        self.agent = self.root / "bin" / "aoai-agent"
        self.aoai = self.root / "bin" / "aoai"


@pytest.fixture(scope="session")
def build():
    root = os.environ.get("AOAI_BUILD")
    if not root:
        pytest.fail("AOAI_BUILD is not set: run `make integration`, or set AOAI_BUILD to the "
                    "absolute path of the build directory", pytrace=False)
    b = Build(root)
    for p in (b.agent, b.aoai):
        if not (p.is_file() and os.access(p, os.X_OK)):
            pytest.fail(f"missing binary {p}: build first (`make all`)", pytrace=False)
    return b


class Ctx:
    """A private directory tree and environment for one test.

    dir/          0700, short path under /tmp (socket paths must fit 108 bytes)
      run/        XDG_RUNTIME_DIR
      config/     XDG_CONFIG_HOME
      home/       HOME
      agent.sock  the socket `start_agent` uses unless told otherwise
    """

    def __init__(self, build):
        self.build = build
        self.dir = Path(tempfile.mkdtemp(prefix="aoai-t", dir="/tmp"))
        os.chmod(self.dir, 0o700)
        self.runtime = self._mkdir("run")
        self.config_home = self._mkdir("config")
        self.home = self._mkdir("home")
        self.sock = self.dir / "agent.sock"
        self.pids = []  # daemons started by a test, stopped at teardown

    def _mkdir(self, name):
        p = self.dir / name
        p.mkdir(mode=0o700)
        os.chmod(p, 0o700)
        return p

    def base_env(self):
        env = {
            "PATH": f"{self.build.root / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "XDG_RUNTIME_DIR": str(self.runtime),
            "XDG_CONFIG_HOME": str(self.config_home),
            "LANG": "C.UTF-8",
            "SHELL": "/bin/sh",
            "TMPDIR": str(self.dir),
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        return env

    def env(self, sock=None, **extra):
        """The environment for a client: base plus AOAI_AUTH_SOCK (unless sock=False)."""
        env = self.base_env()
        if sock is not False:
            env["AOAI_AUTH_SOCK"] = str(sock if sock is not None else self.sock)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def secret(self, nbytes=16):
        """A fresh fake secret, registered so that failure messages redact it."""
        return aoaitest.register_secret(secrets.token_hex(nbytes))

    def path(self, name):
        return self.dir / name

    def write_file(self, name, text, mode=0o600):
        p = Path(name) if os.path.isabs(str(name)) else self.dir / name
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(p.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, p)  # atomic, as an editor saving the file would be
        return p

    def write_config(self, obj, name="agent.json"):
        text = obj if isinstance(obj, str) else json.dumps(obj, indent=2)
        return self.write_file(name, text)

    def track_pid(self, pid):
        self.pids.append(int(pid))

    def cleanup(self):
        for pid in self.pids:
            if aoaitest.pid_alive(pid) and aoaitest.pid_is_agent(pid):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
                deadline = time.monotonic() + 5
                while aoaitest.pid_alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
                if aoaitest.pid_alive(pid) and aoaitest.pid_is_agent(pid):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def ctx(build):
    c = Ctx(build)
    try:
        yield c
    finally:
        c.cleanup()
        aoaitest.forget_secrets()


@pytest.fixture
def start_agent(ctx, build):
    """start_agent(config=None, sock=ctx.sock, args=(), debug=True, env=None, nofile=None,
    memlock=None, user=None, binary=None) -> a ready Agent (nofile: its descriptor limit;
    memlock: its RLIMIT_MEMLOCK in bytes, without CAP_IPC_LOCK; user: a uid to run it as;
    binary: another build of the agent, such as build/tests/aoai-agent-nolibs).

    sock=None starts it without -a (the default socket under XDG_RUNTIME_DIR).
    At teardown every agent still running gets SIGTERM; each must have exited
    with agent.expect_exit (default 0; None: not checked), without a crash or
    a sanitizer report, and no secret the test made may be in its log."""
    agents = []
    default = object()

    def start(config=None, sock=default, args=(), debug=True, env=None, nofile=None,
              memlock=None, user=None, binary=None):
        n = len(agents)
        a = Agent(binary or build.agent, env or ctx.env(sock=False), ctx.path(f"agent{n}.log"),
                  sock=ctx.sock if sock is default else sock, config=config, args=args,
                  debug=debug, nofile=nofile, memlock=memlock, user=user)
        agents.append(a)
        return a.start()

    yield start

    problems = []
    for a in agents:
        if a.proc is None:
            continue
        rc = a.proc.poll()
        if rc is None:
            rc = a.stop()
        log = a.log()
        if rc is not None and rc < 0 and a.expect_exit is not None:
            problems.append(f"agent {a.pid} died of signal {-rc}")
        elif a.expect_exit is not None and rc != a.expect_exit:
            problems.append(f"agent {a.pid} exited {rc}, expected {a.expect_exit}")
        for mark in aoaitest.SANITIZER_MARKS:
            if mark in log:
                problems.append(f"agent {a.pid} log reports '{mark}'")
        report = a.valgrind_problems()
        if report:
            problems.append(f"memcheck reports errors in agent {a.pid}:\n{report[-6000:]}")
        for s in list(aoaitest._SECRETS):
            if s in log:
                problems.append(f"a secret appears in the log of agent {a.pid}")
        if problems:
            problems.append(f"log of agent {a.pid}:\n{log[-4000:]}")
    if problems:
        fail("\n".join(problems))


@pytest.fixture
def loadgen(build):
    """The load generator tests/load/loadgen.c, built by `make all`."""
    path = build.root / "tests" / "loadgen"
    if not os.access(path, os.X_OK):
        pytest.skip(f"{path} is not built (tests/load/loadgen.c)")
    return path


@pytest.fixture
def agent(start_agent):
    """An agent on ctx.sock without a config file."""
    return start_agent()


@pytest.fixture
def aoai(ctx, build):
    """aoai(*args, input=None, sock=None, env=None, timeout=...) -> CompletedProcess."""

    def runner(*args, input=None, sock=None, env=None, timeout=aoaitest.CMD_TIMEOUT):
        return run([build.aoai, *args], env or ctx.env(sock=sock), input=input, timeout=timeout)

    return runner


@pytest.fixture
def aoai_json(aoai):
    """aoai_json(*args) -> the parsed JSON stdout of `aoai ARGS --json` (must exit 0)."""

    def runner(*args, **kw):
        r = aoaitest.expect_rc(aoai(*args, "--json", **kw), 0, f"aoai {' '.join(args)} --json")
        try:
            return json.loads(r.stdout)
        except ValueError:
            fail(f"`aoai {' '.join(args)} --json` did not print JSON:\n{r.stdout}")

    return runner


@pytest.fixture
def fake_aoai(ctx):
    fake = start_fake(ctx)
    yield fake
    stop_fake(fake)


@pytest.fixture
def raw(ctx):
    """raw(path=ctx.sock) -> a connected RawClient, closed at teardown."""
    clients = []

    def connect(path=None, timeout=5.0):
        c = RawClient(path or ctx.sock, timeout)
        clients.append(c)
        return c

    yield connect
    for c in clients:
        c.close()


# The fake Entra / managed-identity service: fixtures `identity` and `identity_tls`
# (tests/integration/identity.py holds them and the harness functions).
from identity import identity, identity_rs256, identity_tls  # noqa: E402,F401
# The LD_PRELOAD hook's scene: fixtures `preload_lib`, `pl_factory`, `pl`
# (tests/integration/preloadtest.py).
from preloadtest import pl, pl_factory, preload_lib  # noqa: E402,F401
# aoai-exec: fixtures `aoai_exec`, `key_scene`, `mi_scene`, `exec_child`
# (tests/integration/exectest.py).
from exectest import aoai_exec, exec_child, key_scene, mi_scene  # noqa: E402,F401
# The fake Azure Key Vault: fixture `keyvault` (tests/integration/keyvault.py).
from keyvault import keyvault  # noqa: E402,F401
# aoai-exec's relay: fixture `relay_scene` (tests/integration/relaytest.py).
from relaytest import relay_scene  # noqa: E402,F401
