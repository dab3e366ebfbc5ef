# SPDX-License-Identifier: MIT
"""Configuration reload: SIGHUP and `aoai reload`; a broken file keeps the
old configuration and the added secrets."""

import json
import signal

import pytest

from aoaitest import api_key_profile, assert_line, describe, expect_error, expect_rc, fail, \
    wait_until


def profile_names(aoai_json):
    return sorted(p["name"] for p in aoai_json("list")["profiles"])


@pytest.fixture
def running(ctx, start_agent, aoai):
    cfg = ctx.write_config({"profiles": {"one": api_key_profile("one.example")}})
    a = start_agent(config=cfg)
    key = ctx.secret()
    expect_rc(aoai("add", "one", input=key + "\n"), 0, "add one")
    expect_rc(aoai("add", "adhoc", "--host", "adhoc.example", input=ctx.secret() + "\n"), 0,
              "add adhoc --host")
    return a, cfg, key


def test_sighup_reloads(ctx, running, aoai, aoai_json):
    a, cfg, key = running
    ctx.write_config({"profiles": {"one": api_key_profile("one.example"),
                                   "two": api_key_profile("two.example")}})
    a.send_signal(signal.SIGHUP)
    wait_until(lambda: "two" in profile_names(aoai_json), 5, "profile two after SIGHUP")
    assert profile_names(aoai_json) == ["adhoc", "one", "two"]
    assert sorted(s["name"] for s in aoai_json("list")["secrets"]) == ["adhoc", "one"]
    assert aoai_json("status")["reloads"] >= 1
    h = expect_rc(aoai("headers", "https://one.example/"), 0, "headers after SIGHUP")
    assert_line(f"api-key: {key}", h.stdout, "headers after SIGHUP")
    assert a.alive()


def test_aoai_reload(ctx, running, aoai, aoai_json):
    a, cfg, key = running
    ctx.write_config({"profiles": {"one": api_key_profile("one.example", "uno.example"),
                                   "three": api_key_profile("three.example")}})
    r = expect_rc(aoai("reload"), 0, "aoai reload")
    assert r.stderr.strip() == "" or "error" not in r.stderr.lower(), describe(r)
    assert profile_names(aoai_json) == ["adhoc", "one", "three"]
    h = expect_rc(aoai("headers", "https://uno.example/"), 0, "new host of profile one")
    assert_line(f"api-key: {key}", h.stdout, "headers for a host added by reload")
    expect_rc(aoai("headers", "https://adhoc.example/"), 0, "added profile survives reload")
    st = aoai_json("status")
    assert st["reloads"] == 1 and st["last_reload_error"] is None, st
    # Profile removed from the file: gone; its host no longer matches.
    ctx.write_config({"profiles": {"three": api_key_profile("three.example")}})
    expect_rc(aoai("reload"), 0, "reload without profile one")
    expect_rc(aoai("headers", "https://one.example/"), 4, "profile one is gone")


BROKEN = [
    ("unknown type", {"profiles": {"one": api_key_profile("one.example"),
                                   "bad": {"hosts": ["b.example"],
                                           "credential": {"type": "managed"}}}},
     ["bad", "type"]),
    ("unknown key", {"profiles": {"bad": {"hosts": ["b.example"],
                                          "credential": {"type": "api-key"},
                                          "colour": "blue"}}},
     ["bad", "colour", "(valid: hosts, credential, scope, headers, allow, relay)"]),
    ("wrong type", {"profiles": {"bad": {"hosts": "b.example",
                                         "credential": {"type": "api-key"}}}},
     ["bad", "hosts"]),
]


