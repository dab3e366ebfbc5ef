# SPDX-License-Identifier: MIT
"""The fake Entra / managed-identity service (tests/fakes/fake_identity.py), the
fake `az` and fake_aoai's --jwt-key-file: the token tests rely on them answering
as the real services do, so the real Azure SDK is run against them too."""

import base64
import datetime
import hashlib
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from aoaitest import PYTHON, assert_absent, fail, register_secret, stop_fake
from identity import (AOAI_RESOURCE, AOAI_SCOPE, AZ_TENANT, FAKES_DIR, JWT_BEARER, MI_TENANT,
                      SYSTEM_CLIENT_ID, az_calls, fake_az_env, identity_rs256,  # noqa: F401
                      new_rs256_key, rs256_jwk, sha1_thumbprint, start_fake_aoai_jwt,
                      start_identity, stop_identity)

sys.path.insert(0, FAKES_DIR)
import jwt_hs256  # noqa: E402

MI_STRING_KEYS = ["access_token", "client_id", "expires_in", "expires_on", "ext_expires_in",
                  "not_before", "resource", "token_type"]
CHAT = json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode()


# --- helpers -----------------------------------------------------------------------

def call(url, headers=None, data=None, method=None, form=None, timeout=10):
    """(status, headers, raw body) without following proxies; never raises on HTTP errors."""
    headers = dict(headers or {})
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def call_json(*a, **kw):
    status, headers, body = call(*a, **kw)
    try:
        return status, headers, json.loads(body)
    except ValueError:
        fail(f"not JSON ({status}): {body[:300]!r}")


def imds(fi, resource=AOAI_RESOURCE, metadata=True, version="2018-02-01", **ids):
    q = {"api-version": version, "resource": resource, **ids}
    q = {k: v for k, v in q.items() if v is not None}
    return call_json(fi.imds_url + "?" + urllib.parse.urlencode(q),
                     {"Metadata": "true"} if metadata else {})


def claims_of(fi, token):
    return jwt_hs256.verify(jwt_hs256.read_key(fi.jwt_key_file), token)


def check_mi_strings(body, fi, resource=AOAI_RESOURCE):
    assert sorted(body) == MI_STRING_KEYS, sorted(body)
    assert all(isinstance(v, str) for v in body.values()), \
        {k: type(v).__name__ for k, v in body.items()}
    assert body["token_type"] == "Bearer" and body["resource"] == resource
    now = time.time()
    assert abs(int(body["expires_on"]) - (now + 3600)) < 30
    assert body["expires_in"] == body["ext_expires_in"] == "3600"
    assert abs(int(body["not_before"]) - now) < 30
    c = claims_of(fi, body["access_token"])
    assert c["aud"] == resource and c["exp"] == int(body["expires_on"])
    assert c["iss"] == f"https://sts.windows.net/{MI_TENANT}/"
    return c


def entra(fi, tenant=None, **form):
    base = {"grant_type": "client_credentials", "client_id": fi.client_id, "scope": AOAI_SCOPE}
    base.update(form)
    base = {k: v for k, v in base.items() if v is not None}
    return call_json(fi.token_url(tenant), form=base)


