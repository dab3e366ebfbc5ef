# SPDX-License-Identifier: MIT
"""`make bench` section 8 — the persistent store: what `aoai unlock` costs.

bench/run.py calls run(ctx) (ctx.build, ctx.repo, ctx.tmp, ctx.cpu_pin) and
prints the rows it returns.  For each Argon2id strength the config offers
("interactive" and the default "moderate"): a real aoai-agent creates a store
(`aoai passwd`) holding SECRETS persisted secrets, then ROUNDS times it is
restarted (it starts locked) and `aoai unlock` is timed, from the command's
start to its exit.  The baseline, measured in the same run on the same CPU, is
build/bench/kdf-time: one crypto_pwhash with the same parameters and nothing
around it.  The ratio says what the agent adds to the derivation (socket,
worker thread hand-off, decrypting and loading the records): it should be ~1.

Everything runs pinned on ctx.cpu_pin (the derivation is single-threaded).
"""

import os
import statistics
import subprocess
import time

from benchproc import (READY_TIMEOUT, BenchError, base_env, private_file, read_line_matching,
                       row, set_affinity, stop_proc)

SECTION = "8 store"
ROUNDS = 5
SECRETS = 100
STRENGTHS = {  # the config's names, and libsodium's parameters for them
    "interactive": (2, 64 << 20),
    "moderate": (3, 256 << 20),
}
PASSPHRASE = "bench store passphrase\n"
CMD_TIMEOUT = 60.0


def start_agent(ctx, env, sock, config, pin):
    proc = subprocess.Popen([str(ctx.build / "bin" / "aoai-agent"), "-D", "-a", sock, "-f",
                             str(config)], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    set_affinity(proc.pid, pin)
    read_line_matching(proc, "AOAI_AUTH_SOCK", "aoai-agent", READY_TIMEOUT)
    return proc


def aoai(ctx, env, *args, input=None, pin=None):
    p = subprocess.Popen([str(ctx.build / "bin" / "aoai"), *args], env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE,
                         preexec_fn=(lambda: os.sched_setaffinity(0, pin)) if pin else None)
    _, err = p.communicate(input.encode() if input else None, timeout=CMD_TIMEOUT)
    if p.returncode != 0:
        raise BenchError(f"aoai {args[0]} failed ({p.returncode}): {err.decode()[:200]}")


def unlock_times(ctx, strength, pin):
    tmp = ctx.tmp / strength
    tmp.mkdir()
    agent_env = base_env(tmp, ctx.build)
    sock = str(tmp / "agent.sock")
    env = agent_env | {"AOAI_AUTH_SOCK": sock}
    config = private_file(tmp / "agent.json", '{"store": {"kdf": "%s"}}' % strength)
    proc = None
    times = []
    try:
        proc = start_agent(ctx, agent_env, sock, config, pin)
        aoai(ctx, env, "passwd", input=PASSPHRASE)
        for i in range(SECRETS):
            aoai(ctx, env, "add", f"s{i}", "--persist", input=f"fake-bench-secret-{i:04d}")
        for _ in range(ROUNDS):
            stop_proc(proc)
            proc = start_agent(ctx, agent_env, sock, config, pin)  # starts locked
            t0 = time.monotonic()
            aoai(ctx, env, "unlock", input=PASSPHRASE, pin=pin)
            times.append((time.monotonic() - t0) * 1000)
    finally:
        stop_proc(proc)
    return times


def kdf_times(ctx, ops, mem, pin):
    p = subprocess.run([str(ctx.build / "bench" / "kdf-time"), str(ops), str(mem), str(ROUNDS)],
                       capture_output=True, text=True, timeout=CMD_TIMEOUT * ROUNDS,
                       preexec_fn=lambda: os.sched_setaffinity(0, pin))
    if p.returncode != 0:
        raise BenchError(f"kdf-time failed: {p.stderr.strip()[:200]}")
    return [float(x) for x in p.stdout.split()]


def run(ctx):
    pin = {ctx.cpu_pin}
    rows = []
    for strength, (ops, mem) in STRENGTHS.items():
        unlock = statistics.median(unlock_times(ctx, strength, pin))
        kdf = statistics.median(kdf_times(ctx, ops, mem, pin))
        rows.append(row(SECTION,
                        f"unlock, Argon2id {strength} ({ops} passes, {mem >> 20} MiB), "
                        f"{SECRETS} persisted secrets, median of {ROUNDS}",
                        unlock, "ms", kdf, "crypto_pwhash alone"))
    return rows
