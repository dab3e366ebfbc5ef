# SPDX-License-Identifier: MIT
"""Helpers for the integration tests: running the real binaries, a raw
protocol client, and assertions that never print a secret.

Every secret a test makes goes through `Ctx.secret()`, which registers it
here; all failure messages pass through `redact()`, so a failing test shows
`<secret>` instead of the value.  Do not use a bare `assert x in out` where
x or out may hold a secret: pytest's assertion rewriting would print both.
"""

import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

PROTO_MAX_FRAME = 256 * 1024
# `make valgrind` runs every agent the tests start under memcheck; its report
# goes to <agent log>.valgrind and is checked when the test ends.
VALGRIND = os.environ.get("AOAI_TEST_VALGRIND") == "1"
READY_TIMEOUT = 30.0 if VALGRIND else 15.0  # seconds to signal readiness (ASan builds are slow)
CMD_TIMEOUT = 20.0    # seconds for one CLI invocation
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "Segmentation fault", "stack smashing detected", "*** buffer overflow detected")

_SECRETS = set()


# --- secrets and assertions ------------------------------------------------

def register_secret(value):
    """Remembers @value so that redact() hides it in every failure message."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")
    if value:
        _SECRETS.add(value)
    return value


def forget_secrets():
    _SECRETS.clear()


def redact(text):
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    for s in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(s, "<secret>")
    return text


def fail(msg):
    pytest.fail(redact(msg), pytrace=False)


def assert_absent(secret, text, what):
    """Fails when @secret occurs in @text, without ever echoing either."""
    if isinstance(text, bytes):
        secret = secret.encode() if isinstance(secret, str) else secret
    if secret in text:
        pytest.fail(f"a secret appears in {what}", pytrace=False)


def assert_present(secret, text, what):
    """Fails when @secret does not occur in @text, without echoing the secret."""
    if secret not in text:
        fail(f"expected value not found in {what}; it was:\n{text}")


def assert_line(line, text, what):
    """Fails unless @text has exactly @line as one of its lines (may hold a secret)."""
    if line not in text.splitlines():
        fail(f"expected line not found in {what}; it was:\n{text}")


def describe(r):
    """A redacted account of a CompletedProcess, for failure messages."""
    args = " ".join(str(a) for a in r.args) if isinstance(r.args, (list, tuple)) else r.args
    return (f"command: {redact(args)}\nexit: {r.returncode}\n"
            f"--- stdout ---\n{redact(r.stdout)}\n--- stderr ---\n{redact(r.stderr)}")


def expect_rc(r, code, what=""):
    """Fails unless the process exited with @code (an int or a collection of ints)."""
    codes = (code,) if isinstance(code, int) else tuple(code)
    if r.returncode not in codes:
        fail(f"{what}: expected exit {code}, got {r.returncode}\n{describe(r)}")
    return r


def check_sanitizers(text, what):
    for mark in SANITIZER_MARKS:
        if mark in (text or ""):
            fail(f"{what} reports '{mark}':\n{text}")


def wait_until(pred, timeout, what, interval=0.05):
    """Polls an observable state until @pred() is truthy; bounded in time."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def find_header(obj, name):
    """Searches a decoded `headers --json` output for header @name; returns its value."""
    if isinstance(obj, dict):
        if isinstance(obj.get("name"), str) and obj["name"].lower() == name.lower() \
                and "value" in obj:
            return obj["value"]
        for v in obj.values():
            found = find_header(v, name)
            if found is not None:
                return found
    elif isinstance(obj, list):
        for v in obj:
            found = find_header(v, name)
            if found is not None:
                return found
    return None


