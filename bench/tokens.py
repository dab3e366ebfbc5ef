# SPDX-License-Identifier: MIT
"""`make bench` section 6 — token amortisation: many clients, one identity request.

bench/run.py calls run(ctx) (ctx.build, ctx.repo, ctx.tmp, ctx.cpu_pin) and
prints the rows it returns.  The scene: tests/fakes/fake_identity.py (the fake
IMDS, every token request answered only after DELAY_S, scripted through its
control API), and a real aoai-agent with one managed-identity profile whose
`endpoint` is the fake's IMDS URL.

CLIENTS connections to the agent, all open before the clock starts, each send
one `token` request (protocol/PROTOCOL.md: 4-byte big-endian length + JSON) in
a burst; a selector loop reads the replies, and a client's latency is from its
own send to its complete reply.  One process and thread, not 200 threads: the
client side then adds microseconds, not GIL hand-offs, so the figures are the
agent's.

  cold   nothing cached: COLD_ROUNDS bursts, each on a freshly started agent
         (empty cache; its first connection to the fake, as on a new machine —
         a kept-alive one to this Python fake adds a 40 ms delayed-ACK stall that
         the fake's two send()s cause, not the agent); the fake must see exactly
         one request per burst (single flight) and every client gets that one
         token; latency ~ DELAY_S.
  warm   the last agent's connections asking again for the cached token,
         WARM_ROUNDS bursts; the fake must see no request at all.

The agent and this client run on CPU ctx.cpu_pin (the fake only sleeps).
Tokens are checked (all ok, one distinct value per burst) and never printed.
"""

import json
import math
import os
import secrets
import selectors
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from benchproc import (READY_TIMEOUT, BenchError, base_env, private_file, read_line_matching,
                       row, set_affinity, stop_proc)

SECTION = "6 tokens"
PYTHON = "/usr/bin/python3"
CLIENTS = 200
DELAY_S = 0.2             # the fake's answer delay for every token request
COLD_ROUNDS = 5           # cold bursts, each on a fresh agent
COLD_SINGLE_ROUNDS = 5    # cold requests of a lone client, each on a fresh agent
WARM_ROUNDS = 5           # warm bursts on the same connections
WARM_SEQUENTIAL = 2000    # warm requests of one client, one after another
BURST_TIMEOUT = 30.0      # seconds for all replies of one burst
CONTROL_TIMEOUT = 10.0    # seconds for one control-API call
FAKE_LIFETIME = 300       # seconds the fake lives at most (stopped long before)
MAX_FRAME = 256 * 1024    # PROTO_MAX_FRAME
IMDS_PATH = "/metadata/identity/oauth2/token"
PROFILE = "vm"
COLD_TARGET_MS = DELAY_S * 1000 + 20  # the fake's delay plus a small margin


# --- the scene ----------------------------------------------------------------------

