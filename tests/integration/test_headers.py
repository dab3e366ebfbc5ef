# SPDX-License-Identifier: MIT
"""`aoai headers` refusals and the CLI's documented exit codes, each checked
both as the CLI's exit status and as the agent's wire error code."""

import json
import socket

import pytest

from aoaitest import (api_key_profile, assert_absent, describe, expect_error, expect_ok,
                      expect_rc, expect_version, fail)


@pytest.fixture
def setup(ctx, start_agent):
    cfg = ctx.write_config({"profiles": {
        "contoso": api_key_profile("contoso.openai.azure.com"),
        "plain": api_key_profile("example.com"),
        "nokey": api_key_profile("nokey.openai.azure.com"),
        # Nothing listens on port 1: the identity endpoint is down.
        "vm": {"hosts": ["vm.openai.azure.com"],
               "credential": {"type": "managed-identity",
                              "endpoint": "http://127.0.0.1:1/metadata/identity/oauth2/token"}},
    }})
    a = start_agent(config=cfg)
    key = ctx.secret()
    return a, key


def wire(raw, url):
    with raw() as c:
        return c.request({"v": 1, "op": "headers", "url": url})


def test_no_match(setup, aoai, raw):
    r = expect_rc(aoai("headers", "https://elsewhere.example.net/x"), 4, "no profile covers it")
    assert r.stderr.strip(), "a reason on stderr is expected"
    assert r.stdout == ""
    expect_error(wire(raw, "https://elsewhere.example.net/x"), "no_match")


def test_insecure_http_to_non_loopback(setup, aoai, raw):
    _, key = setup
    expect_rc(aoai("add", "plain", input=key + "\n"), 0, "add")
    r = expect_rc(aoai("headers", "http://example.com/"), 4, "plain http to example.com")
    assert_absent(key, r.stdout + r.stderr, "refused headers output")
    assert r.stdout == ""
    expect_error(wire(raw, "http://example.com/"), "insecure_url")
    # The same profile over https is fine.
    expect_rc(aoai("headers", "https://example.com/"), 0, "https to example.com")


def test_profile_without_secret(setup, aoai, raw):
    expect_rc(aoai("headers", "https://nokey.openai.azure.com/x"), 6, "profile without secret")
    expect_error(wire(raw, "https://nokey.openai.azure.com/x"), "missing_secret")


def test_token_profile_unavailable(setup, aoai, aoai_json, raw):
    r = expect_rc(aoai("headers", "https://vm.openai.azure.com/x"), 6, "identity endpoint down")
    assert "imds" in r.stderr, r.stderr
    assert r.stdout == ""
    expect_error(wire(raw, "https://vm.openai.azure.com/x"), "unavailable")
    (vm,) = [p for p in aoai_json("list")["profiles"] if p["name"] == "vm"]
    assert vm["credential"] == "managed-identity"
    assert vm["state"] == "unavailable" and vm["detail"], vm


def test_remove_then_missing(setup, aoai, aoai_json, raw):
    _, key = setup
    url = "https://contoso.openai.azure.com/openai/deployments/x/chat/completions?api-version=1"
    expect_rc(aoai("add", "contoso", input=key + "\n"), 0, "add")
    expect_rc(aoai("headers", url), 0, "headers after add")
    expect_rc(aoai("remove", "contoso"), 0, "remove")
    expect_rc(aoai("headers", url), 6, "headers after remove")
    expect_error(wire(raw, url), "missing_secret")
    expect_rc(aoai("remove", "contoso"), 1, "remove again: not_found")
    with raw() as c:
        expect_error(c.request({"v": 1, "op": "remove", "name": "contoso"}), "not_found")


