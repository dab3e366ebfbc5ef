# SPDX-License-Identifier: MIT
"""aoai-exec's relay for api-key profiles: the child gets a loopback endpoint
and a per-run placeholder instead of the key; real clients (the Node `openai`
SDK, urllib, requests, httpx, curl) work through it unmodified; streams are
passed on as they come; big bodies keep aoai-exec's memory bounded; the
placeholder, Host and forwarding rules; the flags that turn it off.

Faults (upstream and client) are in test_exec_relay_faults.py."""

import hashlib
import http.client
import json
import os
import threading

import pytest

from aoaitest import CURL, PYTHON, assert_absent, describe, expect_rc, fail
from exectest import CONFLICTING
from relaytest import (CHAT_PATH, MB, PLACEHOLDER_RE, V1_CHAT_PATH, api_requests, azure_error,
                       chat_body, check_peak_rss, open_gate, raw_exchange, request, sha12,
                       read_hashed, sse_events, start_holder, status_of, wait_event, warm_hwm)
from test_exec_sdk import node_modules  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_CLIENT = os.path.join(HERE, "relay_node_client.js")
PY_CLIENT = os.path.join(HERE, "relay_py_client.py")
BIG = 20 * MB
RSS_LIMIT_KB = 40 * 1024     # aoai-exec's peak RSS while moving a 20 MB body
GROWTH_LIMIT_KB = 8 * 1024   # what that may add to its working set: well under the body
CONCURRENT = 64


def released(aoai_json, profile="k"):
    """How many times the agent has released profile @profile's credential."""
    st = aoai_json("status")
    return st["audit"]["profiles"].get(profile, {}).get("released", 0)


def environ_has_no_key(path, key, placeholder, what):
    data = path.read_bytes()
    assert_absent(key, data, what)
    if f"AZURE_OPENAI_API_KEY={placeholder}\0".encode() not in data:
        fail(f"{what} lacks AZURE_OPENAI_API_KEY=<placeholder>: is it really that environ?")


# --- the environment ------------------------------------------------------------

def test_environment(ctx, relay_scene, exec_child):
    """Endpoint, placeholder, OPENAI_* variables; no key in env, argv, or of aoai-exec."""
    env = ctx.env(**CONFLICTING)
    h = start_holder(ctx, exec_child, env=env)  # fails unless the key is a placeholder
    r = h.vars
    assert r["OPENAI_API_KEY"] == "<placeholder>" and h.same_key_vars, r
    assert r["OPENAI_BASE_URL"] == f"http://127.0.0.1:{h.port}/openai/v1", r
    assert r["AOAI_EXEC"] == "k", r
    assert r["ppid"] == h.exec_pid, "aoai-exec must stay the child's parent to relay"
    for pid, what in ((h.child_pid, "child"), (h.exec_pid, "aoai-exec")):
        assert_absent(relay_scene.key, open(f"/proc/{pid}/cmdline", "rb").read(),
                      f"the {what}'s argv")
    assert_absent(relay_scene.key, open(f"/proc/{h.child_pid}/environ", "rb").read(),
                  "the child's environment")
    # It works, and the fake saw the real key, never the placeholder.
    status, _, body = request(h, "GET", "/openai/deployments?api-version=2022-12-01")
    assert status == 200 and json.loads(body)["object"] == "list", (status, body[:300])
    (seen,) = api_requests(relay_scene.fake, "/openai/deployments")
    assert seen["header_fps"] == {"api-key": [sha12(relay_scene.key)]}, seen
    assert seen["host"] == relay_scene.fake.hostport, seen
    h.finish()
    # A new run, a new placeholder.
    h2 = start_holder(ctx, exec_child, env=env)
    if h2.placeholder == h.placeholder:
        fail("two runs of aoai-exec had the same placeholder")
    h2.finish()


def test_endpoint_path_kept(ctx, relay_scene, exec_child):
    """An endpoint with a path (an API gateway's prefix) keeps it on the relay's side,
    and the relay forwards every path as it comes, so the two compose."""
    h = start_holder(ctx, exec_child, env=ctx.env(
        AZURE_OPENAI_ENDPOINT=f"http://{relay_scene.fake.hostport}/gw/aoai/"))
    assert h.endpoint == f"http://127.0.0.1:{h.port}/gw/aoai/", h.vars
    status, _, _ = request(h, "GET", "/gw/aoai/openai/deployments?api-version=2022-12-01")
    assert status == 404  # the fake has no such prefix; what matters is where it went
    assert [e["path"] for e in relay_scene.fake.requests()] == \
        ["/gw/aoai/openai/deployments"], relay_scene.fake.requests()
    h.finish()


