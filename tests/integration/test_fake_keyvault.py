# SPDX-License-Identifier: MIT
"""The fake Azure Key Vault itself: the response shapes of Get Secret 7.4, its
authentication checks, the control API's scripted failures and its request
log, and — when Debian's python3-azure is installed — that the real
`azure.keyvault.secrets.SecretClient` reads secrets from it."""

import http.client
import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from aoaitest import PYTHON, assert_absent, fail, register_secret
from identity import FAKES_DIR
from keyvault import VAULT_RESOURCE, check_log_has_no_secrets, start_keyvault, stop_keyvault

sys.path.insert(0, FAKES_DIR)
import jwt_hs256  # noqa: E402


def imds_token(fi, resource=VAULT_RESOURCE):
    """A managed-identity token for @resource from the fake IMDS (registered as secret)."""
    q = urllib.parse.urlencode({"api-version": "2018-02-01", "resource": resource})
    req = urllib.request.Request(f"{fi.imds_url}?{q}", headers={"Metadata": "true"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=10) as r:
        return register_secret(json.loads(r.read())["access_token"])


def minted(fi, **claims):
    """A token signed with the fake identity service's key, with @claims."""
    now = int(time.time())
    base = {"aud": VAULT_RESOURCE, "iat": now, "nbf": now, "exp": now + 600,
            "appid": "0e5b8c2d-4f71-4a3e-b6d9-2c1f7a8e9b40", "src": "test"}
    base.update(claims)
    key = jwt_hs256.read_key(fi.jwt_key_file)
    return register_secret(jwt_hs256.mint(key, base))


def get(kv, path, token=None, query="api-version=7.4", timeout=5.0):
    """(status, headers, parsed-or-raw body) of GET @path on the fake."""
    conn = http.client.HTTPConnection("127.0.0.1", kv.port, timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        conn.request("GET", path + (f"?{query}" if query else ""), headers=headers)
        r = conn.getresponse()
        raw = r.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        return r.status, r.headers, body
    finally:
        conn.close()


def same(got, want, what):
    """Fails when two values differ, without echoing them (they may be secrets)."""
    if got != want:
        pytest.fail(f"{what}: not the expected value", pytrace=False)


def only_error(body, code):
    if not (isinstance(body, dict) and set(body) == {"error"}
            and body["error"].get("code") == code and isinstance(body["error"]["message"], str)):
        fail(f"expected a Key Vault error {code}, got {body}")
    return body["error"]


def test_get_latest_and_version(ctx, identity, keyvault):
    v1_value, v2_value = ctx.secret(), ctx.secret()
    v1 = keyvault.set_secret("aoai-key", v1_value)
    token = imds_token(identity)
    status, headers, body = get(keyvault, "/secrets/aoai-key", token)
    assert status == 200 and headers["Content-Type"] == "application/json; charset=utf-8"
    assert set(body) == {"value", "id", "attributes", "tags"}, sorted(body)
    same(body["value"], v1_value, "the value served")
    assert body["id"] == f"{keyvault.base}/secrets/aoai-key/{v1}", body["id"]
    attrs = body["attributes"]
    assert attrs["enabled"] is True and attrs["created"] == 1700000000
    assert isinstance(attrs["updated"], int) and attrs["recoverableDays"] == 90
    assert attrs["recoveryLevel"] == "Recoverable+Purgeable" and body["tags"] == {}
    v2 = keyvault.set_secret("aoai-key", v2_value)
    assert v2 != v1 and keyvault.versions() == {"aoai-key": [v1, v2]}
    _, _, latest = get(keyvault, "/secrets/aoai-key", token)
    same(latest["value"], v2_value, "the latest version's value")
    assert latest["id"].endswith("/" + v2), latest["id"]
    _, _, pinned = get(keyvault, f"/secrets/aoai-key/{v1}", token)
    same(pinned["value"], v1_value, "the pinned version's value")
    assert pinned["id"].endswith("/" + v1), pinned["id"]
    # Secret names are case-insensitive in Key Vault.
    assert get(keyvault, "/secrets/AOAI-KEY", token)[0] == 200


def test_value_from_file(ctx, identity, keyvault):
    value = ctx.secret()
    path = ctx.write_file("kv-value", value + "\n")
    version = keyvault._control("POST", "/_control/secrets/from-file",
                                {"value_file": str(path)})["version"]
    _, _, body = get(keyvault, "/secrets/from-file", imds_token(identity))
    same(body["value"], value, "the value read from a file")
    assert body["id"].endswith(version), body["id"]


@pytest.mark.parametrize("case", ["missing", "basic", "garbage", "tampered", "expired",
                                  "wrong-aud"])
def test_unauthorized(ctx, identity, keyvault, case):
    keyvault.set_secret("aoai-key", ctx.secret())
    good = imds_token(identity)
    token = {"missing": None, "basic": None, "garbage": "not-a-jwt",
             "tampered": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
             "expired": minted(identity, exp=int(time.time()) - 60),
             "wrong-aud": imds_token(identity, "https://cognitiveservices.azure.com")}[case]
    if case == "basic":
        conn = http.client.HTTPConnection("127.0.0.1", keyvault.port, timeout=5)
        conn.request("GET", "/secrets/aoai-key?api-version=7.4",
                     headers={"Authorization": "Basic dXNlcjpwYXNz"})
        r = conn.getresponse()
        status, headers, body = r.status, r.headers, json.loads(r.read())
        conn.close()
    else:
        status, headers, body = get(keyvault, "/secrets/aoai-key", token)
    assert status == 401, status
    err = only_error(body, "Unauthorized")
    challenge = headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer authorization="https://login.microsoftonline.com/')
    assert challenge.endswith(f'resource="{VAULT_RESOURCE}"'), challenge
    if case in ("missing", "basic"):
        assert err["message"] == "AKV10000: Request is missing a Bearer or PoP token."
    if case == "wrong-aud":
        assert "Invalid audience" in err["message"], err
    assert_absent(good, json.dumps(body), "the 401 body")
    (entry,) = keyvault.requests()
    assert entry["auth"] == ("none" if case == "missing" else "invalid"), entry
    assert entry["status"] == 401


def test_audience_with_trailing_slash(ctx, identity, keyvault):
    keyvault.set_secret("aoai-key", ctx.secret())
    assert get(keyvault, "/secrets/aoai-key", minted(identity, aud=VAULT_RESOURCE + "/"))[0] \
        == 200


@pytest.mark.parametrize("query", [None, "api-version=2016-10-01", "api-version="])
def test_api_version_required(ctx, identity, keyvault, query):
    keyvault.set_secret("aoai-key", ctx.secret())
    status, _, body = get(keyvault, "/secrets/aoai-key", imds_token(identity), query=query)
    assert status == 400
    err = only_error(body, "BadParameter")
    assert err["message"].startswith("The request URI contains an invalid or missing "
                                     "api-version parameter."), err


def test_not_found(ctx, identity, keyvault):
    keyvault.set_secret("aoai-key", ctx.secret())
    token = imds_token(identity)
    status, _, body = get(keyvault, "/secrets/nope", token)
    assert status == 404
    assert only_error(body, "SecretNotFound")["message"].startswith(
        "A secret with (name/id) nope was not found in this key vault.")
    status, _, body = get(keyvault, "/secrets/aoai-key/0123456789abcdef0123456789abcdef", token)
    assert status == 404 and only_error(body, "SecretNotFound")


def test_forbidden(ctx, identity, keyvault):
    keyvault.set_secret("aoai-key", ctx.secret())
    token = imds_token(identity)
    keyvault.permit_get(False)
    status, _, body = get(keyvault, "/secrets/aoai-key", token)
    assert status == 403
    err = only_error(body, "Forbidden")
    assert err["innererror"] == {"code": "AccessDenied"}, err
    assert err["message"].startswith(f"The user, group or application 'appid="
                                     f"{identity.system_client_id};"), err
    assert "does not have secrets get permission on key vault 'fake-kv" in err["message"]
    keyvault.permit_get(True)
    assert get(keyvault, "/secrets/aoai-key", token)[0] == 200


def test_scripted_failures(ctx, identity, keyvault):
    keyvault.set_secret("aoai-key", ctx.secret())
    token = imds_token(identity)
    keyvault.script({"status": 429, "headers": {"Retry-After": "7"}}, {"status": 503},
                    {"status": 500}, {"non_json": True})
    status, headers, body = get(keyvault, "/secrets/aoai-key", token)
    assert status == 429 and headers["Retry-After"] == "7" and only_error(body, "Throttled")
    status, _, body = get(keyvault, "/secrets/aoai-key", token)
    assert status == 503 and only_error(body, "ServiceUnavailable")
    assert get(keyvault, "/secrets/aoai-key", token)[0] == 500
    status, headers, body = get(keyvault, "/secrets/aoai-key", token)
    assert status == 200 and headers["Content-Type"].startswith("text/html") \
        and isinstance(body, bytes)
    assert get(keyvault, "/secrets/aoai-key", token)[0] == 200, "the script is used up"


def test_drop_and_hang(ctx, identity, keyvault):
    keyvault.set_secret("aoai-key", ctx.secret())
    token = imds_token(identity)
    keyvault.script({"drop": True}, {"hang": 3})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        get(keyvault, "/secrets/aoai-key", token)
    t0 = time.monotonic()
    with pytest.raises((socket.timeout, TimeoutError)):
        get(keyvault, "/secrets/aoai-key", token, timeout=0.5)
    assert time.monotonic() - t0 < 3, "the client's timeout, not the hang, ended the request"
    assert get(keyvault, "/secrets/aoai-key", token)[0] == 200
    kinds = [r.get("scripted") for r in keyvault.requests()]
    assert kinds[:2] == ["drop", "hang"], kinds


def test_until_cleared(ctx, identity, keyvault):
    keyvault.set_secret("aoai-key", ctx.secret())
    token = imds_token(identity)
    keyvault.fail_until_cleared({"status": 503})
    assert [get(keyvault, "/secrets/aoai-key", token)[0] for _ in range(3)] == [503] * 3
    keyvault.clear()
    assert get(keyvault, "/secrets/aoai-key", token)[0] == 200


def test_request_log_names_no_values(ctx, identity, keyvault):
    value = ctx.secret()
    v1 = keyvault.set_secret("aoai-key", value)
    token = imds_token(identity)
    get(keyvault, f"/secrets/aoai-key/{v1}", token)
    get(keyvault, "/secrets/aoai-key")
    ok, anon = keyvault.requests()
    assert ok["path"] == f"/secrets/aoai-key/{v1}" and ok["name"] == "aoai-key"
    assert ok["version"] == v1 and ok["api_version"] == "7.4" and ok["auth"] == "valid"
    assert ok["aud"] == VAULT_RESOURCE and ok["src"] == "imds" and ok["status"] == 200
    assert ok["served"] == v1
    assert anon["auth"] == "none" and anon["version"] is None and anon["status"] == 401
    assert_absent(value, keyvault.log_text(), "the fake's request log file")
    assert_absent(token, keyvault.log_text(), "the fake's request log file")
    assert_absent(value, json.dumps(keyvault.requests()), "the control API's request log")
    check_log_has_no_secrets(keyvault)


def test_control_api_never_returns_values(ctx, identity, keyvault):
    value = ctx.secret()
    keyvault.set_secret("aoai-key", value)
    for path in ("/_control/secrets", "/_control/requests"):
        with keyvault.opener().open(keyvault.base + path, timeout=5) as r:
            assert_absent(value, r.read().decode(), f"GET {path}")


# --- the real Azure SDK against the fake ------------------------------------------------

SDK_SCRIPT = r"""
import json, sys, time, urllib.parse, urllib.request
from azure.core.credentials import AccessToken
from azure.keyvault.secrets import SecretClient

vault, imds, ca, name, version, api_version = sys.argv[1:7]

class FakeImdsCredential:
    # Asks the fake IMDS for the resource of the scope the SDK's challenge names.
    def get_token(self, *scopes, **kwargs):
        resource = scopes[0][:-len("/.default")] if scopes[0].endswith("/.default") else scopes[0]
        q = urllib.parse.urlencode({"api-version": "2018-02-01", "resource": resource})
        req = urllib.request.Request(imds + "?" + q, headers={"Metadata": "true"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        body = json.loads(opener.open(req, timeout=10).read())
        return AccessToken(body["access_token"], int(body["expires_on"]))

# verify_challenge_resource: the vault is 127.0.0.1, not *.vault.azure.net.
client = SecretClient(vault, FakeImdsCredential(), verify_challenge_resource=False,
                      connection_verify=ca, retry_total=0, api_version=api_version)
latest = client.get_secret(name)
pinned = client.get_secret(name, version)
print(json.dumps({"latest_value": latest.value, "latest_version": latest.properties.version,
                  "pinned_value": pinned.value, "pinned_version": pinned.properties.version,
                  "enabled": latest.properties.enabled,
                  "recovery_level": latest.properties.recovery_level,
                  "pinned_created": pinned.properties.created_on.timestamp(),
                  "vault_url": latest.properties.vault_url, "name": latest.name}))
"""


def test_azure_sdk_secret_client_reads_the_fake(ctx, identity):
    probe = subprocess.run([PYTHON, "-c", "import azure.keyvault.secrets"],
                           capture_output=True, timeout=30, env=ctx.base_env())
    if probe.returncode != 0:
        pytest.skip("python3-azure (azure.keyvault.secrets) is not installed")
    from azure.keyvault.secrets import ApiVersion
    # Debian's SDK may predate 7.4; Get Secret's response is the same SecretBundle in
    # 7.3 and 7.4, so the newest version it knows proves the shapes as well.
    known = [v.value for v in ApiVersion if v.value.startswith("7.")]
    api_version = "7.4" if "7.4" in known else max(known, key=lambda v: int(v.split(".")[1]))
    # SecretClient refuses bearer tokens over http, so this fake speaks HTTPS.
    kv = start_keyvault(ctx, identity, name="kv-sdk", tls=True, api_versions=(api_version,))
    try:
        v1_value, v2_value = ctx.secret(), ctx.secret()
        v1 = kv.set_secret("aoai-key", v1_value)
        v2 = kv.set_secret("aoai-key", v2_value)
        r = subprocess.run([PYTHON, "-c", SDK_SCRIPT, kv.base, identity.imds_url,
                            str(kv.tls_cert), "aoai-key", v1, api_version],
                           capture_output=True, text=True, timeout=60,
                           env=dict(ctx.base_env(), NO_PROXY="*"))
        if r.returncode != 0:
            fail(f"SecretClient failed against the fake:\n{r.stderr[-3000:]}")
        got = json.loads(r.stdout)
        same(got.pop("latest_value"), v2_value, "SecretClient's latest value")
        same(got.pop("pinned_value"), v1_value, "SecretClient's pinned value")
        assert got["latest_version"] == v2 and got["pinned_version"] == v1, got
        assert got["enabled"] is True and got["recovery_level"] == "Recoverable+Purgeable"
        assert got["pinned_created"] == 1700000000 and got["name"] == "aoai-key", got
        assert got["vault_url"] == kv.base, got["vault_url"]
        # The SDK's challenge flow: one request without a token (answered 401 with the
        # challenge), then the bearer token for the resource the challenge named.
        reqs = kv.requests()
        assert [r_["auth"] for r_ in reqs] == ["none", "valid", "valid"], reqs
        assert reqs[0]["status"] == 401 and all(r_["aud"] == VAULT_RESOURCE
                                                for r_ in reqs[1:]), reqs
        check_log_has_no_secrets(kv)
    finally:
        assert stop_keyvault(kv) == 0
