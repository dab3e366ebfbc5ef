# SPDX-License-Identifier: MIT
"""API keys end to end: config profile, `aoai add`, `aoai list`,
`aoai headers`, and the real curl against the fake Azure OpenAI endpoint."""

import hashlib
import json

import pytest

from aoaitest import (api_key_profile, assert_absent, assert_line, curl_chat, describe, expect_rc,
                      fail, find_header, redact, run)

def fingerprint(key):
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:12]


@pytest.fixture
def configured(ctx, start_agent, fake_aoai):
    cfg = ctx.write_config({"profiles": {"contoso": api_key_profile(fake_aoai.hostport)}})
    return start_agent(config=cfg)


def test_api_key_end_to_end(ctx, build, configured, fake_aoai, aoai, aoai_json):
    key = fake_aoai.key

    before = aoai_json("list")
    (prof,) = before["profiles"]
    assert prof["name"] == "contoso" and prof["state"] == "missing_secret", before
    assert prof["hosts"] == [fake_aoai.hostport] and prof["credential"] == "api-key"
    assert prof["origin"] == "config" and prof["detail"]
    assert before["secrets"] == [] and before["locked"] is False
    expect_rc(aoai("headers", fake_aoai.chat_url), 6, "headers before add")

    r = expect_rc(aoai("add", "contoso", input=key + "\n"), 0, "aoai add")
    assert_absent(key, r.stdout + r.stderr, "the output of aoai add")

    listed = aoai("list")
    expect_rc(listed, 0, "aoai list")
    assert_absent(key, listed.stdout + listed.stderr, "aoai list")
    for word in ("contoso", "ready", fingerprint(key)):
        if word not in listed.stdout:
            fail(f"`aoai list` lacks {word!r}:\n{listed.stdout}")
    lj = aoai("list", "--json")
    expect_rc(lj, 0, "aoai list --json")
    assert_absent(key, lj.stdout + lj.stderr, "aoai list --json")
    data = json.loads(lj.stdout)
    (prof,) = data["profiles"]
    assert prof["state"] == "ready" and prof["detail"] is None, prof
    (sec,) = data["secrets"]
    assert sec["name"] == "contoso" and sec["origin"] == "added"
    assert sec["fingerprint"] == fingerprint(key)

    h = expect_rc(aoai("headers", fake_aoai.chat_url), 0, "aoai headers")
    assert_line(f"api-key: {key}", h.stdout, "aoai headers output")
    assert len(h.stdout.splitlines()) == 1, "only the api-key header is expected"
    hj = expect_rc(aoai("headers", fake_aoai.chat_url, "--json"), 0, "aoai headers --json")
    if find_header(json.loads(hj.stdout), "api-key") != key:
        fail(f"`aoai headers --json` does not carry the key:\n{hj.stdout}")

    status, body = curl_chat(ctx, fake_aoai.chat_url)
    assert status == 401, body
    assert json.loads(body)["error"]["code"] == "401"
    status, body = curl_chat(ctx, fake_aoai.chat_url, with_headers_from=build.aoai)
    assert status == 200, redact(body)
    resp = json.loads(body)
    assert resp["object"] == "chat.completion"
    assert resp["choices"][0]["message"]["role"] == "assistant"

    reqs = fake_aoai.requests()
    assert [(q["status"], q["api_key_present"]) for q in reqs] == [(401, False), (200, True)]


def test_trailing_newline_handling(configured, fake_aoai, aoai_json, aoai):
    """One trailing newline is stripped; a key without one is taken as is."""
    key = fake_aoai.key
    expect_rc(aoai("add", "contoso", input=key), 0, "add without newline")
    assert aoai_json("list")["secrets"][0]["fingerprint"] == fingerprint(key)
    expect_rc(aoai("add", "contoso", input=key + "\n"), 0, "add with newline")
    assert aoai_json("list")["secrets"][0]["fingerprint"] == fingerprint(key)
    expect_rc(aoai("add", "contoso", input=key + "\n\n"), 0, "add with two newlines")
    assert aoai_json("list")["secrets"][0]["fingerprint"] == fingerprint(key + "\n")