def test_bearer_placeholder_and_keep_alive(ctx, relay_scene, exec_child):
    """`Authorization: Bearer <placeholder>` works too, and is replaced, not passed on;
    several requests go over one client connection."""
    h = start_holder(ctx, exec_child)
    c = h.conn()
    try:
        for i in range(5):
            auth = {"Authorization": "Bearer " + h.placeholder} if i % 2 else h.auth()
            c.request("POST", V1_CHAT_PATH, chat_body(model="gpt-4o"),
                      {**auth, "Content-Type": "application/json"})
            r = c.getresponse()
            body = json.loads(r.read())
            assert r.status == 200 and body["object"] == "chat.completion", (i, r.status, body)
    finally:
        c.close()
    seen = api_requests(relay_scene.fake, V1_CHAT_PATH)
    assert len(seen) == 5, seen
    for s in seen:
        assert s["header_fps"] == {"api-key": [sha12(relay_scene.key)]}, s
        assert not s["authorization_present"], "the placeholder's Authorization went upstream"
    h.finish()


# --- real clients -------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["azure", "azure-stream", "openai", "openai-stream"])
def test_node_openai_sdk(ctx, relay_scene, aoai_exec, node_modules, mode):  # noqa: F811
    out = ctx.path("node-out")
    out.mkdir()
    r = aoai_exec("--", "node", NODE_CLIENT, mode, out,
                  env=ctx.env(NODE_PATH=node_modules, **CONFLICTING))
    if r.returncode != 0:
        # AzureOpenAI prefers OPENAI_BASE_URL to AZURE_OPENAI_ENDPOINT when both are set.
        fail(f"node {mode} failed; the upstream saw "
             f"{[(e['method'], e['path'], e['status']) for e in relay_scene.fake.requests()]}\n"
             f"{describe(r)}")
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["status"] == 200 and "fake Azure OpenAI" in got["content"], got
    if mode.endswith("-stream"):
        assert got["chunks"] >= 5, got
    # AzureOpenAI takes OPENAI_BASE_URL (the v1 API) as its base when it is set, and asks
    # for /openai/v1/deployments/D/...: Azure serves that at /openai/deployments/D/...
    path = V1_CHAT_PATH if mode.startswith("openai") else \
        "/openai/deployments/gpt-4o/chat/completions"
    (seen,) = [e for e in relay_scene.fake.requests() if e["path"] == path]
    assert seen["header_fps"] == {"api-key": [sha12(relay_scene.key)]}, seen
    env_text = (out / "child.environ").read_text(errors="replace")
    placeholder = PLACEHOLDER_RE.search(env_text)
    assert placeholder, "no placeholder in the child's environment"
    for who in ("child", "grandchild"):
        environ_has_no_key(out / f"{who}.environ", relay_scene.key, placeholder.group(0),
                           f"the Node {who}'s /proc/self/environ")


@pytest.mark.parametrize("lib", ["urllib", "requests", "httpx"])
def test_python_clients(ctx, relay_scene, aoai_exec, lib):
    r = expect_rc(aoai_exec("--", PYTHON, PY_CLIENT, lib, env=ctx.env(**CONFLICTING)), 0,
                  f"python {lib}")
    got = json.loads(r.stdout.strip().splitlines()[-1])["results"]
    assert [x["status"] for x in got] == [200, 200, 200], got
    assert "fake Azure OpenAI" in got[0]["content"] and "fake Azure OpenAI" in got[2]["content"], \
        got
    assert got[1]["content"].startswith("Hello! This answer streams"), got
    seen = [e for e in relay_scene.fake.requests() if e["path"].endswith("/chat/completions")]
    assert len(seen) == 3, seen
    assert all(e["header_fps"] == {"api-key": [sha12(relay_scene.key)]} for e in seen), seen


