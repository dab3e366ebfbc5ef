# SPDX-License-Identifier: MIT
"""`aoai token`: the CLI's own checks, its exit codes for the agent's refusals
(each checked as the CLI's exit status and as the wire error code), and one
token through a stand-in IMDS endpoint.

Tests that need the agent's "token" operation call needs_token_op() first:
until the agent implements it (it answers unknown_op) they are reported as
xfail; once it does, they assert the real behaviour.  The main token tests
(refresh, single flight, every source) live elsewhere."""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from aoaitest import (api_key_profile, assert_absent, describe, expect_error, expect_ok,
                      expect_rc, fail)

DEFAULT_SCOPE = "https://cognitiveservices.azure.com/.default"
AZ_KEYS = ["accessToken", "expiresOn", "expires_on", "tokenType"]


def needs_token_op(raw):
    """xfail when the agent does not know the "token" operation yet."""
    with raw() as c:
        reply = c.request({"v": 1, "op": "token", "profile": "no-such-profile"})
    if reply.get("ok") is False and reply.get("error") == "unknown_op":
        pytest.xfail("agent token op not yet implemented")


def wire_token(raw, **fields):
    with raw() as c:
        return c.request({"v": 1, "op": "token", **fields})


def mi_profile(host, **credential):
    return {"hosts": [host], "credential": {"type": "managed-identity", **credential}}


# --- no agent needed ----------------------------------------------------------

def test_help(aoai):
    r = expect_rc(aoai("token", "--help"), 0, "aoai token --help")
    assert r.stdout.startswith("Usage: aoai token [PROFILE]"), r.stdout
    for word in ("--scope", "--json", "Exit status"):
        assert word in r.stdout, word
    assert r.stderr == ""
    r = expect_rc(aoai("help", "token"), 0, "aoai help token")
    assert r.stdout.startswith("Usage: aoai token"), r.stdout


def test_listed_in_main_help(aoai):
    r = expect_rc(aoai("--help"), 0, "aoai --help")
    assert re.search(r"^  token +\S", r.stdout, re.M), r.stdout


@pytest.mark.parametrize("args", [
    ("token", "--frobnicate"),
    ("token", "a", "b"),
    ("token", "--scope"),
    ("token", "a/b"),
    ("token", "x" * 65),
])
def test_usage_errors(aoai, args):
    # No agent is running: usage errors are found before connecting.
    r = expect_rc(aoai(*args), 2, " ".join(args)[:40])
    assert r.stdout == "" and r.stderr.strip(), describe(r)


def test_no_agent(ctx, aoai):
    r = expect_rc(aoai("token", sock=ctx.path("nothing.sock")), 3, "no agent")
    assert r.stdout == ""


# --- refusals -----------------------------------------------------------------

@pytest.fixture
def apikey_only(ctx, start_agent):
    cfg = ctx.write_config({"profiles": {"contoso": api_key_profile("contoso.openai.azure.com")}})
    return start_agent(config=cfg)


def test_no_token_profile(apikey_only, aoai, raw):
    needs_token_op(raw)
    r = expect_rc(aoai("token"), 4, "no token profile")
    assert r.stdout == "" and r.stderr.strip(), describe(r)
    expect_error(wire_token(raw), "no_match")


def test_no_token_profile_without_config(agent, aoai, raw):
    needs_token_op(raw)
    expect_rc(aoai("token"), 4, "no config at all")
    expect_rc(aoai("token", "--json"), 4, "no config at all, --json")


def test_unknown_profile(apikey_only, aoai, raw):
    needs_token_op(raw)
    r = expect_rc(aoai("token", "nosuch"), 1, "no such profile")
    assert "nosuch" in r.stderr, describe(r)
    expect_error(wire_token(raw, profile="nosuch"), "not_found")


def test_api_key_profile(apikey_only, aoai, raw):
    needs_token_op(raw)
    r = expect_rc(aoai("token", "contoso"), 1, "api-key profile")
    assert r.stdout == "" and "contoso" in r.stderr, describe(r)
    expect_error(wire_token(raw, profile="contoso"), "bad_request")


def test_several_token_profiles(ctx, start_agent, aoai, raw):
    cfg = ctx.write_config({"profiles": {
        "vm1": mi_profile("a.openai.azure.com", endpoint="http://127.0.0.1:9/token"),
        "vm2": mi_profile("b.openai.azure.com", endpoint="http://127.0.0.1:9/token"),
    }})
    start_agent(config=cfg)
    needs_token_op(raw)
    r = expect_rc(aoai("token"), 1, "two token profiles, none named")
    reply = expect_error(wire_token(raw), "bad_request")
    for name in ("vm1", "vm2"):
        assert name in r.stderr and name in reply["message"], (describe(r), reply)


