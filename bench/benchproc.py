# SPDX-License-Identifier: MIT
"""Helpers shared by bench/run.py, bench/hook.py and bench/tokens.py: the
result row, pinning, readiness lines, clean stops, private files and a
clean environment."""

import os
import select
import subprocess
import time
from pathlib import Path

READY_TIMEOUT = 15.0  # seconds for a server or the agent to say it listens


class BenchError(RuntimeError):
    pass


def row(section, metric, value, unit, baseline=None, baseline_name=None, target=None, met=None,
        ratio=None):
    """A result row, the shape run.py prints and writes; the ratio is
    value/baseline unless given."""
    if ratio is None and baseline:
        ratio = value / baseline
    return {"section": section, "metric": metric, "value": value, "unit": unit,
            "baseline": baseline, "baseline_name": baseline_name, "ratio": ratio,
            "target": target, "met": met}


def set_affinity(pid, cpus):
    """Moves every thread of @pid to @cpus (sched_setaffinity works per thread)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except ProcessLookupError:
            pass


def all_cpus():
    return set(range(os.cpu_count() or 1))


def read_line_matching(proc, prefix, what, timeout=READY_TIMEOUT):
    """Reads @proc's stdout (bounded in time) until a line starting with @prefix."""
    buf = b""
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    while True:
        for line in buf.split(b"\n")[:-1]:
            if line.startswith(prefix.encode()):
                return line.decode()
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise BenchError(f"{what} not ready within {timeout}s")
        chunk = os.read(fd, 4096)
        if not chunk:
            raise BenchError(f"{what} exited before it was ready (rc {proc.wait(5)})")
        buf += chunk


def stop_proc(proc):
    if proc is None:
        return
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if proc.stdout:
        proc.stdout.close()


def private_file(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def base_env(tmp, build):
    """A clean environment: private HOME/XDG dirs under @tmp, no proxies."""
    env = {"PATH": f"{build / 'bin'}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
           "HOME": str(tmp / "home"), "XDG_RUNTIME_DIR": str(tmp / "run"),
           "XDG_CONFIG_HOME": str(tmp / "config"), "TMPDIR": str(tmp)}
    for k in ("HOME", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME"):
        Path(env[k]).mkdir(mode=0o700, exist_ok=True)
    return env
