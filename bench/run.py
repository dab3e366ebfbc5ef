#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""`make bench`: runs every section, prints one table, writes bench/results.json.

Sections 1-4 and 7 are measured here with build/bench/aoai-bench against a real
aoai-agent and, in the same run, two baselines: bench/floor-server (a minimal
framed Unix-socket echo moving frames of the agent's real sizes) and ssh-agent.
Sections 5, 6, 8 and 9 come from bench/hook.py, bench/tokens.py, bench/store.py
and bench/relay.py when present (--only NAME runs just one of them).

Method (bench/README.md): the software's own cost is measured with client and
server pinned to one CPU; the unpinned figures beside them are what a user sees.
"""
import argparse
import datetime
import importlib
import json
import math
import os
import platform
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchproc import BenchError, all_cpus, row, set_affinity, stop_proc

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CPU_PIN = 0
READY_TIMEOUT = 10.0
RUN_TIMEOUT = 180.0
URL = "https://bench.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
FAKE_SECRET = b"fake-bench-key-0123456789abcdef0123456789abcdef\n"
# Section names as the table shows them; hook.py and tokens.py use "5 hook", "6 tokens".
S1, S2, S3, S4, S7 = "1 latency", "2 throughput", "3 ssh-agent", "4 connect", "7 memory"
MANY = 1000  # profiles and secrets for the memory figure (caps: 1024)
IDLE_RSS_MAX_KB = 4096  # target: an api-key agent at rest
MANY_RSS_MAX_KB = 16384  # target: MANY profiles and MANY secrets
CLIENT_COUNTS = (1, 8, 64)


def section_key(r):
    """Rows sort by their section's leading number ("5 hook" -> 5), stably."""
    m = re.match(r"\s*(\d+)", str(r["section"]))
    return int(m.group(1)) if m else 99


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def note(section, metric):
    """A row that reports what could not be measured, in the table itself."""
    return row(section, metric, math.nan, "", met=None)


class Ctx:
    """What bench/hook.py and bench/tokens.py receive."""

    def __init__(self, build, repo, tmp, cpu_pin):
        self.build, self.repo, self.tmp, self.cpu_pin = build, repo, tmp, cpu_pin


# --- processes ----------------------------------------------------------------

def base_env(tmp):
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(tmp),
            "XDG_RUNTIME_DIR": str(tmp), "XDG_CONFIG_HOME": str(tmp / "config")}


class Server:
    """A server process started with its stdout piped; ready once a line matches."""

    def __init__(self, name, argv, env, tmp, ready_text, stderr_path=None):
        self.name = name
        err = open(stderr_path or tmp / f"{name}.stderr", "wb")
        try:
            self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=err)
        finally:
            err.close()
        self.stderr_path = stderr_path or tmp / f"{name}.stderr"
        self.text = self._read_until(ready_text)
        # Keeps the pipe from filling; ends with the process.
        threading.Thread(target=self._drain, daemon=True).start()

    def _read_until(self, text):
        buf = b""
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + READY_TIMEOUT
        while text.encode() not in buf or not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.stop()
                raise BenchError(f"{self.name} not ready within {READY_TIMEOUT}s: {buf!r}")
            chunk = os.read(fd, 4096)
            if not chunk:
                self.stop()
                raise BenchError(f"{self.name} exited before it was ready: "
                                 f"{self.stderr_path.read_text(errors='replace')[-2000:]}")
            buf += chunk
        return buf.decode("utf-8", "replace")

    def _drain(self):
        try:
            for _ in iter(lambda: self.proc.stdout.read1(4096), b""):
                pass
        except (OSError, ValueError):
            pass

    @property
    def pid(self):
        return self.proc.pid

    def pin(self, cpus):
        set_affinity(self.proc.pid, cpus)

    def status(self):
        """VmRSS and VmHWM (/proc/PID/status) and Private_Dirty (/proc/PID/smaps_rollup:
        the pages only this process holds and nobody can drop, the cost of one more
        instance), in kB."""
        out = {}
        for name, keys in (("status", ("VmRSS", "VmHWM")), ("smaps_rollup", ("Private_Dirty",))):
            for line in Path(f"/proc/{self.proc.pid}/{name}").read_text().splitlines():
                key, _, val = line.partition(":")
                if key in keys:
                    out[key] = float(val.split()[0])
        return out

    def stop(self):
        stop_proc(self.proc)


