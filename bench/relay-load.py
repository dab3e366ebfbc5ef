#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The load client of `make bench` section 9 (bench/relay.py): raw-socket
HTTP/1.1 on kept-alive connections, the same code for both arms.

Reads a JSON spec on stdin (so no key is ever in argv):
  {"mode": "latency" | "ttfb" | "throughput" | "upload",
   "base": "http://127.0.0.1:PORT", "key": "..."   (absent: AZURE_OPENAI_ENDPOINT
                                                    and AZURE_OPENAI_API_KEY, i.e.
                                                    under aoai-exec: the relay)
   "path": "/bench", "n": N, "warmup": W, "clients": C, "seconds": S, "size": BYTES}

  latency     one connection, N timed GETs of PATH after W untimed ones: samples_ns
  ttfb        the same, but each sample ends at the first byte of the body
  throughput  C threads, one connection each, GETs for S seconds: requests, seconds
  upload      C threads at once, each POSTing SIZE bytes (Content-Length) to PATH,
              whose JSON answer must say {"length": SIZE} (fake_aoai's /fake/upload)

Every response must be 200 (counted in "statuses").  Prints one JSON object;
"parent_hwm_kb" is the VmHWM of the parent process (aoai-exec, when run under it).
"""

import json
import os
import socket
import sys
import threading
import time
from urllib.parse import urlsplit

IO_TIMEOUT = 60.0
BLOCK = 64 * 1024
KEEP = 4096  # bytes of a response body kept (the upload's JSON answer)


class Conn:
    def __init__(self, host, port, head_extra):
        self.sock = socket.create_connection((host, port), timeout=IO_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.host = f"{host}:{port}"
        self.extra = head_extra
        self.buf = b""
        self.body = b""

    def _fill(self):
        b = self.sock.recv(BLOCK)
        if not b:
            raise ConnectionError("the server closed the connection")
        self.buf += b

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _take(self, n):
        """Consumes @n body bytes, keeping the first KEEP of a response in self.body."""
        while n > 0:
            if not self.buf:
                self._fill()
            k = min(n, len(self.buf))
            if len(self.body) < KEEP:
                self.body += self.buf[:min(k, KEEP - len(self.body))]
            self.buf = self.buf[k:]
            n -= k

    def send(self, method, path, body_len=0):
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.extra}"
        if body_len or method == "POST":
            head += f"Content-Length: {body_len}\r\n"
        self.sock.sendall((head + "\r\n").encode())

    def response(self, first_byte=None):
        """Reads one response; calls @first_byte() when the first body byte is in.
        Returns the status."""
        self.body = b""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        fields = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            fields[k.strip().lower()] = v.strip()
        if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
            first = True
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size and first and first_byte:
                    if not self.buf:
                        self._fill()
                    first_byte()
                    first = False
                self._take(size)
                if size == 0:
                    while self._line() != b"":  # trailers, then the blank line
                        pass
                    return status
                self._line()
        n = int(fields.get(b"content-length", b"0"))
        if n and first_byte:
            if not self.buf:
                self._fill()
            first_byte()
        self._take(n)
        return status


def target(spec):
    base = spec.get("base") or os.environ["AZURE_OPENAI_ENDPOINT"]
    key = spec.get("key") or os.environ["AZURE_OPENAI_API_KEY"]
    u = urlsplit(base)
    return u.hostname, u.port, f"api-key: {key}\r\n"


def count(statuses, s):
    statuses[str(s)] = statuses.get(str(s), 0) + 1


def latency(spec, ttfb):
    host, port, extra = target(spec)
    c = Conn(host, port, extra)
    samples, statuses = [], {}
    for i in range(spec["warmup"] + spec["n"]):
        mark = []
        t0 = time.perf_counter_ns()
        c.send("GET", spec["path"])
        s = c.response((lambda: mark.append(time.perf_counter_ns())) if ttfb else None)
        t1 = mark[0] if ttfb and mark else time.perf_counter_ns()
        count(statuses, s)
        if i >= spec["warmup"]:
            samples.append(t1 - t0)
    return {"samples_ns": samples, "statuses": statuses}


def throughput(spec):
    host, port, extra = target(spec)
    stop = threading.Event()
    counts, statuses, errors = [0] * spec["clients"], {}, []
    lock = threading.Lock()

    def one(i):
        try:
            c = Conn(host, port, extra)
            while not stop.is_set():
                c.send("GET", spec["path"])
                s = c.response()
                counts[i] += 1
                if s != 200:
                    with lock:
                        count(statuses, s)
        except Exception as e:  # reported in the output
            errors.append(repr(e))

    threads = [threading.Thread(target=one, args=(i,), daemon=True)
               for i in range(spec["clients"])]
    for t in threads:
        t.start()
    time.sleep(spec.get("warm_seconds", 0.3))  # the measured window's start, not a sync
    c0, t0 = sum(counts), time.perf_counter()
    time.sleep(spec["seconds"])
    c1, t1 = sum(counts), time.perf_counter()
    stop.set()
    for t in threads:
        t.join(IO_TIMEOUT)
    statuses["200"] = sum(counts) - sum(statuses.values())
    return {"requests": c1 - c0, "seconds": t1 - t0, "statuses": statuses, "errors": errors}


def upload(spec):
    host, port, extra = target(spec)
    size, block = spec["size"], b"u" * BLOCK
    statuses, errors, lock = {}, [], threading.Lock()
    start = threading.Barrier(spec["clients"], timeout=IO_TIMEOUT)

    def one():
        try:
            c = Conn(host, port, extra)
            start.wait()
            c.send("POST", spec["path"], size)
            left = size
            while left > 0:
                n = min(left, BLOCK)
                c.sock.sendall(block[:n])
                left -= n
            s = c.response()
            if s == 200 and json.loads(c.body).get("length") != size:
                raise ValueError(f"the upstream got {c.body[:200]!r}, not {size} bytes")
            with lock:
                count(statuses, s)
        except Exception as e:  # reported in the output
            errors.append(repr(e))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=one, daemon=True) for _ in range(spec["clients"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(IO_TIMEOUT * 4)
    return {"statuses": statuses, "errors": errors, "seconds": time.perf_counter() - t0}


def parent_hwm_kb():
    try:
        with open(f"/proc/{os.getppid()}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def main():
    spec = json.loads(sys.stdin.read())
    mode = spec["mode"]
    if mode in ("latency", "ttfb"):
        out = latency(spec, mode == "ttfb")
    elif mode == "throughput":
        out = throughput(spec)
    else:
        out = upload(spec)
    out["parent_hwm_kb"] = parent_hwm_kb()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
