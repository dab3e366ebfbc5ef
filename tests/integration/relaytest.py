# SPDX-License-Identifier: MIT
"""Harness for the tests of aoai-exec's relay (test_exec_relay*.py) and of the
fake's relay routes (test_fake_relay.py).

    fake = start_relay_fake(ctx)        fake_aoai.py with --events
    events(fake), wait_event(fake, kind, target=None, count=1, timeout=...)
    open_gate(fake, name)               lets a gated stream go on (sent to the fake directly)
    relay_scene fixture                 fake + agent with api-key profile "k"
    holder = start_holder(ctx, exec_child, *opts)
        aoai-exec OPTS running a child that reports its environment and waits:
        holder.endpoint, holder.placeholder, holder.base (http://127.0.0.1:PORT),
        holder.port, holder.exec_pid (the aoai-exec process), holder.child_pid;
        holder.finish() ends it (exit 0 expected)
    Conn(port)                          a raw HTTP/1.1 client: request(), response reading
"""

import hashlib
import http.client
import json
import re
import select
import socket
import time

import pytest

import aoaitest
from aoaitest import PYTHON, fail, start_fake, stop_fake

PLACEHOLDER_RE = re.compile(r"aoai-relay-[0-9a-f]{64}")
API_VERSION = "2024-10-21"
CHAT_PATH = f"/openai/deployments/gpt-4o/chat/completions?api-version={API_VERSION}"
V1_CHAT_PATH = "/openai/v1/chat/completions"
IO_TIMEOUT = 15.0  # seconds for one socket operation of a test client
MB = 1024 * 1024


def start_relay_fake(ctx, name="fake", extra=()):
    """fake_aoai.py with --events FILE (fake.events_path)."""
    events_path = ctx.path(f"{name}.events.jsonl")
    fake = start_fake(ctx, name=name, extra=["--events", str(events_path), *extra])
    fake.events_path = events_path
    return fake


def events(fake, kind=None, target=None):
    try:
        with open(fake.events_path) as f:
            evs = [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []
    return [e for e in evs if (kind is None or e["event"] == kind)
            and (target is None or e["target"] == target)]


def wait_event(fake, kind, target=None, count=1, timeout=10.0):
    """Waits until the fake has recorded @count events @kind (bounded); returns them."""
    return aoaitest.wait_until(lambda: (lambda evs: evs if len(evs) >= count else None)(
        events(fake, kind, target)), timeout, f"{count} '{kind}' event(s) of the fake "
        f"{target or ''}; it has: {events(fake)}")


def open_gate(fake, name):
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=IO_TIMEOUT)
    try:
        conn.request("POST", f"/fake/gate?name={name}")
        r = conn.getresponse()
        r.read()
        assert r.status == 200, f"opening gate {name}: {r.status}"
    finally:
        conn.close()


def api_requests(fake, path_suffix):
    """The fake's log entries (requests that reached it) whose path ends with @path_suffix."""
    return [e for e in fake.requests() if e["path"].endswith(path_suffix)]


def sha12(value):
    """The fake's fingerprint of a header value (first 12 hex digits of its SHA-256)."""
    if isinstance(value, str):
        value = value.encode()
    return hashlib.sha256(value).hexdigest()[:12]


def chat_body(stream=False, model=None):
    body = {"messages": [{"role": "user", "content": "Say hello"}]}
    if stream:
        body["stream"] = True
    if model:
        body["model"] = model
    return json.dumps(body).encode()


def sanitized(build):
    """Whether aoai-exec is an AddressSanitizer build (`make asan`): its shadow memory and
    quarantine make RSS say nothing about the relay's buffers."""
    with open(build.root / "bin" / "aoai-exec", "rb") as f:
        return b"__asan_init" in f.read()


def check_peak_rss(build, pid, limit_kb, what, base_kb=None, growth_kb=None):
    """Fails when process @pid's VmHWM reached @limit_kb, or grew by @growth_kb or more
    from @base_kb (an earlier VmHWM); not checked under ASan."""
    if sanitized(build):
        return
    hwm = vm_kb(pid, "VmHWM")
    if hwm >= limit_kb:
        fail(f"aoai-exec peaked at {hwm} kB (limit {limit_kb} kB) {what}")
    if base_kb is not None and hwm - base_kb >= growth_kb:
        fail(f"aoai-exec's peak grew from {base_kb} to {hwm} kB {what}: it holds the body")


def warm_hwm(holder):
    """aoai-exec's VmHWM after one small request through the relay (its working set
    before a big transfer)."""
    status, _, _ = request(holder, "GET", "/echo/warm")
    assert status == 200, status
    return vm_kb(holder.exec_pid, "VmHWM")


def vm_kb(pid, field):
    """A VmHWM/VmRSS-like field of /proc/PID/status, in kB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    fail(f"no {field} in /proc/{pid}/status")


# --- the scene ---------------------------------------------------------------

class Scene:
    pass


@pytest.fixture
def relay_scene(ctx, start_agent):
    """fake_aoai (with --events) and an agent whose api-key profile "k" covers it."""
    s = Scene()
    s.fake = start_relay_fake(ctx)
    s.key = s.fake.key
    s.config = {"profiles": {"k": {"hosts": [s.fake.hostport],
                                   "credential": {"type": "api-key",
                                                  "file": str(s.fake.key_file)}}}}
    s.agent = start_agent(config=ctx.write_config(s.config))
    yield s
    stop_fake(s.fake)
    # Whatever aoai-exec said (exec_child keeps its stderr in a file), never the key.
    for err in ctx.dir.glob("exec-*.stderr"):
        aoaitest.assert_absent(s.key.encode(), err.read_bytes(), f"aoai-exec's stderr ({err.name})")


# Writes its environment's relay variables as JSON to argv[1] (0600), the real
# key never being among them unless the test says so; prints "ready"; waits for
# a line on stdin.
HOLD = r"""
import json, os, sys
names = ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_KEY",
         "AOAI_EXEC", "IDENTITY_ENDPOINT")
