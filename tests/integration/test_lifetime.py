# SPDX-License-Identifier: MIT
"""Secret lifetimes: `aoai add -t`, the agent's default `-t`, expiry."""

import re

import pytest

from aoaitest import api_key_profile, describe, expect_rc, fail, wait_until

HOST = "life.openai.azure.com"
URL = f"https://{HOST}/openai/v1/models"


def secret_names(aoai_json):
    return [s["name"] for s in aoai_json("list")["secrets"]]


@pytest.fixture
def life_agent(ctx, start_agent):
    def start(args=()):
        cfg = ctx.write_config({"profiles": {"life": api_key_profile(HOST),
                                             "forever": api_key_profile("forever.example")}})
        return start_agent(config=cfg, args=args)
    return start


def test_add_with_lifetime_expires(ctx, life_agent, aoai, aoai_json):
    life_agent()
    expect_rc(aoai("add", "life", "-t", "1", input=ctx.secret() + "\n"), 0, "add -t 1")
    (sec,) = aoai_json("list")["secrets"]
    assert sec["expires_in"] in (0, 1), sec
    expect_rc(aoai("headers", URL), 0, "headers before expiry")
    wait_until(lambda: secret_names(aoai_json) == [], 5, "the secret to expire")
    expect_rc(aoai("headers", URL), 6, "headers after expiry")
    (prof,) = [p for p in aoai_json("list")["profiles"] if p["name"] == "life"]
    assert prof["state"] == "missing_secret", prof
    assert aoai_json("status")["secrets"] == 0


def test_expired_secret_says_so(ctx, life_agent, aoai, aoai_json):
    """An expired secret is "expired N s ago", not "has not been added", until it
    is added again or removed."""
    life_agent()
    expect_rc(aoai("add", "life", "-t", "1", input=ctx.secret() + "\n"), 0, "add -t 1")
    wait_until(lambda: secret_names(aoai_json) == [], 5, "the secret to expire")
    r = expect_rc(aoai("headers", URL), 6, "headers after expiry")
    if not re.search(r'secret "life" expired \d+ s ago \(aoai add life\)', r.stderr):
        fail(f"the message should say the secret expired:\n{describe(r)}")
    (prof,) = [p for p in aoai_json("list")["profiles"] if p["name"] == "life"]
    assert "expired" in prof["detail"], prof
    expect_rc(aoai("add", "life", input=ctx.secret() + "\n"), 0, "add again")
    expect_rc(aoai("remove", "life"), 0, "remove")
    r = expect_rc(aoai("headers", URL), 6, "headers after remove")
    assert 'secret "life" has not been added (aoai add life)' in r.stderr, describe(r)


def test_no_lifetime_is_forever(ctx, life_agent, aoai, aoai_json):
    life_agent()
    expect_rc(aoai("add", "life", input=ctx.secret() + "\n"), 0, "add")
    assert aoai_json("list")["secrets"][0]["expires_in"] is None
    assert aoai_json("status")["default_lifetime"] is None


@pytest.mark.parametrize("life,seconds", [("90", 90), ("30s", 30), ("5m", 300), ("2h", 7200),
                                          ("1d", 86400)])
def test_add_lifetime_syntax(ctx, life_agent, aoai, aoai_json, life, seconds):
    life_agent()
    expect_rc(aoai("add", "life", "-t", life, input=ctx.secret() + "\n"), 0, f"add -t {life}")
    left = aoai_json("list")["secrets"][0]["expires_in"]
    assert seconds - 5 <= left <= seconds, left


def test_agent_default_lifetime_applies(ctx, life_agent, aoai, aoai_json):
    life_agent(args=["-t", "1s"])
    assert aoai_json("status")["default_lifetime"] == 1
    expect_rc(aoai("add", "life", input=ctx.secret() + "\n"), 0, "add with the default")
    expect_rc(aoai("add", "forever", "-t", "0", input=ctx.secret() + "\n"), 0, "add -t 0")
    secs = {s["name"]: s["expires_in"] for s in aoai_json("list")["secrets"]}
    assert secs["life"] in (0, 1) and secs["forever"] is None, secs
    wait_until(lambda: secret_names(aoai_json) == ["forever"], 5,
               "the default-lifetime secret to expire")
    expect_rc(aoai("headers", URL), 6, "headers after default expiry")
    expect_rc(aoai("headers", "https://forever.example/"), 0, "-t 0 overrides the default")


def test_explicit_lifetime_overrides_default(ctx, life_agent, aoai, aoai_json):
    life_agent(args=["-t", "1"])
    expect_rc(aoai("add", "life", "-t", "1h", input=ctx.secret() + "\n"), 0, "add -t 1h")
    assert 3590 <= aoai_json("list")["secrets"][0]["expires_in"] <= 3600