def pid_alive(pid):
    """True while @pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    # state is the field after the parenthesised command name
    return stat[stat.rfind(")") + 2:][:1] not in ("Z", "X")


def pid_is_agent(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv0 = f.read().split(b"\0")[0]
    except OSError:
        return False
    return os.path.basename(argv0) == b"aoai-agent"


def parse_sh_env(text, env):
    """Evaluates sh-syntax output with /bin/sh; returns AOAI_AUTH_SOCK and AOAI_AGENT_PID
    ("<unset>" for a variable the output did not set)."""
    script = ('eval "$1" >/dev/null || exit 99; '
              'printf "%s\\0" "${AOAI_AUTH_SOCK-<unset>}" "${AOAI_AGENT_PID-<unset>}"')
    env = {k: v for k, v in env.items() if k not in ("AOAI_AUTH_SOCK", "AOAI_AGENT_PID")}
    r = subprocess.run(["/bin/sh", "-c", script, "sh", text], env=env, capture_output=True,
                       text=True, timeout=CMD_TIMEOUT)
    if r.returncode != 0:
        fail(f"/bin/sh could not evaluate the agent's output:\n{text}\n{describe(r)}")
    vals = r.stdout.split("\0")
    return {"AOAI_AUTH_SOCK": vals[0], "AOAI_AGENT_PID": vals[1]}


# --- running the CLI -------------------------------------------------------

def run(args, env, input=None, timeout=CMD_TIMEOUT, cwd=None):
    """Runs a program; returns a CompletedProcess (text).  Never hangs past @timeout."""
    if isinstance(input, bytes):
        input = input.decode("utf-8", "surrogateescape")
    try:
        r = subprocess.run([str(a) for a in args], env=env, input=input if input is not None
                           else "", capture_output=True, text=True, timeout=timeout, cwd=cwd,
                           errors="replace")
    except subprocess.TimeoutExpired as e:
        fail(f"command did not finish within {timeout}s: {redact(' '.join(map(str, args)))}\n"
             f"stdout so far: {redact(e.stdout)}\nstderr so far: {redact(e.stderr)}")
    check_sanitizers(r.stderr, f"`{' '.join(map(str, args[:2]))}`")
    return r


# --- the agent ---------------------------------------------------------------

class Agent:
    """An aoai-agent in the foreground (-d by default), ready once started."""

    PID_RE = re.compile(r"AOAI_AGENT_PID\D*(\d+)")

    def __init__(self, binary, env, log_path, sock=None, config=None, args=(), debug=True,
                 nofile=None, memlock=None, user=None):
        self.binary = binary
        self.env = env
        self.log_path = log_path
        self.sock = sock
        self.config = config
        self.args = list(args)
        self.debug = debug
        self.nofile = nofile       # a descriptor limit (soft and hard) to start it with
        self.memlock = memlock     # an RLIMIT_MEMLOCK (bytes) to start it with, in force
        self.user = user           # a uid to run it as (setpriv; the caller must be root)
        self.proc = None
        self.pid = None
        self.env_text = ""
        self.expect_exit = 0       # checked at teardown; None: don't check
        self._rest = []
        self._drain = None

    def valgrind_log(self):
        return f"{self.log_path}.valgrind"

    def argv(self):
        argv = [str(self.binary), "-d" if self.debug else "-D"]
        if VALGRIND:
            argv = ["valgrind", "--tool=memcheck", "--leak-check=full",
                    "--show-leak-kinds=definite,indirect",
                    "--errors-for-leak-kinds=definite,indirect", "--num-callers=30",
                    "--child-silent-after-fork=yes",
                    f"--log-file={self.valgrind_log()}"] + argv
        if self.nofile is not None:
            argv = ["prlimit", f"--nofile={self.nofile}:{self.nofile}", "--"] + argv
        if self.memlock is not None:
            # Root's CAP_IPC_LOCK ignores the limit: drop it for the agent.
            argv = ["prlimit", f"--memlock={self.memlock}:{self.memlock}", "--", "setpriv",
                    "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock", "--"] + argv
        if self.user is not None:
            argv = as_user(self.user) + argv
        if self.sock is not None:
            argv += ["-a", str(self.sock)]
        if self.config is not None:
            argv += ["-f", str(self.config)]
        return argv + [str(a) for a in self.args]

    def start(self, timeout=READY_TIMEOUT):
        """Starts the agent and reads stdout until the AOAI_AGENT_PID line."""
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(self.argv(), env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=log)
        finally:
            log.close()
        buf = b""
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while not any(self.PID_RE.search(l.decode("utf-8", "replace"))
                      for l in buf.split(b"\n")[:-1]):
            left = deadline - time.monotonic()
            if left <= 0:
                self.proc.kill()
                self.proc.wait(5)
                fail(f"agent not ready within {timeout}s ({self.argv()}); stdout:\n{buf!r}\n"
                     f"log:\n{self.log()}")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    rc = self.proc.wait(5)
                    fail(f"agent exited ({rc}) before it was ready ({self.argv()}); stdout:\n"
                         f"{buf!r}\nlog:\n{self.log()}")
                buf += chunk
        self.env_text = buf.decode("utf-8", "replace")
        self.pid = int(self.PID_RE.search(self.env_text).group(1))
        self._drain = threading.Thread(target=self._drain_stdout, daemon=True)
        self._drain.start()
        return self

    def _drain_stdout(self):
        # Keeps the pipe from filling; bounded by the process's lifetime.
        try:
            for chunk in iter(lambda: self.proc.stdout.read1(4096), b""):
                self._rest.append(chunk)
        except (OSError, ValueError):
            pass

    def stdout_text(self):
        return self.env_text + b"".join(self._rest).decode("utf-8", "replace")

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pred, timeout=5.0, what="a log line"):
        """Waits until @pred(log text) holds (a string is a substring test)."""
        test = (lambda t: pred in t) if isinstance(pred, str) else pred
        deadline = time.monotonic() + timeout
        while True:
            text = self.log()
            if test(text):
                return text
            if time.monotonic() >= deadline:
                fail(f"timed out waiting for {what} in the agent log:\n{text}")
            time.sleep(0.05)

    def valgrind_problems(self):
        """Memcheck's complaints about this agent, if it ran under valgrind and
        exited by itself (a SIGKILLed agent leaves no summary)."""
        try:
            with open(self.valgrind_log(), encoding="utf-8", errors="replace") as f:
                text = f.read()
        except FileNotFoundError:
            return None
        m = re.search(r"ERROR SUMMARY: (\d+) errors", text)
        return text if m and int(m.group(1)) > 0 else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=10.0):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            fail(f"agent (pid {self.proc.pid}) did not exit within {timeout}s; log:\n{self.log()}")
        if self._drain is not None:
            self._drain.join(5)
        return rc

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Sends @sig and waits; returns the exit status."""
        if self.alive():
            self.send_signal(sig)
        return self.wait(timeout)