class Scene:
    """The servers of sections 1-4 and the client that times them."""

    def __init__(self, build, tmp):
        self.build, self.tmp = build, tmp
        self.env = base_env(tmp)
        self.client = build / "bench" / "aoai-bench"
        self.servers = {}
        self.sockets = {}
        self.sizes = None

    def bench(self, mode, test, pinned, *opts, sock=None):
        argv = [str(self.client), "-p", str(CPU_PIN if pinned else -1), *map(str, opts),
                mode, test, str(sock or self.sockets[mode])]
        r = subprocess.run(argv, env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=RUN_TIMEOUT)
        if r.returncode != 0:
            raise BenchError(f"{' '.join(argv)} failed: {r.stderr.strip()}")
        return json.loads(r.stdout)

    def start_agent(self, name, config, pinned=True, binary=None, stderr_path=None):
        sock = self.tmp / f"{name}.sock"
        argv = [str(binary or self.build / "bin" / "aoai-agent"), "-D", "-s", "-a", str(sock),
                "-f", str(config)]
        if pinned:
            argv = ["taskset", "-c", str(CPU_PIN)] + argv
        agent = Server(name, argv, self.env, self.tmp, "AOAI_AGENT_PID", stderr_path)
        self.servers[name], self.sockets[name] = agent, sock
        return agent

    def aoai_add(self, sock, name):
        """`aoai add NAME`, the fake secret on stdin (never argv)."""
        env = dict(self.env, AOAI_AUTH_SOCK=str(sock))
        r = subprocess.run([str(self.build / "bin" / "aoai"), "add", name], env=env,
                           input=FAKE_SECRET, capture_output=True, timeout=30)
        if r.returncode != 0:
            raise BenchError(f"aoai add {name} failed: {r.stderr.decode(errors='replace')}")

    def start_floor(self):
        sock = self.tmp / "floor.sock"
        argv = ["taskset", "-c", str(CPU_PIN), str(self.build / "bench" / "floor-server"),
                str(sock), str(self.sizes["reply_len"])]
        self.servers["floor"] = Server("floor", argv, self.env, self.tmp, "ready")
        self.sockets["floor"] = sock

    def start_ssh_agent(self):
        """ssh-agent with one ed25519 key; False when openssh-client is missing."""
        if not all(shutil.which(p) for p in ("ssh-agent", "ssh-keygen", "ssh-add")):
            return False
        key = self.tmp / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f",
                        str(key)], env=self.env, check=True, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30)
        sock = self.tmp / "ssh.sock"
        argv = ["taskset", "-c", str(CPU_PIN), "ssh-agent", "-D", "-a", str(sock)]
        self.servers["ssh"] = Server("ssh-agent", argv, self.env, self.tmp, "Agent pid")
        self.sockets["ssh"] = sock
        subprocess.run(["ssh-add", "-q", str(key)], env=dict(self.env, SSH_AUTH_SOCK=str(sock)),
                       check=True, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        return True

    def pin_all(self, pinned):
        for name in ("aoai", "floor", "ssh"):
            if name in self.servers:
                self.servers[name].pin({CPU_PIN} if pinned else all_cpus())

    def stop(self):
        for s in self.servers.values():
            s.stop()


def write_config(path, profiles):
    """An agent.json with one api-key profile per (name, host)."""
    doc = {"profiles": {name: {"hosts": [host], "credential": {"type": "api-key"}}
                        for name, host in profiles}}
    path.write_text(json.dumps(doc))
    path.chmod(0o600)
    return path


# --- sections 1-4 -------------------------------------------------------------

def met_target(ratio, target, value=None):
    """"<= 2x" / ">= 0.5x" against @ratio; "<= 4096 kB" (a figure in the row's unit)
    against @value itself; None when there is no target or nothing to hold it to."""
    if target is None:
        return None
    op, num, *unit = target.split()
    measured = value if unit else ratio
    if measured is None:
        return None
    num = float(num.rstrip("x"))
    return measured <= num if op == "<=" else measured >= num


def trow(section, metric, value, unit, baseline, baseline_name, target):
    r = row(section, metric, value, unit, baseline, baseline_name, target)
    r["met"] = met_target(r["ratio"], target, value)
    return r


def label(pinned):
    return "pinned" if pinned else "unpinned"


class Plan:
    """Request counts; --quick shrinks them to check the harness itself."""

    def __init__(self, quick):
        k = 10 if quick else 1
        self.latency_n, self.latency_warm = 100000 // k, 5000 // k
        self.connect_n, self.connect_warm = 20000 // k, 1000 // k
        self.tput_ms, self.tput_windows = 600 // k, 5
        self.mem_first, self.mem_total = 100000 // k, 1000000 // k
        self.many_n = 20000 // k
        self.mprotect_n, self.mprotect_warm, self.mprotect_rounds = 50000 // k, 2000 // k, 4


def measure(scene, plan, modes):
    """Sections 1-4 raw results, pinned first, keyed (pinned, mode, test[, clients])."""
    res = {}
    floor_q = ("-q", scene.sizes["request_len"])
    for pinned in (True, False):
        scene.pin_all(pinned)
        for mode in modes:
            log(f"latency {mode} ({label(pinned)})")
            res[pinned, mode, "latency"] = scene.bench(
                mode, "latency", pinned, "-n", plan.latency_n, "-w", plan.latency_warm, *floor_q)
        for clients in CLIENT_COUNTS:
            for mode in ("aoai", "floor"):
                log(f"throughput {mode} x{clients} ({label(pinned)})")
                res[pinned, mode, "throughput", clients] = scene.bench(
                    mode, "throughput", pinned, "-c", clients, "-t", plan.tput_ms, "-r",
                    plan.tput_windows, *floor_q)
        for mode in modes:
            log(f"connect per request {mode} ({label(pinned)})")
            res[pinned, mode, "connect"] = scene.bench(
                mode, "connect", pinned, "-n", plan.connect_n, "-w", plan.connect_warm, *floor_q)
    return res


def latency_rows(res, pinned, have_ssh):
    a, f = res[pinned, "aoai", "latency"], res[pinned, "floor", "latency"]
    rows = []
    targets = {"p50_us": "<= 2x", "p99_us": "<= 2.5x"}
    for q, name in (("p50_us", "p50"), ("p99_us", "p99"), ("p999_us", "p99.9")):
        target = targets.get(q) if pinned else None
        rows.append(trow(S1, f"headers latency {name} ({label(pinned)})", a[q], "us", f[q],
                         "floor", target))
    for c in CLIENT_COUNTS:
        a, f = res[pinned, "aoai", "throughput", c], res[pinned, "floor", "throughput", c]
        target = ">= 0.5x" if pinned and c == 64 else None
        rows.append(trow(S2, f"throughput, {c} client{'s' if c > 1 else ''} ({label(pinned)})",
                         a["rps"], "req/s", f["rps"], "floor", target))
    if have_ssh:
        a, s, f = (res[pinned, m, "latency"] for m in ("aoai", "ssh", "floor"))
        rows.append(trow(S3, f"headers vs REQUEST_IDENTITIES p50 ({label(pinned)})", a["p50_us"],
                         "us", s["p50_us"], "ssh-agent", "<= 0.8x" if pinned else None))
        rows.append(trow(S3, f"headers vs REQUEST_IDENTITIES p99 ({label(pinned)})", a["p99_us"],
                         "us", s["p99_us"], "ssh-agent", None))
        rows.append(trow(S3, f"ssh-agent REQUEST_IDENTITIES p50 ({label(pinned)})", s["p50_us"],
                         "us", f["p50_us"], "floor", None))
    return rows


def connect_rows(res, pinned, have_ssh):
    a, f = res[pinned, "aoai", "connect"], res[pinned, "floor", "connect"]
    rows = []
    for q, name in (("p50_us", "p50"), ("p99_us", "p99")):
        rows.append(trow(S4, f"connect+request+close {name} ({label(pinned)})", a[q], "us", f[q],
                         "floor", None))
        if have_ssh:
            s = res[pinned, "ssh", "connect"]
            rows.append(trow(S4, f"connect+request+close {name} ({label(pinned)})", a[q], "us",
                             s[q], "ssh-agent", None))
    return rows


def sections_1_to_4(scene, plan):
    """Starts the agent, the floor and ssh-agent, measures, returns (rows, ssh idle status)."""
    cfg = write_config(scene.tmp / "agent.json", [("bench", "bench.openai.azure.com")])
    agent = scene.start_agent("aoai", cfg)
    scene.aoai_add(scene.sockets["aoai"], "bench")
    scene.sizes = scene.bench("aoai", "probe", True, "-u", URL)
    scene.start_floor()
    have_ssh = scene.start_ssh_agent()
    ssh_idle = scene.servers["ssh"].status() if have_ssh else None
    log(f"agent pid {agent.pid}; frames: request {scene.sizes['request_len']} B, "
        f"reply {scene.sizes['reply_len']} B payload")
    modes = ("aoai", "floor", "ssh") if have_ssh else ("aoai", "floor")
    res = measure(scene, plan, modes)
    rows = [row(S1, "request frame payload (headers, measured)", scene.sizes["request_len"], "B"),
            row(S1, "reply frame payload (headers, measured)", scene.sizes["reply_len"], "B")]
    for pinned in (True, False):
        rows += latency_rows(res, pinned, have_ssh)
        rows += connect_rows(res, pinned, have_ssh)
    mp_rows, mp_runs = mprotect_rows(scene, plan, cfg)
    rows += mp_rows
    if have_ssh:
        rows += audit_rows(scene, plan, cfg, res)
    if mp_runs:
        res["mprotect",] = mp_runs
    if not have_ssh:
        rows.append(note(S3, "ssh-agent/ssh-keygen/ssh-add not found: install openssh-client"))
    rows.sort(key=section_key)
    return rows, ssh_idle, res


def audit_rows(scene, plan, cfg, res):
    """What the audit line costs: the same agent writing its log (one line per
    release) to /dev/null instead of a file, against ssh-agent, which logs
    nothing.  Diagnostic, no target: the agent always writes the line."""
    scene.start_agent("quiet", cfg, stderr_path=Path(os.devnull))
    scene.aoai_add(scene.sockets["quiet"], "bench")
    log("latency aoai, audit lines to /dev/null (pinned)")
    quiet = scene.bench("aoai", "latency", True, "-n", plan.latency_n, "-w", plan.latency_warm,
                        sock=scene.sockets["quiet"])
    scene.servers.pop("quiet").stop()
    return [trow(S3, "headers p50, audit lines to /dev/null instead of a file (pinned)",
                 quiet["p50_us"], "us", res[True, "ssh", "latency"]["p50_us"], "ssh-agent",
                 None)]


def mprotect_rows(scene, plan, cfg):
    """The cost of keeping secrets PROT_NONE between releases: the agent
    against one built with -DAOAI_SECRETS_NO_MPROTECT, both pinned, the same
    config and secret, both started fresh here (so that neither carries the log
    file the other sections grew), measured alternately; the median of the
    rounds."""
    nomp = scene.build / "bench" / "aoai-agent-nomprotect"
    metric = "mprotect switching cost"
    if not nomp.exists():
        return [note(S1, f"{metric}: {nomp.name} not built (make bench-programs)")], None
    for name, binary in (("mprotect", None), ("nomprotect", nomp)):
        scene.start_agent(name, cfg, binary=binary)
        scene.aoai_add(scene.sockets[name], "bench")
        scene.servers[name].pin({CPU_PIN})
    runs = {"mprotect": [], "nomprotect": []}
    for i in range(plan.mprotect_rounds):
        for name in runs:
            log(f"{metric}: {name} round {i + 1}/{plan.mprotect_rounds}")
            runs[name].append(scene.bench("aoai", "latency", True, "-n", plan.mprotect_n, "-w",
                                          plan.mprotect_warm, "-u", URL,
                                          sock=scene.sockets[name]))
    for name in runs:
        scene.servers.pop(name).stop()

    def med(name, q):
        return statistics.median(r[q] for r in runs[name])

    rows = []
    for q, label_ in (("p50_us", "p50"), ("p99_us", "p99")):
        a, b = med("mprotect", q), med("nomprotect", q)
        rows.append(trow(S1, f"{metric}: headers latency {label_} (pinned)", a, "us", b,
                         "no mprotect", "<= 1.1x" if q == "p50_us" else None))
    rows.append(row(S1, f"{metric}: p50 difference per request (pinned)",
                    med("mprotect", "p50_us") - med("nomprotect", "p50_us"), "us"))
    return rows, runs


# --- section 7: memory --------------------------------------------------------

def memory_requests(scene, plan, ssh_idle):
    """A fresh agent: idle, after plan.mem_first requests, after plan.mem_total."""
    cfg = write_config(scene.tmp / "mem.json", [("bench", "bench.openai.azure.com")])
    agent = scene.start_agent("mem", cfg)
    sock = scene.sockets["mem"]
    scene.aoai_add(sock, "bench")
    # The binaries were just linked: their page-cache pages are dirty until written
    # back, and smaps counts them as the agent's Private_Dirty.  Not its memory.
    os.sync()
    idle = agent.status()
    log(f"memory: {plan.mem_total} requests on a fresh agent")
    scene.bench("aoai", "latency", True, "-n", plan.mem_first, "-w", 0, sock=sock)
    first = agent.status()
    scene.bench("aoai", "latency", True, "-n", plan.mem_total - plan.mem_first, "-w", 0, sock=sock)
    total = agent.status()
    agent.stop()
    k1, k2 = (f"{n // 1000000}M" if n % 1000000 == 0 else f"{n // 1000}k"
              for n in (plan.mem_first, plan.mem_total))
    ssh = ssh_idle or {}
    ssh_name = "ssh-agent (1 key)" if ssh_idle else None
    rows = [trow(S7, "agent VmRSS idle (1 profile, 1 secret)", idle["VmRSS"], "kB",
                 ssh.get("VmRSS"), ssh_name, f"<= {IDLE_RSS_MAX_KB} kB"),
            trow(S7, "agent Private_Dirty idle (1 profile, 1 secret)", idle["Private_Dirty"], "kB",
                 ssh.get("Private_Dirty"), ssh_name, "<= 1.5x" if ssh_idle else None),
            row(S7, "agent VmHWM idle", idle["VmHWM"], "kB"),
            row(S7, f"agent VmRSS after {k1} requests", first["VmRSS"], "kB", idle["VmRSS"],
                "idle"),
            trow(S7, f"agent VmRSS after {k2} requests", total["VmRSS"], "kB", first["VmRSS"],
                 f"after {k1}", "<= 1.02x"),
            trow(S7, f"agent VmHWM after {k2} requests", total["VmHWM"], "kB", first["VmHWM"],
                 f"after {k1}", "<= 1.02x"),
            row(S7, f"agent VmRSS growth {k1} -> {k2}", total["VmRSS"] - first["VmRSS"], "kB")]
    return rows, idle


def memory_many(scene, plan, idle, p50_one):
    """1,000 api-key profiles (config) and 1,000 added secrets; latency at the last one."""
    names = [(f"p{i:04d}", f"p{i:04d}.bench.openai.azure.com") for i in range(MANY)]
    cfg = write_config(scene.tmp / "many.json", names)
    agent = scene.start_agent("many", cfg)
    sock = scene.sockets["many"]
    loaded = agent.status()
    scene.bench("aoai", "add", True, "-n", MANY, "-P", "p", sock=sock)
    full = agent.status()
    last = URL.replace("bench.openai", f"p{MANY - 1:04d}.bench.openai")
    lat = scene.bench("aoai", "latency", True, "-n", plan.many_n, "-w", plan.many_n // 10,
                      "-u", last, sock=sock)
    agent.stop()
    return [row(S7, f"agent VmRSS, {MANY} profiles", loaded["VmRSS"], "kB", idle["VmRSS"], "idle"),
            trow(S7, f"agent VmRSS, {MANY} profiles + {MANY} secrets", full["VmRSS"], "kB",
                 idle["VmRSS"], "idle", f"<= {MANY_RSS_MAX_KB} kB"),
            row(S7, f"agent Private_Dirty, {MANY} profiles + {MANY} secrets",
                full["Private_Dirty"], "kB", idle["Private_Dirty"], "idle"),
            row(S7, f"agent VmHWM, {MANY} profiles + {MANY} secrets", full["VmHWM"], "kB",
                idle["VmHWM"], "idle"),
            row(S1, f"headers latency p50, {MANY} profiles, last one (pinned)", lat["p50_us"], "us",
                p50_one, "1 profile")]


# --- sections 5, 6, 8 and 9, the table, results.json --------------------------

# bench/NAME.py modules and their sections, in the order they run.
MODULES = (("hook", "5 hook"), ("tokens", "6 tokens"), ("store", "8 store"),
           ("relay", "9 relay"), ("cli", "10 cli"))


def module_rows(name, section, build, tmp_root):
    """rows = bench/NAME.py run(ctx), or a row saying why there are none."""
    if not (HERE / f"{name}.py").exists():
        return []
    tmp = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=tmp_root))
    log(f"section {section}: bench/{name}.py")
    try:
        sys.path.insert(0, str(HERE))
        sys.dont_write_bytecode = True  # no __pycache__ in the source tree
        mod = importlib.import_module(name)
        return list(mod.run(Ctx(build, REPO, tmp, CPU_PIN)))
    except Exception as e:  # one module's failure must not lose the others' figures
        log(f"bench/{name}.py failed: {e}")
        return [note(section, f"bench/{name}.py failed: {str(e).splitlines()[0][:120]}")]