@pytest.mark.parametrize("preload", [False, True], ids=["no-preload", "with-hook"])
def test_curl_through_relay(ctx, relay_scene, aoai_exec, preload):
    """curl with the placeholder from the environment, with or without the LD_PRELOAD
    hook (which has nothing to add for the relay's address)."""
    script = ('exec "$1" -q -sS --max-time 10 -w "%{http_code}" '
              '-H "api-key: $AZURE_OPENAI_API_KEY" '
              '-H "Content-Type: application/json" -d "$2" "${AZURE_OPENAI_ENDPOINT}$3"')
    opts = () if preload else ("--no-preload",)
    r = expect_rc(aoai_exec(*opts, "--", "/bin/sh", "-c", script, "sh", CURL,
                            chat_body().decode(), CHAT_PATH.lstrip("/")), 0, "curl")
    body, code = r.stdout[:-3], r.stdout[-3:]
    assert code == "200" and json.loads(body)["object"] == "chat.completion", describe(r)
    (seen,) = api_requests(relay_scene.fake, "/chat/completions")
    assert seen["header_fps"] == {"api-key": [sha12(relay_scene.key)]}, seen


# --- streaming and big bodies ------------------------------------------------------------

def test_stream_not_buffered(ctx, relay_scene, exec_child):
    """The first SSE event reaches the client while the upstream holds the rest."""
    h = start_holder(ctx, exec_child)
    c = h.conn()
    try:
        c.request("POST", CHAT_PATH + "&fake-gate=first", chat_body(stream=True),
                  {**h.auth(), "Content-Type": "application/json"})
        r = c.getresponse()
        assert r.status == 200 and r.getheader("Content-Type").startswith("text/event-stream")
        it = sse_events(r)
        try:
            first = json.loads(next(it))  # the gate is shut: only a relay that passes
        except TimeoutError:              # events on as they come gets here
            fail("the first event did not reach the client while the upstream held the rest")
        assert first["choices"] == [] and "prompt_filter_results" in first, first
        assert wait_event(relay_scene.fake, "gate-wait")
        open_gate(relay_scene.fake, "first")
        rest = list(it)
    finally:
        c.close()
    assert rest[-1] == "[DONE]", rest
    text = "".join(json.loads(e)["choices"][0]["delta"].get("content") or "" for e in rest[:-1])
    assert text.startswith("Hello! This answer streams"), text
    h.finish()


def upload(h, chunked):
    """POSTs BIG deterministic bytes to /fake/upload through the relay; the reply."""
    data_hash = hashlib.sha256()

    def body():
        block = hashlib.sha256(b"up").digest() * 2048  # 64 KiB
        for i in range(BIG // len(block)):
            b = bytes([i & 0xff]) + block[1:]
            data_hash.update(b)
            yield b

    c = h.conn(timeout=60)
    try:
        headers = dict(h.auth())
        if not chunked:
            headers["Content-Length"] = str(BIG)
        c.request("POST", "/fake/upload", body=body(), headers=headers, encode_chunked=chunked)
        r = c.getresponse()
        got = json.loads(r.read())
        assert r.status == 200, got
    finally:
        c.close()
    return got, data_hash.hexdigest()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_upload_20mb(ctx, build, relay_scene, exec_child, chunked):
    h = start_holder(ctx, exec_child)
    base = warm_hwm(h)
    got, want = upload(h, chunked)
    assert got == {"sha256": want, "length": BIG, "chunked": chunked}, got
    check_peak_rss(build, h.exec_pid, RSS_LIMIT_KB, f"for a {BIG // MB} MB upload", base,
                   GROWTH_LIMIT_KB)
    h.finish()


@pytest.mark.parametrize("mode", ["length", "chunked"])
def test_download_20mb(ctx, build, relay_scene, exec_child, mode):
    h = start_holder(ctx, exec_child)
    base = warm_hwm(h)
    c = h.conn(timeout=60)
    try:
        c.request("GET", f"/fake/download?bytes={BIG}&mode={mode}", headers=h.auth())
        r = c.getresponse()
        assert r.status == 200
        digest = hashlib.sha256()
        n = read_hashed(r, digest)
    finally:
        c.close()
    assert n == BIG and digest.hexdigest() == r.getheader("X-Fake-Sha256"), n
    check_peak_rss(build, h.exec_pid, RSS_LIMIT_KB, f"for a {BIG // MB} MB download", base,
                   GROWTH_LIMIT_KB)
    h.finish()


def test_64_concurrent_streams(ctx, relay_scene, exec_child):
    """64 streams open at once through one relay (each past its first event before
    any may finish), then all complete."""
    h = start_holder(ctx, exec_child)
    firsts = threading.Barrier(CONCURRENT + 1, timeout=60)
    results, errors = [None] * CONCURRENT, []

    def one(i):
        c = h.conn(timeout=60)
        try:
            c.request("POST", CHAT_PATH + "&fake-gate=many", chat_body(stream=True),
                      {**h.auth(), "Content-Type": "application/json"})
            r = c.getresponse()
            it = sse_events(r)
            next(it)
            firsts.wait()
            evs = list(it)
            results[i] = (r.status, evs[-1] if evs else None, len(evs))
        except Exception as e:  # reported below, with the others
            errors.append(f"stream {i}: {e!r}")
            firsts.abort()
        finally:
            c.close()

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(CONCURRENT)]
    for t in threads:
        t.start()
    try:
        firsts.wait()
    except threading.BrokenBarrierError:
        pass
    open_gate(relay_scene.fake, "many")
    for t in threads:
        t.join(60)
    assert not errors, errors[:5]
    assert all(r is not None and r[:2] == (200, "[DONE]") and r[2] > 5 for r in results), \
        results[:5]
    assert len(api_requests(relay_scene.fake, "/chat/completions")) == CONCURRENT
    h.finish()


