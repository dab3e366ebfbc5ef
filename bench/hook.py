# SPDX-License-Identifier: MIT
"""`make bench` section 5 — what the LD_PRELOAD hook costs a libcurl program.

bench/run.py calls run(ctx) (ctx.build, ctx.repo, ctx.tmp, ctx.cpu_pin) and
prints the rows it returns.  The scene: bench/hook-server.c (a poll()-driven
HTTP/1.1 keep-alive server on 127.0.0.1 that answers 200 only to requests
carrying the right `api-key`), a real aoai-agent with one api-key profile for
127.0.0.1:PORT, and two arms that send the same header:

    hook   LD_PRELOAD=build/lib/libaoai-preload.so: the agent's header, per request
    plain  no hook; the program sends the header itself (curl -H @FILE, pycurl
           HTTPHEADER) — the key comes from a file, never argv

a) per process: the real curl doing 200 transfers over one connection (a -K
   config file listing the URLs), and doing 1 (the hook's start-up), timed from
   spawn to exit, arms interleaved; medians compared (target <= 1.05x).
   Uncovered host: the same, to uncovered.test (resolved to the server's
   address by a `resolve` line in the -K file; no profile covers it), both arms
   sending the header themselves: what the hook costs a transfer it needs not
   ask the agent about, its host list (docs/HOOK.md) deciding alone; the
   agent's status must show no request about it.  Target for the cost per
   transfer, pinned, to either host: <= 8 us.
b) in process: bench/hook-pycurl.py doing thousands of transfers on one pycurl
   handle, each perform() timed; overhead = median(hook) - median(plain)
   (target <= 50 us per transfer).

"pinned": curl/pycurl, the server and the agent all on CPU ctx.cpu_pin (the
software's own cost; bench/README.md, "Method"); "unpinned": the
scheduler's choice, what a user sees (noisy: cross-CPU wake-ups).
Every transfer's status is checked (all 200), so both arms really sent the key.
"""

import json
import os
import secrets
import shutil
import statistics
import subprocess
import threading
import time
from pathlib import Path

from benchproc import (BenchError, all_cpus, base_env, private_file, read_line_matching, row,
                       set_affinity, stop_proc)

SECTION = "5 hook"
PYTHON = "/usr/bin/python3"
CURL = shutil.which("curl") or "/usr/bin/curl"
HERE = Path(__file__).resolve().parent
SERVER_SRC = HERE / "hook-server.c"
PYCURL_DRIVER = HERE / "hook-pycurl.py"

CURL_TRANSFERS = 200     # URLs per curl process (one kept-alive connection)
CURL_RUNS = 60           # timed processes per arm and kind, pinned
CURL_RUNS_UNPINNED = 20  # the same, unpinned
CURL_WARMUP = 3          # untimed processes per arm first
PYCURL_N = 3000          # timed transfers per driver run
PYCURL_WARMUP = 200      # untimed transfers first (connection, caches)
PYCURL_ROUNDS = 6        # driver runs per arm, interleaved (pinned)
PYCURL_ROUNDS_UNPINNED = 2
PROC_TIMEOUT = 30.0      # seconds for one client process
SERVER_LIFETIME = 300    # seconds the server lives at most (it is stopped long before)
TARGET_RATIO = 1.05
TARGET_OVERHEAD_US = 50.0
TARGET_PER_TRANSFER_US = 8.0  # the hook's cost per transfer of the 200-transfer curl case
UNCOVERED_HOST = "uncovered.test"
CC_FLAGS = ["-std=gnu11", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra", "-Werror", "-Wshadow",
            "-Wformat=2", "-Wimplicit-fallthrough", "-Wmissing-prototypes",
            "-Wstrict-prototypes", "-Wvla", "-D_FORTIFY_SOURCE=2", "-fstack-protector-strong",
            "-fPIE", "-pie", "-Wl,-z,relro,-z,now,-z,noexecstack"]


# --- processes ----------------------------------------------------------------------

class Placed:
    """Runs a block with the server, the agent and this thread on @cpus; the clients
    this thread spawns inherit its affinity (no taskset: its exec would inflate both
    arms' process times alike and so shrink the ratio)."""

    def __init__(self, scene, cpus):
        self.scene, self.cpus = scene, cpus
        self.saved = None

    def __enter__(self):
        self.saved = os.sched_getaffinity(0)
        os.sched_setaffinity(0, self.cpus)
        self.scene.pin(self.cpus)
        return self

    def __exit__(self, *exc):
        os.sched_setaffinity(0, self.saved)