def check_aad_error(status, body, want_status, error, code):
    assert status == want_status, (status, body)
    assert sorted(body) == ["correlation_id", "error", "error_codes", "error_description",
                            "error_uri", "timestamp", "trace_id"], sorted(body)
    assert body["error"] == error and body["error_codes"] == [code], body
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    uuid.UUID(body["trace_id"])
    uuid.UUID(body["correlation_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", body["timestamp"])


def last(fi, source):
    entries = fi.requests(source)
    assert entries, f"no {source} request logged"
    return entries[-1]


def load_key(path):
    from cryptography.hazmat.primitives import serialization
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def cert_der(path):
    text = open(path).read()
    m = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", text, re.S)
    return ssl.PEM_cert_to_DER_cert(m.group(0))


def assertion(fi, alg="RS256", aud=None, iss=None, jti=None, nbf=0, exp=300, key=None,
              x5c=True, x5t=None):
    """A client assertion for fi.client_id signed with the registered certificate's key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    der = cert_der(fi.cert_only)
    now = int(time.time())
    header = {"alg": alg, "typ": "JWT"}
    if alg == "RS256":
        header["x5t"] = x5t or jwt_hs256.b64url_encode(hashlib.sha1(der).digest())
    else:
        header["x5t#S256"] = x5t or jwt_hs256.b64url_encode(hashlib.sha256(der).digest())
    if x5c:
        header["x5c"] = [base64.b64encode(der).decode()]
    claims = {"aud": aud or fi.token_url(), "iss": iss or fi.client_id, "sub": fi.client_id,
              "jti": jti or str(uuid.uuid4()), "nbf": now + nbf, "iat": now + nbf,
              "exp": now + exp}
    signing_input = (jwt_hs256.b64url_encode(json.dumps(header)) + "." +
                     jwt_hs256.b64url_encode(json.dumps(claims))).encode()
    if alg == "RS256":
        pad = padding.PKCS1v15()
    else:
        pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    sig = (key or load_key(fi.cert_key)).sign(signing_input, pad, hashes.SHA256())
    return signing_input.decode() + "." + jwt_hs256.b64url_encode(sig)


def assertion_form(a):
    return {"client_assertion_type": JWT_BEARER, "client_assertion": a}


@pytest.fixture
def aoai_jwt(ctx, identity):
    fake = start_fake_aoai_jwt(ctx, identity)
    yield fake
    stop_fake(fake)


def aoai_status(fake, token):
    return call(fake.chat_url, {"Authorization": "Bearer " + token,
                                "Content-Type": "application/json"}, CHAT)[0]


# --- managed identity routes --------------------------------------------------------

def test_imds_token(identity):
    status, headers, body = imds(identity)
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    c = check_mi_strings(body, identity)
    assert body["client_id"] == SYSTEM_CLIENT_ID == c["appid"] and c["src"] == "imds"
    entry = last(identity, "imds")
    assert entry["status"] == 200 and "metadata" in entry["headers"]
    assert entry["query"] == {"api-version": "2018-02-01", "resource": AOAI_RESOURCE}
    # A second token differs (jti) even within the same second.
    assert imds(identity)[2]["access_token"] != body["access_token"]


@pytest.mark.parametrize("selector", ["client_id", "object_id", "msi_res_id"])
def test_imds_user_assigned(identity, selector):
    value = {"client_id": identity.ua_client_id, "object_id": identity.ua_object_id,
             "msi_res_id": identity.ua_resource_id}[selector]
    status, _, body = imds(identity, **{selector: value})
    assert status == 200, body
    c = check_mi_strings(body, identity)
    assert body["client_id"] == identity.ua_client_id == c["appid"]
    assert c["oid"] == identity.ua_object_id
    # By default any other identity is assigned too (with made-up ids for the rest) …
    other = str(uuid.uuid4())
    status, _, body = imds(identity, **{selector: other})
    assert status == 200, body
    c = claims_of(identity, body["access_token"])
    assert other == {"client_id": c["appid"], "object_id": c["oid"],
                     "msi_res_id": c.get("xms_mirid")}[selector]
    # … until only the fake's own identities are.
    identity.settings(user_assigned="known")
    status, _, body = imds(identity, **{selector: other})
    assert (status, body) == (400, {"error": "invalid_request",
                                     "error_description": "Identity not found"})
    assert imds(identity, **{selector: value})[0] == 200


def test_imds_errors(identity):
    assert imds(identity, metadata=False)[0::2] == (400, {
        "error": "invalid_request", "error_description": "Required metadata header not specified"})
    for version in (None, "2019-08-01"):
        status, _, body = imds(identity, version=version)
        assert status == 400 and body["error"] == "invalid_request", body
    status, _, body = imds(identity, resource=None)
    assert status == 400 and body["error"] == "invalid_request", body
    status, _, body = imds(identity, client_id=identity.ua_client_id,
                           object_id=identity.ua_object_id)
    assert status == 400, body
    assert [e["check"] for e in identity.requests("imds")] == \
        ["metadata", "api_version", "api_version", "resource", "identity"]


def test_app_service(identity):
    url = identity.app_service_url + "?" + urllib.parse.urlencode(
        {"api-version": "2019-08-01", "resource": AOAI_RESOURCE})
    hdr = {"X-IDENTITY-HEADER": identity.identity_header}
    status, _, body = call_json(url, hdr)
    assert status == 200, body
    assert sorted(body) == ["access_token", "client_id", "expires_on", "resource", "token_type"]
    assert isinstance(body["expires_on"], str) and body["expires_on"].isdigit()
    assert body["token_type"] == "Bearer" and body["client_id"] == SYSTEM_CLIENT_ID
    assert claims_of(identity, body["access_token"])["src"] == "app-service"
    # user-assigned by resource id
    status, _, body = call_json(url + "&mi_res_id=" + urllib.parse.quote(identity.ua_resource_id),
                                hdr)
    assert status == 200 and body["client_id"] == identity.ua_client_id, body
    identity.settings(user_assigned="known")
    status, _, body = call_json(url + "&client_id=" + str(uuid.uuid4()), hdr)
    assert status == 400 and body["message"] == "Unable to load the proper Managed Identity."
    assert sorted(body) == ["correlationId", "message", "statusCode"] and body["statusCode"] == 400
    for bad in ({}, {"X-IDENTITY-HEADER": "wrong"}):
        status, _, body = call_json(url, bad)
        assert status == 401 and body["statusCode"] == 401, body
    status, _, body = call_json(url.replace("2019-08-01", "2017-09-01"), hdr)
    assert status == 400, body


def test_arc_challenge(identity):
    url = identity.arc_url + "?" + urllib.parse.urlencode(
        {"api-version": "2020-06-01", "resource": AOAI_RESOURCE})
    status, headers, body = call_json(url, {"Metadata": "true"})
    assert status == 401, body
    m = re.fullmatch(r"Basic realm=(.+)", headers["WWW-Authenticate"])
    assert m, headers["WWW-Authenticate"]
    key_path = m.group(1)
    assert os.path.dirname(key_path) == str(identity.arc_key_dir) and key_path.endswith(".key")
    st = os.stat(key_path)
    assert st.st_size <= 4096 and (st.st_mode & 0o777) == 0o640
    key = register_secret(open(key_path).read())
    status, _, body = call_json(url, {"Metadata": "true", "Authorization": "Basic " + key})
    assert status == 200, body
    assert check_mi_strings(body, identity)["src"] == "azure-arc"
    # the SDK of Debian 12 still sends 2019-11-01
    status, _, _ = call_json(url.replace("2020-06-01", "2019-11-01"),
                             {"Metadata": "true", "Authorization": "Basic " + key})
    assert status == 200
    status, headers, _ = call_json(url, {"Metadata": "true", "Authorization": "Basic nope"})
    assert status == 401 and headers["WWW-Authenticate"].startswith("Basic realm=")
    assert call_json(url, {"Authorization": "Basic " + key})[0] == 400  # no Metadata
    assert [e["check"] if e["status"] != 200 else "ok" for e in identity.requests("azure-arc")] \
        == ["challenge", "ok", "ok", "arc_key", "metadata"]


def test_cloud_shell(identity):
    status, _, body = call_json(identity.cloud_shell_url, {"Metadata": "true"},
                                form={"resource": AOAI_RESOURCE})
    assert status == 200, body
    assert check_mi_strings(body, identity)["src"] == "cloud-shell"
    entry = last(identity, "cloud-shell")
    assert entry["method"] == "POST" and entry["form"] == ["resource"]
    status, _, body = call_json(identity.cloud_shell_url, form={"resource": AOAI_RESOURCE})
    assert status == 400 and body["error_description"] == "Required metadata header not specified"
    assert call_json(identity.cloud_shell_url, {"Metadata": "true"}, data=b"",
                     method="POST")[0] == 400  # no resource
    assert call_json(identity.cloud_shell_url, {"Metadata": "true"}, method="GET")[0] == 405


def sf_get(fi, headers, query=None):
    """GETs the Service Fabric endpoint over TLS, pinning the printed thumbprint."""
    q = query or {"api-version": "2019-07-01-preview", "resource": AOAI_RESOURCE}
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", fi.tls_port, context=tls, timeout=10)
    try:
        conn.connect()
        der = conn.sock.getpeercert(binary_form=True)
        if hashlib.sha1(der).hexdigest().upper() != fi.sf_thumbprint:
            fail("the Service Fabric endpoint's certificate does not match its thumbprint")
        conn.request("GET", "/sf/token?" + urllib.parse.urlencode(q), headers=headers)
        r = conn.getresponse()
        return r.status, json.loads(r.read())
    finally:
        conn.close()


def test_service_fabric_tls(identity_tls):
    fi = identity_tls
    assert fi.sf_thumbprint == sha1_thumbprint(fi.tls_cert)
    assert re.fullmatch(r"[0-9A-F]{40}", fi.sf_thumbprint)
    assert fi.sf_url == f"https://127.0.0.1:{fi.tls_port}/sf/token"
    status, body = sf_get(fi, {"Secret": fi.identity_header})
    assert status == 200, body
    assert sorted(body) == ["access_token", "expires_on", "resource", "token_type"]
    assert type(body["expires_on"]) is int and abs(body["expires_on"] - time.time() - 3600) < 30
    assert claims_of(fi, body["access_token"])["src"] == "service-fabric"
    status, body = sf_get(fi, {})
    assert status == 401 and body["error"]["code"] == "SecretHeaderNotFound", body
    assert sf_get(fi, {"Secret": "wrong"})[0] == 401
    assert sf_get(fi, {"Secret": fi.identity_header},
                  {"api-version": "2019-08-01", "resource": AOAI_RESOURCE})[0] == 400
    # plain HTTP on the TLS port and the SF path on the plain port both fail
    assert call(fi.base + "/sf/token")[0] == 404
    with socket.create_connection(("127.0.0.1", fi.tls_port), timeout=5) as s:
        s.sendall(b"GET /sf/token HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(5)
        try:
            data = s.recv(100)
        except (ConnectionResetError, socket.timeout):
            data = b""
        assert not data.startswith(b"HTTP/1.1 200")


# --- Entra ------------------------------------------------------------------------------

def test_entra_client_secret(identity, aoai_jwt):
    status, headers, body = entra(identity, client_secret=identity.client_secret)
    assert status == 200, body
    assert sorted(body) == ["access_token", "expires_in", "ext_expires_in", "token_type"]
    assert body["token_type"] == "Bearer"
    assert type(body["expires_in"]) is int and body["expires_in"] == body["ext_expires_in"] == 3599
    assert headers["Cache-Control"] == "no-store, no-cache"
    c = claims_of(identity, body["access_token"])
    assert c["aud"] == AOAI_RESOURCE and c["appid"] == identity.client_id
    assert c["tid"] == identity.tenant_id and c["src"] == "entra"
    assert aoai_status(aoai_jwt, body["access_token"]) == 200
    entry = last(identity, "entra")
    assert entry["auth"] == "client_secret" and entry["tenant"] == identity.tenant_id
    assert entry["form"] == ["grant_type", "client_id", "scope", "client_secret"]
    assert entry["form_public"] == {"grant_type": "client_credentials",
                                    "client_id": identity.client_id, "scope": AOAI_SCOPE}

    status, _, body = entra(identity, client_secret="not-" + identity.client_secret)
    check_aad_error(status, body, 401, "invalid_client", 7000215)
    assert last(identity, "entra")["check"] == "client_secret"
    check_aad_error(*entra(identity)[0::2], 401, "invalid_client", 7000218)
    check_aad_error(*entra(identity, scope=AOAI_RESOURCE,
                           client_secret=identity.client_secret)[0::2],
                    400, "invalid_scope", 1002012)
    check_aad_error(*entra(identity, grant_type="password",
                           client_secret=identity.client_secret)[0::2],
                    400, "unsupported_grant_type", 70003)
    check_aad_error(*entra(identity, grant_type=None)[0::2], 400, "invalid_request", 900144)
    check_aad_error(*entra(identity, client_secret=identity.client_secret,
                           **assertion_form("x.y.z"))[0::2], 400, "invalid_request", 9002313)
    status, _, _ = call(identity.token_url(), method="GET")
    assert status == 400
    # known apps and tenants only, once configured
    identity.settings(client_ids=[identity.client_id], tenants=[identity.tenant_id])
    check_aad_error(*entra(identity, client_id=str(uuid.uuid4()),
                           client_secret=identity.client_secret)[0::2],
                    400, "unauthorized_client", 700016)
    check_aad_error(*entra(identity, tenant=str(uuid.uuid4()),
                           client_secret=identity.client_secret)[0::2],
                    400, "invalid_request", 90002)
    assert entra(identity, client_secret=identity.client_secret)[0] == 200


def test_entra_federated(identity, aoai_jwt):
    status, _, body = entra(identity, **assertion_form(identity.federated_token))
    assert status == 200, body
    assert aoai_status(aoai_jwt, body["access_token"]) == 200
    assert last(identity, "entra")["auth"] == "federated"
    old = identity.federated_token
    identity.rotate_federated_token()   # the fake re-reads the file on every request
    status, _, body = entra(identity, **assertion_form(old))
    check_aad_error(status, body, 400, "invalid_request", 70021)
    assert last(identity, "entra")["check"] == "federated"
    assert entra(identity, **assertion_form(identity.federated_token))[0] == 200
    status, _, body = entra(identity, client_assertion_type="urn:nope",
                            client_assertion=identity.federated_token)
    assert status == 400, body


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_entra_certificate(identity, aoai_jwt, alg):
    status, _, body = entra(identity, **assertion_form(assertion(identity, alg)))
    assert status == 200, body
    assert aoai_status(aoai_jwt, body["access_token"]) == 200
    entry = last(identity, "entra")
    assert entry["auth"] == "certificate" and entry["alg"] == alg and "check" not in entry
    assert entra(identity, **assertion_form(assertion(identity, alg, x5c=False)))[0] == 200


def test_entra_certificate_rejections(identity):
    from cryptography.hazmat.primitives.asymmetric import rsa
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jti = str(uuid.uuid4())
    cases = [
        (assertion(identity, key=other_key), 401, "invalid_client", 700027, "signature"),
        (assertion(identity, "PS256", key=other_key), 401, "invalid_client", 700027, "signature"),
        (assertion(identity, x5t=jwt_hs256.b64url_encode(os.urandom(20))),
         401, "invalid_client", 700027, "x5t"),
        (assertion(identity, aud=identity.base + "/common/oauth2/v2.0/token"),
         401, "invalid_client", 50013, "aud"),
        (assertion(identity, iss=str(uuid.uuid4())), 401, "invalid_client", 700021, "iss_sub"),
        (assertion(identity, exp=3600), 401, "invalid_client", 700024, "lifetime"),
        (assertion(identity, nbf=-700, exp=-100), 401, "invalid_client", 700024, "exp"),
        (assertion(identity, nbf=300, exp=600), 401, "invalid_client", 700024, "nbf"),
        (assertion(identity, jti=jti), 200, None, None, None),
        (assertion(identity, jti=jti), 401, "invalid_client", 50013, "jti_replay"),
    ]
    for a, want_status, error, code, check in cases:
        status, _, body = entra(identity, **assertion_form(a))
        if want_status == 200:
            assert status == 200, body
            continue
        check_aad_error(status, body, want_status, error, code)
        assert last(identity, "entra")["check"] == check
    # tampered payload: the signature no longer matches
    h, p, s = assertion(identity).split(".")
    claims = json.loads(jwt_hs256.b64url_decode(p))
    claims["exp"] += 1
    tampered = ".".join([h, jwt_hs256.b64url_encode(json.dumps(claims)), s])
    check_aad_error(*entra(identity, **assertion_form(tampered))[0::2],
                    401, "invalid_client", 700027)


# --- scripted responses and settings ----------------------------------------------------

def test_script_status_and_shapes(identity):
    identity.script("imds", {"status": 503, "headers": {"Retry-After": "1"}}, {"status": 410},
                    {"non_json": True}, {"status": 429, "body": "slow down"})
    status, headers, body = imds(identity)
    assert status == 503 and headers["Retry-After"] == "1" and body["error"], body
    status, _, body = imds(identity)
    assert status == 410 and sorted(body) == ["error", "error_description"], body
    status, headers, raw = call(identity.imds_url + "?api-version=2018-02-01&resource=x",
                                {"Metadata": "true"})
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert raw.lstrip().startswith(b"<!DOCTYPE html>")
    status, _, raw = call(identity.imds_url + "?api-version=2018-02-01&resource=x",
                          {"Metadata": "true"})
    assert (status, raw) == (429, b"slow down")
    assert imds(identity)[0] == 200   # queue drained: normal handling again
    assert [e.get("scripted") for e in identity.requests("imds")] == \
        ["status", "status", "non_json", "status", None]
    # "*" applies to any source; a source's own queue comes first
    identity.script("*", {"status": 500})
    identity.script("entra", {"status": 503, "headers": {"Retry-After": "2"}})
    status, headers, body = entra(identity, client_secret=identity.client_secret)
    check_aad_error(status, body, 503, "temporarily_unavailable", 90033)
    assert headers["Retry-After"] == "2"
    status, _, body = entra(identity, client_secret=identity.client_secret)
    assert status == 500 and body["error"] == "server_error"
    url = identity.app_service_url + "?api-version=2019-08-01&resource=x"
    identity.script("app-service", {"status": 500})
    status, _, body = call_json(url, {"X-IDENTITY-HEADER": identity.identity_header})
    assert status == 500 and sorted(body) == ["correlationId", "message", "statusCode"]


def test_script_bad_input(identity):
    for bad in ({"source": "nope", "responses": [{"status": 500}]},
                {"source": "imds", "responses": []},
                {"source": "imds", "responses": [{"status": 99}]},
                {"source": "imds", "responses": [{"hang": 1, "status": 500}]},
                {"source": "imds", "responses": [{"frobnicate": 1}]},
                {"source": "imds", "responses": [{"status": 500,
                                                  "headers": {"X": "a\r\nInjected: 1"}}]}):
        status, _, _ = call(identity.base + "/_fake/script", {"Content-Type": "application/json"},
                            json.dumps(bad).encode())
        assert status == 400, bad
    assert call(identity.base + "/_fake/script", data=b"{not json")[0] == 400
    assert call(identity.base + "/_fake/settings", data=b'{"expires_in": "x"}')[0] == 400
    assert call(identity.base + "/_fake/last_token?source=imds")[0] == 404
    assert imds(identity)[0] == 200


def test_script_hang_drop_delay(identity):
    url = "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=x"
    identity.script("imds", {"hang": 1.0}, {"drop": True}, {"delay": 0.3})
    hung = socket.create_connection(("127.0.0.1", identity.port), timeout=10)
    try:
        hung.sendall(f"GET {url} HTTP/1.1\r\nHost: x\r\nMetadata: true\r\n\r\n".encode())
        identity.wait_requests("imds", 1)      # the fake has it and is holding it
        t0 = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", identity.port, timeout=10)
        conn.request("GET", url, headers={"Metadata": "true"})
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
            conn.getresponse()                  # the drop, while the hang goes on
        conn.close()
        assert time.monotonic() - t0 < 0.9, "a hanging request blocked another one"
        t0 = time.monotonic()
        status, _, body = imds(identity)        # the delay, then a normal answer
        assert status == 200 and time.monotonic() - t0 >= 0.3, body
        hung.settimeout(5)
        assert hung.recv(1) == b"", "a hung request must end without an answer"
    finally:
        hung.close()
    assert [e.get("scripted") for e in identity.requests("imds")] == ["hang", "drop", "delay"]
    assert identity.requests("imds")[0]["status"] is None


def test_settings_shapes(identity):
    s = identity.settings(number_types=True, refresh_in=1800, expires_in=120)
    assert s["expires_in"] == 120 and s["number_types"] is True
    status, _, body = imds(identity)
    assert status == 200
    assert all(type(body[k]) is int for k in ("expires_in", "expires_on", "ext_expires_in",
                                               "not_before", "refresh_in")), body
    assert body["expires_in"] == 120 and body["refresh_in"] == 1800
    assert claims_of(identity, body["access_token"])["exp"] == body["expires_on"]
    status, _, body = entra(identity, client_secret=identity.client_secret)
    assert body["expires_in"] == 120 and body["refresh_in"] == 1800
    identity.settings(number_types=None, refresh_in=None, date_form="2017")
    status, _, body = call_json(identity.app_service_url + "?api-version=2019-08-01&resource=r",
                                {"X-IDENTITY-HEADER": identity.identity_header})
    m = re.fullmatch(r"(\d\d)/(\d\d)/(\d{4}) (\d\d):(\d\d):(\d\d) \+00:00", body["expires_on"])
    assert m, body["expires_on"]
    when = datetime.datetime.strptime(body["expires_on"], "%m/%d/%Y %H:%M:%S +00:00")
    exp = claims_of(identity, body["access_token"])["exp"]
    assert when.replace(tzinfo=datetime.timezone.utc).timestamp() == exp
    identity.settings(date_form=None, number_types=False, omit=["expires_in"])
    status, _, body = imds(identity)
    assert "expires_in" not in body and body["expires_on"].isdigit()
    s = identity.settings(defaults=True)
    assert s["expires_in"] is None and s["omit"] == [] and s["number_types"] is None
    check_mi_strings(imds(identity)[2], identity)


def test_settings_number_types_false_on_service_fabric(identity_tls):
    identity_tls.settings(number_types=False)
    status, body = sf_get(identity_tls, {"Secret": identity_tls.identity_header})
    assert status == 200 and isinstance(body["expires_on"], str), body


def test_reset(identity):
    identity.script("imds", {"status": 500})
    imds(identity, metadata=False)
    identity.reset()
    assert identity.requests() == []
    assert imds(identity)[0] == 200        # the queued 500 is gone too


def test_log_holds_no_secrets(ctx, identity, aoai_jwt):
    tokens = []
    tokens.append(imds(identity)[2]["access_token"])
    tokens.append(call_json(identity.app_service_url + "?api-version=2019-08-01&resource=r",
                            {"X-IDENTITY-HEADER": identity.identity_header})[2]["access_token"])
    tokens.append(entra(identity, client_secret=identity.client_secret)[2]["access_token"])
    entra(identity, client_secret="wrong-" + identity.client_secret)
    tokens.append(entra(identity, **assertion_form(identity.federated_token))[2]["access_token"])
    a = assertion(identity)
    tokens.append(entra(identity, **assertion_form(a))[2]["access_token"])
    _, headers, _ = call(identity.arc_url + "?api-version=2020-06-01&resource=r",
                         {"Metadata": "true"})
    arc_key = register_secret(open(headers["WWW-Authenticate"].split("=", 1)[1]).read())
    tokens.append(call_json(identity.arc_url + "?api-version=2020-06-01&resource=r",
                            {"Metadata": "true", "Authorization": "Basic " + arc_key})[2]
                  ["access_token"])
    for t in tokens:
        register_secret(t)
        aoai_status(aoai_jwt, t)
    texts = {"fake identity log": identity.log_text(),
             "/_fake/requests": json.dumps(identity.requests()),
             "fake identity stderr": identity.stderr_path.read_text(),
             "fake aoai log": aoai_jwt.log.read_text()}
    secrets_ = [identity.client_secret, identity.identity_header, identity.federated_token,
                a, arc_key, identity.jwt_key_file.read_text().strip(), *tokens]
    for what, text in texts.items():
        for s in secrets_:
            assert_absent(s, text, what)
    assert len(identity.requests()) >= 8


# --- fake_aoai --jwt-key-file -------------------------------------------------------------

def test_fake_aoai_jwt(identity, aoai_jwt):
    token = imds(identity)[2]["access_token"]
    assert aoai_status(aoai_jwt, token) == 200
    entry = aoai_jwt.requests()[-1]
    assert entry["auth"] == "jwt" and entry["bearer_src"] == "imds"
    h, p, s = token.split(".")
    claims = json.loads(jwt_hs256.b64url_decode(p))
    claims["aud"] = AOAI_RESOURCE + "/"        # still accepted when signed properly
    key = jwt_hs256.read_key(identity.jwt_key_file)
    assert aoai_status(aoai_jwt, jwt_hs256.mint(key, claims)) == 200
    for bad in (
        h + "." + jwt_hs256.b64url_encode(json.dumps(dict(claims, exp=claims["exp"] + 60)))
        + "." + s,                                              # tampered payload
        h + "." + p + "." + s[:-2] + ("AA" if s[-2:] != "AA" else "BB"),  # tampered signature
        jwt_hs256.mint(key, dict(claims, exp=int(time.time()) - 5)),      # expired
        jwt_hs256.mint(key, dict(claims, aud="https://management.azure.com")),  # wrong aud
        jwt_hs256.mint(b"another key", claims),                 # wrong key
        jwt_hs256.mint(key, claims, {"alg": "none"}),           # wrong alg
    ):
        assert aoai_status(aoai_jwt, bad) == 401
    identity.settings(expires_in=-10)                           # the fake mints expired ones
    assert aoai_status(aoai_jwt, imds(identity)[2]["access_token"]) == 401
    identity.settings(expires_in=None)
    assert call(aoai_jwt.chat_url, {"api-key": "whatever"}, CHAT)[0] == 401
    assert [e["auth"] for e in aoai_jwt.requests()][-1] is None


# --- fake az ----------------------------------------------------------------------------

def run_az(ctx, env_add, *args, timeout=10):
    env = dict(ctx.base_env(), **env_add)
    return subprocess.run(["az", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def test_fake_az(ctx, identity, aoai_jwt):
    env = fake_az_env(ctx, identity)
    args = ("account", "get-access-token", "--output", "json", "--resource", AOAI_RESOURCE)
    r = run_az(ctx, env, *args)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    register_secret(out["accessToken"])
    assert list(out) == ["accessToken", "expiresOn", "expires_on", "subscription", "tenant",
                         "tokenType"]
    assert type(out["expires_on"]) is int and abs(out["expires_on"] - time.time() - 3600) < 30
    assert out["expiresOn"] == datetime.datetime.fromtimestamp(out["expires_on"]).strftime(
        "%Y-%m-%d %H:%M:%S.%f")
    assert out["tenant"] == AZ_TENANT and out["tokenType"] == "Bearer"
    uuid.UUID(out["subscription"])
    assert aoai_status(aoai_jwt, out["accessToken"]) == 200
    assert aoai_jwt.requests()[-1]["bearer_src"] == "azure-cli"
    tenant = str(uuid.uuid4())
    r = run_az(ctx, env, *args, "--tenant", tenant)
    out = json.loads(r.stdout)
    register_secret(out["accessToken"])
    assert out["tenant"] == tenant and "subscription" not in out
    assert claims_of(identity, out["accessToken"])["tid"] == tenant

    r = run_az(ctx, fake_az_env(ctx, identity, mode="login"), *args)
    assert (r.returncode, r.stdout, r.stderr) == (
        1, "", "ERROR: Please run 'az login' to setup account.\n")
    r = run_az(ctx, fake_az_env(ctx, identity, mode="fail"), *args)
    assert r.returncode == 1 and r.stderr.startswith("ERROR: ") and r.stdout == ""
    r = run_az(ctx, fake_az_env(ctx, identity, mode="garbage"), *args)
    assert r.returncode == 0
    with pytest.raises(ValueError):
        json.loads(r.stdout)
    r = run_az(ctx, fake_az_env(ctx, identity), "account", "get-access-token", "--frobnicate")
    assert r.returncode == 2 and r.stderr.startswith("ERROR: ")
    with pytest.raises(subprocess.TimeoutExpired):
        run_az(ctx, fake_az_env(ctx, identity, mode="hang"), *args, timeout=1)
    r = run_az(ctx, fake_az_env(ctx, identity, expires_in=60), *args)
    out = json.loads(r.stdout)
    register_secret(out["accessToken"])
    assert abs(out["expires_on"] - time.time() - 60) < 30
    calls = az_calls(ctx)
    assert calls[0]["argv"][1:] == list(args)
    assert os.path.basename(calls[0]["argv"][0]) == "az"
    assert len(calls) == 8 and all(isinstance(c["time"], float) for c in calls)


# --- the real Azure SDK (Debian's python3-azure) against the fake -------------------------

SDK_SCRIPT = r"""
import json, os, sys, urllib.request
from azure.identity import ManagedIdentityCredential
cred = ManagedIdentityCredential()
tok = cred.get_token("https://cognitiveservices.azure.com/.default")
req = urllib.request.Request(os.environ["FAKE_AOAI_CHAT_URL"],
                             data=b'{"messages":[{"role":"user","content":"hi"}]}',
                             headers={"Authorization": "Bearer " + tok.token,
                                      "Content-Type": "application/json"})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    status = opener.open(req, timeout=10).status
except urllib.error.HTTPError as e:
    status = e.code
print(json.dumps({"status": status, "expires_on": tok.expires_on,
                  "credential": type(cred._credential).__name__}))
"""


def sdk_has_arc_path_check():
    import azure.identity._credentials.azure_arc as arc
    return hasattr(arc, "_validate_key_file")


@pytest.mark.parametrize("route", ["imds", "app-service", "azure-arc", "cloud-shell",
                                   "service-fabric"])
def test_azure_sdk_managed_identity(ctx, route, request):
    pytest.importorskip("azure.identity")
    if route == "azure-arc" and sdk_has_arc_path_check():
        pytest.skip("this azure-identity only reads Arc keys under /var/opt/azcmagent/tokens")
    fi = request.getfixturevalue("identity_tls" if route == "service-fabric" else "identity")
    fake = start_fake_aoai_jwt(ctx, fi)
    try:
        env = dict(ctx.base_env(), FAKE_AOAI_CHAT_URL=fake.chat_url)
        env.update({
            "imds": {"AZURE_POD_IDENTITY_AUTHORITY_HOST": fi.imds_authority},
            "app-service": {"IDENTITY_ENDPOINT": fi.app_service_url,
                            "IDENTITY_HEADER": fi.identity_header},
            "azure-arc": {"IDENTITY_ENDPOINT": fi.arc_url,
                          "IMDS_ENDPOINT": fi.base},
            "cloud-shell": {"MSI_ENDPOINT": fi.cloud_shell_url},
            "service-fabric": {"IDENTITY_ENDPOINT": fi.sf_url or "",
                               "IDENTITY_HEADER": fi.identity_header,
                               "IDENTITY_SERVER_THUMBPRINT": fi.sf_thumbprint or ""},
        }[route])
        r = subprocess.run([PYTHON, "-c", SDK_SCRIPT], env=env, capture_output=True, text=True,
                           timeout=30, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            fail(f"the Azure SDK failed against the fake {route}:\n{r.stderr[-3000:]}")
        out = json.loads(r.stdout.strip().splitlines()[-1])
        assert out["status"] == 200, out
        assert out["credential"] == {
            "imds": "ImdsCredential", "app-service": "AppServiceCredential",
            "azure-arc": "AzureArcCredential", "cloud-shell": "CloudShellCredential",
            "service-fabric": "ServiceFabricCredential"}[route], out
        assert abs(out["expires_on"] - time.time() - 3600) < 60, out
        entries = fi.requests(route)
        ok = [e for e in entries if e["status"] == 200]
        assert len(ok) == 1, entries
        e = ok[0]
        assert e["query"].get("resource", AOAI_RESOURCE) == AOAI_RESOURCE
        want_version = {"imds": "2018-02-01", "app-service": "2019-08-01",
                        "service-fabric": "2019-07-01-preview"}.get(route)
        if want_version:
            assert e["query"]["api-version"] == want_version, e
        if route in ("imds", "azure-arc", "cloud-shell"):
            assert "metadata" in e["headers"], e
        if route == "imds":
            # With AZURE_POD_IDENTITY_AUTHORITY_HOST set the SDK skips its probe request.
            assert all(x["status"] == 400 and "metadata" not in x["headers"]
                       for x in entries if x is not e), entries
        if route == "app-service":
            assert "x-identity-header" in e["headers"]
        if route == "service-fabric":
            assert "secret" in e["headers"]
        if route == "azure-arc":
            assert [x["status"] for x in entries] == [401, 200]
        if route == "cloud-shell":
            assert e["method"] == "POST" and e["form"] == ["resource"]
        assert fake.requests()[-1]["bearer_src"] == route
    finally:
        stop_fake(fake)


# --- RS256 tokens and Entra discovery documents (start_identity(rs256=True)) -----------

V2_CONFIG_TYPES = {
    "issuer": str, "jwks_uri": str, "token_endpoint": str, "authorization_endpoint": str,
    "device_authorization_endpoint": str, "end_session_endpoint": str,
    "userinfo_endpoint": str, "token_endpoint_auth_methods_supported": list,
    "id_token_signing_alg_values_supported": list, "response_types_supported": list,
    "response_modes_supported": list, "subject_types_supported": list,
    "scopes_supported": list, "claims_supported": list, "http_logout_supported": bool,
    "frontchannel_logout_supported": bool, "request_uri_parameter_supported": bool,
    "cloud_instance_name": str, "msgraph_host": str}
V1_CONFIG_TYPES = dict(V2_CONFIG_TYPES, microsoft_multi_refresh_token=bool,
                       check_session_iframe=str)
del V1_CONFIG_TYPES["request_uri_parameter_supported"]


def get_discovery(url, context=None):
    """(status, headers, JSON) of a discovery document, checking the success shape."""
    status, headers, raw = call_tls(url, context) if context else call(url)
    try:
        body = json.loads(raw)
    except ValueError:
        fail(f"not JSON ({status}): {raw[:300]!r}")
    if status == 200:
        assert headers["Content-Type"] == "application/json; charset=utf-8"
        assert headers["Cache-Control"] == "max-age=86400, private"
    return status, headers, body


def call_tls(url, context):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                         urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(url, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def check_config(doc, types):
    for field, kind in types.items():
        assert isinstance(doc.get(field), kind), (field, doc.get(field))
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert "code" in doc["response_types_supported"] and "id_token" in \
        doc["response_types_supported"]
    assert doc["subject_types_supported"] == ["pairwise"]
    assert "private_key_jwt" in doc["token_endpoint_auth_methods_supported"]
    assert "tenant_region_scope" in doc


def b64url_uint(text):
    return int.from_bytes(jwt_hs256.b64url_decode(text), "big")


def verify_independently(jwk, token):
    """The claims of @token, its signature checked with python3-cryptography against
    the n/e of @jwk (not via jwt_rs256, which made it)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    head_b64, claims_b64, sig_b64 = token.split(".")
    header = json.loads(jwt_hs256.b64url_decode(head_b64))
    pub = rsa.RSAPublicNumbers(b64url_uint(jwk["e"]), b64url_uint(jwk["n"])).public_key()
    pad = {"RS256": padding.PKCS1v15(),
           "PS256": padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                salt_length=32)}[header["alg"]]
    pub.verify(jwt_hs256.b64url_decode(sig_b64), f"{head_b64}.{claims_b64}".encode(), pad,
               hashes.SHA256())   # raises InvalidSignature
    return header, json.loads(jwt_hs256.b64url_decode(claims_b64))


