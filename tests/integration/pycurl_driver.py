#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A python3-pycurl client for the preload tests (run under /usr/bin/python3).

Reads one JSON object on stdin:
    {"mode": "easy" | "reuse" | "multi", "urls": [...], "cainfo": PATH,
     "resolve": ["HOST:PORT:ADDR", ...], "headers": ["Name: value", ...]}
  easy:  one pycurl.Curl per URL, perform(), close()
  reuse: one pycurl.Curl for every URL in turn (setopt URL, perform)
  multi: one pycurl.Curl per URL, all in one pycurl.CurlMulti
and prints [{"url", "status", "error"}] as JSON.  Never prints a response body.
Exit 3: pycurl missing.
"""

import json
import sys
import time

try:
    import pycurl
except ImportError:
    sys.stderr.write("pycurl_driver: python3-pycurl is not installed\n")
    sys.exit(3)

TIMEOUT = 10        # seconds per transfer
MULTI_DEADLINE = 15  # seconds for a whole multi run


def setup(c, spec, url, sink):
    c.setopt(pycurl.URL, url)
    c.setopt(pycurl.CAINFO, spec["cainfo"])
    c.setopt(pycurl.RESOLVE, spec["resolve"])
    c.setopt(pycurl.TIMEOUT, TIMEOUT)
    c.setopt(pycurl.NOPROXY, "*")
    if spec["headers"]:
        c.setopt(pycurl.HTTPHEADER, spec["headers"])
    c.setopt(pycurl.WRITEFUNCTION, sink.append)


def perform(c, url):
    try:
        c.perform()
        return {"url": url, "status": c.getinfo(pycurl.RESPONSE_CODE), "error": None}
    except pycurl.error as e:
        return {"url": url, "status": None, "error": f"{e.args[0]}: {e.args[1]}"}


def main():
    spec = json.load(sys.stdin)
    out = []
    if spec["mode"] == "easy":
        for url in spec["urls"]:
            c = pycurl.Curl()
            setup(c, spec, url, [])
            out.append(perform(c, url))
            c.close()
    elif spec["mode"] == "reuse":
        c = pycurl.Curl()
        for url in spec["urls"]:
            setup(c, spec, url, [])
            out.append(perform(c, url))
        c.close()
    elif spec["mode"] == "multi":
        m = pycurl.CurlMulti()
        handles = []
        for url in spec["urls"]:
            c = pycurl.Curl()
            setup(c, spec, url, [])
            c.url = url
            m.add_handle(c)
            handles.append(c)
        results = {}
        deadline = time.monotonic() + MULTI_DEADLINE
        active = len(handles)
        while active and time.monotonic() < deadline:
            while True:
                ret, active = m.perform()
                if ret != pycurl.E_CALL_MULTI_PERFORM:
                    break
            while True:
                queued, ok, failed = m.info_read()
                for c in ok:
                    results[c.url] = {"url": c.url, "status": c.getinfo(pycurl.RESPONSE_CODE),
                                      "error": None}
                for c, errno, msg in failed:
                    results[c.url] = {"url": c.url, "status": None, "error": f"{errno}: {msg}"}
                if not queued:
                    break
            if active:
                m.select(0.5)
        for c in handles:
            m.remove_handle(c)
            c.close()
        m.close()
        out = [results.get(u, {"url": u, "status": None, "error": "timeout"})
               for u in spec["urls"]]
    else:
        sys.exit(f"pycurl_driver: unknown mode {spec['mode']!r}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
