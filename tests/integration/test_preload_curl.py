# SPDX-License-Identifier: MIT
"""The LD_PRELOAD hook (libaoai-preload.so) in the real curl (OpenSSL libcurl):
which headers reach which host, per request — redirects, --parallel,
exists_action, debug output, URL tricks, the agent down or locked, a token
profile.  Every check reads the fakes' request logs, which hold fingerprints
of header values (preloadtest.fp), never the values.

Skipped while build/lib/libaoai-preload.so has not been built."""

import json

import pytest

from aoaitest import assert_absent, describe, expect_rc, fail, register_secret, run
from preloadtest import (CHAT_BODY, CHAT_PATH, CURLE_ABORTED_BY_CALLBACK, PRELOAD_MARK, app_fps,
                         fp, redirect_url, secret_fps)


def chat(pl, host, **kw):
    """POSTs a chat completion to @host:pl.port with curl; returns the HTTP status."""
    r = pl.curl_ok("-o", "/dev/null", "-w", "%{http_code}", "-H",
                   "Content-Type: application/json", "--data-binary", CHAT_BODY,
                   pl.url(host, CHAT_PATH), **kw)
    return int(r.stdout)


def preload_lines(text):
    return [line for line in text.splitlines() if PRELOAD_MARK in line]


# --- 1. configured host: exactly the profile's headers; others none -------------------

def test_configured_hosts_get_exactly_their_profiles_headers(pl):
    pl.curl_ok("-H", "x-app: one", pl.url("a.test", "/echo?run=base"), preload=False)
    for host in ("a.test", "b.test", "c.test"):
        pl.curl_ok("-H", "x-app: one", pl.url(host, f"/echo?run={host}"))
    base = pl.req(query="run=base")
    a, b, c = (pl.req(query=f"run={h}") for h in ("a.test", "b.test", "c.test"))
    assert secret_fps(base) == {}, base
    assert secret_fps(a) == {"api-key": [fp(pl.key)]}, a
    assert secret_fps(c) == {"api-key": [fp(pl.key)],
                             "ocp-apim-subscription-key": [fp(pl.apim)]}, c
    assert secret_fps(b) == {}, b
    assert all(app_fps(e) == [fp("one")] for e in (base, a, b, c))
    # Nothing else added or removed: the header names are the hook-less request's plus
    # the profile's.
    assert sorted(a["headers"]) == sorted(base["headers"] + ["api-key"]), (base, a)
    assert sorted(c["headers"]) == sorted(base["headers"] + ["api-key",
                                                             "ocp-apim-subscription-key"]), c
    assert sorted(b["headers"]) == sorted(base["headers"]), b


def test_real_api_call_succeeds_only_through_the_hook(pl):
    assert chat(pl, "a.test") == 200
    assert chat(pl, "a.test", preload=False) == 401
    assert chat(pl, "b.test") == 401
    assert [(e["host"].split(":")[0], e["status"], e["auth"]) for e in pl.fake.requests()] == \
        [("a.test", 200, "api-key"), ("a.test", 401, None), ("b.test", 401, None)]


# --- 2. exists_action against the application's own api-key ------------------------------

def actions_config(pl):
    def prof(host, action):
        return {"hosts": [f"{host}:{pl.port}"],
                "credential": {"type": "api-key", "file": str(pl.key_file)},
                "headers": {"api-key": {"value": "{secret}", "exists_action": action}}}
    return {"profiles": {"ov": prof("a.test", "override"), "sk": prof("b.test", "skip"),
                         "ap": prof("c.test", "append")}}


def test_exists_action(pl_factory):
    pl = pl_factory(config=actions_config)
    key, app = fp(pl.key), fp("app")
    for host in ("a.test", "b.test", "c.test"):
        pl.curl_ok("-H", "api-key: app", pl.url(host, "/echo?own=1"))
        pl.curl_ok(pl.url(host, "/echo?own=0"))
    pl.curl_ok("-H", "API-Key: app", pl.url("a.test", "/echo?own=case"))

    def got(host, q):
        return secret_fps(pl.req(host=host, query=q)).get("api-key")

    assert got("a.test", "own=1") == [key], "override must replace the app's api-key"
    assert got("a.test", "own=case") == [key], "override must match the name case-insensitively"
    assert got("b.test", "own=1") == [app], "skip must keep the app's api-key"
    appended = got("c.test", "own=1")
    assert appended is not None and sorted(appended) == sorted([app, key]), \
        f"append must send both (app {app}, profile {key}): {appended}"
    for host in ("a.test", "b.test", "c.test"):
        assert got(host, "own=0") == [key], f"{host}: without the app's header, inject"