def have_pyjwt():
    try:
        import jwt
        return hasattr(jwt, "PyJWK")
    except ImportError:
        return False


def verify_pyjwt(jwk, token, audience):
    """The claims of @token checked by PyJWT (python3-jwt), an independent implementation."""
    import jwt
    alg = jwt.get_unverified_header(token)["alg"]
    key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))
    return jwt.decode(token, key, algorithms=[alg], audience=audience)


def key_of(fi, kid, tenant=None, v2=True):
    """The published key @kid, found the way an OpenID client finds it."""
    _, _, config = get_discovery(fi.openid_config_url(tenant, v2=v2))
    _, _, jwks = get_discovery(config["jwks_uri"])
    found = [k for k in jwks["keys"] if k["kid"] == kid]
    assert len(found) == 1, (kid, [k["kid"] for k in jwks["keys"]])
    return found[0]


def test_openid_configuration_v2(identity_rs256):
    fi = identity_rs256
    status, headers, doc = get_discovery(fi.openid_config_url())
    assert status == 200, doc
    check_config(doc, V2_CONFIG_TYPES)
    tid = fi.tenant_id
    assert doc["issuer"] == f"https://login.microsoftonline.com/{tid}/v2.0"
    assert doc["jwks_uri"] == f"{fi.base_url}/{tid}/discovery/v2.0/keys" == fi.jwks_url()
    assert doc["token_endpoint"] == fi.token_url()
    assert doc["authorization_endpoint"] == f"{fi.base_url}/{tid}/oauth2/v2.0/authorize"
    assert headers["x-ms-request-id"] and headers["Access-Control-Allow-Origin"] == "*"
    # multi-tenant aliases: Entra's literal placeholder, and the common key set
    for alias in ("common", "organizations"):
        status, _, doc = get_discovery(fi.openid_config_url(alias))
        assert status == 200, doc
        assert doc["issuer"] == "https://login.microsoftonline.com/{tenantid}/v2.0"
        assert doc["jwks_uri"] == f"{fi.base_url}/{alias}/discovery/v2.0/keys"
        assert doc["tenant_region_scope"] is None
    entries = fi.requests("openid")
    assert len(entries) == 3 and fi.requests("entra") == [] and fi.requests("jwks") == []
    assert [(e["tenant"], e["version"], e["status"], e["tls"]) for e in entries] == \
        [(tid, "v2", 200, False), ("common", "v2", 200, False),
         ("organizations", "v2", 200, False)]
    assert call(fi.openid_config_url(), method="POST", data=b"")[0] == 405


