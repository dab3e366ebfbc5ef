# SPDX-License-Identifier: MIT
"""Harness for the tests of the LD_PRELOAD hook (build/lib/libaoai-preload.so)
with real programs: curl, git, python3-pycurl.

The scene (fixture `pl`, or `pl_factory(...)` for a custom configuration):

    pl.ca        TestCa(ca_cert, server_cert, server_key) from tlsca.make_ca
    pl.fake      https fake_aoai on port pl.port, reached as a.test, b.test, c.test
    pl.other     a second https fake_aoai on pl.other.port (same names)
    pl.plain     a plain-http fake_aoai on pl.plain.port (127.0.0.1, or a.test via --resolve)
    pl.key       the api-key the agent holds and pl.fake accepts (a registered secret)
    pl.apim      the named secret "apim" (a registered secret)
    pl.agent     the running agent (None with agent=False)

Default configuration (default_config):
    profile "a":  a.test:PORT, a.test:PLAINPORT and localhost:PLAINPORT, api-key from
                  pl.fake's key file (default headers: `api-key: {secret}`)
    profile "gw": c.test:PORT, the same key, headers api-key and
                  `Ocp-Apim-Subscription-Key: {secret:apim}`
    b.test, 127.0.0.1, localhost:PORT and pl.other's port are not configured.

Names resolve with curl's --resolve / CURLOPT_RESOLVE / git's
http.curloptResolve only; /etc/hosts is never touched.  Request headers are
checked through the fakes' request logs, which hold fingerprints (`fp(value)`)
of api-key, Authorization, Ocp-Apim-Subscription-Key and X-App, never values.
"""

import hashlib
import json
import os
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

import aoaitest
from aoaitest import fail, run, start_fake, stop_fake
from tlsca import make_ca

PRELOAD_NAME = "libaoai-preload.so"
HOSTS = ("a.test", "b.test", "c.test")
RESOLVE_HOSTS = HOSTS + ("localhost",)  # localhost too: the fakes bind 127.0.0.1 only
CURL = shutil.which("curl") or "/usr/bin/curl"
GIT = shutil.which("git") or "/usr/bin/git"
CURL_TIMEOUT = "10"         # seconds, passed to curl --max-time
PRELOAD_MARK = "aoai-preload:"
CURLE_ABORTED_BY_CALLBACK = 42
CHAT_PATH = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
CHAT_BODY = json.dumps({"messages": [{"role": "user", "content": "Say hello"}]})


def fp(value):
    """The fake's fingerprint of a header value: first 12 hex digits of its SHA-256."""
    if isinstance(value, str):
        value = value.encode("latin-1")
    return hashlib.sha256(value).hexdigest()[:12]


def preload_path(build):
    return Path(build.root).resolve() / "lib" / PRELOAD_NAME


@pytest.fixture
def preload_lib(build):
    """The absolute path of the built hook (`make all` builds it)."""
    p = preload_path(build)
    if not p.is_file():
        pytest.fail(f"{p} is missing: build first (`make all`)", pytrace=False)
    return str(p)


# --- fakes ------------------------------------------------------------------------

def start_tls_fake(ctx, ca, key=None, name="tls", extra=()):
    """aoaitest.start_fake over https with @ca's server certificate.  The returned
    FakeAoai's base/chat_url are https://127.0.0.1:PORT…; fake.url(host, path) builds
    URLs for other names of the certificate."""
    fake = start_fake(ctx, name=name, key=key,
                      extra=["--tls-cert", str(ca.server_cert), "--tls-key", str(ca.server_key),
                             *map(str, extra)])
    _finish_fake(ctx, fake, name, "https")
    return fake


def start_plain_fake(ctx, key=None, name="plain", extra=()):
    fake = start_fake(ctx, name=name, key=key, extra=list(map(str, extra)))
    _finish_fake(ctx, fake, name, "http")
    return fake


def _finish_fake(ctx, fake, name, scheme):
    fake.name = name
    fake.scheme = scheme
    fake.stderr_path = ctx.path(f"{name}.stderr")
    fake.base = f"{scheme}://127.0.0.1:{fake.port}"
    fake.chat_url = fake.base + CHAT_PATH

    def url(host="127.0.0.1", path="/echo", scheme=scheme):
        return f"{scheme}://{host}:{fake.port}{path}"

    fake.url = url


def stop_checked(fake):
    """Stops a fake; fails if it printed a traceback."""
    stop_fake(fake)
    err = Path(fake.stderr_path).read_text(errors="replace") if hasattr(fake, "stderr_path") \
        else ""
    if "Traceback" in err:
        fail(f"fake {getattr(fake, 'name', '?')} reported an exception:\n{err[-4000:]}")


# --- request-log helpers ----------------------------------------------------------