# --- the placeholder ---------------------------------------------------------------

def test_wrong_placeholder(ctx, relay_scene, exec_child, aoai_json):
    """Refused with 401 and an Azure-shaped body; neither the agent nor the upstream
    is asked."""
    h = start_holder(ctx, exec_child)
    ph = h.placeholder
    other = "aoai-relay-" + ("0" * 64 if ph[11] != "0" else "1" * 64)
    cases = {
        "none": {},
        "wrong": {"api-key": other},
        "short": {"api-key": ph[:-1]},
        "longer": {"api-key": ph + "0"},
        "the real key": {"api-key": relay_scene.key},
        "wrong bearer": {"Authorization": "Bearer " + other},
        "basic": {"Authorization": "Basic " + ph},
        "empty": {"api-key": ""},
    }
    before = released(aoai_json)
    for what, headers in cases.items():
        status, _, body = request(h, "POST", CHAT_PATH, chat_body(), headers, auth=False)
        if status != 401:
            fail(f"{what}: expected 401, got {status} {body[:300]!r}")
        azure_error(body, what)
        assert_absent(relay_scene.key, body, f"the 401 body ({what})")
    assert relay_scene.fake.requests() == [], "a refused request reached the upstream"
    assert released(aoai_json) == before, "a refused request made the agent release the key"
    # The observable works: one good request is one release.
    status, _, _ = request(h, "POST", CHAT_PATH, chat_body())
    assert status == 200 and released(aoai_json) == before + 1
    h.finish()


def test_connection_in_step_after_refusal(ctx, relay_scene, exec_child):
    """A refused request's body is read past (or the connection closed): the next request
    on the same client connection is served, not parsed from the leftover body."""
    h = start_holder(ctx, exec_child)
    c = h.conn()
    try:
        body = b'{"x": "' + b"y" * 100000 + b'"}'
        c.request("POST", CHAT_PATH, body, {"api-key": "aoai-relay-" + "0" * 64})
        r = c.getresponse()
        assert r.status == 401
        r.read()
        c.request("GET", "/echo/next", headers=h.auth())  # reconnects if it was closed
        r = c.getresponse()
        assert r.status == 200 and json.loads(r.read())["headers"]
    finally:
        c.close()
    assert [e["path"] for e in relay_scene.fake.requests()] == ["/echo/next"]
    h.finish()


