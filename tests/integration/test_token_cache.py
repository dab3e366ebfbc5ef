# SPDX-License-Identifier: MIT
"""The token cache's rules, observed from outside: one identity request for
many clients, background refresh, retry and backoff, the cached token
served through an outage, and an identity endpoint that hangs without
delaying anybody else."""

import subprocess
import time

import pytest

from aoaitest import (describe, expect_ok, expect_rc, fail, register_secret, wait_until)

HOST = "aoai.example.com"
URL = f"https://{HOST}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"


@pytest.fixture
def imds_agent(ctx, start_agent, identity):
    """An agent with token profile "vm" (the fake IMDS via "endpoint") and
    api-key profile "key" (its secret from a file)."""
    key = ctx.secret()
    key_file = ctx.write_file("api.key", key + "\n")
    cfg = {"profiles": {
        "vm": {"hosts": [HOST],
               "credential": {"type": "managed-identity",
                              "endpoint": identity.imds_authority + "/metadata/identity/oauth2/token"}},
        "key": {"hosts": ["key.example.com"],
                "credential": {"type": "api-key", "file": str(key_file)}},
    }}
    return start_agent(config=ctx.write_config(cfg))


def token(aoai_json):
    t = aoai_json("token", "vm")["accessToken"]
    register_secret(t)
    return t


def vm_state(aoai_json):
    (p,) = [p for p in aoai_json("list")["profiles"] if p["name"] == "vm"]
    return p["token"]


def imds_times(identity):
    return [r["time"] for r in identity.requests("imds")]


def test_single_flight_for_100_cold_clients(ctx, identity, imds_agent, raw):
    # The answer is held back a second so that every client is waiting on
    # the same fetch.
    identity.script("imds", {"delay": 1.0})
    clients = [raw(timeout=20.0) for _ in range(100)]
    for c in clients:
        c.send_json({"v": 1, "op": "token", "profile": "vm"})
    tokens = set()
    for c in clients:
        tokens.add(expect_ok(c.recv_frame(timeout=20.0), "token for a waiting client")
                   ["access_token"])
    for t in tokens:
        register_secret(t)
    assert len(tokens) == 1, "every client gets the one token fetched"
    assert len(identity.requests("imds")) == 1, identity.requests("imds")


def test_background_refresh_before_expiry(identity, imds_agent, aoai_json):
    identity.settings(refresh_in=2)
    first = token(aoai_json)
    # No client asks: the agent refreshes on its own at refresh_in.
    wait_until(lambda: len(identity.requests("imds")) >= 2, 15.0, "a background refresh")
    second = token(aoai_json)
    assert second != first, "the refreshed token is served"
    state = vm_state(aoai_json)
    assert state["state"] == "valid" and state["expires_in"] > 3000, state
    assert state["refresh_in"] is not None and state["refresh_in"] <= 2, state
    assert aoai_json("status")["tokens"] == 1


def test_retry_honours_retry_after(identity, imds_agent, aoai_json):
    identity.script("imds",
              {"status": 503, "headers": {"Retry-After": "1"},
               "body": {"error": "service_unavailable", "error_description": "busy"}},
              {"status": 429, "headers": {"Retry-After": "2"},
               "body": {"error": "too_many_requests", "error_description": "slow down"}})
    token(aoai_json)  # the client waits through both retries
    statuses = [r["status"] for r in identity.requests("imds")]
    assert statuses == [503, 429, 200], statuses
    t = imds_times(identity)
    # Lower bounds only: the agent waited at least what Retry-After asked.
    assert t[1] - t[0] >= 0.95 and t[2] - t[1] >= 1.95, t


def test_backoff_on_connection_errors(identity, imds_agent, aoai_json):
    identity.script("imds", {"drop": True}, {"drop": True})
    token(aoai_json)
    t = imds_times(identity)
    assert len(t) == 3, identity.requests("imds")
    # 1 s then 2 s, each with ±25% jitter: the second wait is the longer.
    assert 0.7 <= t[1] - t[0] and 1.4 <= t[2] - t[1], t


def test_foreground_attempts_are_bounded(identity, imds_agent, aoai):
    identity.script("imds", *[{"status": 500, "body": {"error": "unknown",
                                                  "error_description": "boom"}}] * 5)
    r = expect_rc(aoai("token", "vm"), 6, "identity endpoint failing")
    assert "imds" in r.stderr and "500" in r.stderr and "boom" in r.stderr, describe(r)
    assert len(identity.requests("imds")) == 3, "a waiting client sees three attempts"


def test_bad_request_not_retried(identity, imds_agent, aoai, aoai_json):
    identity.script("imds", {"status": 400, "body": {"error": "invalid_request",
                                                "error_description": "Identity not found"}})
    r = expect_rc(aoai("headers", URL), 6, "IMDS 400")
    assert "imds" in r.stderr and "400" in r.stderr and "Identity not found" in r.stderr, \
        describe(r)
    assert len(identity.requests("imds")) == 1
    state = vm_state(aoai_json)
    assert "Identity not found" in (state["last_error"] or ""), state