out = {n: os.environ.get(n) for n in names}
out["pid"] = os.getpid()
out["ppid"] = os.getppid()
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, json.dumps(out).encode())
os.close(fd)
print("ready", flush=True)
sys.stdin.readline()
"""


KEY_VARS = ("AZURE_OPENAI_API_KEY", "OPENAI_API_KEY")


def key_shape(value):
    """What a key variable holds, safe to print: None, "<placeholder>" or a fingerprint."""
    if value is None:
        return None
    if PLACEHOLDER_RE.fullmatch(value):
        return "<placeholder>"
    return "fp:" + sha12(value)


class Holder:
    """The running holder.  @vars is its report with the key variables replaced by
    key_shape() (print only that); @raw_key the raw AZURE_OPENAI_API_KEY (never print
    it: it may be the real key); @placeholder the raw value only when it has the
    placeholder's shape."""

    def __init__(self, child, report):
        self.child = child
        self.raw_key = report["AZURE_OPENAI_API_KEY"]
        self.vars = {k: key_shape(v) if k in KEY_VARS else v for k, v in report.items()}
        self.same_key_vars = report["AZURE_OPENAI_API_KEY"] == report["OPENAI_API_KEY"]
        self.endpoint = report["AZURE_OPENAI_ENDPOINT"]
        self.placeholder = self.raw_key if self.vars["AZURE_OPENAI_API_KEY"] == "<placeholder>" \
            else None
        self.exec_pid = child.proc.pid
        self.child_pid = report["pid"]
        m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/.*", self.endpoint or "")
        self.port = int(m.group(1)) if m else None
        self.base = f"http://127.0.0.1:{self.port}"

    def conn(self, timeout=IO_TIMEOUT):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def auth(self):
        return {"api-key": self.placeholder}

    def finish(self):
        self.child.send("\n")
        rc = self.child.wait()
        assert rc == 0, f"aoai-exec exited {rc}; stderr:\n{self.child.stderr()}"
        return self.child.stderr()


def start_holder(ctx, exec_child, *opts, env=None, expect_relay=True):
    path = ctx.path(f"hold-{time.monotonic_ns()}.json")
    c = exec_child(*opts, "--", PYTHON, "-c", HOLD, path, env=env)
    line = c.line()
    assert line == "ready", f"holder said {line!r}; stderr:\n{c.stderr()}"
    report = json.loads(path.read_text())
    h = Holder(c, report)
    if expect_relay and (h.port is None or h.placeholder is None):
        fail(f"not a relay's environment: {h.vars}")
    return h


def read_hashed(resp, digest, n=0):
    """Reads @resp to its end into @digest; returns @n plus the bytes read."""
    while True:
        b = resp.read(1 << 16)
        if not b:
            return n
        digest.update(b)
        n += len(b)


# --- raw HTTP ------------------------------------------------------------------

def request(holder, method, path, body=None, headers=None, auth=True, timeout=IO_TIMEOUT):
    """One request to the relay on a fresh connection: (status, headers dict lower-case,
    body bytes)."""
    conn = holder.conn(timeout)
    try:
        h = dict(holder.auth() if auth else {})
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def raw_exchange(port, data, timeout=IO_TIMEOUT):
    """Sends @data on a fresh connection and reads until the server closes or a
    complete Content-Length response is in; returns the bytes read."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        buf = b""
        deadline = time.monotonic() + timeout
        while True:
            if b"\r\n\r\n" in buf:
                head, body = buf.split(b"\r\n\r\n", 1)
                m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if m and len(body) >= int(m.group(1)):
                    return buf
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([s], [], [], left)[0]:
                fail(f"no complete response within {timeout}s: {buf[:500]!r}")
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                return buf
            if not chunk:
                return buf
            buf += chunk
    finally:
        s.close()


def status_of(raw):
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", raw)
    return int(m.group(1)) if m else None


def azure_error(body, what):
    """Checks @body (bytes or dict) is {"error": {"code": str, "message": str}}."""
    try:
        obj = json.loads(body) if isinstance(body, (bytes, str)) else body
        err = obj["error"]
        assert isinstance(err["code"], str) and err["code"]
        assert isinstance(err["message"], str) and err["message"]
    except (ValueError, KeyError, TypeError, AssertionError):
        fail(f"{what}: not an Azure-shaped JSON error: {body!r:.500}")
    return obj["error"]


def sse_events(resp):
    """Yields the data: payloads of an SSE response (http.client), one event at a time."""
    buf = b""
    for _ in range(100000):
        while b"\n\n" in buf:
            ev, buf = buf.split(b"\n\n", 1)
            for line in ev.split(b"\n"):
                if line.startswith(b"data: "):
                    yield line[6:].decode()
        chunk = resp.read1(65536)
        if not chunk:
            return
        buf += chunk
