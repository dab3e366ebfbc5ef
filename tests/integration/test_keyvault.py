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
from keyvault import VAULT_RESOURCE, VAULT_SCOPE, keyvault_config

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


# --- an inline "credential" instead of "via" ---------------------------------------

USER_ASSIGNED_CLIENT_ID = "5a3c7e91-2d4b-4f6a-8c1e-9b0d3f2a7e65"  # fake_identity's default one
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.")


def inline_config(fi, kv, aoai_hostport, **credential):
    """Secret SECRET from the fake vault with its own managed identity (the fake IMDS)
    and only one profile, "aoai", an api-key profile: no profile can make a token, so
    any token in a reply to a client would be the vault token."""
    return {"secrets": {SECRET: {"keyvault": kv.secret_url("aoai-key"), "refresh": 3600,
                                 "credential": {"type": "managed-identity",
                                                "endpoint": fi.imds_url, **credential}}},
            "profiles": {"aoai": {"hosts": [aoai_hostport],
                                  "credential": {"type": "api-key", "secret": SECRET}}}}


@pytest.fixture
def inline_scene(ctx, start_agent, identity, keyvault, aoai, aoai_json):
    """inline_scene(wait=True) -> Scene: an agent whose secret SECRET has an inline
    credential, after its first fetch (when @wait); the fake endpoint is stopped at
    teardown."""
    fakes = []

    def start(wait=True):
        value = ctx.secret()
        version = keyvault.set_secret("aoai-key", value)
        fake = start_fake(ctx, key=value)
        fakes.append(fake)
        config = ctx.write_config(inline_config(identity, keyvault, fake.hostport))
        s = Scene(ctx, aoai, aoai_json, start_agent(config=config), fake.hostport)
        s.fake, s.value, s.version = fake, value, version
        if wait:
            s.agent.wait_log(fetched(version), 10, "the first fetch")
        return s

    yield start
    for f in fakes:
        stop_fake(f)


def test_inline_credential_fetches_and_is_listed(ctx, build, identity, keyvault, inline_scene):
    s = inline_scene()
    s.assert_serves(s.value)
    status, body = curl_chat(ctx, s.fake.chat_url, with_headers_from=build.aoai)
    if status != 200:
        fail(f"the fake Azure OpenAI endpoint answered {status}: {body}")
    reqs = [r for r in keyvault.requests() if r.get("name") == "aoai-key"]
    assert reqs and all(r["auth"] == "valid" and r["src"] == "imds" and
                        r["aud"] in (VAULT_RESOURCE, VAULT_RESOURCE + "/") for r in reqs), reqs
    imds = identity.requests("imds")
    assert [q["query"].get("resource") for q in imds] == [VAULT_RESOURCE], imds
    data = s.aoai_json("list")
    # The credential belongs to the secret: no phantom profile for it.
    assert [p["name"] for p in data["profiles"]] == ["aoai"], data["profiles"]
    (sec,) = [x for x in data["secrets"] if x["name"] == SECRET]
    assert sec["origin"] == "keyvault" and sec["last_error"] is None, sec
    assert sec["fingerprint"] and sec["fingerprint"].startswith("sha256:"), sec
    status = s.aoai_json("status")
    assert status["profiles"] == 1 and status["tokens"] == 0, status


def test_inline_credential_token_is_never_handed_out(ctx, raw, keyvault, inline_scene):
    s = inline_scene()
    names = (SECRET, f"keyvault:{SECRET}", "keyvault", "aoai", "vault")
    replies = []
    # The CLI, by every likely name, with and without the vault scope.
    for args in [("token",), ("token", "--json"), ("token", "--scope", VAULT_SCOPE)] + \
            [("token", n) for n in names] + [("token", n, "--scope", VAULT_SCOPE) for n in names]:
        r = s.aoai(*args)
        assert r.returncode != 0, describe(r)
        replies.append(r.stdout + r.stderr)
    # The raw protocol, the same.
    requests = [{}, {"scope": VAULT_SCOPE}] + [{"profile": n} for n in names] + \
        [{"profile": n, "scope": VAULT_SCOPE} for n in names]
    with raw() as c:
        for fields in requests:
            reply = c.request({"v": 1, "op": "token", **fields})
            assert reply.get("ok") is False and "access_token" not in reply, (fields, reply)
            replies.append(json.dumps(reply))
        # A request to the vault itself matches no profile: no bearer header for it.
        reply = c.request({"v": 1, "op": "headers", "url": keyvault.secret_url("aoai-key")})
        assert reply.get("ok") is False, reply
        replies.append(json.dumps(reply))
        for op in ("list", "status"):
            replies.append(json.dumps(c.request({"v": 1, "op": op})))
    replies.append(s.headers().stdout)
    for text in replies:
        assert not JWT_RE.search(text), "a bearer token in a reply to a client"
    assert not JWT_RE.search(s.agent.log()), "a JWT in the agent log"


def test_inline_credential_change_refetches_at_reload(ctx, identity, keyvault, inline_scene):
    s = inline_scene()
    # Unchanged: the reload fetches the secret again with the token it holds.
    expect_rc(s.aoai("reload"), 0, "aoai reload")
    s.wait_log_count(fetched(s.version), 2, 10)
    assert len(identity.requests("imds")) == 1, identity.requests("imds")
    # Another identity: its own token (the old one is dropped), then the secret again.
    cfg = inline_config(identity, keyvault, s.fake.hostport, client_id=USER_ASSIGNED_CLIENT_ID)
    ctx.write_config(cfg)
    expect_rc(s.aoai("reload"), 0, "aoai reload")
    s.wait_log_count(fetched(s.version), 3, 10)
    imds = identity.requests("imds")
    assert len(imds) == 2 and imds[1]["query"].get("client_id") == USER_ASSIGNED_CLIENT_ID, imds
    last = [r for r in keyvault.requests() if r.get("name") == "aoai-key"][-1]
    assert last["appid"] == USER_ASSIGNED_CLIENT_ID and last["status"] == 200, last
    s.assert_serves(s.value)
    assert s.aoai_json("status")["last_reload_error"] is None


def test_inline_credential_token_failure_names_the_secret(ctx, identity, keyvault,
                                                         inline_scene):
    """The token's failure is the secret's error, named after the secret (there is no
    profile), and is retried as with "via" until IMDS answers."""
    failures = [{"status": 400, "body": {"error": "invalid_request",
                                         "error_description": "Identity not found"}}] * 2
    identity.script("imds", *failures)
    s = inline_scene(wait=False)
    s.wait_log_re(failure_re(re.escape(f'no token for Key Vault: the credential of secret '
                                       f'"{SECRET}": imds: HTTP 400')), 10)
    assert keyvault.requests() == [], "the vault was asked without a token"
    sec, prof = s.listing()
    assert prof["state"] == "missing_secret" and "no token for Key Vault" in prof["detail"], prof
    assert f'the credential of secret "{SECRET}"' in prof["detail"], prof
    assert "profile" not in sec["last_error"], sec
    s.agent.wait_log(fetched(s.version), 15, "the fetch once IMDS answers")
    s.assert_serves(s.value)