def test_non_json_200_is_a_failure(identity, imds_agent, aoai_json):
    identity.script("imds", {"non_json": True})
    token(aoai_json)
    statuses = [r["status"] for r in identity.requests("imds")]
    assert statuses == [200, 200], "the HTML answer was retried"


@pytest.mark.parametrize("bad,kind", [("\u00e9", "a non-ASCII byte"), (" ", "a space"),
                                      ("\x7f", "a control character"),
                                      (",", "punctuation outside the bearer token alphabet")])
def test_token_outside_bearer_alphabet_refused_at_source(ctx, identity, imds_agent, aoai,
                                                         aoai_json, bad, kind):
    """A token that cannot go out as `Authorization: Bearer …` is the
    source's failure, named with the byte's offset and kind (never the token),
    not an "invalid reply" after the agent has served it."""
    prefix = "eyJ0eXAi." + ctx.secret(16)
    token = register_secret(prefix + bad + ".c2ln")
    body = {"access_token": token, "expires_in": "3600", "expires_on": str(int(time.time()) + 3600),
            "token_type": "Bearer", "resource": "https://cognitiveservices.azure.com"}
    identity.script("imds", *[{"status": 200, "body": body}] * 8)
    want = f"imds: unusable response: access_token is not a bearer token: byte {len(prefix)} is {kind}"
    for args, what in ((("token", "vm"), "aoai token"), (("headers", URL), "aoai headers")):
        r = expect_rc(aoai(*args), 6, what)
        if want not in r.stderr:
            fail(f"{what} does not report the source's error:\n{describe(r)}")
        assert "invalid reply" not in r.stderr, describe(r)
        assert r.stdout == "", describe(r)
    assert want in (vm_state(aoai_json)["last_error"] or "")
    assert all(r["status"] == 200 for r in identity.requests("imds"))


def test_imds_410_is_retried_every_10s(identity, imds_agent, aoai_json):
    # IMDS answers 410 while it is being updated; the SDK keeps trying for
    # at least 70 s.  One 410 costs one 10 s wait.
    identity.script("imds", {"status": 410})
    token(aoai_json)
    t = imds_times(identity)
    assert [r["status"] for r in identity.requests("imds")] == [410, 200]
    assert t[1] - t[0] >= 9.5, t


def test_cached_token_served_through_outage_then_clear_error(identity, imds_agent, aoai, aoai_json):
    # A 40 s token is served for 10 s (never with under 30 s left) and
    # refreshed after 5 s; from then on the identity endpoint fails.
    identity.settings(expires_in=40)
    first = token(aoai_json)
    identity.script("imds", *[{"status": 503, "headers": {"Retry-After": "1"},
                         "body": {"error": "unavailable",
                                  "error_description": "IMDS is down for maintenance"}}] * 40)
    wait_until(lambda: any(r["status"] == 503 for r in identity.requests("imds")), 15.0,
               "a failed background refresh")
    served_after_failure = token(aoai_json)
    assert served_after_failure == first, "the cached token is served during the outage"

    def refused():
        r = aoai("token", "vm")
        return r if r.returncode != 0 else None

    r = wait_until(refused, 25.0, "the cached token to expire", interval=0.5)
    expect_rc(r, 6, "after expiry")
    for part in ("vm", "imds", "503", "IMDS is down for maintenance"):
        assert part in r.stderr, describe(r)


def test_hanging_endpoint_does_not_delay_api_key_client(ctx, identity, imds_agent, aoai, aoai_json):
    identity.script("imds", {"hang": 30})
    waiting = subprocess.Popen([ctx.build.aoai, "token", "vm"], env=ctx.env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: vm_state(aoai_json)["state"] == "fetching", 10.0,
                   "the agent to be waiting on the identity endpoint")
        expect_rc(aoai("headers", "https://key.example.com/x"), 0, "api-key client")
        assert waiting.poll() is None, "the token client is still waiting"
        assert vm_state(aoai_json)["state"] == "fetching"
    finally:
        waiting.kill()
        waiting.wait(10)


def test_reload_keeps_token_unless_identity_changes(ctx, identity, imds_agent, aoai, aoai_json):
    first = token(aoai_json)
    cfg = ctx.path("agent.json")
    expect_rc(aoai("reload"), 0, "reload with the same configuration")
    assert token(aoai_json) == first, "an unchanged profile keeps its cached token"
    assert len(identity.requests("imds")) == 1

    # Another identity for the same profile: the old identity's token must
    # not be served, however valid it still is.
    text = cfg.read_text().replace('"type": "managed-identity"',
                                   '"type": "managed-identity", '
                                   '"client_id": "0c9a3d5e-0000-4000-8000-000000000009"')
    ctx.write_config(text)
    expect_rc(aoai("reload"), 0, "reload with a user-assigned identity")
    assert token(aoai_json) != first
    reqs = identity.requests("imds")
    assert len(reqs) == 2 and reqs[1]["query"].get("client_id") == \
        "0c9a3d5e-0000-4000-8000-000000000009", reqs
