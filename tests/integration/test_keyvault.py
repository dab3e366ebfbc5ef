# SPDX-License-Identifier: MIT
"""Key Vault-backed named secrets end to end: the real agent gets a managed-
identity token for https://vault.azure.net from the fake IMDS, fetches the
secret from the fake Key Vault (tests/fakes/fake_keyvault.py), and serves it
as the api-key of another profile; background refresh, outages, errors before
the first success, version pinning and a failing via profile.

Every wait is on a log line or on state the agent reports, bounded in time."""

import json
import re

import pytest

from aoaitest import (assert_absent, assert_line, curl_chat, describe, expect_rc, fail,
                      start_fake, stop_fake, wait_until)
from keyvault import VAULT_RESOURCE, keyvault_config

SECRET = "kv-key"
REFRESH = 5          # seconds: the configured minimum, so refreshes happen within a test
REFRESH_WAIT = 20.0  # a refresh (5 s) plus one failed retry or two, with jitter
HTTP_TIMEOUT_WAIT = 30.0  # the agent's Key Vault request timeout (10 s) plus a retry and slack


def fetched(version):
    return f'keyvault: secret "{SECRET}" fetched (version {version})'


def failure_re(what):
    return re.compile(rf'keyvault: secret "{SECRET}": {what}.*; retrying in \d+s')


class Scene:
    """An agent whose profile "aoai" takes its api-key from the Key Vault secret."""

    def __init__(self, ctx, aoai, aoai_json, agent, aoai_hostport):
        self.ctx = ctx
        self.aoai = aoai
        self.aoai_json = aoai_json
        self.agent = agent
        self.url = f"http://{aoai_hostport}/openai/deployments/gpt-4o/chat/completions"

    def headers(self, rc=0):
        return expect_rc(self.aoai("headers", self.url), rc, "aoai headers")

    def assert_serves(self, value):
        assert_line(f"api-key: {value}", self.headers().stdout, "aoai headers output")

    def listing(self):
        data = self.aoai_json("list")
        (sec,) = [s for s in data["secrets"] if s["name"] == SECRET] or [None]
        (prof,) = [p for p in data["profiles"] if p["name"] == "aoai"]
        return sec, prof

    def wait_log_count(self, line, n, timeout):
        return self.agent.wait_log(lambda t: t.count(line) >= n, timeout,
                                   f"{n}× {line!r}")

    def wait_log_re(self, regex, timeout):
        return self.agent.wait_log(lambda t: regex.search(t), timeout, regex.pattern)


@pytest.fixture
def kv_scene(ctx, start_agent, identity, keyvault, aoai, aoai_json):
    """kv_scene(url=None, refresh=REFRESH, aoai_key=None) -> Scene, with the agent
    running; url defaults to the fake's aoai-key secret (latest version)."""
    fakes = []

    def start(url=None, refresh=REFRESH, aoai_key=None):
        fake = start_fake(ctx, key=aoai_key)
        fakes.append(fake)
        cfg = keyvault_config(identity, keyvault, fake.hostport,
                              url or keyvault.secret_url("aoai-key"), refresh=refresh)
        agent = start_agent(config=ctx.write_config(cfg))
        scene = Scene(ctx, aoai, aoai_json, agent, fake.hostport)
        scene.fake = fake
        return scene

    yield start
    for f in fakes:
        stop_fake(f)


def test_fetched_and_used_in_a_header(ctx, build, identity, keyvault, kv_scene):
    value = ctx.secret()
    version = keyvault.set_secret("aoai-key", value)
    s = kv_scene(aoai_key=value)  # the fake Azure OpenAI endpoint accepts only this key
    s.agent.wait_log(fetched(version), 10, "the first fetch")
    s.assert_serves(value)
    status, body = curl_chat(ctx, s.fake.chat_url, with_headers_from=build.aoai)
    if status != 200:
        fail(f"the fake Azure OpenAI endpoint answered {status}: {body}")
    sec, prof = s.listing()
    assert sec is not None and sec["origin"] == "keyvault" and sec["last_error"] is None, sec
    assert prof["state"] == "ready" and prof["detail"] is None, prof
    # The vault saw the bearer token of the managed identity for the vault resource.
    reqs = [r for r in keyvault.requests() if r.get("name") == "aoai-key"]
    assert reqs, "the fake Key Vault saw no request"
    for r in reqs:
        assert r["auth"] == "valid" and r["aud"] in (VAULT_RESOURCE, VAULT_RESOURCE + "/"), r
        assert r["api_version"] == "7.4" and r["version"] is None and r["src"] == "imds", r
    assert reqs[0]["status"] == 200 and reqs[0]["served"] == version, reqs[0]
    imds = identity.requests("imds")
    assert [q["query"].get("resource") for q in imds] == [VAULT_RESOURCE], imds
    outputs = [s.aoai("list").stdout, json.dumps(s.aoai_json("list")),
               json.dumps(s.aoai_json("status"))]
    for out in outputs:
        assert_absent(value, out, "aoai list/status output")


