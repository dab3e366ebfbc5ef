# SPDX-License-Identifier: MIT
"""The agent under load: 200 busy clients on persistent connections, 1,000
idle connections held open and 20 clients trickling a request one byte a
second, all at once, for 20 s.  Every well-behaved request must succeed, the
idle connections must still be served afterwards, and every slow client
must be cut off with a clear `limit` error.

The clients are tests/load/loadgen.c (built as $AOAI_BUILD/tests/loadgen):
Python threads would measure the GIL, not the agent.  Its latency figures
are written to $AOAI_BUILD/load-figures.txt and shown in the test output;
nothing here asserts on timing."""

import json
import resource
import subprocess
import time

import pytest

import aoaitest
from aoaitest import api_key_profile, expect_rc, fail

HOST = "load.openai.azure.com"
URL = f"https://{HOST}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
BUSY, IDLE, SLOW, DURATION = 200, 1000, 20, 20
# Bound on the whole run: the busy phase, the idle check, the slow clients'
# 10 s cut-off (loadgen gives them 20 s at most) and start-up.
LOADGEN_TIMEOUT = DURATION + 60


def figures_text(res):
    return (f"load: {res['requests']} requests by {BUSY} clients in {res['seconds']:.1f} s "
            f"({res['rate']:.0f}/s), {res['failures']} failed; latency p50 "
            f"{res['p50_us'] / 1000:.2f} ms, p90 {res['p90_us'] / 1000:.2f} ms, p99 "
            f"{res['p99_us'] / 1000:.2f} ms, max {res['max_us'] / 1000:.2f} ms; "
            f"{res['idle_ok']}/{IDLE} idle connections served afterwards; "
            f"{res['slow_refused']}/{SLOW} slow clients refused\n")


def publish(build, ctx, capsys, res):
    """Keeps the figures where a reader finds them, whatever pytest's -s."""
    text = figures_text(res)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for path in (ctx.path("load-figures.txt"), build.root / "load-figures.txt"):
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"{stamp} {text}{json.dumps(res)}\n")
    with capsys.disabled():
        print(f"\n{text}", end="")


@pytest.mark.skipif(aoaitest.VALGRIND, reason="a load test measures nothing under memcheck")
def test_load(ctx, build, start_agent, aoai, loadgen, capsys):
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2 * (BUSY + IDLE + SLOW) + 256:
        pytest.skip(f"descriptor hard limit {hard} is too low for {BUSY + IDLE + SLOW} "
                    "connections on both ends")
    cfg = ctx.write_config({"profiles": {"load": api_key_profile(HOST)}})
    # Not -d: the debug log would add two lines per request to the release log's one.
    a = start_agent(config=cfg, debug=False)
    expect_rc(aoai("add", "load", input=ctx.secret() + "\n"), 0, "add the api key")
    try:
        r = subprocess.run([str(loadgen), "--socket", str(ctx.sock), "--url", URL,
                            "--clients", str(BUSY), "--duration", str(DURATION),
                            "--idle", str(IDLE), "--slow", str(SLOW)],
                           env=ctx.env(), stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=LOADGEN_TIMEOUT)
    except subprocess.TimeoutExpired:
        fail(f"loadgen did not finish within {LOADGEN_TIMEOUT} s; agent alive: {a.alive()}")
    if r.returncode != 0:
        fail(f"loadgen exited {r.returncode}: {r.stderr}")
    res = json.loads(r.stdout)
    publish(build, ctx, capsys, res)
    assert a.alive(), "the agent died under load"
    assert res["failures"] == 0 and res["requests"] > 0, res
    assert res["idle_open"] == IDLE and res["idle_ok"] == IDLE, res
    assert res["slow_refused"] == SLOW, res
    assert '"error":"limit"' in res["slow_message"], res
    expect_rc(aoai("status"), 0, "status after the load")