class Scene:
    """The fake identity service and the agent; stops both, also on error."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.tmp = Path(ctx.tmp)
        self.env = base_env(self.tmp, ctx.build)
        self.fake = self.agent = None
        self.sock = self.tmp / "run" / "agent.sock"
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __enter__(self):
        try:
            self._start_fake()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        stop_proc(self.agent)
        stop_proc(self.fake)

    def _start_fake(self):
        key = private_file(self.tmp / "jwt.key", secrets.token_hex(32) + "\n")  # fake secret
        script = Path(self.ctx.repo) / "tests" / "fakes" / "fake_identity.py"
        with open(self.tmp / "fake_identity.stderr", "wb") as err:
            self.fake = subprocess.Popen(
                [PYTHON, str(script), "--port", "0", "--jwt-key-file", str(key),
                 "--max-lifetime", str(FAKE_LIFETIME)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, env=self.env)
        line = read_line_matching(self.fake, "listening on 127.0.0.1:", "fake_identity")
        self.base = f"http://127.0.0.1:{int(line.rsplit(':', 1)[1])}"

    def start_agent(self):
        """A fresh agent (the previous one stopped): an empty token cache and no
        connection to the fake yet."""
        stop_proc(self.agent)
        self.agent = None
        cfg = {"profiles": {PROFILE: {
            "hosts": ["bench.openai.azure.com"],
            "credential": {"type": "managed-identity", "endpoint": self.base + IMDS_PATH}}}}
        config = private_file(self.tmp / "agent.json", json.dumps(cfg))
        with open(self.tmp / "agent.log", "ab") as err:
            self.agent = subprocess.Popen(
                [str(self.ctx.build / "bin" / "aoai-agent"), "-D", "-s", "-a", str(self.sock),
                 "-f", str(config)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, env=self.env)
        read_line_matching(self.agent, "AOAI_AGENT_PID=", "aoai-agent")
        return self.agent.pid

    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with self.opener.open(req, timeout=CONTROL_TIMEOUT) as r:
                return json.loads(r.read())
        except (OSError, ValueError) as e:
            raise BenchError(f"fake_identity control {method} {path}: {e}") from None

    def imds_requests(self):
        return sum(1 for e in self.control("GET", "/_fake/requests")["requests"]
                   if e["source"] == "imds")

    def delay_every_request(self):
        """Clears the fake's log and queues a delayed answer for more requests than a
        burst could make, so that every token request waits DELAY_S."""
        self.control("POST", "/_fake/reset")
        self.control("POST", "/_fake/script",
                     {"source": "imds", "responses": [{"delay": DELAY_S}] * (CLIENTS + 10)})


# --- the clients ----------------------------------------------------------------------

class Client:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        # A blocking connect, bounded by SO_SNDTIMEO: with more clients than the agent's
        # listen backlog (128) a non-blocking one fails with EAGAIN until it accepts.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO,
                             struct.pack("ll", int(READY_TIMEOUT), 0))
        self.sock.connect(str(path))
        self.sock.setblocking(False)
        self.buf = b""
        self.sent = self.done = None
        self.reply = None

    def frame_complete(self):
        if len(self.buf) < 4:
            return False
        (n,) = struct.unpack(">I", self.buf[:4])
        if n == 0 or n > MAX_FRAME:
            raise BenchError(f"the agent sent a frame of length {n}")
        return len(self.buf) >= 4 + n


def burst(clients, request):
    """Every client sends @request (bytes, framed); returns the latencies in ns once
    every reply is in.  Leaves each reply in client.reply."""
    sel = selectors.DefaultSelector()
    for c in clients:
        c.buf, c.done, c.reply = b"", None, None
        sel.register(c.sock, selectors.EVENT_READ, c)
    try:
        for c in clients:
            c.sent = time.perf_counter_ns()
            c.sock.sendall(request)  # small: fits the socket buffer at once
        read_replies(sel, len(clients))
    finally:
        sel.close()
    for c in clients:
        c.reply = json.loads(c.buf[4:])
    return [c.done - c.sent for c in clients]


def read_replies(sel, n):
    deadline = time.monotonic() + BURST_TIMEOUT
    left = n
    while left:
        wait = deadline - time.monotonic()
        if wait <= 0:
            raise BenchError(f"{left} of {n} clients got no reply within {BURST_TIMEOUT}s")
        for key, _ in sel.select(wait):
            c = key.data
            chunk = c.sock.recv(65536)
            if not chunk:
                raise BenchError("the agent closed a client connection")
            c.buf += chunk
            if c.frame_complete():
                c.done = time.perf_counter_ns()
                sel.unregister(c.sock)
                left -= 1


def frame(obj):
    payload = json.dumps(obj).encode()
    return struct.pack(">I", len(payload)) + payload


# For the profile's configured scope (the default one), as `aoai token vm` asks.
TOKEN_REQUEST = frame({"v": 1, "op": "token", "profile": PROFILE})


def distinct_tokens(clients, what):
    """How many different tokens the clients got; fails on any error reply."""
    tokens = set()
    for c in clients:
        if c.reply.get("ok") is not True or not c.reply.get("access_token"):
            err = {k: c.reply.get(k) for k in ("error", "message")}
            raise BenchError(f"{what}: a client got no token: {err}")
        tokens.add(c.reply["access_token"])
    return len(tokens)


# --- the measurement --------------------------------------------------------------------

def percentile(sorted_ns, q):
    """Nearest-rank percentile of sorted samples, in ms."""
    rank = max(1, math.ceil(q / 100 * len(sorted_ns)))
    return sorted_ns[rank - 1] / 1e6


def close_all(clients):
    for c in clients:
        c.sock.close()
    clients.clear()


def cold_rounds(sc, clients, pin, rounds, n):
    """@rounds bursts of @n clients, each on a fresh agent (empty cache, no kept-alive
    connection to the fake) with @clients connected anew; (latencies, identity requests
    per burst)."""
    lat, fetches = [], []
    for i in range(rounds):
        close_all(clients)
        set_affinity(sc.start_agent(), {pin})
        sc.delay_every_request()
        clients += [Client(sc.sock) for _ in range(n)]
        if sc.imds_requests() != 0:
            raise BenchError("the agent asked for a token before any client did")
        lat += burst(clients, TOKEN_REQUEST)
        fetches.append(sc.imds_requests())
        if distinct_tokens(clients, f"cold burst {i}") != 1:
            raise BenchError(f"cold burst {i}: clients got different tokens")
    return lat, fetches


def warm_rounds(sc, clients):
    """WARM_ROUNDS bursts on the last cold round's agent and connections."""
    sc.control("POST", "/_fake/reset")
    lat = []
    for i in range(WARM_ROUNDS):
        lat += burst(clients, TOKEN_REQUEST)
        if distinct_tokens(clients, f"warm burst {i}") != 1:
            raise BenchError(f"warm burst {i}: clients got different tokens")
    return lat