def test_refreshed_in_the_background(ctx, keyvault, kv_scene):
    old, new = ctx.secret(), ctx.secret()
    v1 = keyvault.set_secret("aoai-key", old)
    s = kv_scene()
    s.agent.wait_log(fetched(v1), 10, "the first fetch")
    s.assert_serves(old)
    v2 = keyvault.set_secret("aoai-key", new)
    s.agent.wait_log(fetched(v2), REFRESH_WAIT, "the refresh that finds the new version")
    s.assert_serves(new)
    assert s.listing()[0]["last_error"] is None


def test_reload_fetches_again(ctx, keyvault, kv_scene):
    old, new = ctx.secret(), ctx.secret()
    v1 = keyvault.set_secret("aoai-key", old)
    s = kv_scene(refresh=None)  # the default, an hour: only the reload fetches
    s.agent.wait_log(fetched(v1), 10, "the first fetch")
    v2 = keyvault.set_secret("aoai-key", new)
    expect_rc(s.aoai("reload"), 0, "aoai reload")
    s.agent.wait_log(fetched(v2), 10, "the fetch at reload")
    s.assert_serves(new)


@pytest.mark.parametrize("outage", ["503", "429", "non-json", "hang"])
def test_served_during_an_outage(ctx, keyvault, kv_scene, outage):
    value = ctx.secret()
    v1 = keyvault.set_secret("aoai-key", value)
    s = kv_scene()
    s.agent.wait_log(fetched(v1), 10, "the first fetch")
    response, error, wait = {
        "503": ({"status": 503}, r"HTTP 503: ServiceUnavailable", REFRESH_WAIT),
        "429": ({"status": 429, "headers": {"Retry-After": "3"}}, r"HTTP 429: Throttled",
                REFRESH_WAIT),
        "non-json": ({"non_json": True}, r"HTTP 200 without a string \"value\"", REFRESH_WAIT),
        "hang": ({"hang": True}, r"", HTTP_TIMEOUT_WAIT),
    }[outage]
    keyvault.fail_until_cleared(response)
    expect_rc(s.aoai("reload"), 0, "reload: a fetch now")
    s.wait_log_re(failure_re(error), wait)
    s.assert_serves(value)  # the cached value, while the vault fails
    sec, prof = s.listing()
    assert isinstance(sec["last_error"], str) and sec["last_error"], sec
    if outage in ("503", "429"):
        assert sec["last_error"].startswith(f"HTTP {outage}: "), sec
    assert prof["state"] == "ready", prof
    if outage == "429":
        # Never sooner than the vault's Retry-After (3 s).
        delays = [int(m) for m in re.findall(rf'"{SECRET}": HTTP 429.*; retrying in (\d+)s',
                                              s.agent.log())]
        assert delays and all(d >= 3 for d in delays), delays
    keyvault.clear()
    s.wait_log_count(fetched(v1), 2, HTTP_TIMEOUT_WAIT)
    wait_until(lambda: s.listing()[0]["last_error"] is None, 5, "last_error to clear")
    s.assert_serves(value)


def test_outage_does_not_block_requests(ctx, keyvault, kv_scene):
    """While a fetch hangs at the vault, the agent answers other requests at once."""
    value = ctx.secret()
    v1 = keyvault.set_secret("aoai-key", value)
    s = kv_scene()
    s.agent.wait_log(fetched(v1), 10, "the first fetch")
    keyvault.fail_until_cleared({"hang": True})
    expect_rc(s.aoai("reload"), 0, "reload: a fetch now")
    keyvault.wait_requests(lambda r: r.get("scripted") == "hang", 1, REFRESH_WAIT,
                           "hung refresh")
    r = expect_rc(s.aoai("headers", s.url, timeout=5), 0, "headers while the vault hangs")
    assert_line(f"api-key: {value}", r.stdout, "aoai headers output")
    keyvault.clear()


@pytest.mark.parametrize("case", ["403", "404"])
def test_error_before_the_first_success(ctx, keyvault, kv_scene, case):
    value = ctx.secret()
    if case == "403":
        keyvault.set_secret("aoai-key", value)
        keyvault.permit_get(False)
        error = "HTTP 403: Forbidden: The user, group or application"
    else:
        error = "HTTP 404: SecretNotFound: A secret with (name/id) aoai-key was not found"
    s = kv_scene()
    s.wait_log_re(failure_re(re.escape(error)), 10)
    r = s.headers(rc=6)
    assert r.stdout == "" and SECRET in r.stderr and f"HTTP {case}" in r.stderr, describe(r)
    sec, prof = s.listing()
    assert prof["state"] == "missing_secret", prof
    assert SECRET in prof["detail"] and f"HTTP {case}" in prof["detail"], prof
    if sec is not None:
        assert sec["last_error"] and sec["last_error"].startswith(f"HTTP {case}: "), sec
    # The fix at the vault is picked up by the retries (1 s, 2 s, 4 s … with jitter).
    if case == "403":
        keyvault.permit_get(True)
        version = keyvault.versions()["aoai-key"][-1]
    else:
        version = keyvault.set_secret("aoai-key", value)
    s.agent.wait_log(fetched(version), REFRESH_WAIT, "the fetch after the fix")
    s.assert_serves(value)
    sec, prof = s.listing()
    assert sec["origin"] == "keyvault" and sec["last_error"] is None, sec
    assert prof["state"] == "ready", prof