def test_key_rotation_seen_at_next_request(ctx, start_agent, aoai, exec_child):
    """`aoai add` replaces the key; the relay's next request carries the new one."""
    from relaytest import start_relay_fake
    from aoaitest import stop_fake
    fake = start_relay_fake(ctx)
    try:
        cfg = {"profiles": {"k": {"hosts": [fake.hostport], "credential": {"type": "api-key"}}}}
        start_agent(config=ctx.write_config(cfg))
        old, new = ctx.secret(), ctx.secret()
        expect_rc(aoai("add", "k", input=old + "\n"), 0, "aoai add k (old)")
        h = start_holder(ctx, exec_child)
        c = h.conn()
        c.request("GET", "/echo", headers=h.auth())
        r = c.getresponse()
        first = json.loads(r.read())
        expect_rc(aoai("add", "k", input=new + "\n"), 0, "aoai add k (new)")
        c.request("GET", "/echo", headers=h.auth())  # same client connection
        r = c.getresponse()
        second = json.loads(r.read())
        c.close()

        def key_fps(reply):
            return [x["fp"] for x in reply["headers"] if x["name"].lower() == "api-key"]

        assert key_fps(first) == [sha12(old)] and key_fps(second) == [sha12(new)], \
            "the relay did not send the rotated key at once"
        h.finish()
    finally:
        stop_fake(fake)


# --- what is relayed unchanged, and what is refused ---------------------------------------

def test_upstream_answers_relayed(ctx, relay_scene, exec_child):
    """401 and 429 with Retry-After pass through; a 302 reaches the client, unfollowed."""
    h = start_holder(ctx, exec_child)
    for code, retry in ((401, None), (429, "7")):
        q = f"code={code}" + (f"&retry_after={retry}" if retry else "")
        status, headers, body = request(h, "POST", f"/fake/status?{q}", chat_body())
        assert status == code, (status, body[:300])
        assert headers.get("retry-after") == retry, headers
        assert headers.get("apim-request-id"), headers
        direct = http.client.HTTPConnection("127.0.0.1", relay_scene.fake.port, timeout=10)
        try:
            direct.request("POST", f"/fake/status?{q}", chat_body(), {"api-key": relay_scene.key})
            want = direct.getresponse().read()
        finally:
            direct.close()
        assert body == want, f"{code}: the body changed on its way: {body!r} != {want!r}"
    target = f"http://127.0.0.1:{relay_scene.fake.port}/echo/followed"
    status, headers, body = request(h, "GET", f"/redirect?to={target}&code=302")
    assert status == 302 and headers.get("location") == target, (status, headers)
    assert api_requests(relay_scene.fake, "/echo/followed") == [], "the relay followed a 302"
    h.finish()


def test_websocket_upgrade_refused(ctx, relay_scene, exec_child):
    h = start_holder(ctx, exec_child)
    raw = raw_exchange(h.port, (
        "GET /openai/realtime?api-version=2024-10-01-preview&deployment=gpt-4o HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{h.port}\r\napi-key: {h.placeholder}\r\nConnection: Upgrade\r\n"
        "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").encode())
    assert status_of(raw) == 501, raw[:300]
    err = azure_error(raw.split(b"\r\n\r\n", 1)[1], "the 501")
    assert "websocket" in err["message"].lower(), err
    assert relay_scene.fake.requests() == [], "the upgrade reached the upstream"
    h.finish()


def test_host_and_forwarding_rules(ctx, relay_scene, exec_child):
    h = start_holder(ctx, exec_child)
    path = "/openai/deployments?api-version=2022-12-01"

    def get(host, extra=""):
        return raw_exchange(h.port, (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\napi-key: {h.placeholder}\r\n{extra}"
            "Connection: close\r\n\r\n").encode())

    for host in (f"127.0.0.1:{h.port}", f"localhost:{h.port}"):
        raw = get(host)
        assert status_of(raw) == 200, (host, raw[:300])
    refused = {
        "foreign Host": (get("evil.example"), (400, 421)),
        "foreign port": (get(f"127.0.0.1:{h.port + 1 if h.port < 65535 else 1}"), (400, 421)),
        "upstream's Host": (get(relay_scene.fake.hostport), (400, 421)),
        "no port": (get("127.0.0.1"), (400, 421)),
        "Forwarded": (get(f"127.0.0.1:{h.port}", "Forwarded: for=192.0.2.1\r\n"), (400,)),
        "X-Forwarded-For": (get(f"127.0.0.1:{h.port}", "X-Forwarded-For: 192.0.2.1\r\n"), (400,)),
    }
    absolute = raw_exchange(h.port, (
        f"GET http://{relay_scene.fake.hostport}{path} HTTP/1.1\r\nHost: 127.0.0.1:{h.port}\r\n"
        f"api-key: {h.placeholder}\r\nConnection: close\r\n\r\n").encode())
    refused["absolute-form target"] = (absolute, (400,))
    for what, (raw, codes) in refused.items():
        if status_of(raw) not in codes:
            fail(f"{what}: expected {codes}, got {raw[:300]!r}")
        azure_error(raw.split(b"\r\n\r\n", 1)[1], what)
    assert len(api_requests(relay_scene.fake, "/openai/deployments")) == 2, \
        relay_scene.fake.requests()
    h.finish()


