# SPDX-License-Identifier: MIT
"""`aoai login --persist`: a sign-in kept in the encrypted persistent store comes
back with `aoai unlock` after a restart; a rotated refresh token is written back,
logout and "sign-in required" remove it, lock keeps it, a changed credential
does not use it, and the file never holds a refresh token in the clear.  Also
that a store written before sign-ins could be kept (format version 1) still
opens."""

import json
import os
import shutil

from aoaitest import assert_absent, expect_rc
from test_signin import (AZ_CLI_CLIENT, assert_clean, entra, sign_in,  # noqa: F401
                         token, user_profile)
from test_store import store_file

PASSPHRASE_FIXTURE = "v1-fixture-passphrase"
V1_STORE = os.path.join(os.path.dirname(__file__), "store-v1.bin")


def store_config(ctx, **profile_kw):
    return ctx.write_config({"store": {"kdf": "interactive"},
                             "profiles": {"me": profile_kw["me"]}})


def persisted_sign_in(ctx, build, start_agent, entra, aoai, **cred):
    """An agent with a store and a --persist sign-in for "me"; returns (agent, pw, cfg)."""
    cfg = store_config(ctx, me=user_profile(entra, **cred))
    a = start_agent(config=cfg)
    pw = ctx.secret(8)
    expect_rc(aoai("passwd", input=pw + "\n"), 0, "passwd creating the store")
    out, err = sign_in(ctx, build, entra, "me", "ada@contoso.example", "--persist")
    assert "Kept in the persistent store" in out, out
    return a, pw, cfg


def restart_unlocked(a, start_agent, cfg, aoai, pw):
    a.stop()
    a = start_agent(config=cfg)
    expect_rc(aoai("token", "me"), 5, "token while the store is locked")
    expect_rc(aoai("unlock", input=pw + "\n"), 0, "unlock")
    return a


def refreshes(entra):
    return entra.requests("token", "refresh_token")


def assert_not_in_store(ctx, entra):
    data = store_file(ctx).read_bytes()
    for s in entra.issued():
        assert s.encode() not in data, "a code or token in the store file in the clear"


def test_persisted_sign_in_survives_restart_and_rotation(ctx, build, start_agent, entra, aoai):
    a, pw, cfg = persisted_sign_in(ctx, build, start_agent, entra, aoai)
    listed = json.loads(aoai("list", "--json").stdout)
    p = next(p for p in listed["profiles"] if p["name"] == "me")
    assert p["signin"]["persisted"] is True, p
    assert "signed in as ada@contoso.example (persisted)" in aoai("list").stdout
    assert_not_in_store(ctx, entra)
    a = restart_unlocked(a, start_agent, cfg, aoai, pw)
    a.wait_log("1 persisted sign-in(s)", what="the unlock log line")
    n_dev = len(entra.requests("devicecode"))
    token(aoai)
    r = refreshes(entra)
    assert len(r) == 1 and r[0].get("error") is None, r
    # The fake rotated: the first refresh token is refused from now on, so the
    # next restart works only if the new one was written back.
    a = restart_unlocked(a, start_agent, cfg, aoai, pw)
    token(aoai)
    r = refreshes(entra)
    assert len(r) == 2 and r[1].get("error") is None, r
    assert len(entra.requests("devicecode")) == n_dev, "a new sign-in was needed"
    assert_not_in_store(ctx, entra)
    assert "persisted" in aoai("list").stdout
    assert_clean(a, aoai, entra)


def test_logout_removes_it_from_the_store(ctx, build, start_agent, entra, aoai):
    a, pw, cfg = persisted_sign_in(ctx, build, start_agent, entra, aoai)
    before = store_file(ctx).read_bytes()
    expect_rc(aoai("lock", input=pw + "\n"), 0, "lock")
    r = expect_rc(aoai("logout", "me"), 5, "logout while locked")
    assert "aoai unlock" in r.stderr, r.stderr
    expect_rc(aoai("unlock", input=pw + "\n"), 0, "unlock")
    expect_rc(aoai("logout", "me"), 0, "logout")
    assert store_file(ctx).read_bytes() != before, "logout left the store as it was"
    a = restart_unlocked(a, start_agent, cfg, aoai, pw)
    r = aoai("token", "me")
    expect_rc(r, 6, "token after logout and restart")
    assert "sign-in required: run aoai login me" in r.stderr, r.stderr
    assert refreshes(entra) == []
    assert_clean(a, aoai, entra)