def test_retries_back_off(ctx, keyvault, kv_scene):
    """Failures before the first success are retried after 1 s, 2 s, 4 s … (±25 %)."""
    keyvault.fail_until_cleared({"status": 500})
    s = kv_scene()
    text = s.wait_log_count("; retrying in", 3, REFRESH_WAIT)
    delays = [int(d) for d in re.findall(rf'"{SECRET}": HTTP 500.*; retrying in (\d+)s', text)]
    # Rounded to whole seconds: 1 s ±25 % is 1, 2 s is 2 (1.5-2.5), 4 s is 3-5.
    assert len(delays) >= 3 and delays[0] == 1 and delays[1] in (2, 3) \
        and 3 <= delays[2] <= 5, delays
    keyvault.clear()


def test_version_url_pins_that_version(ctx, keyvault, kv_scene):
    pinned_value, newer_value = ctx.secret(), ctx.secret()
    v1 = keyvault.set_secret("aoai-key", pinned_value)
    s = kv_scene(url=keyvault.secret_url("aoai-key", v1))
    s.agent.wait_log(fetched(v1), 10, "the first fetch")
    v2 = keyvault.set_secret("aoai-key", newer_value)
    # Two fetches after the newer version exists (each reload fetches) still get the pinned one.
    for n in (2, 3):
        expect_rc(s.aoai("reload"), 0, "reload")
        s.wait_log_count(fetched(v1), n, REFRESH_WAIT)
    assert fetched(v2) not in s.agent.log()
    s.assert_serves(pinned_value)
    reqs = [r for r in keyvault.requests() if r.get("name") == "aoai-key"]
    assert len(reqs) >= 3 and all(r["version"] == v1 and r["served"] == v1 for r in reqs), reqs


def test_via_profile_token_failure_is_the_keyvault_error(ctx, identity, keyvault, kv_scene):
    value = ctx.secret()
    version = keyvault.set_secret("aoai-key", value)
    # The managed identity is not (yet) assigned: IMDS answers 400 Identity not found.
    failures = [{"status": 400, "body": {"error": "invalid_request",
                                         "error_description": "Identity not found"}}] * 2
    identity.script("imds", *failures)
    s = kv_scene()
    text = s.wait_log_re(failure_re("no token for Key Vault: "), 10)
    line = next(l for l in text.splitlines() if f'keyvault: secret "{SECRET}": no token' in l)
    assert "Identity not found" in line or "imds" in line, line
    before = keyvault.requests()
    assert before == [], f"the vault was asked without a token: {before}"
    sec, prof = s.listing()
    assert prof["state"] == "missing_secret" and "no token for Key Vault" in prof["detail"], prof
    expect_rc(s.aoai("headers", s.url), 6, "headers without the secret")
    # Once IMDS answers again, a retry gets the token and the secret.
    s.agent.wait_log(fetched(version), 30, "the fetch once IMDS answers")
    s.assert_serves(value)


def test_secret_never_in_logs_or_outputs(ctx, keyvault, kv_scene):
    value = ctx.secret()
    v1 = keyvault.set_secret("aoai-key", value)
    s = kv_scene()
    s.agent.wait_log(fetched(v1), 10, "the first fetch")
    keyvault.script({"status": 503})
    s.wait_log_re(failure_re("HTTP 503"), REFRESH_WAIT)
    for args in (("list",), ("list", "--json"), ("status",), ("status", "--json")):
        r = expect_rc(s.aoai(*args), 0, " ".join(args))
        assert_absent(value, r.stdout + r.stderr, f"aoai {' '.join(args)}")
    assert_absent(value, s.agent.log(), "the agent log")
    assert_absent(value, s.agent.stdout_text(), "the agent's stdout")
    assert_absent(value, keyvault.log_text(), "the fake Key Vault's log")
    # And no bearer token: the agent's log never holds a JWT.
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.", s.agent.log()), "a JWT in the agent log"


def test_echoed_token_is_masked(ctx, keyvault, kv_scene):
    """A vault (or a proxy) that echoes the request in its error: the bearer
    token is masked in the log and in `aoai list`, however long the message."""
    v1 = keyvault.set_secret("aoai-key", ctx.secret())
    s = kv_scene()
    s.agent.wait_log(fetched(v1), 10, "the first fetch")
    keyvault.script({"status": 400, "echo_auth": True})
    expect_rc(s.aoai("reload"), 0, "reload: a fetch now")
    text = s.wait_log_re(failure_re(r"HTTP 400: BadRequest: the request had "
                                    r"Authorization: Bearer \[redacted\]"), REFRESH_WAIT)
    listing = expect_rc(s.aoai("list", "--json"), 0, "list --json").stdout
    for what, out in (("the agent log", text), ("aoai list --json", listing)):
        assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}", out), f"a bearer token in {what}"
    assert "Bearer [redacted]" in listing