def test_openid_configuration_v1(identity_rs256):
    fi = identity_rs256
    status, _, doc = get_discovery(fi.openid_config_url(v2=False))
    assert status == 200, doc
    check_config(doc, V1_CONFIG_TYPES)
    assert doc["issuer"] == f"https://sts.windows.net/{fi.tenant_id}/"
    assert doc["jwks_uri"] == f"{fi.base_url}/common/discovery/keys"   # as Entra's v1 does
    assert doc["token_endpoint"] == f"{fi.base_url}/{fi.tenant_id}/oauth2/token"
    assert "id_token token" not in doc["response_types_supported"]
    status, _, doc = get_discovery(fi.openid_config_url("common", v2=False))
    assert status == 200 and doc["issuer"] == "https://sts.windows.net/{tenantid}/"
    # v1 knows no "organizations" tenant
    status, _, body = get_discovery(fi.openid_config_url("organizations", v2=False))
    check_aad_error(status, body, 400, "invalid_tenant", 90002)
    status, _, jwks = get_discovery(fi.jwks_url(v2=False))
    assert status == 200 and [k["kid"] for k in jwks["keys"]] == [fi.kid]
    assert "issuer" not in jwks["keys"][0]          # v1 keys carry none
    assert [e["version"] for e in fi.requests("openid")] == ["v1", "v1", "v1"]
    assert [e["version"] for e in fi.requests("jwks")] == ["v1"]