def run_timed(argv, env, timeout, input=None):
    """Runs @argv to completion; returns (CompletedProcess, wall ns from spawn to reap).

    Bounded by a watchdog that kills it after @timeout s rather than by
    subprocess.run(timeout=): with a timeout, Popen.wait() polls waitpid() with
    sleeps of 0.5 ms, 1 ms, … — that quantises the measured wall time (a bimodal
    +1.1 ms here); without one it blocks in waitpid() and returns at the exit."""
    fired = threading.Event()
    t0 = time.perf_counter_ns()
    proc = subprocess.Popen(argv, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL if input is None else subprocess.PIPE)
    watchdog = threading.Timer(timeout, lambda: (fired.set(), proc.kill()))
    watchdog.start()
    try:
        out, err = proc.communicate(input)
    finally:
        watchdog.cancel()
    t1 = time.perf_counter_ns()
    if fired.is_set():
        raise BenchError(f"{os.path.basename(argv[0])} did not finish within {timeout}s")
    return subprocess.CompletedProcess(argv, proc.returncode, out, err), t1 - t0


# --- the scene ----------------------------------------------------------------------

def server_binary(ctx):
    """bench's build of hook-server if there is one, else compiled here into ctx.tmp."""
    built = ctx.build / "bench" / "hook-server"
    if built.is_file() and os.access(built, os.X_OK) and \
            built.stat().st_mtime >= SERVER_SRC.stat().st_mtime:
        return built
    out = ctx.tmp / "hook-server"
    r = subprocess.run([os.environ.get("CC", "cc"), *CC_FLAGS, "-o", str(out), str(SERVER_SRC)],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise BenchError(f"compiling {SERVER_SRC} failed:\n{r.stderr[-2000:]}")
    return out


class Scene:
    """The server, the agent and the files both arms use; a context manager that
    stops everything it started, also on error."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.tmp = Path(ctx.tmp)
        self.env = base_env(self.tmp, ctx.build)
        self.server = self.agent = None
        key = secrets.token_hex(16)  # a fake secret, only ever in 0600 files
        self.key_file = private_file(self.tmp / "bench.key", key + "\n")
        self.header_file = private_file(self.tmp / "bench.header", f"api-key: {key}\n")
        self.sock = self.tmp / "run" / "agent.sock"
        self.preload = ctx.build / "lib" / "libaoai-preload.so"

    def __enter__(self):
        try:
            self._start_server()
            self._start_agent()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        stop_proc(self.agent)
        stop_proc(self.server)

    def _start_server(self):
        with open(self.tmp / "hook-server.stderr", "wb") as err:
            self.server = subprocess.Popen(
                [str(server_binary(self.ctx)), "--key-file", str(self.key_file),
                 "--max-lifetime", str(SERVER_LIFETIME)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, env=self.env)
        line = read_line_matching(self.server, "listening on 127.0.0.1:", "hook-server")
        self.port = int(line.rsplit(":", 1)[1])
        self.base_url = f"http://127.0.0.1:{self.port}"

    def _start_agent(self):
        cfg = {"profiles": {"bench": {"hosts": [f"127.0.0.1:{self.port}"],
                                      "credential": {"type": "api-key",
                                                     "file": str(self.key_file)}}}}
        config = private_file(self.tmp / "agent.json", json.dumps(cfg))
        with open(self.tmp / "agent.log", "wb") as err:
            self.agent = subprocess.Popen(
                [str(self.ctx.build / "bin" / "aoai-agent"), "-D", "-s", "-a", str(self.sock),
                 "-f", str(config)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, env=self.env)
        read_line_matching(self.agent, "AOAI_AGENT_PID=", "aoai-agent")

    def pin(self, cpus):
        """Puts the server and the agent on @cpus."""
        for pid in (self.server.pid, self.agent.pid):
            set_affinity(pid, cpus)

    def client_env(self, hook):
        env = dict(self.env, AOAI_AUTH_SOCK=str(self.sock))
        if hook:
            env["LD_PRELOAD"] = str(self.preload)
        return env


# --- a) curl, per process -------------------------------------------------------------

def curl_config(sc, n, uncovered=False):
    """A -K file listing @n URLs on the server (reached as UNCOVERED_HOST when
    @uncovered), each saved to /dev/null."""
    base = f"http://{UNCOVERED_HOST}:{sc.port}" if uncovered else sc.base_url
    lines = [f'resolve = "{UNCOVERED_HOST}:{sc.port}:127.0.0.1"'] if uncovered else []
    for i in range(n):
        lines += [f'url = "{base}/bench/{i}"', 'output = "/dev/null"']
    name = f"urls-{n}{'-uncovered' if uncovered else ''}.cfg"
    return private_file(sc.tmp / name, "\n".join(lines) + "\n")


def curl_once(sc, hook, cfg, n, own_header=False):
    """One curl process; returns its wall time in ns (spawn to exit).  Fails unless
    all @n transfers got 200 and the hook said nothing.  The program sends the
    header itself without the hook, or with @own_header."""
    argv = [CURL, "-q", "-sS", "--noproxy", "*", "-w", "%{http_code}\n", "-K", str(cfg)]
    if not hook or own_header:
        argv += ["-H", f"@{sc.header_file}"]  # from a file: never the key in argv
    r, wall = run_timed(argv, sc.client_env(hook), PROC_TIMEOUT)
    codes = r.stdout.split()
    if r.returncode != 0 or codes != ["200"] * n or r.stderr:
        arm = "hook" if hook else "plain"
        raise BenchError(f"curl ({arm}, {n} transfers) exit {r.returncode}, statuses "
                         f"{sorted(set(codes))} (expected {n} x 200), stderr: {r.stderr[-500:]}")
    return wall


def curl_arms(sc, cfg, n, runs, own_header=False):
    """Interleaved runs (the arm going first alternates); {arm: [ns...]}."""
    for _ in range(CURL_WARMUP):
        curl_once(sc, True, cfg, n, own_header)
        curl_once(sc, False, cfg, n, own_header)
    times = {True: [], False: []}
    for i in range(runs):
        for hook in ((True, False) if i % 2 == 0 else (False, True)):
            times[hook].append(curl_once(sc, hook, cfg, n, own_header))
    return times


def per_transfer_us(t_many, t_one):
    """What each extra transfer costs with the hook, start-up difference removed."""
    med = {(k, hook): statistics.median(t[hook]) / 1e6
           for k, t in (("many", t_many), ("one", t_one)) for hook in (True, False)}
    return ((med["many", True] - med["many", False]) - (med["one", True] - med["one", False])) \
        * 1e3 / (CURL_TRANSFERS - 1)


def ratio_row(metric, hook_ms, plain_ms, target=TARGET_RATIO):
    ratio = hook_ms / plain_ms
    return row(SECTION, metric, round(hook_ms, 3), "ms", round(plain_ms, 3),
               "same header via curl -H", f"<= {target}x", ratio <= target, round(ratio, 3))


def curl_rows(sc, pin):
    many, one = curl_config(sc, CURL_TRANSFERS), curl_config(sc, 1)
    rows = []
    for label, cpus, runs in ((f"pinned cpu{pin}", {pin}, CURL_RUNS),
                              ("unpinned", all_cpus(), CURL_RUNS_UNPINNED)):
        with Placed(sc, cpus):
            t_many = curl_arms(sc, many, CURL_TRANSFERS, runs)
            t_one = curl_arms(sc, one, 1, runs)
        med = {(k, hook): statistics.median(t[hook]) / 1e6
               for k, t in (("many", t_many), ("one", t_one)) for hook in (True, False)}
        rows.append(ratio_row(f"curl {CURL_TRANSFERS} transfers/process, wall p50 ({label})",
                              med["many", True], med["many", False]))
        rows.append(ratio_row(f"curl 1 transfer/process (start-up), wall p50 ({label})",
                              med["one", True], med["one", False]))
        per = per_transfer_us(t_many, t_one)
        target = f"<= {TARGET_PER_TRANSFER_US:g} us" if cpus == {pin} else None
        rows.append(row(SECTION, f"curl hook cost per transfer ({label})", round(per, 1), "us",
                        target=target, met=per <= TARGET_PER_TRANSFER_US if target else None))
    return rows


def check_never_asked(sc):
    """Fails unless the agent counted no refusal naming no profile: the hook asked
    nothing about the uncovered host."""
    r = subprocess.run([str(sc.ctx.build / "bin" / "aoai"), "status", "--json"],
                       env=sc.client_env(False), capture_output=True, text=True,
                       timeout=PROC_TIMEOUT)
    unmatched = json.loads(r.stdout)["audit"]["unmatched"] if r.returncode == 0 else None
    if unmatched != 0:
        raise BenchError(f"the agent was asked about the uncovered host (unmatched: "
                         f"{unmatched}; aoai status exit {r.returncode}: {r.stderr[-300:]})")


def uncovered_rows(sc, pin):
    """The hook's cost per transfer to a host no profile covers (no agent round trip)."""
    many = curl_config(sc, CURL_TRANSFERS, uncovered=True)
    one = curl_config(sc, 1, uncovered=True)
    rows = []
    for label, cpus, runs in ((f"pinned cpu{pin}", {pin}, CURL_RUNS),
                              ("unpinned", all_cpus(), CURL_RUNS_UNPINNED)):
        with Placed(sc, cpus):
            t_many = curl_arms(sc, many, CURL_TRANSFERS, runs, own_header=True)
            t_one = curl_arms(sc, one, 1, runs, own_header=True)
        per = per_transfer_us(t_many, t_one)
        check_never_asked(sc)
        target = f"<= {TARGET_PER_TRANSFER_US:g} us" if cpus == {pin} else None
        rows.append(row(SECTION, f"curl hook cost per transfer, uncovered host ({label})",
                        round(per, 2), "us", target=target,
                        met=per <= TARGET_PER_TRANSFER_US if target else None))
    return rows


# --- b) pycurl, in process ------------------------------------------------------------

def pycurl_once(sc, hook):
    spec = {"url": f"{sc.base_url}/bench/pycurl", "n": PYCURL_N, "warmup": PYCURL_WARMUP,
            "header_file": None if hook else str(sc.header_file)}
    r, _ = run_timed([PYTHON, str(PYCURL_DRIVER)], sc.client_env(hook),
                     PROC_TIMEOUT * 2, input=json.dumps(spec))
    arm = "hook" if hook else "plain"
    if r.returncode == 3:
        raise BenchError("python3-pycurl is not installed (Debian package python3-pycurl)")
    if r.returncode != 0 or r.stderr:
        raise BenchError(f"hook-pycurl ({arm}) exit {r.returncode}: {r.stderr[-500:]}")
    out = json.loads(r.stdout)
    if out["statuses"] != {"200": PYCURL_N + PYCURL_WARMUP}:
        raise BenchError(f"hook-pycurl ({arm}): statuses {out['statuses']}, expected all 200")
    return out["samples_ns"]


def have_pycurl():
    return subprocess.run([PYTHON, "-c", "import pycurl"], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=PROC_TIMEOUT).returncode == 0


def pycurl_rows(sc, pin):
    if not have_pycurl():
        return [row(SECTION, "pycurl hook overhead per transfer: SKIPPED, python3-pycurl is "
                    "not installed", float("nan"), "us", target=f"<= {TARGET_OVERHEAD_US:g} us")]
    rows = []
    for label, cpus, rounds in ((f"pinned cpu{pin}", {pin}, PYCURL_ROUNDS),
                                ("unpinned", all_cpus(), PYCURL_ROUNDS_UNPINNED)):
        samples = {True: [], False: []}
        with Placed(sc, cpus):
            for i in range(rounds):
                for hook in ((True, False) if i % 2 == 0 else (False, True)):
                    samples[hook] += pycurl_once(sc, hook)
        hook_us = statistics.median(samples[True]) / 1e3
        plain_us = statistics.median(samples[False]) / 1e3
        n = len(samples[True])
        rows.append(row(SECTION, f"pycurl transfer p50, {n} on one handle ({label})",
                        round(hook_us, 1), "us", round(plain_us, 1),
                        "HTTPHEADER set by the program", ratio=round(hook_us / plain_us, 3)))
        over = hook_us - plain_us
        rows.append(row(SECTION, f"pycurl hook overhead per transfer ({label})", round(over, 1),
                        "us", target=f"<= {TARGET_OVERHEAD_US:g} us",
                        met=over <= TARGET_OVERHEAD_US))
    return rows


# --- entry point ----------------------------------------------------------------------

def check_prerequisites(ctx):
    for p in (ctx.build / "bin" / "aoai-agent", ctx.build / "lib" / "libaoai-preload.so"):
        if not p.is_file():
            raise BenchError(f"{p} is missing: `make all` first")
    if not os.access(CURL, os.X_OK):
        raise BenchError("curl is not installed (Debian package curl)")


def run(ctx):
    """Section 5's rows (see the module docstring)."""
    check_prerequisites(ctx)
    pin = int(ctx.cpu_pin)
    with Scene(ctx) as sc:
        rows = curl_rows(sc, pin)
        rows += uncovered_rows(sc, pin)
        rows += pycurl_rows(sc, pin)
    return rows