def test_lock_keeps_it(ctx, build, start_agent, entra, aoai):
    a, pw, cfg = persisted_sign_in(ctx, build, start_agent, entra, aoai)
    before = store_file(ctx).read_bytes()
    expect_rc(aoai("lock", input=pw + "\n"), 0, "lock")
    assert store_file(ctx).read_bytes() == before, "lock rewrote the store"
    expect_rc(aoai("token", "me"), 5, "token while locked")
    expect_rc(aoai("unlock", input=pw + "\n"), 0, "unlock")
    token(aoai, "me", "--scope", "api://other/.default")
    r = refreshes(entra)
    assert len(r) == 1 and r[0].get("error") is None, r
    assert_clean(a, aoai, entra)


def test_sign_in_required_drops_it(ctx, build, start_agent, entra, aoai):
    a, pw, cfg = persisted_sign_in(ctx, build, start_agent, entra, aoai)
    entra.control("POST", "revoke", {})
    r = aoai("token", "me", "--scope", "api://other/.default")
    expect_rc(r, 6, "token after revocation")
    a = restart_unlocked(a, start_agent, cfg, aoai, pw)
    a.wait_log("0 persisted sign-in(s)", what="the unlock log line")
    n = len(refreshes(entra))
    expect_rc(aoai("token", "me"), 6, "token after revocation and restart")
    assert len(refreshes(entra)) == n, "the dropped refresh token was used"


def test_changed_credential_does_not_use_it(ctx, build, start_agent, entra, aoai):
    a, pw, cfg = persisted_sign_in(ctx, build, start_agent, entra, aoai)
    a.stop()
    other = store_config(ctx, me=user_profile(entra, client_id="11111111-2222-3333-4444-"
                                                               "555555555555"))
    a = start_agent(config=other)
    before = store_file(ctx).read_bytes()
    expect_rc(aoai("unlock", input=pw + "\n"), 0, "unlock")
    a.wait_log("0 persisted sign-in(s)", what="the unlock log line")
    assert store_file(ctx).read_bytes() != before, "the stale sign-in stayed in the store"
    r = aoai("token", "me")
    expect_rc(r, 6, "token with another client id")
    assert "sign-in required" in r.stderr, r.stderr
    assert refreshes(entra) == []
    # Back to the first client id: the stale entry is gone for good.
    a = restart_unlocked(a, start_agent, cfg, aoai, pw)
    expect_rc(aoai("token", "me"), 6, "token after the stale entry was dropped")
    assert refreshes(entra) == []


def test_persist_needs_a_store_like_add(ctx, build, start_agent, entra, aoai):
    start_agent(config=store_config(ctx, me=user_profile(entra)))
    add = expect_rc(aoai("add", "x", "--persist", input=ctx.secret()), 1, "add --persist")
    r = expect_rc(aoai("login", "me", "--persist"), 1, "login --persist, no store")
    assert r.stderr.replace("aoai login", "aoai add") == add.stderr, (r.stderr, add.stderr)
    assert "aoai passwd" in r.stderr
    assert entra.requests("devicecode") == []
    assert not store_file(ctx).exists()


def test_store_of_format_version_1_opens(ctx, build, start_agent, entra, aoai):
    """tests/integration/store-v1.bin: written by the agent before sign-ins
    could be kept (passphrase PASSPHRASE_FIXTURE, secret "old" with a host)."""
    path = store_file(ctx)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.copy(V1_STORE, path)
    os.chmod(path, 0o600)
    cfg = store_config(ctx, me=user_profile(entra))
    a = start_agent(config=cfg)
    expect_rc(aoai("unlock", input=PASSPHRASE_FIXTURE + "\n"), 0, "unlock a version 1 store")
    names = [s["name"] for s in json.loads(aoai("list", "--json").stdout)["secrets"]
             if s["persisted"]]
    assert names == ["old"], names
    # The next write is version 2, with both kinds of record.
    sign_in(ctx, build, entra, "me", "ada@contoso.example", "--persist")
    assert path.read_bytes()[8:12] == b"\0\0\0\2"
    a = restart_unlocked(a, start_agent, cfg, aoai, PASSPHRASE_FIXTURE)
    names = [s["name"] for s in json.loads(aoai("list", "--json").stdout)["secrets"]
             if s["persisted"]]
    assert names == ["old"], names
    token(aoai)
    assert_absent("FAKE-v1-store-secret", a.log(), "the agent's log")