def warm_sequential(client):
    """WARM_SEQUENTIAL requests one after another on one connection (no queueing)."""
    lat = []
    for i in range(WARM_SEQUENTIAL):
        lat += burst([client], TOKEN_REQUEST)
        if client.reply.get("ok") is not True:
            raise BenchError(f"warm request {i} failed: {client.reply.get('error')}")
    return lat


def latency_rows(what, lat, pin, target_ms=None, quantiles=(50, 99)):
    """Percentile rows of @lat (ns): in ms, or in us when the median is below 1 ms."""
    lat = sorted(lat)
    in_us = percentile(lat, 50) < 1.0
    rows = []
    for q in quantiles:
        ms = percentile(lat, q)
        rows.append(row(SECTION, f"{what}: latency p{q} (pinned cpu{pin})",
                        round(ms * 1e3, 1) if in_us else round(ms, 2), "us" if in_us else "ms",
                        target=None if target_ms is None else f"<= {target_ms:g} ms",
                        met=None if target_ms is None else ms <= target_ms))
    return rows


def measure(sc, pin):
    """All rows; this thread and the agent on CPU @pin meanwhile."""
    saved = os.sched_getaffinity(0)
    clients = []
    try:
        os.sched_setaffinity(0, {pin})
        single, _ = cold_rounds(sc, clients, pin, COLD_SINGLE_ROUNDS, 1)
        cold, fetches = cold_rounds(sc, clients, pin, COLD_ROUNDS, CLIENTS)
        warm = warm_rounds(sc, clients)
        seq = warm_sequential(clients[0])
        warm_fetches = sc.imds_requests()
    finally:
        close_all(clients)
        os.sched_setaffinity(0, saved)
    delay = f"{DELAY_S * 1000:g} ms"
    rows = [row(SECTION, f"cold: identity requests per burst of {CLIENTS} clients, fake IMDS "
                f"answering after {delay} (max of {COLD_ROUNDS} bursts)", float(max(fetches)),
                "req", target="== 1", met=all(f == 1 for f in fetches))]
    rows += latency_rows(f"cold, {CLIENTS} clients x {COLD_ROUNDS} bursts", cold, pin,
                         COLD_TARGET_MS)
    rows += latency_rows(f"cold, 1 client x {COLD_SINGLE_ROUNDS}", single, pin, COLD_TARGET_MS,
                         quantiles=(50,))
    rows.append(row(SECTION, f"warm: identity requests for {len(warm) + len(seq)} token requests",
                    float(warm_fetches), "req", target="== 0", met=warm_fetches == 0))
    rows += latency_rows(f"warm, {CLIENTS} clients x {WARM_ROUNDS} bursts", warm, pin)
    rows += latency_rows(f"warm, 1 client, {WARM_SEQUENTIAL} in sequence", seq, pin)
    return rows


def run(ctx):
    """Section 6's rows (see the module docstring)."""
    agent = ctx.build / "bin" / "aoai-agent"
    if not agent.is_file():
        raise BenchError(f"{agent} is missing: `make all` first")
    with Scene(ctx) as sc:
        return measure(sc, int(ctx.cpu_pin))