def test_add_replaces_secret(ctx, configured, fake_aoai, aoai, aoai_json):
    old = ctx.secret()
    expect_rc(aoai("add", "contoso", input=old + "\n"), 0, "add old")
    expect_rc(aoai("add", "contoso", input=fake_aoai.key + "\n"), 0, "add new")
    secs = aoai_json("list")["secrets"]
    assert [s["fingerprint"] for s in secs] == [fingerprint(fake_aoai.key)]
    h = expect_rc(aoai("headers", fake_aoai.chat_url), 0, "headers")
    assert_line(f"api-key: {fake_aoai.key}", h.stdout, "headers after replacing the key")


def test_no_config_add_with_host(ctx, build, start_agent, fake_aoai, aoai, aoai_json):
    """No config file at all; `aoai add NAME --host 127.0.0.1:PORT` makes a profile."""
    start_agent()  # default config path, which does not exist
    assert aoai_json("status")["config"] is None
    assert aoai_json("list")["profiles"] == []
    expect_rc(aoai("headers", fake_aoai.chat_url), 4, "headers with no profile")

    expect_rc(aoai("add", "demo", "--host", fake_aoai.hostport, input=fake_aoai.key + "\n"), 0,
              "add --host")
    data = aoai_json("list")
    (prof,) = data["profiles"]
    assert prof["name"] == "demo" and prof["origin"] == "added" and prof["state"] == "ready"
    assert prof["hosts"] == [fake_aoai.hostport] and prof["credential"] == "api-key"
    status, body = curl_chat(ctx, fake_aoai.chat_url, with_headers_from=build.aoai)
    assert status == 200, redact(body)
    assert json.loads(body)["object"] == "chat.completion"

    # The v1 path on the same host is covered by the same profile.
    status, body = curl_chat(ctx, f"{fake_aoai.base}/openai/v1/chat/completions",
                        with_headers_from=build.aoai)
    assert status == 200, redact(body)

    expect_rc(aoai("remove", "demo"), 0, "remove")
    after = aoai_json("list")
    assert after["profiles"] == [] and after["secrets"] == [], after
    expect_rc(aoai("headers", fake_aoai.chat_url), 4, "headers after removing an added profile")


def test_add_host_for_config_profile_conflicts(configured, fake_aoai, aoai, aoai_json):
    r = aoai("add", "contoso", "--host", "other.example", input=fake_aoai.key + "\n")
    expect_rc(r, 1, "add --host for a configured profile")
    assert aoai_json("list")["secrets"] == []
    assert aoai_json("list")["profiles"][0]["hosts"] == [fake_aoai.hostport]


def test_add_json_output(configured, fake_aoai, aoai):
    r = expect_rc(aoai("add", "contoso", "-t", "600", "--json", input=fake_aoai.key + "\n"), 0,
                  "add --json")
    assert_absent(fake_aoai.key, r.stdout, "add --json output")
    out = json.loads(r.stdout)
    assert out["name"] == "contoso" and out["fingerprint"] == fingerprint(fake_aoai.key)
    assert 590 <= out["expires_in"] <= 600, out


def test_add_refuses_secret_in_argv(configured, fake_aoai, aoai, aoai_json):
    r = aoai("add", "contoso", fake_aoai.key, input="")
    expect_rc(r, 2, "add with a secret as an argument")
    assert aoai_json("list")["secrets"] == []


@pytest.mark.parametrize("stdin", ["", "\n"])
def test_add_empty_secret_refused(configured, aoai, aoai_json, stdin):
    r = aoai("add", "contoso", input=stdin)
    assert r.returncode != 0, describe(r)
    assert aoai_json("list")["secrets"] == []


