# SPDX-License-Identifier: MIT
"""The LD_PRELOAD hook in python3-pycurl under /usr/bin/python3: the GnuTLS
libcurl, loaded RTLD_LOCAL by a Python extension after the hook; easy handles,
one handle reused across hosts, and a multi handle.

Skipped while build/lib/libaoai-preload.so has not been built."""

import pytest

from aoaitest import describe, fail
from preloadtest import HOSTS, PRELOAD_MARK, app_fps, fp, pycurl_run, secret_fps


def plan(pl, tag):
    """(url, fake, expected secret fingerprints) for a mix of hosts and ports."""
    key = {"api-key": [fp(pl.key)]}
    gw = dict(key, **{"ocp-apim-subscription-key": [fp(pl.apim)]})
    return [
        (pl.url("a.test", f"/echo?{tag}=0"), pl.fake, key),
        (pl.url("b.test", f"/echo?{tag}=1"), pl.fake, {}),
        (pl.url("a.test", f"/echo?{tag}=2"), pl.fake, key),
        (pl.url("c.test", f"/echo?{tag}=3"), pl.fake, gw),
        (pl.url("a.test", f"/echo?{tag}=4", fake=pl.other), pl.other, {}),
        (pl.url("b.test", f"/echo?{tag}=5"), pl.fake, {}),
    ]


@pytest.mark.parametrize("mode", ["easy", "reuse", "multi"])
def test_pycurl(pl, mode):
    steps = plan(pl, mode)
    resolve = [f"{h}:{f.port}:127.0.0.1" for f in (pl.fake, pl.other) for h in HOSTS]
    out, r = pycurl_run(pl.ctx, pl.env(), mode, [u for u, _, _ in steps], pl.ca.ca_cert,
                        resolve, ["x-app: py"])
    if [o["status"] for o in out] != [200] * len(steps):
        fail(f"pycurl {mode}: {out}\n{describe(r)}")
    if PRELOAD_MARK in r.stderr:
        fail(f"the hook complained although the agent is up:\n{describe(r)}")
    for i, (url, fake, want) in enumerate(steps):
        e = pl.req(fake, query=f"{mode}={i}")
        if secret_fps(e) != want or app_fps(e) != [fp("py")]:
            fail(f"pycurl {mode}: request {i} ({url}) got {e['header_fps']}, expected {want}")
