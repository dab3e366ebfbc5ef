# SPDX-License-Identifier: MIT
"""The "oidc" credential type end to end: the real agent discovers the fake
OpenID Connect provider (tests/fakes/fake_oidc.py), authenticates as a client
(client_secret_basic, client_secret_post or private_key_jwt), and `aoai token`
and `aoai headers | curl` hand out its token, which the fake Azure OpenAI
endpoint verifies.  Also "authority_host" on the Entra client-secret and
client-certificate types, against the fake Entra ID."""

import base64
import json
import os
import subprocess
import time
import urllib.request
from urllib.parse import quote

import pytest

from aoaitest import (PYTHON, assert_absent, curl_chat, describe, expect_rc, fail,
                      register_secret, stop_fake, wait_until)
from identity import (FAKES_DIR, _opener, openssl_self_signed, start_fake_aoai_jwt,
                      wait_first_lines)

FAKE_OIDC = os.path.join(FAKES_DIR, "fake_oidc.py")
CONTROL_TIMEOUT = 10.0
ISSUER_PATH = "/tenant-a"
CLIENT = "aoai-agent-client"
API_SCOPE = "api://aoai/read api://aoai/write"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ENTRA_CLIENT = "0c9a3d5e-0000-4000-8000-000000000001"


class FakeOidc:
    def __init__(self, proc, port, **files):
        self.proc = proc
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.issuer = self.base + ISSUER_PATH
        self.token_endpoint = self.base + "/oauth/token"
        self.__dict__.update(files)

    def _control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with _opener().open(req, timeout=CONTROL_TIMEOUT) as r:
                return json.loads(r.read())
        except (OSError, ValueError) as e:
            fail(f"fake oidc control {method} {path} failed: {e}")

    def settings(self, **kw):
        return self._control("POST", "/_fake/settings", kw)["settings"]

    def script(self, source, *responses):
        return self._control("POST", "/_fake/script",
                             {"source": source, "responses": list(responses)})

    def requests(self, source=None):
        entries = self._control("GET", "/_fake/requests")["requests"]
        return [e for e in entries if source is None or e["source"] == source]