def test_jwks_key_shape(identity_rs256):
    fi = identity_rs256
    status, _, jwks = get_discovery(fi.jwks_url())
    assert status == 200 and sorted(jwks) == ["keys"]
    (k,) = jwks["keys"]
    assert sorted(k) == ["e", "issuer", "kid", "kty", "n", "use", "x5c", "x5t"]
    assert k["kty"] == "RSA" and k["use"] == "sig" and k["e"] == "AQAB"
    assert k["kid"] == k["x5t"] == fi.kid
    assert k["issuer"] == f"https://login.microsoftonline.com/{fi.tenant_id}/v2.0"
    assert len(jwt_hs256.b64url_decode(k["n"])) == 256      # RSA-2048
    der = base64.b64decode(k["x5c"][0], validate=True)
    assert k["x5t"] == jwt_hs256.b64url_encode(hashlib.sha1(der).digest())
    from cryptography import x509
    cert = x509.load_der_x509_certificate(der)
    nums = cert.public_key().public_numbers()
    assert (nums.n, nums.e) == (b64url_uint(k["n"]), b64url_uint(k["e"]))
    # the same key on the common set, with Entra's placeholder issuer
    (common,) = get_discovery(fi.jwks_url("common"))[2]["keys"]
    assert common["issuer"] == "https://login.microsoftonline.com/{tenantid}/v2.0"
    assert {x: common[x] for x in ("kid", "n", "e", "x5t")} == \
        {x: k[x] for x in ("kid", "n", "e", "x5t")}
    assert os.stat(fi.signing_key_file).st_mode & 0o777 == 0o600


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_jwks_verifies_minted_token(ctx, identity_rs256, alg):
    from cryptography.exceptions import InvalidSignature
    fi = identity_rs256
    now = int(time.time())
    claims = {"aud": AOAI_RESOURCE, "iss": f"https://sts.windows.net/{fi.tenant_id}/",
              "exp": now + 600, "nbf": now, "iat": now, "appid": fi.client_id,
              "roles": ["Reader"]}
    token = fi.mint(claims, alg=alg)
    key = key_of(fi, fi.kid)
    header, got = verify_independently(key, token)
    assert header == {"typ": "JWT", "alg": alg, "kid": fi.kid, "x5t": fi.kid}
    assert got == claims
    if have_pyjwt():
        assert verify_pyjwt(key, token, AOAI_RESOURCE) == claims
    head, body, sig = token.split(".")
    forged = jwt_hs256.b64url_encode(json.dumps(dict(claims, roles=["Admin"])))
    with pytest.raises(InvalidSignature):
        verify_independently(key, f"{head}.{forged}.{sig}")
    # a key that is not published does not verify it
    other = rs256_jwk(new_rs256_key(ctx, "other"))
    with pytest.raises(InvalidSignature):
        verify_independently(other, token)


