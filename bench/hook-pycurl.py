#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The in-process client of `make bench` section 5b (bench/hook.py runs it).

Reads one JSON object on stdin:
    {"url": URL, "n": N, "warmup": W, "header_file": PATH or null}
and performs W + N GET transfers of URL on one pycurl handle (so one kept-alive
connection), timing each perform() alone with perf_counter_ns.  With
header_file, the handle sends the `Name: value` line read from that file itself
(the arm without the hook); without it, only LD_PRELOAD can add the header.

Prints {"samples_ns": [...N durations...], "statuses": {"200": count, ...}} —
never a header value or a response body.  Exit 3: python3-pycurl missing.
"""

import json
import sys
import time

try:
    import pycurl
except ImportError:
    sys.stderr.write("hook-pycurl: python3-pycurl is not installed\n")
    sys.exit(3)

TIMEOUT = 10           # seconds per transfer
MAX_TRANSFERS = 100000  # bound on W + N


def make_handle(spec):
    c = pycurl.Curl()
    c.setopt(pycurl.URL, spec["url"])
    c.setopt(pycurl.NOPROXY, "*")
    c.setopt(pycurl.TIMEOUT, TIMEOUT)
    c.setopt(pycurl.WRITEFUNCTION, lambda data: None)
    if spec.get("header_file"):
        with open(spec["header_file"]) as f:
            c.setopt(pycurl.HTTPHEADER, [f.readline().rstrip("\r\n")])
    return c


def main():
    spec = json.load(sys.stdin)
    n, warmup = int(spec["n"]), int(spec["warmup"])
    if n < 1 or warmup < 0 or n + warmup > MAX_TRANSFERS:
        sys.exit("hook-pycurl: n / warmup out of range")
    c = make_handle(spec)
    statuses = {}
    samples = []
    clock = time.perf_counter_ns
    for i in range(warmup + n):
        t0 = clock()
        c.perform()
        t1 = clock()
        if i >= warmup:
            samples.append(t1 - t0)
        code = str(c.getinfo(pycurl.RESPONSE_CODE))
        statuses[code] = statuses.get(code, 0) + 1
    c.close()
    json.dump({"samples_ns": samples, "statuses": statuses}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