def test_remove_all(ctx, setup, aoai, aoai_json, raw):
    _, key = setup
    expect_rc(aoai("add", "contoso", input=key + "\n"), 0, "add contoso")
    expect_rc(aoai("add", "nokey", input=ctx.secret() + "\n"), 0, "add nokey")
    expect_rc(aoai("add", "extra", "--host", "extra.example", input=ctx.secret() + "\n"), 0,
              "add extra --host")
    assert len(aoai_json("list")["secrets"]) == 3
    expect_rc(aoai("remove", "--all"), 0, "remove --all")
    data = aoai_json("list")
    assert data["secrets"] == []
    assert "extra" not in [p["name"] for p in data["profiles"]]
    expect_rc(aoai("headers", "https://contoso.openai.azure.com/"), 6, "after remove --all")
    with raw() as c:
        assert expect_ok(c.request({"v": 1, "op": "remove", "all": True}))["removed"] == 0


def test_headers_wire_reply_shape(setup, aoai, raw):
    _, key = setup
    expect_rc(aoai("add", "contoso", input=key + "\n"), 0, "add")
    reply = expect_ok(wire(raw, "https://contoso.openai.azure.com/openai/x"))
    assert reply["profile"] == "contoso"
    hs = reply["headers"]
    if len(hs) != 1 or hs[0].get("name") != "api-key" or hs[0].get("value") != key \
            or hs[0].get("exists_action") != "override":
        fail(f"unexpected headers reply: {json.dumps(reply)}")


@pytest.mark.parametrize("url", ["not a url", "ftp://contoso.openai.azure.com/",
                                 "contoso.openai.azure.com/x", "https://"])
def test_bad_urls(setup, raw, url):
    expect_error(wire(raw, url), "bad_request", url)


def test_no_match_names_the_profile_on_another_port(ctx, start_agent, aoai, raw):
    """The usual slip: the profile names the host, not the port the request goes to."""
    cfg = ctx.write_config({"profiles": {"x": api_key_profile("127.0.0.1:8443"),
                                         "y": api_key_profile("y.example", "*.w.example")}})
    start_agent(config=cfg)
    cases = [
        ("http://127.0.0.1:36027/v1", 'no profile covers host 127.0.0.1:36027 (profile "x" '
         'covers 127.0.0.1:8443: add "127.0.0.1:36027" to its hosts)'),
        ("https://y.example:8443/", 'no profile covers host y.example:8443 (profile "y" covers '
         'y.example on the default port only: add "y.example:8443" to its hosts)'),
        ("https://a.w.example:9/", '(profile "y" covers *.w.example on the default port only: '
         'add "*.w.example:9" to its hosts)'),
    ]
    for url, message in cases:
        r = expect_rc(aoai("headers", url), 4, url)
        assert message in r.stderr, describe(r)
    # No profile names the host at all: nothing to add.
    reply = expect_error(wire(raw, "https://z.example:8443/"), "no_match")
    assert reply["message"] == "no profile covers host z.example:8443", reply
    # A profile of `aoai add --host` is changed with aoai add.
    expect_rc(aoai("add", "lo", "--host", "localhost:1234", input=ctx.secret() + "\n"), 0, "add")
    r = expect_rc(aoai("headers", "http://localhost:4321/"), 4, "added profile, other port")
    assert '(profile "lo" covers localhost:1234: aoai add lo --host localhost:4321 to serve ' \
        'this one instead)' in r.stderr, describe(r)


def test_error_messages_carry_no_url_path(setup, raw):
    url = "https://elsewhere.example.net/very/private/path?token=abc"
    reply = expect_error(wire(raw, url), "no_match")
    assert "private" not in reply["message"] and "token=abc" not in reply["message"], reply


# --- exit codes and usage -----------------------------------------------------------

def test_no_agent_exit_3(ctx, aoai):
    expect_rc(aoai("status", sock=ctx.dir / "nobody.sock"), 3, "status with no agent")
    expect_rc(aoai("list", sock=ctx.dir / "nobody.sock"), 3, "list with no agent")
    r = expect_rc(aoai("headers", "https://x.example/", sock=ctx.dir / "nobody.sock"), 3,
                  "headers with no agent")
    assert r.stderr.strip()
    # Neither AOAI_AUTH_SOCK nor an agent under XDG_RUNTIME_DIR.
    expect_rc(aoai("status", env=ctx.env(sock=False)), 3, "status, default path, no agent")