def test_rs256_tokens_from_imds_and_client_secret(identity_rs256):
    fi = identity_rs256
    fi.settings(roles={fi.client_id: ["Chat.Completions", "Reader"]})
    status, _, body = imds(fi)
    assert status == 200, body
    register_secret(body["access_token"])
    key = key_of(fi, fi.kid)
    header, c = verify_independently(key, body["access_token"])
    assert header["alg"] == "RS256" and header["kid"] == fi.kid and header["x5t"] == fi.kid
    assert c["aud"] == AOAI_RESOURCE and c["iss"] == f"https://sts.windows.net/{MI_TENANT}/"
    assert c["appid"] == SYSTEM_CLIENT_ID and c["exp"] == int(body["expires_on"])
    assert "roles" not in c                                     # not this client's
    with pytest.raises(jwt_hs256.JwtError):                     # no longer HS256
        claims_of(fi, body["access_token"])

    status, _, body = entra(fi, client_secret=fi.client_secret)
    assert status == 200, body
    register_secret(body["access_token"])
    header, c = verify_independently(key_of(fi, fi.kid, "common"), body["access_token"])
    assert header["alg"] == "RS256" and header["kid"] == fi.kid
    assert c["aud"] == AOAI_RESOURCE and c["appid"] == fi.client_id
    assert c["iss"] == f"https://sts.windows.net/{fi.tenant_id}/" and c["tid"] == fi.tenant_id
    assert c["roles"] == ["Chat.Completions", "Reader"]
    if have_pyjwt():
        assert verify_pyjwt(key, body["access_token"], AOAI_RESOURCE)["roles"] == c["roles"]
    # a global list applies to every token
    fi.settings(roles=["Everyone"])
    _, c = verify_independently(key, imds(fi)[2]["access_token"])
    assert c["roles"] == ["Everyone"]
    assert call(fi.base + "/_fake/settings", data=b'{"roles": [1]}')[0] == 400
    assert call(fi.base + "/_fake/settings", data=b'{"roles": {"x": "Reader"}}')[0] == 400