@pytest.mark.parametrize("name", ["../evil", "a b", "x" * 65, "semi;colon"])
def test_add_bad_name_refused(ctx, agent, aoai, aoai_json, name):
    r = aoai("add", name, input=ctx.secret() + "\n")
    assert r.returncode in (1, 2), describe(r)
    assert aoai_json("list")["secrets"] == []


def test_longest_secret_and_too_long(ctx, agent, aoai, aoai_json):
    ok = "k" * 16384
    expect_rc(aoai("add", "big", input=ok), 0, "add a 16384-byte secret")
    assert aoai_json("list")["secrets"][0]["fingerprint"] == fingerprint(ok)
    r = aoai("add", "toobig", input="k" * 16385)
    assert r.returncode != 0, describe(r)
    assert [s["name"] for s in aoai_json("list")["secrets"]] == ["big"]


def test_specificity_exact_over_wildcard(ctx, start_agent, aoai, aoai_json):
    cfg = ctx.write_config({"profiles": {
        "wild": api_key_profile("*.example.org"),
        "longer": api_key_profile("*.eu.example.org"),
        "exact": api_key_profile("api.eu.example.org"),
    }})
    start_agent(config=cfg)
    keys = {n: ctx.secret() for n in ("wild", "longer", "exact")}
    for n, k in keys.items():
        expect_rc(aoai("add", n, input=k + "\n"), 0, f"add {n}")
    for url, want in [("https://api.eu.example.org/x", "exact"),
                      ("https://API.EU.Example.org/x", "exact"),
                      ("https://other.eu.example.org/x", "longer"),
                      ("https://a.b.example.org/x", "wild")]:
        h = expect_rc(aoai("headers", url), 0, f"headers {url}")
        assert_line(f"api-key: {keys[want]}", h.stdout, f"headers for {url} (want {want})")
    expect_rc(aoai("headers", "https://example.org/x"), 4, "bare suffix is not *.suffix")


def test_port_rules(ctx, start_agent, aoai):
    cfg = ctx.write_config({"profiles": {
        "noport": api_key_profile("svc.example.com"),
        "withport": api_key_profile("svc.example.com:8443"),
        "loop": api_key_profile("localhost"),
    }})
    start_agent(config=cfg)
    k1, k2, k3 = ctx.secret(), ctx.secret(), ctx.secret()
    for n, k in (("noport", k1), ("withport", k2), ("loop", k3)):
        expect_rc(aoai("add", n, input=k + "\n"), 0, f"add {n}")
    h = expect_rc(aoai("headers", "https://svc.example.com/a"), 0, "default port")
    assert_line(f"api-key: {k1}", h.stdout, "headers on 443")
    h = expect_rc(aoai("headers", "https://svc.example.com:443/a"), 0, "explicit default port")
    assert_line(f"api-key: {k1}", h.stdout, "headers on :443")
    h = expect_rc(aoai("headers", "https://svc.example.com:8443/a"), 0, "port 8443")
    assert_line(f"api-key: {k2}", h.stdout, "headers on 8443")
    expect_rc(aoai("headers", "https://svc.example.com:9999/a"), 4, "an uncovered port")
    h = expect_rc(aoai("headers", "http://localhost/a"), 0, "loopback http, default port")
    assert_line(f"api-key: {k3}", h.stdout, "headers for localhost")
    expect_rc(aoai("headers", "http://localhost:8080/a"), 4, "localhost on another port")