# --- 3. redirects: decided per request, by destination --------------------------------

REDIRECTS = [
    # (case, hop-2 target, Preload attribute of the fake that serves it, key due on hop 2)
    ("other host", lambda pl: pl.url("b.test", "/echo?hop=2"), "fake", False),
    ("other port", lambda pl: pl.url("a.test", "/echo?hop=2", fake=pl.other), "other", False),
    ("https to http, loopback", lambda pl: pl.plain.url("127.0.0.1", "/echo?hop=2"), "plain",
     False),
    ("https to http, configured name", lambda pl: pl.url("a.test", "/echo?hop=2",
                                                         fake=pl.plain), "plain", False),
    ("same host", lambda pl: pl.url("a.test", "/echo?hop=2"), "fake", True),
    # --location-trusted lets curl resend credentials it manages itself; not the hook's.
    ("other host, --location-trusted", lambda pl: pl.url("b.test", "/echo?hop=2"), "fake",
     False, "--location-trusted"),
]


def test_redirect_from_configured_host(pl):
    """curl -L from a.test (configured): the second hop gets the key only when it goes to
    the same configured host and port over https; the app's own header goes both ways."""
    problems = []
    for case, target, where, due, *args in REDIRECTS:
        for f in pl.fakes:
            f.log.unlink(missing_ok=True)
        pl.curl_ok("-L", *args, "-H", "x-app: mine",
                   redirect_url(pl.fake, "a.test", target(pl)))
        hop1 = pl.req(path="/redirect")
        hop2 = pl.req(getattr(pl, where), path="/echo", query="hop=2")
        want = {"api-key": [fp(pl.key)]}
        if secret_fps(hop1) != want or hop1["status"] != 302:
            problems.append(f"{case}: the first hop (a.test) got {hop1['header_fps']}")
        if secret_fps(hop2) != (want if due else {}):
            problems.append(f"{case}: the second hop ({hop2['host']}) got {hop2['header_fps']},"
                            f" expected {want if due else {}}")
        if not app_fps(hop1) == app_fps(hop2) == [fp("mine")]:
            problems.append(f"{case}: the application's x-app did not go on both hops: "
                            f"{hop1['header_fps']} / {hop2['header_fps']}")
    if problems:
        fail("\n".join(problems))


def test_redirect_codes_to_other_host(pl):
    problems = []
    for code in (301, 303, 307, 308):
        for f in pl.fakes:
            f.log.unlink(missing_ok=True)
        post = ["--data-binary", "{}"] if code in (307, 308) else []
        pl.curl_ok("-L", "-H", "x-app: mine", *post,
                   redirect_url(pl.fake, "a.test", pl.url("b.test", "/echo?hop=2"), code))
        hop1, hop2 = pl.req(path="/redirect"), pl.req(path="/echo")
        if hop1["status"] != code or secret_fps(hop1) != {"api-key": [fp(pl.key)]}:
            problems.append(f"{code}: first hop {hop1}")
        if hop2["host"] != f"b.test:{pl.port}" or secret_fps(hop2) != {} \
                or app_fps(hop2) != [fp("mine")]:
            problems.append(f"{code}: second hop {hop2}")
        if code in (307, 308) and hop2["method"] != "POST":
            problems.append(f"{code}: curl should have kept POST: {hop2}")
    if problems:
        fail("\n".join(problems))


def test_redirect_into_configured_host_gets_headers_by_destination(pl):
    """Policy (docs/HOOK.md): every request is decided by its own destination, so a
    redirect from an unconfigured host into a configured one gets that host's headers,
    exactly as if the application had requested it directly."""
    pl.curl_ok("-L", "-H", "x-app: mine",
               redirect_url(pl.fake, "b.test", pl.url("a.test", "/echo?hop=2")))
    hop1, hop2 = pl.req(path="/redirect"), pl.req(path="/echo")
    assert hop1["host"] == f"b.test:{pl.port}" and secret_fps(hop1) == {}, hop1
    assert hop2["host"] == f"a.test:{pl.port}", hop2
    assert secret_fps(hop2) == {"api-key": [fp(pl.key)]}, hop2
    assert app_fps(hop1) == app_fps(hop2) == [fp("mine")]


# --- 4. --parallel ----------------------------------------------------------------------