def test_jwks_extra_keys(ctx, identity_rs256):
    fi = identity_rs256
    new_key = new_rs256_key(ctx, "rotated")
    new_jwk = rs256_jwk(new_key, kid="rotated-1")
    assert fi.publish_keys([new_jwk]) == 1
    for v2 in (True, False):
        kids = [k["kid"] for k in get_discovery(fi.jwks_url(v2=v2))[2]["keys"]]
        assert kids == [fi.kid, "rotated-1"], (v2, kids)
    token = fi.mint({"aud": AOAI_RESOURCE, "exp": int(time.time()) + 60}, alg="PS256",
                    key_file=new_key, kid="rotated-1")
    header, _ = verify_independently(key_of(fi, "rotated-1"), token)
    assert header["kid"] == "rotated-1" and header["alg"] == "PS256"
    assert fi.publish_keys([]) == 0
    assert [k["kid"] for k in get_discovery(fi.jwks_url())[2]["keys"]] == [fi.kid]
    for bad in (b'{"keys": {}}', b'{"keys": [{"n": "x"}]}', b'{"keys": [], "x": 1}',
                json.dumps({"keys": [new_jwk] * 33}).encode()):
        assert call(fi.base + "/_fake/keys", data=bad)[0] == 400, bad


def test_discovery_scripted_failures_and_log(identity_rs256):
    fi = identity_rs256
    fi.script("openid", {"status": 503, "headers": {"Retry-After": "3"}})
    fi.script("jwks", {"status": 500}, {"non_json": True})
    status, headers, body = get_discovery(fi.openid_config_url())
    check_aad_error(status, body, 503, "temporarily_unavailable", 90033)
    assert headers["Retry-After"] == "3"
    status, _, config = get_discovery(fi.openid_config_url())
    assert status == 200
    status, _, body = get_discovery(config["jwks_uri"])
    assert status == 500 and body["error"] == "server_error"
    status, headers, raw = call(config["jwks_uri"])
    assert status == 200 and headers["Content-Type"].startswith("text/html"), raw[:100]
    status, _, jwks = get_discovery(config["jwks_uri"])
    assert status == 200 and jwks["keys"][0]["kid"] == fi.kid
    assert [(e["status"], e.get("scripted")) for e in fi.requests("openid")] == \
        [(503, "status"), (200, None)]
    assert [(e["status"], e.get("scripted")) for e in fi.requests("jwks")] == \
        [(500, "status"), (200, "non_json"), (200, None)]
    assert all(e["path"] == f"/{fi.tenant_id}/discovery/v2.0/keys" for e in fi.requests("jwks"))
    assert fi.requests("entra") == [] and fi.requests("imds") == []
    # the token endpoint's queue is not the documents' one
    fi.script("entra", {"status": 500})
    assert get_discovery(fi.openid_config_url())[0] == 200
    assert entra(fi, client_secret=fi.client_secret)[0] == 500