def test_header_templates_and_named_secrets(ctx, start_agent, aoai, raw):
    """Profile header templates: {secret}, {secret:NAME}, literals, exists_action."""
    cfg = ctx.write_config({"profiles": {"gw": api_key_profile("gw.example", headers={
        "api-key": "{secret}",
        "Ocp-Apim-Subscription-Key": {"value": "{secret:apim-sub}", "exists_action": "skip"},
        "X-Static": {"value": "fixed-{secret:apim-sub}-text", "exists_action": "append"},
    })}})
    start_agent(config=cfg)
    key, sub = ctx.secret(), ctx.secret()
    expect_rc(aoai("add", "gw", input=key + "\n"), 0, "add gw")
    expect_rc(aoai("headers", "https://gw.example/"), 6, "a named secret is still missing")
    expect_rc(aoai("add", "apim-sub", input=sub + "\n"), 0, "add apim-sub (no profile)")
    h = expect_rc(aoai("headers", "https://gw.example/"), 0, "headers with templates")
    for line in (f"api-key: {key}", f"Ocp-Apim-Subscription-Key: {sub}",
                 f"X-Static: fixed-{sub}-text"):
        assert_line(line, h.stdout, "templated headers")
    with raw() as c:
        c.send_json({"v": 1, "op": "headers", "url": "https://gw.example/"})
        reply = c.recv_frame()
    actions = {x["name"].lower(): x["exists_action"] for x in reply.get("headers", [])}
    if actions != {"api-key": "override", "ocp-apim-subscription-key": "skip",
                   "x-static": "append"}:
        fail(f"unexpected exists_action values: {actions}")


def test_file_secret_from_config(ctx, start_agent, aoai, aoai_json):
    key = ctx.secret()
    kf = ctx.write_file("keys/filekey", key + "\n", mode=0o600)
    cfg = ctx.write_config({"profiles": {
        "fromfile": {"hosts": ["file.example"], "credential": {"type": "api-key", "file": str(kf)}},
    }})
    start_agent(config=cfg)
    h = expect_rc(aoai("headers", "https://file.example/"), 0, "headers from a file secret")
    assert_line(f"api-key: {key}", h.stdout, "headers from a file secret")
    lj = aoai("list", "--json")
    assert_absent(key, lj.stdout, "aoai list --json")
    origins = {s["name"]: s["origin"] for s in json.loads(lj.stdout)["secrets"]}
    assert "file" in origins.values(), origins
    (name,) = [n for n, o in origins.items() if o == "file"]
    expect_rc(aoai("remove", name), 1, "removing a config-file secret is a conflict")
    expect_rc(aoai("add", name, input=ctx.secret() + "\n"), 1, "replacing a file secret: conflict")
    h = expect_rc(aoai("headers", "https://file.example/"), 0, "file secret still served")
    assert_line(f"api-key: {key}", h.stdout, "headers after the refused remove")


def test_add_bad_host_refused(ctx, agent, aoai, aoai_json):
    for host in ("bad host", "a.example:99999", "a.example:", "*", "https://a.example/x",
                 "https://user@a.example/"):
        r = aoai("add", "h", "--host", host, input=ctx.secret() + "\n")
        assert r.returncode in (1, 2), describe(r)
    assert aoai_json("list")["profiles"] == [] and aoai_json("list")["secrets"] == []


def test_add_host_given_as_url(ctx, agent, aoai, aoai_json):
    """A URL copied from the portal where a host belongs: its host and port."""
    r = expect_rc(aoai("add", "portal", "--host", "https://contoso.openai.azure.com/",
                       input=ctx.secret() + "\n"), 0, "add --host URL")
    assert 'Profile "portal" serves contoso.openai.azure.com\n' in r.stdout, describe(r)
    r = expect_rc(aoai("add", "local", "--host", "http://127.0.0.1:8443",
                       input=ctx.secret() + "\n"), 0, "add --host URL with a port")
    assert 'Profile "local" serves 127.0.0.1:8443\n' in r.stdout, describe(r)
    hosts = {p["name"]: p["hosts"] for p in aoai_json("list")["profiles"]}
    assert hosts == {"portal": ["contoso.openai.azure.com"], "local": ["127.0.0.1:8443"]}, hosts
    expect_rc(aoai("headers", "https://contoso.openai.azure.com/openai/v1/models"), 0,
              "headers for the URL's host")
    # More than an origin is refused, saying what to write.
    r = expect_rc(aoai("add", "deep", "--host", "https://h.example:8443/openai/deployments/x",
                       input=ctx.secret() + "\n"), 1, "add --host URL with a path")
    assert 'expected a host name, got a URL with a path, query or fragment: write ' \
        '"h.example:8443"' in r.stderr, describe(r)
    r = expect_rc(aoai("add", "cred", "--host", "https://me:hunter2@h.example/",
                       input=ctx.secret() + "\n"), 1, "add --host URL with a user name")
    assert 'got a URL with a user name: write "h.example"' in r.stderr, describe(r)
    assert "hunter2" not in r.stderr, describe(r)