def test_parallel_mixed_hosts(pl):
    plan = [("a.test", pl.fake), ("b.test", pl.fake), ("c.test", pl.fake),
            ("a.test", pl.other), ("a.test", pl.fake), ("b.test", pl.fake),
            ("127.0.0.1", pl.plain), ("c.test", pl.fake)]
    urls = [f.url(h, f"/echo?n={i}") for i, (h, f) in enumerate(plan)]
    pl.curl_ok("--parallel", "--parallel-immediate", "--parallel-max", "8",
               "-H", "x-app: par", *urls)
    key = {"api-key": [fp(pl.key)]}
    gw = dict(key, **{"ocp-apim-subscription-key": [fp(pl.apim)]})
    for i, (host, fake) in enumerate(plan):
        e = pl.req(fake, query=f"n={i}")
        want = key if (host, fake) == ("a.test", pl.fake) else \
            gw if (host, fake) == ("c.test", pl.fake) else {}
        if secret_fps(e) != want or app_fps(e) != [fp("par")]:
            fail(f"request {i} to {host}:{fake.port} got {e['header_fps']}, expected {want}")


# --- 8. debug output never shows a value -------------------------------------------------

@pytest.mark.parametrize("flags", [["-v"], ["--trace-ascii", "-"]],
                         ids=["verbose", "trace-ascii"])
def test_debug_output_redacted(pl, flags):
    r = pl.curl_ok(*flags, "-H", "x-app: dbg", pl.url("c.test", "/echo?dbg=1"))
    out = r.stdout + r.stderr
    assert_absent(pl.key, out, f"curl {' '.join(flags)} output")
    assert_absent(pl.apim, out, f"curl {' '.join(flags)} output")
    low = out.lower()
    if "api-key" not in low or "ocp-apim-subscription-key" not in low:
        fail(f"the injected header names should show in the debug output:\n{describe(r)}")
    e = pl.req(query="dbg=1")
    assert secret_fps(e) == {"api-key": [fp(pl.key)],
                             "ocp-apim-subscription-key": [fp(pl.apim)]}, e


# --- 9. no injection -----------------------------------------------------------------------

def test_no_injection_without_certificate_verification(pl):
    pl.curl_ok("-k", pl.url("a.test", "/echo?k=1"))
    pl.curl_ok("--insecure", pl.url("c.test", "/echo?k=2"))
    for q in ("k=1", "k=2"):
        e = pl.req(query=q)
        assert secret_fps(e) == {}, f"{q}: a secret went out with verification off: {e}"


# (URL, Preload attribute of the fake, log query, whether the key is due).  Only
# a.test:PORT, a.test:PLAINPORT, localhost:PLAINPORT and c.test:PORT are configured;
# a parser that took the wrong host would leak or miss.
URL_TRICKS = [
    (lambda pl: f"https://a.test@b.test:{pl.port}/echo?u=1", "fake", "u=1", False),
    (lambda pl: f"https://a.test:{pl.port}@b.test:{pl.port}/echo?u=2", "fake", "u=2", False),
    (lambda pl: f"https://b.test:{pl.port}/echo?u=3#a.test", "fake", "u=3", False),
    (lambda pl: f"https://b.test:{pl.port}/echo/a.test:{pl.port}?u=4", "fake", "u=4", False),
    (lambda pl: f"https://b.test:{pl.port}/echo?u=5&to=https://a.test:{pl.port}/", "fake",
     "u=5&to=https://a.test:{port}/", False),
    (lambda pl: f"https://b.test@a.test:{pl.port}/echo?u=6", "fake", "u=6", True),
    # curl connects to a.test, but Node or requests would read b.test: the agent refuses
    # such a URL whoever asks (test_url_parsers.py), the hook included.
    (lambda pl: f"https://b.test\\@a.test:{pl.port}/echo?u=11", "fake", "u=11", False),
    (lambda pl: f"https://a.test:{pl.port}/echo?u=7#b.test", "fake", "u=7", True),
    (lambda pl: f"https://A.TEST:{pl.port}/echo?u=8", "fake", "u=8", True),
    (lambda pl: f"http://a.test:{pl.plain.port}/echo?u=9", "plain", "u=9", False),
    # plain http to a loopback name is allowed (aoai-agent.json(5)): the positive control of u=9
    (lambda pl: f"http://localhost:{pl.plain.port}/echo?u=10", "plain", "u=10", True),
]


def test_url_host_is_parsed_like_curl(pl):
    """Userinfo, fragments, paths and queries naming a.test do not make b.test a.test (and
    the reverse); plain http to a configured name gets nothing unless it is loopback."""
    problems = []
    for make, where, query, due in URL_TRICKS:
        url = make(pl)
        pl.curl_ok("-H", "x-app: u", url)
        e = pl.req(getattr(pl, where), query=query.format(port=pl.port))
        got = secret_fps(e).get("api-key")
        if due and got != [fp(pl.key)]:
            problems.append(f"{url}: the configured host did not get its key: {e}")
        if not due and got is not None:
            problems.append(f"{url}: a key went to {e['host']} (plain http or unconfigured "
                            f"host): {e}")
    if problems:
        fail("\n".join(problems))


