# SPDX-License-Identifier: MIT
"""`aoai lock` / `aoai unlock`: nothing is released while locked, wrong
passphrases are slowed down without stalling other clients."""

import json
import time

import pytest

from aoaitest import (api_key_profile, assert_absent, expect_error, expect_ok, expect_rc, fail,
                      wait_until)

HOST = "lock.openai.azure.com"
URL = f"https://{HOST}/openai/v1/chat/completions"


@pytest.fixture
def loaded(ctx, start_agent, aoai):
    cfg = ctx.write_config({"profiles": {"lk": api_key_profile(HOST)}})
    a = start_agent(config=cfg)
    key = ctx.secret()
    expect_rc(aoai("add", "lk", input=key + "\n"), 0, "add")
    return a, key, ctx.secret(8)


def test_locked_releases_nothing(loaded, aoai, aoai_json, raw):
    _, key, pw = loaded
    expect_rc(aoai("lock", input=pw + "\n"), 0, "lock")
    assert aoai_json("status")["locked"] is True
    r = expect_rc(aoai("headers", URL), 5, "headers while locked")
    assert_absent(key, r.stdout + r.stderr, "headers output while locked")
    data = aoai_json("list")
    assert data["locked"] is True and data["secrets"] == []
    assert [p["state"] for p in data["profiles"]] == ["locked"], data
    with raw() as c:
        expect_error(c.request({"v": 1, "op": "headers", "url": URL}), "locked")
        expect_error(c.request({"v": 1, "op": "lock", "passphrase": "again"}), "locked",
                     "lock while locked")
    expect_rc(aoai("lock", input="other\n"), 5, "lock while locked (CLI)")

    expect_rc(aoai("unlock", input=pw + "\n"), 0, "unlock")
    assert aoai_json("status")["locked"] is False
    h = expect_rc(aoai("headers", URL), 0, "headers after unlock")
    if f"api-key: {key}" not in h.stdout.splitlines():
        fail("the key did not come back after unlock")
    assert len(aoai_json("list")["secrets"]) == 1


def test_unlock_when_not_locked(loaded, aoai, raw):
    expect_rc(aoai("unlock", input="whatever\n"), 1, "unlock while not locked")
    with raw() as c:
        expect_error(c.request({"v": 1, "op": "unlock", "passphrase": "x"}), "not_locked")


def test_wrong_passphrase_is_slow_and_doubles(loaded, aoai, aoai_json):
    _, _, pw = loaded
    expect_rc(aoai("lock", input=pw + "\n"), 0, "lock")
    t0 = time.monotonic()
    expect_rc(aoai("unlock", input="wrong\n"), 1, "wrong unlock")
    first = time.monotonic() - t0
    assert first >= 1.0, f"a wrong passphrase answered after {first:.2f}s, expected >= 1s"
    t0 = time.monotonic()
    expect_rc(aoai("unlock", input="wrong again\n"), 1, "second wrong unlock")
    second = time.monotonic() - t0
    assert second >= 2.0, f"the second wrong passphrase took {second:.2f}s, expected >= 2s"
    assert aoai_json("status")["locked"] is True
    expect_rc(aoai("unlock", input=pw + "\n"), 0, "right passphrase")
    assert aoai_json("status")["locked"] is False


def test_other_clients_served_during_wrong_unlock(loaded, aoai, raw):
    a, _, pw = loaded
    expect_rc(aoai("lock", input=pw + "\n"), 0, "lock")
    slow = raw(timeout=10)
    t0 = time.monotonic()
    slow.send_json({"v": 1, "op": "unlock", "passphrase": "wrong"})
    with raw() as fast:
        assert expect_ok(fast.request({"v": 1, "op": "status"}))["pid"] == a.pid
    if slow.readable(0):
        fail("the wrong unlock was answered before another client's status: the agent blocked")
    st = expect_rc(aoai("status", "--json"), 0, "aoai status during a pending unlock")
    assert json.loads(st.stdout)["pid"] == a.pid
    reply = slow.recv_frame(timeout=10)
    took = time.monotonic() - t0
    expect_error(reply, "bad_passphrase")
    assert took >= 1.0, f"bad_passphrase after {took:.2f}s"


def test_passphrase_not_logged(loaded, aoai):
    a, _, pw = loaded
    expect_rc(aoai("lock", input=pw + "\n"), 0, "lock")
    expect_rc(aoai("unlock", input=pw + "\n"), 0, "unlock")
    assert_absent(pw, a.log(), "the agent log")


def test_lock_wire_ok(loaded, raw):
    _, _, pw = loaded
    with raw() as c:
        expect_ok(c.request({"v": 1, "op": "lock", "passphrase": pw}))
        expect_ok(c.request({"v": 1, "op": "unlock", "passphrase": pw}))
        expect_error(c.request({"v": 1, "op": "lock", "passphrase": ""}), "bad_request",
                     "empty passphrase")


def test_secrets_expire_while_locked(ctx, start_agent, aoai, aoai_json):
    cfg = ctx.write_config({"profiles": {"lk": api_key_profile(HOST)}})
    start_agent(config=cfg)
    expect_rc(aoai("add", "lk", "-t", "1", input=ctx.secret() + "\n"), 0, "add -t 1")
    t_added = time.monotonic()
    expect_rc(aoai("lock", input="pw\n"), 0, "lock")
    # Let the lifetime pass while locked (observing the agent meanwhile), then unlock.
    wait_until(lambda: time.monotonic() - t_added > 2.5 and aoai_json("status")["locked"], 6,
               "the secret's lifetime to pass while locked")
    expect_rc(aoai("unlock", input="pw\n"), 0, "unlock")
    assert aoai_json("list")["secrets"] == []
    expect_rc(aoai("headers", URL), 6, "an expired secret does not come back after unlock")