def secret_fps(entry):
    """The entry's header_fps without the application's own X-App."""
    return {k: v for k, v in entry.get("header_fps", {}).items() if k != "x-app"}


def app_fps(entry):
    return entry.get("header_fps", {}).get("x-app", [])


def redirect_url(fake, host, to, code=302):
    return fake.url(host, f"/redirect?code={code}&to={quote(to, safe='')}")


# --- the scene --------------------------------------------------------------------

class Preload:
    """See the module docstring."""

    def __init__(self, ctx, lib, fake_extra=(), name="pl"):
        self.ctx = ctx
        self.lib = lib
        self.ca = make_ca(ctx, stem=f"{name}-ca")
        self.fakes = []
        self.fake = self._keep(start_tls_fake(ctx, self.ca, name=f"{name}-tls",
                                              extra=fake_extra))
        self.other = self._keep(start_tls_fake(ctx, self.ca, name=f"{name}-other"))
        self.plain = self._keep(start_plain_fake(ctx, name=f"{name}-plain"))
        self.port = self.fake.port
        self.key = self.fake.key
        self.key_file = self.fake.key_file
        self.apim = ctx.secret()
        self.apim_file = ctx.write_file(f"{name}-apim.secret", self.apim + "\n")
        self.agent = None

    def _keep(self, fake):
        self.fakes.append(fake)
        return fake

    def stop(self):
        for f in self.fakes:  # all at once: each takes up to its poll interval to exit
            if f.proc.poll() is None:
                f.proc.terminate()
        for f in self.fakes:
            stop_checked(f)

    # URLs and name resolution
    def url(self, host="a.test", path="/echo", fake=None, scheme=None):
        fake = fake or self.fake
        return fake.url(host, path, **({"scheme": scheme} if scheme else {}))

    def resolve_entries(self):
        """HOST:PORT:127.0.0.1 for every test name and port."""
        return [f"{h}:{f.port}:127.0.0.1" for f in self.fakes for h in RESOLVE_HOSTS]

    def resolve_args(self):
        out = []
        for e in self.resolve_entries():
            out += ["--resolve", e]
        return out

    # environments
    def env(self, preload=True, sock=None, **extra):
        """A client environment: ctx.env() plus LD_PRELOAD (absolute path) when @preload."""
        env = self.ctx.env(sock=sock)
        if preload:
            env["LD_PRELOAD"] = self.lib
        env.update({k: str(v) for k, v in extra.items()})
        return env

    # curl
    def curl(self, *args, preload=True, env=None, timeout=aoaitest.CMD_TIMEOUT, input=None):
        """Runs the real curl (-q: no curlrc) with --cacert and every --resolve;
        returns the CompletedProcess, exit status unchecked."""
        argv = [CURL, "-q", "-sS", "--max-time", CURL_TIMEOUT, "--cacert", str(self.ca.ca_cert),
                *self.resolve_args(), *map(str, args)]
        return run(argv, env if env is not None else self.env(preload=preload), input=input,
                   timeout=timeout)

    def curl_ok(self, *args, **kw):
        """curl that must exit 0 without a single aoai-preload line on stderr."""
        r = self.curl(*args, **kw)
        aoaitest.expect_rc(r, 0, "curl")
        if PRELOAD_MARK in r.stderr:
            fail(f"the hook complained although the agent is up:\n{aoaitest.describe(r)}")
        return r

    # the fakes' logs
    def reqs(self, fake=None, path=None, query=None, host=None):
        """Log entries of @fake (default pl.fake) filtered by path / query / Host prefix."""
        out = []
        for e in (fake or self.fake).requests():
            if path is not None and e["path"] != path:
                continue
            if query is not None and e["query"] != query:
                continue
            if host is not None and (e.get("host") or "").split(":")[0] != host:
                continue
            out.append(e)
        return out

    def req(self, fake=None, **kw):
        """The one log entry matching the filters (fails unless exactly one)."""
        found = self.reqs(fake, **kw)
        if len(found) != 1:
            fail(f"expected one request matching {kw} at {(fake or self.fake).name}, found "
                 f"{len(found)}: {found}\nall: {(fake or self.fake).requests()}")
        return found[0]


def default_config(pl):
    return {
        "secrets": {"apim": {"file": str(pl.apim_file)}},
        "profiles": {
            "a": {"hosts": [f"a.test:{pl.port}", f"a.test:{pl.plain.port}",
                            f"localhost:{pl.plain.port}"],
                  "credential": {"type": "api-key", "file": str(pl.key_file)}},
            "gw": {"hosts": [f"c.test:{pl.port}"],
                   "credential": {"type": "api-key", "file": str(pl.key_file)},
                   "headers": {"api-key": "{secret}",
                               "Ocp-Apim-Subscription-Key": "{secret:apim}"}},
        },
    }