def test_host_header_does_not_choose_the_profile(pl):
    pl.curl_ok("-H", f"Host: a.test:{pl.port}", pl.url("b.test", "/echo?hh=1"))
    e = pl.req(query="hh=1")
    assert e["host"] == f"a.test:{pl.port}" and secret_fps(e) == {}, e


# --- 12. agent down or locked ----------------------------------------------------------------

def three_urls(pl, tag):
    return [pl.url("a.test", f"/echo?{tag}=1"), pl.url("c.test", f"/echo?{tag}=2"),
            pl.url("a.test", f"/echo?{tag}=3")]


def check_unchanged_with_one_line(pl, r, tag):
    expect_rc(r, 0, "curl with the agent unavailable")
    for i in (1, 2, 3):
        e = pl.req(query=f"{tag}={i}")
        assert secret_fps(e) == {} and app_fps(e) == [fp("down")], e
    lines = preload_lines(r.stderr)
    if len(lines) != 1 or r.stderr.strip() != lines[0].strip():
        fail(f"expected exactly one '{PRELOAD_MARK}' line on stderr:\n{describe(r)}")


def test_agent_down_request_unchanged_one_line(ctx, pl_factory):
    pl = pl_factory(agent=False)
    env = pl.env(sock=ctx.path("nowhere.sock"))
    r = pl.curl("-H", "x-app: down", *three_urls(pl, "d"), env=env)
    check_unchanged_with_one_line(pl, r, "d")


def test_agent_down_strict_fails_transfer(ctx, pl_factory):
    pl = pl_factory(agent=False)
    env = pl.env(sock=ctx.path("nowhere.sock"), AOAI_PRELOAD_STRICT="1")
    r = pl.curl(pl.url("a.test", "/echo?strict=1"), env=env)
    if r.returncode != CURLE_ABORTED_BY_CALLBACK:
        fail(f"strict mode with no agent: expected curl exit {CURLE_ABORTED_BY_CALLBACK}:\n"
             f"{describe(r)}")
    assert pl.reqs(query="strict=1") == [], "the request must not have been sent"


def test_agent_locked(ctx, build, pl):
    expect_rc(run([build.aoai, "lock"], ctx.env(), input=ctx.secret(8) + "\n"), 0, "aoai lock")
    r = pl.curl("-H", "x-app: down", *three_urls(pl, "l"))
    check_unchanged_with_one_line(pl, r, "l")
    r = pl.curl(pl.url("a.test", "/echo?strict=1"), env=pl.env(AOAI_PRELOAD_STRICT="1"))
    assert r.returncode == CURLE_ABORTED_BY_CALLBACK, describe(r)
    assert pl.reqs(query="strict=1") == []


def test_strict_with_agent_up_leaves_unconfigured_hosts_alone(pl):
    env = pl.env(AOAI_PRELOAD_STRICT="1")
    pl.curl_ok(pl.url("a.test", "/echo?s=1"), pl.url("b.test", "/echo?s=2"),
               pl.plain.url("127.0.0.1", "/echo?s=3"), env=env)
    assert secret_fps(pl.req(query="s=1")) == {"api-key": [fp(pl.key)]}
    assert secret_fps(pl.req(query="s=2")) == {}
    assert secret_fps(pl.req(pl.plain, query="s=3")) == {}


# --- 13. a token profile ----------------------------------------------------------------------

def test_managed_identity_token_reaches_the_endpoint(ctx, pl_factory, identity, aoai_json):
    def config(pl):
        return {"profiles": {"mi": {"hosts": [f"a.test:{pl.port}"], "credential": {
            "type": "managed-identity", "endpoint": identity.imds_url}}}}

    pl = pl_factory(config=config, fake_extra=["--jwt-key-file", identity.jwt_key_file])
    assert chat(pl, "a.test") == 200
    assert chat(pl, "b.test") == 401
    token = register_secret(aoai_json("token")["accessToken"])
    ok, denied = pl.fake.requests()
    assert (ok["auth"], ok.get("bearer_src")) == ("jwt", "imds"), ok
    assert secret_fps(ok) == {"authorization": [fp("Bearer " + token)]}, ok
    assert (denied["status"], secret_fps(denied)) == (401, {}), denied
    assert len(identity.requests("imds")) == 1
    r = pl.curl_ok("-v", pl.url("a.test", "/echo?v=1"))
    assert_absent(token, r.stdout + r.stderr, "curl -v output")
    json.loads(r.stdout)