def test_discovery_unknown_tenant(identity_rs256):
    fi = identity_rs256
    fi.settings(tenants=[fi.tenant_id])
    other = str(uuid.uuid4())
    for url in (fi.openid_config_url(other), fi.openid_config_url(other, v2=False),
                fi.jwks_url(other), fi.jwks_url(other, v2=False)):
        status, headers, body = get_discovery(url)
        check_aad_error(status, body, 400, "invalid_tenant", 90002)
        assert body["error_description"].startswith(f"AADSTS90002: Tenant '{other}' not found.")
        assert headers["Cache-Control"] == "no-store, no-cache"
    assert get_discovery(fi.openid_config_url())[0] == 200
    assert get_discovery(fi.openid_config_url("common"))[0] == 200
    assert [e.get("check") for e in fi.requests("openid")] == ["tenant", "tenant", None, None]


def test_discovery_on_tls_port(ctx):
    fi = start_identity(ctx, tls=True, rs256=True, name="tlsid", signing_kid="tls-kid-1")
    try:
        assert fi.kid == "tls-kid-1"
        header = jwt_hs256.split(imds(fi)[2]["access_token"])[0]
        assert header["kid"] == "tls-kid-1" and header["x5t"] != "tls-kid-1"
        tls = ssl.create_default_context(cafile=str(fi.tls_cert))
        for host in ("127.0.0.1", "localhost"):
            status, _, doc = get_discovery(fi.openid_config_url(tls=True, host=host), tls)
            assert status == 200, doc
            base = f"https://{host}:{fi.tls_port}/{fi.tenant_id}"
            assert doc["jwks_uri"] == base + "/discovery/v2.0/keys"
            assert doc["token_endpoint"] == base + "/oauth2/v2.0/token"
            status, _, jwks = get_discovery(doc["jwks_uri"], tls)
            assert status == 200 and jwks["keys"][0]["kid"] == fi.kid
            assert jwks["keys"][0]["x5t"] == header["x5t"]
        assert [e["tls"] for e in fi.requests("openid") + fi.requests("jwks")] == [True] * 4
        # the control API stays on the plain port
        assert call_tls(f"https://127.0.0.1:{fi.tls_port}/_fake/requests", tls)[0] == 404
    finally:
        stop_identity(fi)
    assert "Traceback" not in Path(fi.stderr_path).read_text()


def test_default_identity_stays_hs256(identity):
    status, _, body = imds(identity)
    assert status == 200
    assert jwt_hs256.split(body["access_token"])[0]["alg"] == "HS256"
    claims_of(identity, body["access_token"])
    assert identity.signing_key_file is None and identity.kid is None
    status, _, doc = get_discovery(identity.openid_config_url())
    assert status == 200 and doc["jwks_uri"] == identity.jwks_url()
    assert get_discovery(identity.jwks_url())[2] == {"keys": []}


def test_jwt_rs256_cli(ctx):
    tool = os.path.join(FAKES_DIR, "jwt_rs256.py")
    key = ctx.path("cli.key")
    r = subprocess.run([PYTHON, tool, "genkey", "--out", str(key)], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL, env=ctx.base_env())
    assert r.returncode == 0 and r.stdout == "", r.stderr
    assert os.stat(key).st_mode & 0o777 == 0o600
    pem = register_secret(key.read_text())
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    claims = {"aud": "api://x", "exp": int(time.time()) + 60, "roles": ["R"]}
    claims_file = ctx.write_file("cli.claims.json", json.dumps(claims))
    for alg in ("RS256", "PS256"):
        r = subprocess.run([PYTHON, tool, "mint", "--key-file", str(key), "--kid", "k1",
                            "--alg", alg, "--claims-file", str(claims_file)],
                           capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL, env=ctx.base_env())
        assert r.returncode == 0, r.stderr
        token = register_secret(r.stdout.strip())
        header, got = verify_independently(rs256_jwk(key), token)
        assert header == {"typ": "JWT", "alg": alg, "kid": "k1",
                          "x5t": rs256_jwk(key)["x5t"]} and got == claims
    r = subprocess.run([PYTHON, tool, "jwk", "--key-file", str(key)], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL, env=ctx.base_env())
    assert r.returncode == 0 and json.loads(r.stdout) == rs256_jwk(key)
    assert_absent(pem.splitlines()[1], r.stdout + r.stderr, "jwt_rs256.py jwk output")