def test_bad_scope(apikey_only, aoai, raw):
    # Checked by libaoai before sending, and by the agent's decoder.
    for scope in ("a b", "x" * 1025, "caf\u00e9"):
        r = expect_rc(aoai("token", "--scope", scope), 2, f"scope {scope[:20]!r}")
        assert "scope" in r.stderr, describe(r)
    needs_token_op(raw)
    for scope in ("a b", "", "x" * 1025, "tab\there"):
        expect_error(wire_token(raw, scope=scope), "bad_request", f"scope {scope[:20]!r}")


def test_locked(apikey_only, aoai, raw, ctx):
    needs_token_op(raw)
    expect_rc(aoai("lock", input="pass phrase\n"), 0, "lock")
    expect_rc(aoai("token"), 5, "locked")
    expect_error(wire_token(raw), "locked")


# --- a token through a stand-in IMDS --------------------------------------------

class FakeImds:
    """An IMDS token endpoint on loopback: a fixed answer, requests recorded."""

    def __init__(self, status, body):
        self.status, self.body, self.requests = status, body, []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.requests.append((self.path, dict(self.headers)))
                data = json.dumps(fake.body).encode()
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{port}/metadata/identity/oauth2/token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def imds():
    servers = []

    def start(status, body):
        s = FakeImds(status, body)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


def test_token_from_imds(ctx, start_agent, imds, aoai, aoai_json, raw):
    token = "eyJ0eXAi." + ctx.secret(32) + ".c2ln"
    expires_on = int(time.time()) + 3600
    fake = imds(200, {"access_token": token, "expires_on": str(expires_on),
                      "expires_in": "3600", "token_type": "Bearer",
                      "resource": "https://cognitiveservices.azure.com"})
    cfg = ctx.write_config({"profiles": {
        "vm": mi_profile("vm.openai.azure.com", endpoint=fake.url),
        "contoso": api_key_profile("contoso.openai.azure.com"),
    }})
    agent = start_agent(config=cfg)
    needs_token_op(raw)

    r = expect_rc(aoai("token"), 0, "aoai token")
    if r.stdout != token + "\n":
        fail(f"`aoai token` printed something else than the token and a newline:\n{r.stdout}")
    assert r.stderr == ""
    path, headers = fake.requests[0]
    q = parse_qs(urlsplit(path).query)
    assert q.get("resource") == ["https://cognitiveservices.azure.com"], path
    assert headers.get("Metadata") == "true", headers

    doc = aoai_json("token", "vm")
    assert list(doc) == AZ_KEYS, list(doc)
    if doc["accessToken"] != token:
        fail("`aoai token --json` accessToken is not the token")
    assert doc["expires_on"] == expires_on and doc["tokenType"] == "Bearer", doc["expires_on"]
    local = time.strftime("%Y-%m-%d %H:%M:%S.000000", time.localtime(expires_on))
    assert doc["expiresOn"] == local, doc["expiresOn"]

    reply = expect_ok(wire_token(raw, profile="vm"))
    assert reply["profile"] == "vm" and reply["source"] == "imds", reply["source"]
    assert reply["scope"] == DEFAULT_SCOPE and reply["expires_on"] == expires_on
    assert len(fake.requests) == 1, "the cached token must be served from the cache"

    (vm,) = [p for p in aoai_json("list")["profiles"] if p["name"] == "vm"]
    assert vm["state"] == "ready" and vm["token"]["state"] == "valid", vm
    assert vm["token"]["source"] == "imds" and vm["token"]["scope"] == DEFAULT_SCOPE, vm
    r = expect_rc(aoai("list"), 0, "aoai list")
    assert re.search(r"^vm .* ready \(token expires in \S+.*\)$", r.stdout, re.M), r.stdout
    assert_absent(token, aoai("list").stdout + json.dumps(aoai_json("list")), "aoai list")
    assert_absent(token, agent.log(), "the agent log")


def test_imds_error(ctx, start_agent, imds, aoai, aoai_json, raw):
    fake = imds(400, {"error": "invalid_request", "error_description": "Identity not found"})
    cfg = ctx.write_config({"profiles": {"vm": mi_profile("vm.openai.azure.com",
                                                           endpoint=fake.url)}})
    start_agent(config=cfg)
    needs_token_op(raw)
    r = expect_rc(aoai("token", "vm"), 6, "IMDS answers 400")
    assert r.stdout == ""
    for part in ("vm", "imds", "400", "Identity not found"):
        assert part in r.stderr, describe(r)
    reply = expect_error(wire_token(raw), "unavailable")
    assert "Identity not found" in reply["message"], reply
    (vm,) = aoai_json("list")["profiles"]
    assert vm["state"] == "unavailable" and "Identity not found" in vm["detail"], vm
    assert vm["token"]["last_error"], vm
    r = expect_rc(aoai("list"), 0, "aoai list")
    assert_line_re(r"^vm .* unavailable: .*Identity not found", r.stdout)


def assert_line_re(pattern, text):
    if not re.search(pattern, text, re.M):
        fail(f"no line matches {pattern!r} in:\n{text}")