# --- flags, and token profiles ----------------------------------------------------------

def test_key_in_env(ctx, relay_scene, exec_child):
    h = start_holder(ctx, exec_child, "--key-in-env", expect_relay=False)
    assert h.endpoint == f"http://{relay_scene.fake.hostport}/", h.vars
    if h.vars["AZURE_OPENAI_API_KEY"] != "fp:" + sha12(relay_scene.key):
        fail(f"--key-in-env: AZURE_OPENAI_API_KEY is not the real key: {h.vars}")
    err = h.finish()
    assert "--key-in-env" in err, f"no warning on stderr:\n{err}"


@pytest.mark.parametrize("flag", ["--no-relay", "--no-env"])
def test_no_relay(ctx, relay_scene, exec_child, flag):
    h = start_holder(ctx, exec_child, flag, expect_relay=False)
    r = h.vars
    assert r["AZURE_OPENAI_ENDPOINT"] == f"http://{relay_scene.fake.hostport}/", r
    for name in ("AZURE_OPENAI_API_KEY", "OPENAI_API_KEY"):
        assert r[name] is None, f"{flag}: {name} is set"
    assert r["OPENAI_BASE_URL"] in (None, f"http://{relay_scene.fake.hostport}/openai/v1"), r
    assert_absent(relay_scene.key, open(f"/proc/{h.child_pid}/environ", "rb").read(),
                  f"the child's environment under {flag}")
    h.finish()


def test_token_profile_keeps_identity_endpoint(ctx, mi_scene, exec_child):
    mi_scene.start()
    h = start_holder(ctx, exec_child, expect_relay=False)
    r = h.vars
    assert r["IDENTITY_ENDPOINT"] and r["IDENTITY_ENDPOINT"].endswith("/msi/token"), r
    assert r["AZURE_OPENAI_ENDPOINT"] == f"http://{mi_scene.fake.hostport}/", r
    assert r["AZURE_OPENAI_API_KEY"] is None and r["OPENAI_API_KEY"] is None, r
    h.finish()


def test_token_profile_with_relay(ctx, mi_scene, exec_child):
    """--relay for a token profile: the placeholder in, the agent's bearer token out."""
    mi_scene.start()
    h = start_holder(ctx, exec_child, "--relay")
    status, _, body = request(h, "POST", CHAT_PATH, chat_body(),
                              {"Content-Type": "application/json"})
    assert status == 200, (status, body[:300])
    (seen,) = api_requests(mi_scene.fake, "/chat/completions")
    assert seen["auth"] == "jwt" and not seen["api_key_present"], seen
    assert len(seen["header_fps"]["authorization"]) == 1, seen
    h.finish()


def test_endpoint_path_prefix(ctx, relay_scene, exec_child):
    """An endpoint with a path (an API gateway's prefix): both variables keep it, the
    relay forwards paths unchanged, and the Node SDK's v1-deployments path maps under it."""
    env = ctx.env(AZURE_OPENAI_ENDPOINT=f"http://{relay_scene.fake.hostport}/gw/")
    h = start_holder(ctx, exec_child, env=env)
    assert h.endpoint == f"http://127.0.0.1:{h.port}/gw/", h.vars
    assert h.vars["OPENAI_BASE_URL"] == f"http://127.0.0.1:{h.port}/gw/openai/v1", h.vars
    request(h, "GET", "/gw/openai/v1/models?x=/openai/v1/deployments/")
    request(h, "POST", "/gw/openai/v1/deployments/d1/chat/completions?api-version=2024-10-21",
            body=chat_body())
    paths = [e["path"] for e in relay_scene.fake.requests()]
    assert "/gw/openai/v1/models" in paths, paths
    assert "/gw/openai/deployments/d1/chat/completions" in paths, paths
    h.finish()