def test_add_serving_nothing_warns(ctx, start_agent, aoai):
    """`aoai add NAME` with a NAME no profile uses (a typo, a forgotten --host) still
    adds it (exit 0), and says on stderr how to make it serve."""
    cfg = ctx.write_config({"profiles": {
        "contoso": api_key_profile("contoso.example"),
        "gw": api_key_profile("gw.example", headers={"api-key": "{secret}",
                                                     "X-Sub": "{secret:apim-sub}"}),
        "sp": {"hosts": ["sp.example"],
               "credential": {"type": "client-secret",
                              "tenant_id": "5a3c0f1e-7b2d-4c8a-9e6f-0123456789ab",
                              "client_id": "1e6a2b3c-4d5e-6f70-8192-a3b4c5d6e7f8",
                              "secret": "sp-secret"}}}})
    start_agent(config=cfg)
    r = expect_rc(aoai("add", "contosso", input=ctx.secret() + "\n"), 0, "add a typo")
    assert 'Secret "contosso" added' in r.stdout, describe(r)
    for words in ('warning: no profile uses secret "contosso"', "serves nothing yet",
                  "aoai add contosso --host HOST", '"secret": "contosso"'):
        assert words in r.stderr, describe(r)
    r = expect_rc(aoai("add", "typo2", "--json", input=ctx.secret() + "\n"), 0, "add --json")
    assert json.loads(r.stdout)["profiles"] == [] and "serves nothing" in r.stderr, describe(r)
    # Named by a profile, by a header template, by a credential, or given --host: no warning.
    for args in (["contoso"], ["apim-sub"], ["sp-secret"], ["solo", "--host", "solo.example"]):
        r = expect_rc(aoai("add", *args, input=ctx.secret() + "\n"), 0, f"add {args}")
        assert r.stderr == "", describe(r)
    r = expect_rc(aoai("add", "apim-sub", "--json", input=ctx.secret() + "\n"), 0, "add --json")
    assert json.loads(r.stdout)["profiles"] == ["gw"], r.stdout


def test_loopback_and_userinfo_urls(ctx, start_agent, aoai):
    cfg = ctx.write_config({"profiles": {"lo8": api_key_profile("127.0.0.5"),
                                         "svc": api_key_profile("svc.example.com")}})
    start_agent(config=cfg)
    k1, k2 = ctx.secret(), ctx.secret()
    expect_rc(aoai("add", "lo8", input=k1 + "\n"), 0, "add lo8")
    expect_rc(aoai("add", "svc", input=k2 + "\n"), 0, "add svc")
    h = expect_rc(aoai("headers", "http://127.0.0.5/x"), 0, "http to 127.0.0.0/8")
    assert_line(f"api-key: {k1}", h.stdout, "headers for 127.0.0.5")
    h = expect_rc(aoai("headers", "https://user:pw@svc.example.com/a#frag"), 0, "userinfo URL")
    assert_line(f"api-key: {k2}", h.stdout, "headers for a URL with userinfo")
    r = expect_rc(aoai("headers", "https://svc.example.com@evil.example/a"), 4,
                  "userinfo that looks like the host")
    assert_absent(k2, r.stdout, "headers for a look-alike URL")