@pytest.fixture
def pl_factory(ctx, start_agent, preload_lib):
    """pl_factory(config=default_config, agent=True, fake_extra=(), agent_env=None) -> Preload.

    @config: a dict, or a callable taking the Preload (ports are known only then)."""
    made = []

    def make(config=default_config, agent=True, fake_extra=(), agent_env=None,
             name="pl"):
        pl = Preload(ctx, preload_lib, fake_extra=fake_extra, name=name)
        made.append(pl)
        if agent:
            cfg = config(pl) if callable(config) else config
            pl.agent = start_agent(config=ctx.write_config(cfg, name=f"{name}-agent.json"),
                                   env=ctx.env(sock=False, **(agent_env or {})))
        return pl

    yield make
    for pl in made:
        pl.stop()


@pytest.fixture
def pl(pl_factory):
    """The default scene with the agent running."""
    return pl_factory()


# --- git ----------------------------------------------------------------------------

GIT_IDENTITY = {"GIT_AUTHOR_NAME": "aoai test", "GIT_AUTHOR_EMAIL": "test@a.test",
                "GIT_COMMITTER_NAME": "aoai test", "GIT_COMMITTER_EMAIL": "test@a.test"}


def git_env(ctx, base=None, **extra):
    """An environment for git: no system or global configuration, no prompts."""
    env = dict(base if base is not None else ctx.env())
    env.update(GIT_IDENTITY)
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
                "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "/bin/false"})
    env.pop("SSH_ASKPASS", None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def git(ctx, *args, env=None, cwd=None, timeout=aoaitest.CMD_TIMEOUT):
    if not os.access(GIT, os.X_OK):
        pytest.fail("git is not installed (scripts/install-deps.sh test installs it)")
    return run([GIT, *map(str, args)], env or git_env(ctx), timeout=timeout, cwd=cwd)


def make_git_repo(ctx, name="repo.git"):
    """A bare repository with one commit under ctx.dir/gitroot, prepared for dumb
    HTTP (`git update-server-info`).  Returns (gitroot, the commit's id)."""
    root = ctx.path("gitroot")
    root.mkdir(exist_ok=True)
    work = ctx.path("gitwork")
    aoaitest.expect_rc(git(ctx, "init", "-q", "-b", "main", work), 0, "git init")
    (work / "README").write_text("served by fake_aoai --git-root\n")
    aoaitest.expect_rc(git(ctx, "-C", work, "add", "README"), 0, "git add")
    aoaitest.expect_rc(git(ctx, "-C", work, "commit", "-q", "-m", "first"), 0, "git commit")
    head = aoaitest.expect_rc(git(ctx, "-C", work, "rev-parse", "HEAD"), 0, "rev-parse")
    aoaitest.expect_rc(git(ctx, "clone", "-q", "--bare", work, root / name), 0, "clone --bare")
    aoaitest.expect_rc(git(ctx, "-C", root / name, "update-server-info"), 0,
                       "update-server-info")
    return root, head.stdout.strip()


def git_remote(ctx, cainfo, resolve, *args, env=None, extra_config=()):
    """git -c http.curloptResolve=… ARGS with GIT_SSL_CAINFO; @resolve: HOST:PORT:ADDR."""
    cfg = ["-c", f"http.curloptResolve={resolve}", "-c", "credential.helper=",
           "-c", "http.sslVerify=true"]
    for c in extra_config:
        cfg += ["-c", c]
    env = dict(env if env is not None else git_env(ctx))
    env["GIT_SSL_CAINFO"] = str(cainfo)
    return git(ctx, *cfg, *args, env=env)


# --- python3-pycurl -----------------------------------------------------------------

PYCURL_DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pycurl_driver.py")


def pycurl_run(ctx, env, mode, urls, cainfo, resolve, headers=(), timeout=aoaitest.CMD_TIMEOUT):
    """Runs tests/integration/pycurl_driver.py under /usr/bin/python3 (mode: easy, reuse,
    multi); returns ([{"url", "status", "error"}], CompletedProcess)."""
    spec = {"mode": mode, "urls": list(urls), "cainfo": str(cainfo), "resolve": list(resolve),
            "headers": list(headers)}
    r = run([aoaitest.PYTHON, PYCURL_DRIVER], env, input=json.dumps(spec), timeout=timeout)
    if r.returncode == 3:
        pytest.fail("python3-pycurl is not installed (scripts/install-deps.sh test installs it)")
    aoaitest.expect_rc(r, 0, f"pycurl driver ({mode})")
    try:
        return json.loads(r.stdout), r
    except ValueError:
        fail(f"pycurl driver printed no JSON:\n{aoaitest.describe(r)}")
