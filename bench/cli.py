# SPDX-License-Identifier: MIT
"""`make bench` section 10 — `aoai headers URL` as a whole process, against
`ssh-add -l`, the command it stands beside.

bench/run.py calls run(ctx) (ctx.build, ctx.repo, ctx.tmp, ctx.cpu_pin) and
prints the rows it returns.  The scene: a real aoai-agent with one api-key
profile (its fake secret added with `aoai add`, from stdin) and `ssh-agent -D`
holding one ed25519 key.  Each client process is timed from spawn to reap
(os.posix_spawn, then a blocking waitpid: no polling to quantise the time),
the two commands interleaved (the one going first alternating), after a few
untimed runs; medians compared, target <= 0.3x.  `/bin/true` timed the same
way is the floor every process pays (fork, exec, ld.so, exit).

"pinned": the clients (they inherit this process's affinity), aoai-agent and
ssh-agent all on CPU ctx.cpu_pin, the programs' own cost; "unpinned": the
scheduler's choice, what a user sees.
"""

import json
import os
import shutil
import signal
import statistics
import subprocess
import threading
import time

from benchproc import (BenchError, all_cpus, base_env, private_file, read_line_matching, row,
                       set_affinity, stop_proc)

SECTION = "10 cli"
URL = "https://bench.openai.azure.com/openai/deployments/gpt-4o/chat/completions"
FAKE_SECRET = b"fake-bench-key-0123456789abcdef0123456789abcdef\n"
RUNS = 300           # timed processes per command, pinned
RUNS_UNPINNED = 150  # the same, unpinned
WARMUP = 10          # untimed processes per command first
PROC_TIMEOUT = 10.0  # seconds for one client process
TARGET_RATIO = 0.3


def spawn_timed(argv, env):
    """Runs @argv with stdin, stdout and stderr on /dev/null; returns the wall
    ns from spawn to reap.  Fails unless it exits 0 within PROC_TIMEOUT."""
    devnull = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, flags, 0)
               for fd, flags in ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY))]
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=devnull)
    watchdog = threading.Timer(PROC_TIMEOUT, os.kill, (pid, signal.SIGKILL))
    watchdog.start()
    try:
        _, status = os.waitpid(pid, 0)
    finally:
        watchdog.cancel()
    t1 = time.perf_counter_ns()
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        raise BenchError(f"{' '.join(argv)} failed (wait status {status})")
    return t1 - t0


class Scene:
    """aoai-agent and ssh-agent, one credential each; stops both on exit."""

    def __init__(self, ctx):
        self.ctx, self.tmp = ctx, ctx.tmp
        self.env = base_env(self.tmp, ctx.build)
        self.aoai = str(ctx.build / "bin" / "aoai")
        self.agent = self.ssh_agent = None
        self.sock = self.tmp / "run" / "agent.sock"
        self.ssh_sock = self.tmp / "run" / "ssh.sock"

    def __enter__(self):
        try:
            self._start_agent()
            self._start_ssh_agent()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        stop_proc(self.agent)
        stop_proc(self.ssh_agent)

    def _start_agent(self):
        cfg = {"profiles": {"bench": {"hosts": ["bench.openai.azure.com"],
                                      "credential": {"type": "api-key"}}}}
        config = private_file(self.tmp / "agent.json", json.dumps(cfg))
        with open(self.tmp / "agent.log", "wb") as err:
            self.agent = subprocess.Popen(
                [str(self.ctx.build / "bin" / "aoai-agent"), "-D", "-s", "-a", str(self.sock),
                 "-f", str(config)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, env=self.env)
        read_line_matching(self.agent, "AOAI_AGENT_PID=", "aoai-agent")
        r = subprocess.run([self.aoai, "add", "bench"], env=self.aoai_env(), input=FAKE_SECRET,
                           capture_output=True, timeout=PROC_TIMEOUT)
        if r.returncode != 0:
            raise BenchError(f"aoai add failed: {r.stderr.decode(errors='replace')[-500:]}")
        r = subprocess.run([self.aoai, "headers", URL], env=self.aoai_env(),
                           capture_output=True, timeout=PROC_TIMEOUT)
        if r.returncode != 0 or not r.stdout.startswith(b"api-key: "):
            raise BenchError(f"aoai headers gave no api-key header (exit {r.returncode})")

    def _start_ssh_agent(self):
        key = self.tmp / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f",
                        str(key)], env=self.env, check=True, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=PROC_TIMEOUT)
        self.ssh_agent = subprocess.Popen(
            ["ssh-agent", "-D", "-a", str(self.ssh_sock)], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self.env)
        read_line_matching(self.ssh_agent, "SSH_AUTH_SOCK=", "ssh-agent")
        subprocess.run(["ssh-add", "-q", str(key)], env=self.ssh_env(), check=True,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=PROC_TIMEOUT)

    def aoai_env(self):
        return dict(self.env, AOAI_AUTH_SOCK=str(self.sock))

    def ssh_env(self):
        return dict(self.env, SSH_AUTH_SOCK=str(self.ssh_sock))

    def commands(self):
        """name -> (argv, env); every argv[0] an absolute path (posix_spawn)."""
        return {"aoai": ([self.aoai, "headers", URL], self.aoai_env()),
                "ssh-add": ([shutil.which("ssh-add"), "-l"], self.ssh_env()),
                "true": ([shutil.which("true"), "headers", URL], self.env)}

    def pin(self, cpus):
        for proc in (self.agent, self.ssh_agent):
            set_affinity(proc.pid, cpus)


def timed_runs(sc, cpus, runs):
    """{name: [ns...]}: the commands interleaved, the order rotating each round."""
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    sc.pin(cpus)
    try:
        cmds = sc.commands()
        names = list(cmds)
        for _ in range(WARMUP):
            for name in names:
                spawn_timed(*cmds[name])
        times = {name: [] for name in names}
        for i in range(runs):
            for name in names[i % len(names):] + names[:i % len(names)]:
                times[name].append(spawn_timed(*cmds[name]))
        return times
    finally:
        os.sched_setaffinity(0, saved)


def rows_for(label, times):
    med = {name: statistics.median(t) / 1e6 for name, t in times.items()}
    ratio = med["aoai"] / med["ssh-add"]
    n = len(times["aoai"])
    return [
        row(SECTION, f"aoai headers URL, wall p50 of {n} ({label})", round(med["aoai"], 3), "ms",
            round(med["ssh-add"], 3), "ssh-add -l, one key", f"<= {TARGET_RATIO}x",
            ratio <= TARGET_RATIO, round(ratio, 3)),
        row(SECTION, f"/bin/true, the process floor, wall p50 ({label})", round(med["true"], 3),
            "ms"),
    ]


def run(ctx):
    missing = [p for p in ("ssh-agent", "ssh-keygen", "ssh-add") if not shutil.which(p)]
    if missing:
        return [row(SECTION, f"aoai headers vs ssh-add -l: SKIPPED, {', '.join(missing)} "
                    "missing (Debian openssh-client)", float("nan"), "ms",
                    target=f"<= {TARGET_RATIO}x")]
    rows = []
    with Scene(ctx) as sc:
        for label, cpus, runs in ((f"pinned cpu{ctx.cpu_pin}", {ctx.cpu_pin}, RUNS),
                                  ("unpinned", all_cpus(), RUNS_UNPINNED)):
            rows += rows_for(label, timed_runs(sc, cpus, runs))
    return rows