@pytest.mark.parametrize("name,content,words", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_reload_keeps_old(ctx, running, aoai, aoai_json, name, content, words):
    a, cfg, key = running
    ctx.write_config(content)
    r = expect_rc(aoai("reload"), 1, f"reload of a config with {name}")
    for w in [str(cfg), *words]:
        if w not in r.stderr:
            fail(f"the reload error should name {w!r}:\n{describe(r)}")
    assert profile_names(aoai_json) == ["adhoc", "one"]
    h = expect_rc(aoai("headers", "https://one.example/"), 0, "old config still serves")
    assert_line(f"api-key: {key}", h.stdout, "headers after a failed reload")
    assert sorted(s["name"] for s in aoai_json("list")["secrets"]) == ["adhoc", "one"]
    st = aoai_json("status")
    assert st["last_reload_error"] and str(cfg) in st["last_reload_error"], st
    # A good file clears the error.
    ctx.write_config({"profiles": {"one": api_key_profile("one.example")}})
    expect_rc(aoai("reload"), 0, "reload after fixing the file")
    assert aoai_json("status")["last_reload_error"] is None


def test_broken_json_reload(ctx, running, aoai, aoai_json, raw):
    a, cfg, key = running
    ctx.write_config('{"profiles": {"one": ')
    r = expect_rc(aoai("reload"), 1, "reload of invalid JSON")
    assert str(cfg) in r.stderr, describe(r)
    with raw() as c:
        expect_error(c.request({"v": 1, "op": "reload"}), "bad_config")
    assert profile_names(aoai_json) == ["adhoc", "one"]


def test_broken_sighup_logs_and_keeps_old(ctx, running, aoai, aoai_json):
    a, cfg, key = running
    ctx.write_config({"profiles": {"bad": {"hosts": ["b.example"],
                                           "credential": {"type": "managed"}}}})
    a.send_signal(signal.SIGHUP)
    wait_until(lambda: aoai_json("status")["last_reload_error"], 5,
               "status to report the failed SIGHUP reload")
    log = a.wait_log(lambda t: str(cfg) in t and "bad" in t, what="the reload error")
    assert "managed" in log
    assert a.alive()
    assert profile_names(aoai_json) == ["adhoc", "one"]
    expect_rc(aoai("headers", "https://one.example/"), 0, "old config still serves")


def test_reload_of_deleted_file(ctx, running, aoai, aoai_json):
    a, cfg, key = running
    cfg.unlink()
    r = expect_rc(aoai("reload"), 1, "reload of a deleted -f file")
    assert str(cfg) in r.stderr, describe(r)
    assert profile_names(aoai_json) == ["adhoc", "one"]


def test_reload_without_config_file(ctx, start_agent, aoai, aoai_json):
    """An agent started with no file picks the default file up on reload."""
    start_agent()
    assert profile_names(aoai_json) == []
    ctx.write_config({"profiles": {"late": api_key_profile("late.example")}},
                     name=ctx.config_home / "aoai" / "agent.json")
    r = expect_rc(aoai("reload", "--json"), 0, "reload")
    try:
        out = json.loads(r.stdout)
    except ValueError:
        fail(f"`aoai reload --json` did not print JSON:\n{describe(r)}")
    assert out.get("profiles") == 1, out
    assert profile_names(aoai_json) == ["late"]


def test_sighup_storm(ctx, running, aoai, aoai_json):
    a, cfg, key = running
    ctx.write_config({"profiles": {"one": api_key_profile("one.example"),
                                   "storm": api_key_profile("storm.example")}})
    for _ in range(50):
        a.send_signal(signal.SIGHUP)
    wait_until(lambda: "storm" in profile_names(aoai_json), 5, "the reload after many SIGHUPs")
    assert a.alive()
    h = expect_rc(aoai("headers", "https://one.example/"), 0, "headers after a SIGHUP storm")
    assert_line(f"api-key: {key}", h.stdout, "headers after a SIGHUP storm")


def test_reload_while_locked(ctx, running, aoai, aoai_json):
    a, cfg, key = running
    expect_rc(aoai("lock", input="pw\n"), 0, "lock")
    ctx.write_config({"profiles": {"one": api_key_profile("one.example"),
                                   "four": api_key_profile("four.example")}})
    expect_rc(aoai("reload"), 0, "reload while locked")
    expect_rc(aoai("headers", "https://one.example/"), 5, "still locked after reload")
    expect_rc(aoai("unlock", input="pw\n"), 0, "unlock")
    assert profile_names(aoai_json) == ["adhoc", "four", "one"]
    h = expect_rc(aoai("headers", "https://one.example/"), 0, "headers after unlock")
    assert_line(f"api-key: {key}", h.stdout, "headers after reload + unlock")