def as_user(uid):
    """The argv prefix that runs a command as @uid (and its gid), without
    supplementary groups; needs root and util-linux's setpriv."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        fail("setpriv (util-linux) is missing: scripts/install-deps.sh test installs it")
    return [setpriv, "--reuid", str(uid), "--regid", str(uid), "--clear-groups", "--"]


# --- raw protocol client ------------------------------------------------------

class RawClient:
    """Speaks the frame format directly, for protocol edge cases."""

    def __init__(self, path, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.timeout = timeout
        self.sock.connect(str(path))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send_frame(self, payload, length=None):
        if isinstance(payload, str):
            payload = payload.encode()
        n = len(payload) if length is None else length
        self.sock.sendall(struct.pack(">I", n) + payload)

    def send_json(self, obj):
        self.send_frame(json.dumps(obj).encode())

    def _recv_exact(self, n, timeout):
        buf = b""
        deadline = time.monotonic() + timeout
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no complete frame within {timeout}s (got {len(buf)} bytes)")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(n - len(buf))
            except socket.timeout:
                raise TimeoutError(f"no complete frame within {timeout}s (got {len(buf)} bytes)")
            if not chunk:
                raise EOFError(f"connection closed after {len(buf)} of {n} bytes")
            buf += chunk
        return buf

    def recv_frame(self, timeout=None):
        """Reads one frame and returns the decoded JSON object."""
        timeout = self.timeout if timeout is None else timeout
        (n,) = struct.unpack(">I", self._recv_exact(4, timeout))
        if n == 0 or n > PROTO_MAX_FRAME:
            fail(f"agent sent a frame of invalid length {n}")
        payload = self._recv_exact(n, timeout)
        try:
            obj = json.loads(payload)
        except ValueError:
            fail(f"agent sent a frame that is not JSON: {payload[:200]!r}")
        if not isinstance(obj, dict) or obj.get("v") != 1 or not isinstance(obj.get("ok"), bool):
            fail(f"agent reply lacks v=1 / ok: {redact(payload[:500])}")
        return obj

    def request(self, obj, timeout=None):
        self.send_json(obj)
        return self.recv_frame(timeout)

    def readable(self, timeout=0.0):
        r, _, _ = select.select([self.sock], [], [], timeout)
        return bool(r)

    def closed_by_peer(self, timeout=None):
        """True when the agent closed the connection (EOF or reset) within @timeout,
        False when it is still open; fails if it sends data instead."""
        timeout = self.timeout if timeout is None else timeout
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        if data:
            fail(f"expected the connection to close, but the agent sent data: {data!r}")
        return True


def expect_error(reply, code, what=""):
    if reply.get("ok") is not False or reply.get("error") != code:
        fail(f"{what}: expected error '{code}', got {json.dumps(reply)}")
    if not isinstance(reply.get("message"), str):
        fail(f"{what}: error reply without a message: {json.dumps(reply)}")
    return reply


def expect_ok(reply, what=""):
    if reply.get("ok") is not True:
        fail(f"{what}: expected ok, got {json.dumps(reply)}")
    return reply


# --- the fake Azure OpenAI endpoint ------------------------------------------

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAKE_AOAI = os.path.join(TESTS_DIR, "fakes", "fake_aoai.py")
PYTHON = "/usr/bin/python3"


def expect_version(r, name):
    """@r is `NAME --version`: "NAME VERSION" on stdout, exit 0, VERSION as the
    Makefile (the one place it is written) has it."""
    with open(os.path.join(os.path.dirname(TESTS_DIR), "Makefile")) as f:
        m = re.search(r"^VERSION :?= *(\S+)$", f.read(), re.M)
    assert m, "no VERSION line in the Makefile"
    expect_rc(r, 0, f"{name} --version")
    if r.stdout != f"{name} {m.group(1)}\n" or r.stderr:
        fail(f"expected exactly '{name} {m.group(1)}' on stdout:\n{describe(r)}")


def api_key_profile(*hosts, **extra):
    """A config-file profile of credential type api-key for @hosts."""
    p = {"hosts": list(hosts), "credential": {"type": "api-key"}}
    p.update(extra)
    return p


class FakeAoai:
    def __init__(self, proc, port, key, key_file, log):
        self.proc = proc
        self.port = port
        self.key = key
        self.key_file = key_file
        self.log = log
        self.hostport = f"127.0.0.1:{port}"
        self.base = f"http://127.0.0.1:{port}"
        self.chat_url = (f"{self.base}/openai/deployments/gpt-4o/chat/completions"
                         "?api-version=2024-10-21")

    def requests(self):
        try:
            with open(self.log) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []


def start_fake(ctx, name="fake", key=None, extra=()):
    """Starts tests/fakes/fake_aoai.py with a fresh random key; waits for its port."""
    key = key or ctx.secret()
    key_file = ctx.write_file(f"{name}.key", key + "\n")
    log = ctx.path(f"{name}.requests.jsonl")
    with open(ctx.path(f"{name}.stderr"), "wb") as err:
        proc = subprocess.Popen([PYTHON, FAKE_AOAI, "--key-file", str(key_file), "--log",
                                 str(log), "--max-lifetime", "900", *extra],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                                env=ctx.base_env())
    buf = b""
    deadline = time.monotonic() + READY_TIMEOUT
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        ready = select.select([proc.stdout], [], [], max(left, 0))[0] if left > 0 else []
        if not ready:
            proc.kill()
            proc.wait(5)
            fail(f"fake_aoai did not report its port in time; stdout: {buf!r}")
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            proc.wait(5)
            fail(f"fake_aoai exited early: {ctx.path(name + '.stderr').read_text()}")
        buf += chunk
    line = buf.split(b"\n")[0].decode()
    if not line.startswith("listening on 127.0.0.1:"):
        proc.kill()
        fail(f"fake_aoai printed an unexpected first line: {line!r}")
    return FakeAoai(proc, int(line.rsplit(":", 1)[1]), key, key_file, log)


def stop_fake(fake):
    if fake.proc.poll() is None:
        fake.proc.terminate()
        try:
            fake.proc.wait(10)
        except subprocess.TimeoutExpired:
            fake.proc.kill()
            fake.proc.wait(5)
    fake.proc.stdout.close()


# --- the real curl -------------------------------------------------------------

CURL = shutil.which("curl")
CHAT_BODY = json.dumps({"messages": [{"role": "user", "content": "Say hello"}]})


def curl_chat(ctx, url, with_headers_from=None):
    """POSTs a chat request with curl; returns (http status, body).  With
    @with_headers_from (the aoai binary), runs `aoai headers URL | curl -H @- URL`."""
    if CURL is None:
        pytest.fail("curl is not installed (scripts/install-deps.sh test installs it)")
    body = ctx.write_file("req.json", CHAT_BODY)
    out = ctx.path("resp.json")
    out.unlink(missing_ok=True)
    curl_cmd = ('curl -sS --max-time 10 -o "$3" -w "%{http_code}" '
                '-H "Content-Type: application/json" --data-binary @"$2"')
    if with_headers_from:
        script = f'set -e; "$4" headers "$1" | {curl_cmd} -H @- "$1"'
    else:
        script = f'{curl_cmd} "$1"'
    r = run(["/bin/sh", "-c", script, "sh", url, body, out, with_headers_from or ""],
            ctx.env())
    expect_rc(r, 0, "curl")
    return int(r.stdout.strip() or 0), (out.read_text() if out.exists() else "")
