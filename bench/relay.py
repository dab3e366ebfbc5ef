# SPDX-License-Identifier: MIT
"""`make bench` section 9 — what aoai-exec's relay costs a client.

bench/run.py calls run(ctx) (ctx.build, ctx.repo, ctx.tmp, ctx.cpu_pin) and
prints the rows it returns.  The scene: bench/hook-server.c (C, keep-alive,
200 only with the right `api-key`) and tests/fakes/fake_aoai.py (streamed
downloads, uploads of any size) as upstreams, a real aoai-agent with one
api-key profile for each, and bench/relay-load.py as the client, in two arms
that run the same client code:

    direct  the client talks to the upstream itself, with the real key
    relay   the client runs under `aoai-exec -p PROFILE` and talks to the relay
            with the placeholder (AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY);
            the relay asks the agent for the header on every request

Rows (each against the direct arm of the same run):
  a) small GET, p50/p99 on one kept-alive connection; added p50 <= 0.3 ms
  b) time to the first byte of a streamed (chunked) body; added p50 <= 1 ms
  c) requests/s with 16 kept-alive clients; >= 2,000 req/s through the relay
  d) aoai-exec's peak RSS (VmHWM) with 64 concurrent 20 MB uploads; <= 64 MB
     (baseline: its VmHWM after one small request)

"pinned": client, relay, agent and upstream on CPU ctx.cpu_pin (the relay's
own cost); "unpinned": the scheduler's choice, what a user sees.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from benchproc import (BenchError, all_cpus, base_env, private_file, read_line_matching, row,
                       set_affinity, stop_proc)

SECTION = "9 relay"
PYTHON = "/usr/bin/python3"
HERE = Path(__file__).resolve().parent
CLIENT = HERE / "relay-load.py"
FAKE_AOAI = HERE.parent / "tests" / "fakes" / "fake_aoai.py"
LAT_N, LAT_WARM, LAT_ROUNDS = 3000, 300, 2
TTFB_N, TTFB_WARM = 400, 40
TTFB_PATH = "/fake/download?bytes=65536&mode=chunked"
TP_CLIENTS, TP_SECONDS = 16, 2.0
UP_CLIENTS, UP_SIZE = 64, 20 * 1024 * 1024
RUN_TIMEOUT = 600.0
SERVER_LIFETIME = 900
TARGET_LAT_US, TARGET_TTFB_US, TARGET_RPS, TARGET_RSS_KB = 300.0, 1000.0, 2000.0, 64 * 1024


class Scene:
    def __init__(self, ctx):
        self.ctx = ctx
        self.tmp = Path(ctx.tmp)
        self.env = base_env(self.tmp, ctx.build)
        self.procs = []
        self.key = os.urandom(16).hex()  # a fake secret, only in 0600 files and stdin
        self.key_file = private_file(self.tmp / "relay.key", self.key + "\n")
        self.sock = self.tmp / "run" / "agent.sock"
        self.sock.parent.mkdir(mode=0o700, exist_ok=True)

    def __enter__(self):
        try:
            import hook  # bench/hook.py: the C server's build
            self.hs_port = self._server("hook-server", [str(hook.server_binary(self.ctx)),
                                                        "--key-file", str(self.key_file),
                                                        "--max-lifetime", str(SERVER_LIFETIME)])
            self.fk_port = self._server("fake_aoai", [PYTHON, str(FAKE_AOAI), "--key-file",
                                                      str(self.key_file), "--max-lifetime",
                                                      str(SERVER_LIFETIME)])
            self._agent()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        for p in reversed(self.procs):
            stop_proc(p)

    def _server(self, name, argv):
        with open(self.tmp / f"{name}.stderr", "wb") as err:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=err, env=self.env)
        self.procs.append(p)
        return int(read_line_matching(p, "listening on 127.0.0.1:", name).rsplit(":", 1)[1])

    def _agent(self):
        prof = lambda port: {"hosts": [f"127.0.0.1:{port}"],  # noqa: E731
                             "credential": {"type": "api-key", "file": str(self.key_file)}}
        cfg = private_file(self.tmp / "agent.json", json.dumps(
            {"profiles": {"hs": prof(self.hs_port), "fk": prof(self.fk_port)}}))
        with open(self.tmp / "agent.log", "wb") as err:
            p = subprocess.Popen([str(self.ctx.build / "bin" / "aoai-agent"), "-D", "-s", "-a",
                                  str(self.sock), "-f", str(cfg)], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=err, env=self.env)
        self.procs.append(p)
        read_line_matching(p, "AOAI_AGENT_PID=", "aoai-agent")

    def pin(self, cpus):
        for p in self.procs:
            set_affinity(p.pid, cpus)
        os.sched_setaffinity(0, cpus)  # the clients (and aoai-exec) inherit it

    def client(self, relay, profile, spec):
        """Runs relay-load.py in one arm; its decoded output (all statuses 200 checked)."""
        port = self.hs_port if profile == "hs" else self.fk_port
        argv = [PYTHON, str(CLIENT)]
        if relay:
            argv = [str(self.ctx.build / "bin" / "aoai-exec"), "-p", profile, "--no-preload",
                    "--"] + argv
        else:
            spec = dict(spec, base=f"http://127.0.0.1:{port}", key=self.key)
        env = dict(self.env, AOAI_AUTH_SOCK=str(self.sock))
        r = subprocess.run(argv, input=json.dumps(spec), capture_output=True, text=True,
                           env=env, timeout=RUN_TIMEOUT)
        arm = "relay" if relay else "direct"
        if r.returncode != 0:
            raise BenchError(f"relay-load ({arm}, {spec['mode']}) exit {r.returncode}: "
                             f"{r.stderr[-500:].replace(self.key, '<key>')}")
        out = json.loads(r.stdout)
        bad = {k: v for k, v in out["statuses"].items() if k != "200"}
        if bad or out.get("errors"):
            raise BenchError(f"relay-load ({arm}, {spec['mode']}): statuses {out['statuses']}, "
                             f"errors {out.get('errors', [])[:3]}")
        return out


def pct(samples, q):
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))] / 1e3


def added_rows(sc, what, profile, spec, target_us, labels):
    rows = []
    for label, cpus in labels:
        sc.pin(cpus)
        arms = {True: [], False: []}
        for i in range(LAT_ROUNDS):
            for relay in ((True, False) if i % 2 == 0 else (False, True)):
                arms[relay] += sc.client(relay, profile, spec)["samples_ns"]
        relay_p50, direct_p50 = pct(arms[True], 0.5), pct(arms[False], 0.5)
        added = relay_p50 - direct_p50
        rows.append(row(SECTION, f"{what} p50 ({label})", round(relay_p50, 1), "us",
                        round(direct_p50, 1), "direct to the upstream"))
        rows.append(row(SECTION, f"{what} p99 ({label})", round(pct(arms[True], 0.99), 1), "us",
                        round(pct(arms[False], 0.99), 1), "direct to the upstream"))
        rows.append(row(SECTION, f"{what}: added by the relay, p50 ({label})", round(added, 1),
                        "us", target=f"<= {target_us:g} us", met=added <= target_us))
    return rows


def run(ctx):
    """Section 9's rows (see the module docstring)."""
    if not (ctx.build / "bin" / "aoai-exec").is_file():
        raise BenchError("build/bin/aoai-exec is missing: `make all` first")
    sys.path.insert(0, str(HERE))
    pin = int(ctx.cpu_pin)
    labels = ((f"pinned cpu{pin}", {pin}), ("unpinned", all_cpus()))
    saved = os.sched_getaffinity(0)
    rows = []
    with Scene(ctx) as sc:
        try:
            rows += added_rows(sc, "small GET", "hs", {"mode": "latency", "path": "/bench",
                                                      "n": LAT_N, "warmup": LAT_WARM},
                               TARGET_LAT_US, labels)
            rows += added_rows(sc, "time to first streamed byte", "fk",
                               {"mode": "ttfb", "path": TTFB_PATH, "n": TTFB_N,
                                "warmup": TTFB_WARM}, TARGET_TTFB_US, labels)
            sc.pin(all_cpus())
            spec = {"mode": "throughput", "path": "/bench", "clients": TP_CLIENTS,
                    "seconds": TP_SECONDS}
            tp = {relay: sc.client(relay, "hs", spec) for relay in (False, True)}
            rps = {k: v["requests"] / v["seconds"] for k, v in tp.items()}
            rows.append(row(SECTION, f"requests/s, {TP_CLIENTS} kept-alive clients (unpinned)",
                            round(rps[True]), "req/s", round(rps[False]), "direct to the upstream",
                            f">= {TARGET_RPS:g} req/s", rps[True] >= TARGET_RPS))
            idle = sc.client(True, "hs", {"mode": "latency", "path": "/bench", "n": 1,
                                          "warmup": 0})["parent_hwm_kb"]
            up = sc.client(True, "fk", {"mode": "upload", "path": "/fake/upload",
                                        "clients": UP_CLIENTS, "size": UP_SIZE})
            hwm = up["parent_hwm_kb"]
            rows.append(row(SECTION, f"aoai-exec peak RSS, {UP_CLIENTS} concurrent "
                            f"{UP_SIZE >> 20} MB uploads ({up['seconds']:.1f} s)",
                            round(hwm / 1024, 1), "MB", round(idle / 1024, 1),
                            "aoai-exec after one small request",
                            f"<= {TARGET_RSS_KB >> 10} MB", hwm <= TARGET_RSS_KB))
        finally:
            os.sched_setaffinity(0, saved)
    return rows