def fmt(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"


def print_table(rows):
    head = ("section", "metric", "value", "baseline", "ratio", "target", "met?")
    lines = []
    for r in rows:
        unit, base = r.get("unit") or "", r.get("baseline")
        val = fmt(r.get("value"))
        val = val if val == "-" else f"{val} {unit}".rstrip()
        base = "-" if base is None else f"{fmt(base)} {unit} ({r.get('baseline_name')})"
        ratio = "-" if r.get("ratio") is None else f"{r['ratio']:.2f}x"
        met = {True: "yes", False: "NO"}.get(r.get("met"), "-")
        lines.append((str(r.get("section")), str(r.get("metric")), val, base, ratio,
                      r.get("target") or "-", met))
    widths = [max(len(x[i]) for x in lines + [head]) for i in range(len(head))]
    for i, line in enumerate([head] + lines):
        # Text columns left, figures right.
        print("  ".join(c.rjust(w) if 2 <= j <= 4 else c.ljust(w)
                        for j, (c, w) in enumerate(zip(line, widths))).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


def machine():
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    return {"cpu": model, "nproc": os.cpu_count(), "kernel": platform.release(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": commit or None, "cpu_pin": CPU_PIN}


def clean(v):
    """JSON has no NaN: unmeasured values are null."""
    return None if isinstance(v, float) and math.isnan(v) else v


def write_results(path, info, rows, raw, elapsed):
    doc = {"machine": info, "elapsed_s": round(elapsed, 1),
           "rows": [{k: clean(v) for k, v in r.items()} for r in rows],
           "raw": raw}
    path.write_text(json.dumps(doc, indent=1) + "\n")


def all_sections(scene, plan, build, tmp, only_core):
    """The core sections, then (unless @only_core) the modules'; (rows, raw figures)."""
    rows, ssh_idle, res = sections_1_to_4(scene, plan)
    raw = {"|".join(map(str, k)): v for k, v in res.items()}
    raw["sizes"] = scene.sizes
    scene.stop()
    mem_rows, idle = memory_requests(scene, plan, ssh_idle)
    p50_one = res[True, "aoai", "latency"]["p50_us"]
    many_rows = memory_many(scene, plan, idle, p50_one)
    rows += [r for r in many_rows if r["section"] == S1]
    rows += mem_rows + [r for r in many_rows if r["section"] == S7]
    if not only_core:
        for name, section in MODULES:
            rows += module_rows(name, section, build, tmp)
    return rows, raw


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path, default=REPO / "build")
    ap.add_argument("--out", type=Path,
                    help="default bench/results.json (--only: bench/results-NAME.json)")
    ap.add_argument("--quick", action="store_true", help="a tenth of the requests (harness check)")
    ap.add_argument("--only-core", action="store_true", help="skip sections 5, 6, 8 and 9")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--only", action="append", choices=[m for m, _ in MODULES],
                    help="run only this module's section (repeatable); no core sections")
    args = ap.parse_args()
    build = args.build.resolve()
    if args.out is None:
        args.out = HERE / ("results-" + "-".join(args.only) + ".json" if args.only
                           else "results.json")
    for p in ("bin/aoai-agent", "bin/aoai", "bench/aoai-bench", "bench/floor-server"):
        if not args.only and not (build / p).exists():
            sys.exit(f"bench: {build / p} is missing: run `make bench`")
    start = time.monotonic()
    plan = Plan(args.quick)
    tmp = Path(tempfile.mkdtemp(prefix="aoai-bench-"))
    scene = Scene(build, tmp)
    raw = {}
    try:
        if args.only:
            rows = [r for name, section in MODULES if name in args.only
                    for r in module_rows(name, section, build, tmp)]
        else:
            rows, raw = all_sections(scene, plan, build, tmp, args.only_core)
    except (BenchError, subprocess.SubprocessError, OSError) as e:
        sys.exit(f"bench: {e}")
    finally:
        scene.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    rows.sort(key=section_key)
    info = machine()
    elapsed = time.monotonic() - start
    print(f"aoai-agent bench — {info['cpu']}, {info['nproc']} CPUs, Linux {info['kernel']}, "
          f"{info['date']}; pinned = client and server on CPU {CPU_PIN}")
    print_table(rows)
    write_results(args.out, info, rows, raw, elapsed)
    missed = [r for r in rows if r["met"] is False]
    print(f"\n{len(rows)} rows in {elapsed:.0f} s; targets missed: {len(missed)}; "
          f"written to {args.out}")


if __name__ == "__main__":
    main()