START_HINTS = ('eval "$(aoai-agent)"', 'eval "$(aoai env)"')


def stale_socket(ctx):
    """What an agent killed with SIGKILL leaves: a socket file nobody listens on."""
    path = ctx.path("stale.sock")
    if path.exists():
        return path
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()
    return path


def no_agent_cases(ctx):
    return [("no socket file", ctx.env(sock=ctx.dir / "nobody.sock")),
            ("a stale socket", ctx.env(sock=stale_socket(ctx))),
            ("the default path, no agent", ctx.env(sock=False)),
            ("no socket path", ctx.env(sock=False, XDG_RUNTIME_DIR=""))]


def test_no_agent_says_how_to_start_one(ctx, aoai):
    for what, env in no_agent_cases(ctx):
        r = expect_rc(aoai("list", env=env), 3, f"list with {what}")
        if not all(h in r.stderr for h in START_HINTS):
            fail(f"with {what}, the message should say how to start an agent:\n{describe(r)}")
    r = aoai("list", env=ctx.env(sock=stale_socket(ctx)))
    assert "stale socket" in r.stderr, describe(r)


def test_socket_option_overrides_env(ctx, agent, aoai_json):
    st = aoai_json("-S", str(ctx.sock), "status", env=ctx.env(sock=ctx.dir / "nobody.sock"))
    assert st["pid"] == agent.pid
    st = aoai_json("--socket", str(ctx.sock), "status",
                   env=ctx.env(sock=ctx.dir / "nobody.sock"))
    assert st["pid"] == agent.pid


@pytest.mark.parametrize("args", [["frobnicate"], ["add"], ["headers"], ["list", "--bogus"],
                                  ["remove"], ["add", "a", "-t", "soon"], []])
def test_usage_errors_exit_2(agent, aoai, args):
    r = expect_rc(aoai(*args), 2, f"aoai {' '.join(args)}")
    assert r.stderr.strip(), "usage errors should explain themselves on stderr"


@pytest.mark.parametrize("cmd", ["add", "list", "remove", "headers", "lock", "unlock", "status",
                                 "reload", "env"])
def test_command_help(ctx, aoai, cmd):
    r = aoai(cmd, "--help", env=ctx.env(sock=ctx.dir / "nobody.sock"))
    expect_rc(r, 0, f"aoai {cmd} --help (needs no agent)")
    assert cmd in (r.stdout + r.stderr), describe(r)


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(ctx, aoai, flag):
    expect_version(aoai(flag, env=ctx.env(sock=ctx.dir / "nobody.sock")), "aoai")
    # `aoai check` is a program of its own: it names itself.
    expect_version(aoai("check", flag, env=ctx.env(sock=ctx.dir / "nobody.sock")), "aoai-check")


def test_top_level_help(aoai):
    r = expect_rc(aoai("--help"), 0, "aoai --help")
    for cmd in ("add", "list", "remove", "headers", "lock", "unlock", "status", "reload", "env"):
        assert cmd in r.stdout, describe(r)


def test_env_command(ctx, start_agent, aoai):
    from aoaitest import parse_sh_env
    start_agent(sock=None)
    r = expect_rc(aoai("env", "-s", env=ctx.env(sock=False)), 0, "aoai env -s")
    vals = parse_sh_env(r.stdout, ctx.base_env())
    assert vals["AOAI_AUTH_SOCK"] == str(ctx.runtime / "aoai" / "agent.sock"), describe(r)
    r = expect_rc(aoai("env", "-c", env=ctx.env(sock=False)), 0, "aoai env -c")
    assert "setenv AOAI_AUTH_SOCK " in r.stdout, describe(r)
    r = expect_rc(aoai("env", "--fish", env=ctx.env(sock=False)), 0, "aoai env --fish")
    assert "set -gx AOAI_AUTH_SOCK " in r.stdout, describe(r)


# allow.exe / allow.uid refusals (exit 7, "denied"): test_access.py.