@pytest.fixture
def oidc(ctx):
    """A running fake OpenID Connect provider that knows client CLIENT with a fresh
    secret (oidc.secret_file) and certificate (oidc.cert_pem: certificate and key)."""
    secret = ctx.secret()
    files = {"secret": secret,
             "secret_file": ctx.write_file("oidc.client-secret", secret + "\n"),
             "jwt_key_file": ctx.write_file("oidc.jwt.key", ctx.secret(32) + "\n"),
             "log": ctx.path("oidc.requests.jsonl"), "stderr_path": ctx.path("oidc.stderr")}
    cert, key = openssl_self_signed(ctx, "oidc.client", "aoai-oidc-client")
    files["cert_pem"] = ctx.write_file("oidc.client.pem", cert.read_text() + key.read_text())
    argv = [PYTHON, FAKE_OIDC, "--port", "0", "--jwt-key-file", str(files["jwt_key_file"]),
            "--client-id", CLIENT, "--client-secret-file", str(files["secret_file"]),
            "--client-cert", str(cert), "--issuer-path", ISSUER_PATH,
            "--log", str(files["log"]), "--max-lifetime", "900"]
    with open(files["stderr_path"], "wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=err, env=ctx.base_env())
    (line,) = wait_first_lines(proc, 1, "fake_oidc", files["stderr_path"])
    if not line.startswith("listening on 127.0.0.1:"):
        proc.kill()
        fail(f"fake_oidc printed an unexpected first line: {line!r}")
    fo = FakeOidc(proc, int(line.rsplit(":", 1)[1]), **files)
    yield fo
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    proc.stdout.close()
    text = files["stderr_path"].read_text(errors="replace")
    if "Traceback" in text:
        fail(f"fake_oidc failed:\n{text[-4000:]}")


def oidc_credential(oidc, **kw):
    cred = {"type": "oidc", "issuer": oidc.issuer, "client_id": CLIENT, "secret": "idp"}
    cred.update(kw)
    return {k: v for k, v in cred.items() if v is not None}


@pytest.fixture
def serve(ctx, start_agent, oidc):
    """serve(credential, scope=API_SCOPE, more_profiles={}) -> fake AOAI; an agent whose
    profile "aoai" covers that fake with @credential is running."""
    fakes = []

    def start(credential, scope=API_SCOPE, more_profiles=None, secrets=None):
        fake = start_fake_aoai_jwt(ctx, oidc)
        fakes.append(fake)
        profile = {"hosts": [fake.hostport], "credential": credential}
        if scope is not None:
            profile["scope"] = scope
        cfg = {"profiles": {"aoai": profile, **(more_profiles or {})},
               "secrets": secrets or {"idp": {"file": str(oidc.secret_file)}}}
        start_agent(config=ctx.write_config(cfg), env=ctx.env(sock=False))
        return fake

    yield start
    for f in fakes:
        stop_fake(f)


def end_to_end(ctx, build, aoai_json, fake, profile="aoai"):
    """`aoai token` and `aoai headers | curl` with the provider's token."""
    tok = aoai_json("token", profile)
    register_secret(tok["accessToken"])  # the agent's log is checked for it at teardown
    assert tok["tokenType"] == "Bearer" and tok["expires_on"] > time.time() + 600, tok
    status, body = curl_chat(ctx, fake.chat_url, with_headers_from=build.aoai)
    if status != 200:
        fail(f"the fake Azure OpenAI endpoint answered {status}: {body}")
    srcs = [r.get("bearer_src") for r in fake.requests() if r.get("bearer_src")]
    assert srcs == ["oidc"], srcs
    p = next(p for p in aoai_json("list")["profiles"] if p["name"] == profile)
    assert p["token"]["source"] == "oidc" and p["token"]["state"] == "valid", p
    return tok


def only(requests, what):
    if len(requests) != 1:
        fail(f"expected one {what} request, the fake saw {len(requests)}: {requests}")
    return requests[0]


# --- client authentication ------------------------------------------------------------

@pytest.mark.parametrize("listed,expected", [
    (["client_secret_basic", "client_secret_post"], "client_secret_basic"),
    (["private_key_jwt", "client_secret_post", "client_secret_basic"], "client_secret_post"),
    (None, "client_secret_basic"),  # RFC 8414: the default when the list is absent
], ids=["basic-listed", "post-listed", "none-listed"])
def test_client_secret_method_from_discovery(ctx, build, oidc, serve, aoai_json, listed,
                                             expected):
    oidc.settings(auth_methods=listed)
    fake = serve(oidc_credential(oidc))
    end_to_end(ctx, build, aoai_json, fake)
    disc = only(oidc.requests("discovery"), "discovery")
    assert disc["method"] == "GET" and disc["path"] == ISSUER_PATH + \
        "/.well-known/openid-configuration", disc
    req = only(oidc.requests("token"), "token")
    assert req["status"] == 200 and req["auth"] == expected, req
    # The scope goes as configured: space-separated, no "/.default" added.
    want = {"grant_type": "client_credentials", "scope": API_SCOPE}
    if expected == "client_secret_basic":
        assert req["values"] == want, req
        assert set(req["form"]) == {"grant_type", "scope"}, req
        assert "authorization" in req["headers"], req
    else:
        assert req["values"] == {**want, "client_id": CLIENT}, req
        assert set(req["form"]) == {"grant_type", "scope", "client_id", "client_secret"}, req
        assert "authorization" not in req["headers"], req


@pytest.mark.parametrize("forced", ["client_secret_basic", "client_secret_post"])
def test_client_secret_method_forced(ctx, build, oidc, serve, aoai_json, forced):
    # The provider lists the other one first; the configuration wins.
    other = {"client_secret_basic": "client_secret_post",
             "client_secret_post": "client_secret_basic"}[forced]
    oidc.settings(auth_methods=[other, forced])
    fake = serve(oidc_credential(oidc, token_endpoint_auth=forced))
    end_to_end(ctx, build, aoai_json, fake)
    assert only(oidc.requests("token"), "token")["auth"] == forced


def test_client_secret_basic_encodes_id_and_secret(ctx, build, oidc, serve, aoai_json):
    # RFC 6749 §2.3.1: id and secret are form-encoded inside Basic; a secret with
    # ':' '+' '/' '%' and a space arrives intact (the fake decodes as the RFC says).
    secret = register_secret("a:b+c/d%e f" + ctx.secret())
    ctx.write_file(oidc.secret_file, secret + "\n")  # the fake reads it for every request
    fake = serve(oidc_credential(oidc, token_endpoint_auth="client_secret_basic"))
    end_to_end(ctx, build, aoai_json, fake)
    assert only(oidc.requests("token"), "token")["auth"] == "client_secret_basic"


def test_private_key_jwt(ctx, build, oidc, serve, aoai_json):
    fake = serve(oidc_credential(oidc, secret=None, certificate=str(oidc.cert_pem)))
    end_to_end(ctx, build, aoai_json, fake)
    req = only(oidc.requests("token"), "token")
    assert req["status"] == 200 and req["auth"] == "private_key_jwt", req
    assert set(req["form"]) == {"grant_type", "scope", "client_id", "client_assertion_type",
                                "client_assertion"}, req
    assert "authorization" not in req["headers"], req
    # A second fetch signs a new assertion (the fake refuses a replayed jti).
    tok = aoai_json("token", "--scope", "api://aoai/other")
    register_secret(tok["accessToken"])
    assert [r["status"] for r in oidc.requests("token")] == [200, 200]


def test_params_and_no_scope(ctx, build, oidc, serve, aoai_json):
    # Auth0 names the API with "audience"; without "scope" no scope is sent.
    fake = serve(oidc_credential(oidc, params={"audience": "https://api.example.com/"}),
                 scope=None)
    end_to_end(ctx, build, aoai_json, fake)
    req = only(oidc.requests("token"), "token")
    assert req["values"] == {"grant_type": "client_credentials",
                             "audience": "https://api.example.com/"}, req
    assert "scope" not in req["form"], req


def test_issuer_with_trailing_slash(ctx, build, oidc, serve, aoai_json):
    # Auth0's issuers end in '/': discovery drops it before the well-known path,
    # and the document must name the issuer exactly as configured.
    issuer = oidc.issuer + "/"
    oidc.settings(issuer=issuer)
    fake = serve(oidc_credential(oidc, issuer=issuer))
    end_to_end(ctx, build, aoai_json, fake)
    assert only(oidc.requests("discovery"), "discovery")["status"] == 200


# --- discovery --------------------------------------------------------------------------

def test_discovery_cached(ctx, build, oidc, serve, aoai_json):
    # Two profiles of the same provider and two scopes: four token requests, one discovery.
    second = {"hosts": ["second.example"], "scope": "api://second/.default",
              "credential": oidc_credential(oidc)}
    fake = serve(oidc_credential(oidc), more_profiles={"second": second})
    end_to_end(ctx, build, aoai_json, fake)
    for args in (("second",), ("aoai", "--scope", "api://x/y"),
                 ("second", "--scope", "api://x/z")):
        register_secret(aoai_json("token", *args)["accessToken"])
    assert len(oidc.requests("token")) == 4
    assert len(oidc.requests("discovery")) == 1, oidc.requests("discovery")


def start_token_client(ctx, profile):
    return subprocess.Popen([ctx.build.aoai, "token", profile, "--json"], env=ctx.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_token_client(proc, what):
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        fail(f"{what}: `aoai token` did not finish")
    if out.strip():
        register_secret(json.loads(out)["accessToken"])
    return proc.returncode, err


def states(aoai_json):
    return {p["name"]: p["token"]["state"] for p in aoai_json("list")["profiles"]}


@pytest.mark.parametrize("reload_first_away", [False, True], ids=["both", "first-removed"])
def test_concurrent_fetches_share_one_discovery(ctx, oidc, serve, aoai, aoai_json,
                                                reload_first_away):
    # Two profiles of one provider ask at the same time: one discovery request,
    # which the second one waits for.  When the first one's fetch goes away
    # (its profile removed by a reload), the second still gets its token.
    oidc.script("discovery", {"delay": 4.0})
    second = {"hosts": ["second.example"], "credential": oidc_credential(oidc)}
    serve(oidc_credential(oidc), more_profiles={"second": second})
    first_client = start_token_client(ctx, "aoai")
    second_client = start_token_client(ctx, "second")
    try:
        wait_until(lambda: states(aoai_json) == {"aoai": "fetching", "second": "fetching"},
                   3.0, "both profiles to wait on the provider")
        if reload_first_away:
            ctx.write_config({"profiles": {"second": second},
                              "secrets": {"idp": {"file": str(oidc.secret_file)}}})
            expect_rc(aoai("reload"), 0, "reload without the first profile")
        rc, err = finish_token_client(second_client, "second")
        assert rc == 0, err
        rc, err = finish_token_client(first_client, "aoai")
        if reload_first_away:
            assert rc == 6 and "removed or changed by a reload" in err, err
        else:
            assert rc == 0, err
    finally:
        for p in (first_client, second_client):
            if p.poll() is None:
                p.kill()
                p.communicate()
    assert len(oidc.requests("discovery")) == 1, oidc.requests("discovery")
    assert len(oidc.requests("token")) == (1 if reload_first_away else 2)


def test_discovery_again_after_endpoint_failure(ctx, build, oidc, serve, aoai_json):
    # A token endpoint that fails in a way that may mean it moved: the next
    # fetch reads the discovery document again.
    fake = serve(oidc_credential(oidc))
    oidc.script("token", {"status": 404, "body": {"error": "not_found"}})
    end_to_end(ctx, build, aoai_json, fake)  # the agent retries a 404
    assert [r["status"] for r in oidc.requests("token")] == [404, 200]
    assert [r["status"] for r in oidc.requests("discovery")] == [200, 200]
    # And a success keeps the document: another scope does not discover again.
    register_secret(aoai_json("token", "--scope", "api://x/y")["accessToken"])
    assert len(oidc.requests("discovery")) == 2, oidc.requests("discovery")


def test_issuer_mismatch_refused(ctx, oidc, serve, aoai, aoai_json):
    oidc.settings(issuer="https://login.evil.example/tenant-a")
    serve(oidc_credential(oidc))
    r = expect_rc(aoai("token"), 6, "discovery document of another issuer")
    for part in ("oidc", "discovery", "issuer", "https://login.evil.example/tenant-a",
                 oidc.issuer):
        assert part in r.stderr, describe(r)
    assert oidc.requests("token") == [], "no credential may go to an unverified provider"


def test_discovery_error_surfaced(ctx, oidc, serve, aoai):
    oidc.script("discovery", *[{"status": 404, "body": {"error": "not_found"}}] * 20)
    serve(oidc_credential(oidc))
    r = expect_rc(aoai("token"), 6, "no discovery document")
    assert "discovery" in r.stderr and "404" in r.stderr, describe(r)
    assert oidc.requests("token") == []


# --- errors -------------------------------------------------------------------------------

def test_provider_error_surfaced(ctx, oidc, serve, aoai, aoai_json):
    wrong = ctx.secret()
    path = ctx.write_file("wrong-secret", wrong + "\n")
    serve(oidc_credential(oidc, token_endpoint_auth="client_secret_post"),
          secrets={"idp": {"file": str(path)}})
    r = expect_rc(aoai("token"), 6, "wrong client secret")
    assert "oidc" in r.stderr and "401" in r.stderr and "invalid_client" in r.stderr, describe(r)
    assert "unknown client or wrong secret" in r.stderr, describe(r)
    assert_absent(wrong, r.stderr, "the error message")
    assert len(oidc.requests("token")) == 1, "401 must not be retried"
    (p,) = aoai_json("list")["profiles"]
    assert "wrong secret" in (p["token"]["last_error"] or ""), p


@pytest.mark.parametrize("method", ["client_secret_post", "client_secret_basic"])
def test_echoed_secret_is_masked(ctx, oidc, serve, aoai, method):
    # A provider (or proxy) that echoes the request must not get the secret, or
    # the Basic credentials made of it, into errors.
    echo = oidc.secret
    if method == "client_secret_basic":
        echo = register_secret(base64.b64encode(
            f"{quote(CLIENT, safe='')}:{quote(oidc.secret, safe='')}".encode()).decode())
    oidc.script("token", {"status": 400, "body": {
        "error": "invalid_request", "error_description": f"got {echo}"}})
    serve(oidc_credential(oidc, token_endpoint_auth=method))
    r = expect_rc(aoai("token"), 6, "echoing provider")
    assert_absent(echo, r.stderr, "the error message")
    assert "[redacted]" in r.stderr and "400" in r.stderr, describe(r)


def test_hanging_provider_does_not_delay_others(ctx, oidc, serve, aoai, aoai_json):
    oidc.script("discovery", {"hang": 30})
    key = ctx.secret()
    serve(oidc_credential(oidc),
          more_profiles={"key": {"hosts": ["key.example.com"],
                                 "credential": {"type": "api-key", "secret": "k"}}},
          secrets={"idp": {"file": str(oidc.secret_file)},
                   "k": {"file": str(ctx.write_file("k", key + "\n"))}})
    waiting = subprocess.Popen([ctx.build.aoai, "token", "aoai"], env=ctx.env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        state = lambda: next(p for p in aoai_json("list")["profiles"]  # noqa: E731
                             if p["name"] == "aoai")["token"]["state"]
        wait_until(lambda: state() == "fetching" and oidc.requests("discovery"), 10.0,
                   "the agent to be waiting on the provider")
        r = expect_rc(aoai("headers", "https://key.example.com/x"), 0, "api-key client")
        assert f"api-key: {key}" in r.stdout.splitlines()
        assert waiting.poll() is None, "the token client is still waiting"
        assert state() == "fetching"
    finally:
        waiting.kill()
        waiting.wait(10)


# --- configuration --------------------------------------------------------------------

BAD = [
    ("http-issuer", {"issuer": "http://idp.example.com/"}, "credential.issuer",
     "must be https"),
    ("both", {"certificate": "/etc/aoai/client.pem"}, "credential.certificate",
     "cannot be combined"),
    ("flow-with-secret", {"flow": "device-code"}, "credential.flow",
     "applies to signing a person in"),
    ("reserved-param", {"params": {"client_secret": "x"}}, "credential.params.client_secret",
     "set by the agent"),
    ("param-not-string", {"params": {"audience": ["a"]}}, "credential.params.audience",
     "string"),
    ("params-not-object", {"params": "audience=a"}, "credential.params", "object"),
    ("param-name", {"params": {"a&client_secret": "x"}}, "credential.params.a&client_secret",
     "not a valid parameter name"),
    ("bad-auth", {"token_endpoint_auth": "private_key_jwt"}, "credential.token_endpoint_auth",
     "client_secret_basic"),
    ("no-client-id", {"client_id": None}, "credential.client_id", "required"),
    ("unknown-key", {"tenant_id": TENANT}, "credential.tenant_id", "(valid: type, issuer"),
]


@pytest.mark.parametrize("change,key,words", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_config_refused(ctx, oidc, start_agent, aoai, change, key, words):
    good = {"profiles": {"good": {"hosts": ["good.example"],
                                  "credential": oidc_credential(oidc)}}}
    cfg = ctx.write_config(good)
    start_agent(config=cfg, env=ctx.env(sock=False))
    bad = {"profiles": {"idp": {"hosts": ["idp.example"],
                                "credential": oidc_credential(oidc, **change)}}}
    ctx.write_config(bad)
    r = expect_rc(aoai("reload"), 1, "reload of a bad oidc profile")
    for w in (str(cfg), 'profile "idp"', f'key "{key}"', words):
        if w not in r.stderr:
            fail(f"the error should name {w!r}:\n{describe(r)}")


# --- authority_host on the Entra types --------------------------------------------------

@pytest.mark.parametrize("kind", ["client-secret", "client-certificate"])
def test_entra_authority_host(ctx, build, identity, start_agent, aoai_json, kind):
    # No AZURE_AUTHORITY_HOST: without the key the request would go to
    # login.microsoftonline.com, and fail.
    cred = {"type": kind, "tenant_id": TENANT, "client_id": ENTRA_CLIENT,
            "authority_host": identity.authority}
    cred.update({"secret": "sp"} if kind == "client-secret"
                else {"certificate": str(identity.cert_rsa)})
    fake = start_fake_aoai_jwt(ctx, identity)
    try:
        cfg = {"profiles": {"aoai": {"hosts": [fake.hostport], "credential": cred}},
               "secrets": {"sp": {"file": str(identity.client_secret_file)}}}
        env = ctx.env(sock=False)
        env.pop("AZURE_AUTHORITY_HOST", None)
        start_agent(config=ctx.write_config(cfg), env=env)
        tok = aoai_json("token")
        register_secret(tok["accessToken"])
        (req,) = identity.requests("entra")
        assert req["path"] == f"/{TENANT}/oauth2/v2.0/token" and req["status"] == 200, req
        (p,) = aoai_json("list")["profiles"]
        assert p["token"]["source"] == kind, p
    finally:
        stop_fake(fake)

