# SPDX-License-Identifier: MIT
"""`aoai check`: tokens minted by the fake Entra (tests/fakes/fake_identity.py,
RS256 with a published key set) validated the way API Management would:
each broken property fails its own line and nothing else; policies from the
APIM documentation are applied; `--profile` checks the agent's own token;
the agent fetches and caches the keys (op "jwks") and refetches them for an
unknown kid; without an agent aoai-check fetches them itself."""

import json
import threading
import time

import pytest

from aoaitest import assert_absent, describe, expect_error, expect_ok, expect_rc, fail
from conftest import Ctx
from identity import MI_TENANT, _stop_and_check, new_rs256_key, rs256_jwk, start_identity

TENANT = "6a1f3c2e-9b4d-4e7a-8c5f-1d2e3f4a5b6c"
OTHER_TENANT = "0b9e8d7c-6f5a-4b3c-9d2e-1f0a9b8c7d6e"
AUD = "api://contoso-gateway"
CLIENT = "4f2d9a1b-3c5e-4d6f-8a7b-9c0d1e2f3a4b"
ROLE = "Gateway.Invoke"
COGNITIVE = "https://cognitiveservices.azure.com"
POLICIES = __import__("pathlib").Path(__file__).parent / "policies"


def claims(**over):
    now = int(time.time())
    c = {"aud": AUD, "iss": f"https://sts.windows.net/{TENANT}/", "iat": now - 60,
         "nbf": now - 60, "exp": now + 3600, "appid": CLIENT, "tid": TENANT,
         "oid": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a", "roles": [ROLE], "ver": "1.0"}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


RULES = ("--tenant", TENANT, "--audience", AUD, "--client-app-id", CLIENT,
         "--claim", f"roles={ROLE}")


@pytest.fixture(scope="module")
def entra(build):
    """One fake Entra for the module: starting one (a key, a certificate, a Python
    process) costs more than the checks themselves."""
    c = Ctx(build)
    fi = start_identity(c, rs256=True)
    yield fi
    _stop_and_check(fi)
    c.cleanup()


@pytest.fixture
def identity_rs256(entra):
    """The module's fake Entra, its request log, scripts and extra keys cleared."""
    entra.reset()
    entra.publish_keys([])
    return entra


@pytest.fixture
def check(ctx, aoai, identity_rs256):
    """check(token, *args, sock=None) -> CompletedProcess of `aoai check - ARGS` with the
    fake Entra as the authority; without sock, no agent is reachable."""

    def run(token, *args, sock=None, env=None):
        e = ctx.env(sock=sock or ctx.path("no-agent.sock"),
                    **{"AZURE_AUTHORITY_HOST": identity_rs256.base, **(env or {})})
        r = aoai("check", *args, input=token, env=e)
        signature = token.rsplit(".", 1)[-1] if token.count(".") == 2 else None
        if signature:
            assert_absent(signature, r.stdout + r.stderr, "aoai check output")
        return r

    return run


def check_json(check, token, *args, rc=0, **kw):
    r = expect_rc(check(token, *args, "--json", **kw), rc, "aoai check --json")
    try:
        return json.loads(r.stdout)
    except ValueError:
        fail(f"aoai check --json printed no JSON\n{describe(r)}")


def failing(doc):
    return sorted(c["check"] for c in doc["checks"] if not c["ok"])


# --- the token passes, then each property broken alone --------------------------------

@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_valid_token_passes(check, identity_rs256, alg):
    token = identity_rs256.mint(claims(), alg=alg)
    r = expect_rc(check(token, *RULES), 0, "aoai check of a valid token")
    lines = r.stdout.splitlines()
    checks = [l.split()[:2] for l in lines[lines.index("checks:") + 1:-1]]
    assert checks == [["ok", "signature"], ["ok", "exp"], ["ok", "nbf"], ["ok", "aud"],
                      ["ok", "iss"], ["ok", "appid"], ["ok", "roles"]], r.stdout
    assert lines[-1] == "valid", r.stdout
    # Header and claims are shown; the signature never is (the fixture checks).
    assert f"  alg        {alg}" in lines and f"  kid        {identity_rs256.kid}" in lines
    assert f"  aud        {AUD}" in lines, r.stdout
    assert "keys from " + identity_rs256.jwks_url(TENANT) in r.stdout, r.stdout


def tampered(token):
    head, payload, sig = token.split(".")
    flipped = ("A" if sig[10] != "A" else "B")
    return f"{head}.{payload}.{sig[:10]}{flipped}{sig[11:]}"


def foreign_key_token(ctx, identity_rs256, kid):
    key = new_rs256_key(ctx, "foreign")
    return identity_rs256.mint(claims(), key_file=key, kid=kid)


@pytest.mark.parametrize("case,failed,actual", [
    ("tampered", "signature", "does not verify"),
    ("wrong-kid", "signature", "no such key among the"),
    ("expired", "exp", ""),
    ("not-yet-valid", "nbf", ""),
    ("wrong-audience", "aud", COGNITIVE),
    ("wrong-issuer", "iss", f"https://sts.windows.net/{OTHER_TENANT}/"),
    ("wrong-client", "appid", "00000000-0000-0000-0000-00000000beef"),
    ("missing-role", "roles", "absent"),
])
def test_broken_token_fails_its_line(ctx, check, identity_rs256, case, failed, actual):
    now = int(time.time())
    token = {
        "tampered": lambda: tampered(identity_rs256.mint(claims())),
        "wrong-kid": lambda: foreign_key_token(ctx, identity_rs256, "rotated-away"),
        "expired": lambda: identity_rs256.mint(claims(exp=now - 600)),
        "not-yet-valid": lambda: identity_rs256.mint(claims(nbf=now + 600)),
        "wrong-audience": lambda: identity_rs256.mint(claims(aud=COGNITIVE)),
        "wrong-issuer": lambda: identity_rs256.mint(
            claims(iss=f"https://sts.windows.net/{OTHER_TENANT}/")),
        "wrong-client": lambda: identity_rs256.mint(
            claims(appid="00000000-0000-0000-0000-00000000beef")),
        "missing-role": lambda: identity_rs256.mint(claims(roles=None)),
    }[case]()
    doc = check_json(check, token, *RULES, rc=1)
    assert failing(doc) == [failed], doc["checks"]
    assert doc["ok"] is False
    (line,) = [c for c in doc["checks"] if c["check"] == failed]
    assert actual in line["actual"], line
    r = expect_rc(check(token, *RULES), 1, f"aoai check of a {case} token")
    fails = [l for l in r.stdout.splitlines() if l.startswith("  FAIL")]
    assert len(fails) == 1 and fails[0].split()[1] == failed, r.stdout
    assert "expected " in fails[0] and "; actual " in fails[0], fails[0]
    assert r.stdout.splitlines()[-1] == "INVALID", r.stdout


def test_v2_token_and_azp(check, identity_rs256):
    """A v2 token: iss in the login.microsoftonline.com form, the client in azp."""
    token = identity_rs256.mint(claims(iss=f"https://login.microsoftonline.com/{TENANT}/v2.0",
                                       appid=None, azp=CLIENT, ver="2.0"))
    doc = check_json(check, token, *RULES)
    assert [c["check"] for c in doc["checks"]][-3:] == ["iss", "azp", "roles"], doc["checks"]


def test_scp_is_split_and_claims_are_any_of(check, identity_rs256):
    token = identity_rs256.mint(claims(scp="Chat.Read Chat.Write", roles=None))
    check_json(check, token, "--tenant", TENANT, "--claim", "scp=Chat.Write,Other")
    doc = check_json(check, token, "--tenant", TENANT, "--claim", "scp=Chat", rc=1)
    assert failing(doc) == ["scp"], doc["checks"]


def test_keys_of_the_tokens_own_issuer(check, identity_rs256):
    """Without --tenant or a policy: the signature is checked with the keys of the
    token's own Entra tenant; nothing else but the lifetime is asserted."""
    doc = check_json(check, identity_rs256.mint(claims()))
    assert [c["check"] for c in doc["checks"]] == ["signature", "exp", "nbf"], doc
    (keys,) = doc["keys"]
    assert keys["openid_config"] == identity_rs256.openid_config_url(TENANT), keys
    assert keys["from_agent"] is False and keys["count"] >= 1, keys


def test_no_key_source_fails_the_signature(check, identity_rs256):
    token = identity_rs256.mint(claims(iss="https://issuer.example/"))
    doc = check_json(check, token, rc=1)
    assert failing(doc) == ["signature"], doc["checks"]
    assert "--openid-config" in doc["checks"][0]["expected"], doc["checks"][0]


def test_keys_unreachable(ctx, check, identity_rs256):
    doc = check_json(check, identity_rs256.mint(claims()), "--tenant", TENANT, rc=1,
                     env={"AZURE_AUTHORITY_HOST": "http://127.0.0.1:9"})
    assert failing(doc) == ["signature"], doc["checks"]
    assert "OpenID configuration from 127.0.0.1:9" in doc["keys"][0]["error"], doc["keys"]


def test_openid_config_option_accepts_its_issuer(check, identity_rs256):
    """--openid-config without --issuer accepts the configuration's issuer, as APIM
    does: a v1 token against the v2 configuration fails iss (a classic 401)."""
    url = identity_rs256.openid_config_url(TENANT)
    v2 = identity_rs256.mint(claims(iss=f"https://login.microsoftonline.com/{TENANT}/v2.0"))
    doc = check_json(check, v2, "--openid-config", url)
    assert "iss" in [c["check"] for c in doc["checks"]], doc["checks"]
    doc = check_json(check, identity_rs256.mint(claims()), "--openid-config", url, rc=1)
    assert failing(doc) == ["iss"], doc["checks"]


@pytest.mark.parametrize("host", ["example.com", "127.0.0.1.example.com", "127.evil"])
def test_plain_http_keys_refused(check, identity_rs256, host):
    """Plain http only to a loopback address: a name that merely starts like one is not."""
    doc = check_json(check, identity_rs256.mint(claims()), "--openid-config",
                     f"http://{host}/.well-known/openid-configuration", rc=1)
    assert f"plain http to {host} is not loopback" in doc["keys"][0]["error"], doc["keys"]


def test_terminal_controls_in_claims_are_not_printed(check, identity_rs256):
    """Claims are the issuer's text: escape sequences in names or values (C0, DEL,
    C1) reach the terminal as '?', never as controls."""
    evil = "\u001b]0;owned\u0007\u009b31m\u007f"
    token = identity_rs256.mint(claims(**{"name": evil, "x\u001b[2J": "v"}))
    r = expect_rc(check(token, "--tenant", TENANT, "--claim", "name=" + "plain"), 1, "evil")
    for c in ("\x1b", "\x07", "\x7f", "\u009b"):
        assert c not in r.stdout, repr(r.stdout)
    assert "FAIL  name" in r.stdout, r.stdout


# --- input and usage --------------------------------------------------------------------

def test_bearer_prefix_and_operand(check, aoai, ctx, identity_rs256):
    token = identity_rs256.mint(claims())
    for text in (f"Bearer {token}\n", f"Authorization: Bearer {token}\r\n", f"  {token}  "):
        expect_rc(check(text, "--tenant", TENANT), 0, "a pasted header")
    r = aoai("check", token, "--tenant", TENANT,
             env=ctx.env(sock=ctx.path("none.sock"), AZURE_AUTHORITY_HOST=identity_rs256.base))
    expect_rc(r, 0, "the token as an operand")


@pytest.mark.parametrize("text,message", [
    ("", "no token given"),
    ("not-a-token", "not a valid JWT"),
    ("a.b.c", "not a valid JWT"),
    ("eyJhbGciOiJub25lIn0.e30.", "not a valid JWT"),
    ("x" * 20000, "longer than 16384"),
], ids=["empty", "one-part", "bad-base64", "alg-none", "too-long"])
def test_not_a_token(check, text, message):
    r = check(text)
    assert r.returncode in (1, 2) and message in r.stderr, describe(r)
    assert r.stdout == "", describe(r)


@pytest.mark.parametrize("args,message", [
    (("tok", "--profile", "p"), "give one"),
    (("a", "b"), "one token at a time"),
    (("--named-value", "novalue"), "NAME=VALUE"),
    (("--claim", "roles="), "--claim wants"),
    (("--tenant", "bad/tenant", "-"), "not a tenant id"),
    (("--policy", "/nonexistent/policy.xml"), "cannot open"),
    (("--frobnicate",), ""),
])
def test_usage_errors(aoai, ctx, args, message):
    r = expect_rc(aoai("check", *args, input="", env=ctx.env(sock=ctx.path("none"))), 2,
                  "usage error")
    assert message in r.stderr, describe(r)


def test_help(aoai):
    r = expect_rc(aoai("help", "check"), 0, "aoai help check")
    assert r.stdout.startswith("Usage: aoai check"), r.stdout
    assert "check " in expect_rc(aoai("--help"), 0, "aoai --help").stdout


# --- the agent: --profile, and the keys it caches -----------------------------------------

@pytest.fixture
def mi_agent(ctx, start_agent, identity_rs256):
    """An agent whose profile "vm" gets managed-identity tokens (RS256) from the fake."""
    cfg = {"profiles": {"vm": {"hosts": ["vm.invalid"],
                               "credential": {"type": "managed-identity",
                                              "endpoint": identity_rs256.imds_url}}}}
    return start_agent(config=ctx.write_config(cfg))


def test_profile_checks_the_agents_token(ctx, check, mi_agent, identity_rs256):
    args = ("--profile", "vm", "--tenant", MI_TENANT, "--audience", COGNITIVE)
    doc = check_json(check, "", *args, sock=ctx.sock)
    assert doc["token"] == 'the agent\'s, profile "vm"', doc
    assert doc["claims"]["aud"] == COGNITIVE and doc["header"]["kid"] == identity_rs256.kid
    assert doc["keys"][0]["from_agent"] is True and doc["keys"][0]["cached"] is False, doc
    # The second check is answered from the agent's cache: Entra is asked once.
    doc = check_json(check, "", *args, sock=ctx.sock)
    assert doc["keys"][0]["cached"] is True, doc["keys"]
    assert len(identity_rs256.requests("openid")) == 1, identity_rs256.requests("openid")
    assert len(identity_rs256.requests("jwks")) == 1, identity_rs256.requests("jwks")
    # The gateway expects another audience: the very answer to "why a 401?".
    doc = check_json(check, "", "--profile", "vm", "--audience", AUD, sock=ctx.sock, rc=1)
    assert failing(doc) == ["aud"], doc["checks"]


@pytest.mark.parametrize("profile,code,message", [
    ("nope", 1, 'no profile named "nope"'),
])
def test_profile_refused(ctx, check, mi_agent, profile, code, message):
    r = expect_rc(check("", "--profile", profile, sock=ctx.sock), code, "unknown profile")
    assert message in r.stderr, describe(r)


def test_profile_without_agent(check):
    r = expect_rc(check("", "--profile", "vm"), 3, "no agent")
    assert "no agent" in r.stderr and 'eval "$(aoai-agent)"' in r.stderr, describe(r)


def test_agent_refetches_for_an_unknown_kid(ctx, check, agent, identity_rs256):
    """A key rollover: the cached set lacks the new kid, so the agent is asked to
    refresh, fetches once more and the token verifies."""
    check_json(check, identity_rs256.mint(claims()), "--tenant", TENANT, sock=ctx.sock)
    key = new_rs256_key(ctx, "next")
    identity_rs256.publish_keys([rs256_jwk(key, kid="next-key")])
    doc = check_json(check, identity_rs256.mint(claims(), key_file=key, kid="next-key"),
                     "--tenant", TENANT, sock=ctx.sock)
    assert doc["keys"][0]["from_agent"] and not doc["keys"][0]["cached"], doc["keys"]
    assert len(identity_rs256.requests("jwks")) == 2, identity_rs256.requests("jwks")
    # A kid nobody publishes: one refresh, then the cache (under 5 minutes old) answers.
    for _ in range(2):
        doc = check_json(check, foreign_key_token(ctx, identity_rs256, "unknown"),
                         "--tenant", TENANT, sock=ctx.sock, rc=1)
        assert failing(doc) == ["signature"], doc["checks"]
    assert len(identity_rs256.requests("jwks")) == 2, identity_rs256.requests("jwks")


def test_jwks_op_shares_one_fetch(ctx, raw, agent, identity_rs256):
    """Eight clients ask at once while the fake answers slowly: one fetch."""
    identity_rs256.script("openid", {"delay": 0.5})
    url = identity_rs256.openid_config_url(TENANT)
    replies = [None] * 8

    def ask(i):
        with raw() as c:
            replies[i] = c.request({"v": 1, "op": "jwks", "openid_config": url})

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for r in replies:
        expect_ok(r, "jwks")
        assert r["jwks_uri"] == identity_rs256.jwks_url(TENANT), r
        assert r["issuer"] == f"https://login.microsoftonline.com/{TENANT}/v2.0", r
        assert any(k["kid"] == identity_rs256.kid for k in r["keys"]["keys"]), r
    assert len(identity_rs256.requests("openid")) == 1, identity_rs256.requests("openid")


@pytest.mark.parametrize("url,code,message", [
    ("http://example.com/.well-known/openid-configuration", "insecure_url",
     "https is required"),
    ("http://127.0.0.1.example.com/.well-known/openid-configuration", "insecure_url",
     "https is required"),
    ("ftp://127.0.0.1/x", "insecure_url", ""),
    ("http://127.0.0.1:9/secret-path/.well-known/openid-configuration", "unavailable",
     "OpenID configuration from 127.0.0.1:9"),
])
def test_jwks_op_errors(raw, agent, url, code, message):
    with raw() as c:
        reply = c.request({"v": 1, "op": "jwks", "openid_config": url})
    expect_error(reply, code, "jwks")
    assert message in reply["message"] and "secret-path" not in reply["message"], reply


@pytest.mark.parametrize("source,response,message", [
    ("openid", {"status": 500}, "OpenID configuration from 127.0.0.1:{port}: HTTP 500"),
    ("jwks", {"status": 404}, "JSON Web Key Set from 127.0.0.1:{port}: HTTP 404"),
    ("openid", {"status": 200, "body": "[1]"}, "not a JSON object"),
    ("openid", {"status": 200, "body": "{\"issuer\": \"x\"}"}, "no \"jwks_uri\" string"),
    ("openid", {"status": 200, "body": "{\"jwks_uri\": \"http://example.com/keys\"}"},
     "jwks_uri: plain http to example.com"),
    ("jwks", {"status": 200, "body": "{\"keys\": 3}"}, "no \"keys\" array"),
])
def test_jwks_op_bad_documents(raw, agent, identity_rs256, source, response, message):
    identity_rs256.script(source, response)
    with raw() as c:
        reply = c.request({"v": 1, "op": "jwks",
                           "openid_config": identity_rs256.openid_config_url(TENANT)})
    expect_error(reply, "unavailable", "jwks")
    assert message.format(port=identity_rs256.port) in reply["message"], reply


def test_jwks_op_while_locked(raw, agent, identity_rs256, aoai):
    expect_rc(aoai("lock", input="pass phrase\n"), 0, "aoai lock")
    with raw() as c:
        reply = c.request({"v": 1, "op": "jwks",
                           "openid_config": identity_rs256.openid_config_url(TENANT)})
    expect_ok(reply, "jwks while locked")


# --- policies from the APIM documentation ------------------------------------------------

def policy_args(identity, name, **named):
    args = ["--policy", str(POLICIES / name)]
    for k, v in named.items():
        args += ["--named-value", f"{k.replace('_', '-')}={v}"]
    return args


def test_policy_validate_jwt_entra(check, identity_rs256):
    """The docs' single-tenant validate-jwt: v1 OpenID configuration (its issuer is
    accepted: no <issuers>), an audience and a required claim (match all)."""
    args = policy_args(identity_rs256, "validate-jwt-entra.xml",
                       aad_authority=identity_rs256.base, aad_tenant_id=TENANT,
                       aad_audience=AUD, claim_name="roles", claim_value=ROLE)
    doc = check_json(check, identity_rs256.mint(claims()), *args)
    assert [c["check"] for c in doc["checks"]] == ["signature", "exp", "nbf", "aud", "iss",
                                                  "roles"], doc["checks"]
    assert doc["keys"][0]["openid_config"] == identity_rs256.openid_config_url(TENANT, v2=False)
    assert doc["policy"].endswith("validate-jwt-entra.xml"), doc
    # The v1 configuration's issuer is sts.windows.net: a v2 token fails iss there.
    v2 = identity_rs256.mint(claims(iss=f"https://login.microsoftonline.com/{TENANT}/v2.0"))
    assert failing(check_json(check, v2, *args, rc=1)) == ["iss"]
    assert failing(check_json(check, identity_rs256.mint(claims(roles=["Other"])), *args,
                              rc=1)) == ["roles"]


def test_policy_claims_any_in_a_whole_document(check, identity_rs256):
    args = policy_args(identity_rs256, "validate-jwt-claims-any.xml",
                       aad_authority=identity_rs256.base, aad_tenant_id=TENANT,
                       aad_audience=AUD)
    v2 = claims(iss=f"https://login.microsoftonline.com/{TENANT}/v2.0")
    doc = check_json(check, identity_rs256.mint({**v2, "group": ["logistics"]}), *args)
    assert doc["checks"][-1]["check"] == "group", doc["checks"]
    doc = check_json(check, identity_rs256.mint({**v2, "group": ["sales"]}), *args, rc=1)
    assert failing(doc) == ["group"], doc["checks"]
    assert "any of finance, logistics" in doc["checks"][-1]["expected"], doc["checks"][-1]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_policy_validate_azure_ad_token(check, identity_rs256, version):
    """tenant-id: the tenant's keys and both its issuer spellings; the client app id."""
    iss = (f"https://sts.windows.net/{TENANT}/" if version == "v1"
           else f"https://login.microsoftonline.com/{TENANT}/v2.0")
    token = identity_rs256.mint(claims(iss=iss))
    args = policy_args(identity_rs256, "validate-azure-ad-token.xml", aad_tenant_id=TENANT,
                       aad_client_application_id=CLIENT)
    doc = check_json(check, token, *args)
    assert [c["check"] for c in doc["checks"]] == ["signature", "exp", "nbf", "iss", "appid"]
    args = policy_args(identity_rs256, "validate-azure-ad-token.xml", aad_tenant_id=OTHER_TENANT,
                       aad_client_application_id=CLIENT)
    # Another tenant: its keys do not hold the kid... in the fake every tenant publishes
    # the same key, so only the issuer fails, as it would for a real foreign tenant.
    assert failing(check_json(check, token, *args, rc=1)) == ["iss"]


def test_policy_validate_azure_ad_token_claims(check, identity_rs256):
    args = policy_args(identity_rs256, "validate-azure-ad-token-claims.xml",
                       aad_tenant_id=TENANT, aad_client_application_id=CLIENT, aad_audience=AUD)
    check_json(check, identity_rs256.mint(claims(ctry="US")), *args)
    doc = check_json(check, identity_rs256.mint(claims(ctry="FR")), *args, rc=1)
    assert failing(doc) == ["ctry"], doc["checks"]
    doc = check_json(check, identity_rs256.mint(claims(ctry="US", appid="someone-else")), *args,
                     rc=1)
    assert failing(doc) == ["appid"], doc["checks"]


@pytest.mark.parametrize("name,named,message", [
    ("validate-jwt-simple.xml", {}, "keys given inline are not supported"),
    ("validate-azure-ad-token-expression.xml",
     {"aad_tenant_id": TENANT, "aad_client_application_id": CLIENT},
     "policy expressions cannot be evaluated"),
    ("validate-azure-ad-token.xml", {"aad_tenant_id": TENANT},
     "{{aad-client-application-id}} is not given"),
])
def test_policy_refused(check, identity_rs256, name, named, message):
    r = expect_rc(check(identity_rs256.mint(claims()),
                        *policy_args(identity_rs256, name, **named)), 2, "a refused policy")
    assert message in r.stderr and name in r.stderr, describe(r)
    assert r.stdout == "", describe(r)


def test_policy_clock_skew(ctx, check, identity_rs256):
    """clock-skew: a token expired 30 s ago passes with 60 s of skew, not without."""
    policy = ctx.write_file("skew.xml", (
        '<validate-jwt header-name="Authorization" clock-skew="60">'
        '<openid-config url="{{a}}/{{t}}/v2.0/.well-known/openid-configuration" />'
        '<issuers><issuer>https://sts.windows.net/{{t}}/</issuer></issuers></validate-jwt>'))
    token = identity_rs256.mint(claims(exp=int(time.time()) - 30))
    check_json(check, token, "--policy", str(policy), "--named-value", f"t={TENANT}",
               "--named-value", f"a={identity_rs256.base}")
    doc = check_json(check, token, "--tenant", TENANT, rc=1)
    assert failing(doc) == ["exp"], doc["checks"]


def test_policy_and_options_combine(check, identity_rs256):
    """Options add to the policy's rules: an audience the policy does not name."""
    args = policy_args(identity_rs256, "validate-azure-ad-token.xml", aad_tenant_id=TENANT,
                       aad_client_application_id=CLIENT)
    doc = check_json(check, identity_rs256.mint(claims()), *args, "--audience", COGNITIVE,
                     rc=1)
    assert failing(doc) == ["aud"], doc["checks"]
