# SPDX-License-Identifier: MIT
"""Every token source end to end: the real agent gets a token from the fake
identity service (which checks each request the way the real service does),
`aoai token` and `aoai headers` hand it out, and the real curl gets 200 from
the fake Azure OpenAI endpoint, which verifies the token's signature,
audience and expiry."""

import time

import pytest

from aoaitest import (assert_absent, curl_chat, describe, expect_rc, fail, register_secret,
                      stop_fake)
from identity import az_calls, fake_az_env, start_fake_aoai_jwt

RESOURCE = "https://cognitiveservices.azure.com"
SCOPE = RESOURCE + "/.default"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "0c9a3d5e-0000-4000-8000-000000000001"
OBJECT = "5e1b9c4d-0000-4000-8000-000000000002"
MI_RES = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
          "Microsoft.ManagedIdentity/userAssignedIdentities/aoai")


@pytest.fixture
def serve(ctx, start_agent, identity):
    """serve(credential, env={}, secrets=None) -> fake AOAI; an agent whose
    profile "aoai" covers that fake with @credential is running."""
    fakes = []

    def start(credential, env=None, secrets=None):
        fake = start_fake_aoai_jwt(ctx, identity)
        fakes.append(fake)
        cfg = {"profiles": {"aoai": {"hosts": [fake.hostport], "credential": credential}}}
        if secrets:
            cfg["secrets"] = secrets
        start_agent(config=ctx.write_config(cfg), env=ctx.env(sock=False, **(env or {})))
        return fake

    yield start
    for f in fakes:
        stop_fake(f)


def end_to_end(ctx, build, aoai_json, fake, source, minted_by=None):
    """`aoai token`, then `aoai headers | curl`: the fake accepts the token
    and says which of the identity service's routes minted it (@minted_by,
    default @source); `aoai list` names @source.  Returns the token's JSON."""
    tok = aoai_json("token")
    register_secret(tok["accessToken"])  # the agent's log is checked for it at teardown
    assert tok["tokenType"] == "Bearer", tok
    assert tok["expires_on"] > time.time() + 600, tok
    status, body = curl_chat(ctx, fake.chat_url, with_headers_from=build.aoai)
    if status != 200:
        fail(f"the fake Azure OpenAI endpoint answered {status}: {body}")
    srcs = [r.get("bearer_src") for r in fake.requests() if r.get("bearer_src")]
    assert srcs == [minted_by or source], srcs
    (p,) = aoai_json("list")["profiles"]
    assert p["token"]["source"] == source and p["token"]["state"] == "valid", p
    return tok


def only(requests, what):
    if len(requests) != 1:
        fail(f"expected one {what} request, the fake saw {len(requests)}: {requests}")
    return requests[0]


def header_names(req):
    return {h.lower() for h in req["headers"]}


# --- managed identity -------------------------------------------------------------

@pytest.mark.parametrize("types", ["strings", "numbers"])
def test_imds_from_environment(ctx, build, identity, serve, aoai, aoai_json, types):
    identity.settings(number_types=(types == "numbers"))
    # A proxy in the environment is not used for an endpoint on this machine.
    proxy = "http://127.0.0.1:1"
    fake = serve({"type": "managed-identity"},
                 env={"AZURE_POD_IDENTITY_AUTHORITY_HOST": identity.base, "http_proxy": proxy,
                      "HTTP_PROXY": proxy, "all_proxy": proxy})
    end_to_end(ctx, build, aoai_json, fake, "imds")
    listing = expect_rc(aoai("list"), 0, "aoai list").stdout
    assert "managed-identity (imds)" in listing and "token expires in " in listing, listing
    req = only(identity.requests("imds"), "IMDS")
    assert req["method"] == "GET" and req["status"] == 200, req
    assert req["query"]["api-version"] == "2018-02-01" and req["query"]["resource"] == RESOURCE
    assert "metadata" in header_names(req)
    assert not {"client_id", "object_id", "msi_res_id"} & set(req["query"]), req


@pytest.mark.parametrize("key,value,param", [
    ("client_id", CLIENT, "client_id"),
    ("object_id", OBJECT, "object_id"),
    ("resource_id", MI_RES, "msi_res_id"),
])
def test_imds_user_assigned(ctx, build, identity, serve, aoai_json, key, value, param):
    endpoint = identity.imds_authority + "/metadata/identity/oauth2/token"
    fake = serve({"type": "managed-identity", "endpoint": endpoint, key: value})
    end_to_end(ctx, build, aoai_json, fake, "imds")
    req = only(identity.requests("imds"), "IMDS")
    assert req["query"].get(param) == value, req


def test_imds_default_client_id_from_environment(ctx, build, identity, serve, aoai_json):
    # DefaultAzureCredential's AZURE_CLIENT_ID selects the user-assigned identity.
    fake = serve({"type": "managed-identity"},
                 env={"AZURE_POD_IDENTITY_AUTHORITY_HOST": identity.base, "AZURE_CLIENT_ID": CLIENT})
    end_to_end(ctx, build, aoai_json, fake, "imds")
    assert only(identity.requests("imds"), "IMDS")["query"].get("client_id") == CLIENT


@pytest.mark.parametrize("date_form", [None, "2017"])
def test_app_service(ctx, build, identity, serve, aoai_json, date_form):
    identity.settings(date_form=date_form)
    fake = serve({"type": "managed-identity", "resource_id": MI_RES},
                 env={"IDENTITY_ENDPOINT": identity.app_service_url,
                      "IDENTITY_HEADER": identity.identity_header})
    end_to_end(ctx, build, aoai_json, fake, "app-service")
    req = only(identity.requests("app-service"), "App Service")
    assert req["query"]["api-version"] == "2019-08-01" and req["query"]["resource"] == RESOURCE
    assert req["query"].get("mi_res_id") == MI_RES, req
    assert "x-identity-header" in header_names(req)


def test_plain_http_endpoint_elsewhere_refused(ctx, identity, serve, aoai):
    # From the environment too: a token request over plain http may only go
    # to this machine (loopback, or the IMDS address).
    serve({"type": "managed-identity"},
          env={"IDENTITY_ENDPOINT": "http://identity.example.com/msi/token",
               "IDENTITY_HEADER": identity.identity_header})
    r = expect_rc(aoai("token"), 6, "plain http to another host")
    assert "app-service" in r.stderr and "plain http" in r.stderr, describe(r)


def test_azure_arc_challenge(ctx, build, identity, serve, aoai_json):
    fake = serve({"type": "managed-identity"},
                 env={"IDENTITY_ENDPOINT": identity.arc_url, "IMDS_ENDPOINT": identity.base,
                      "AOAI_ARC_KEY_DIR": str(identity.arc_key_dir)})
    end_to_end(ctx, build, aoai_json, fake, "azure-arc")
    first, second = identity.requests("azure-arc")
    assert first["status"] == 401 and "authorization" not in header_names(first), first
    assert second["status"] == 200 and "authorization" in header_names(second), second
    assert second["query"]["api-version"] == "2020-06-01"


def test_azure_arc_refuses_key_outside_allowed_dir(ctx, identity, serve, aoai):
    # The challenge names a file the agent must not read: only the allowed
    # directory's *.key files prove anything.
    elsewhere = ctx.path("not-arc")
    elsewhere.mkdir()
    serve({"type": "managed-identity"},
          env={"IDENTITY_ENDPOINT": identity.arc_url, "IMDS_ENDPOINT": identity.base,
               "AOAI_ARC_KEY_DIR": str(elsewhere)})
    r = expect_rc(aoai("token"), 6, "Arc challenge outside the allowed directory")
    assert "azure-arc" in r.stderr and "challenge" in r.stderr, describe(r)
    assert [q["status"] for q in identity.requests("azure-arc")] == [401]


def test_cloud_shell(ctx, build, identity, serve, aoai_json):
    fake = serve({"type": "managed-identity"}, env={"MSI_ENDPOINT": identity.cloud_shell_url})
    end_to_end(ctx, build, aoai_json, fake, "cloud-shell")
    req = only(identity.requests("cloud-shell"), "Cloud Shell")
    assert req["method"] == "POST" and "resource" in req["form"], req
    assert "metadata" in header_names(req)


def test_service_fabric_pinned(ctx, build, start_agent, aoai_json, aoai, identity_tls):
    fi = identity_tls
    env = {"IDENTITY_ENDPOINT": fi.sf_url, "IDENTITY_HEADER": fi.identity_header,
           "IDENTITY_SERVER_THUMBPRINT": fi.sf_thumbprint}
    fake = start_fake_aoai_jwt(ctx, fi)
    try:
        cfg = {"profiles": {"aoai": {"hosts": [fake.hostport],
                                     "credential": {"type": "managed-identity"}}}}
        a = start_agent(config=ctx.write_config(cfg), env=ctx.env(sock=False, **env))
        end_to_end(ctx, build, aoai_json, fake, "service-fabric")
        req = only(fi.requests("service-fabric"), "Service Fabric")
        assert req["query"]["api-version"] == "2019-07-01-preview"
        assert "secret" in header_names(req)
        a.stop()

        # Another certificate than the pinned one: no token, whatever the CAs say.
        wrong = "".join("0" if c != "0" else "1" for c in fi.sf_thumbprint)
        start_agent(config=ctx.write_config(cfg),
                    env=ctx.env(sock=False, **{**env, "IDENTITY_SERVER_THUMBPRINT": wrong}))
        r = expect_rc(aoai("token"), 6, "thumbprint mismatch")
        assert "service-fabric" in r.stderr, describe(r)
        assert len(fi.requests("service-fabric")) == 1, "no request may pass the pin"
    finally:
        stop_fake(fake)


# --- service principals -----------------------------------------------------------

def entra_env(identity, **extra):
    return {"AZURE_AUTHORITY_HOST": identity.authority, **extra}


def test_workload_identity_from_environment(ctx, build, identity, serve, aoai_json, aoai):
    env = entra_env(identity, AZURE_FEDERATED_TOKEN_FILE=identity.federated_token_file,
                    AZURE_TENANT_ID=TENANT, AZURE_CLIENT_ID=CLIENT)
    fake = serve({"type": "workload-identity"}, env=env)
    end_to_end(ctx, build, aoai_json, fake, "workload-identity", "entra")
    req = only(identity.requests("entra"), "token endpoint")
    assert req["path"] == f"/{TENANT}/oauth2/v2.0/token" and req["status"] == 200, req
    assert set(req["form"]) == {"grant_type", "client_id", "scope", "client_assertion_type",
                                "client_assertion"}, req

    # Kubernetes rotates the projected token: the next fetch reads the new one
    # (the fake accepts only the file's current content).
    ctx.write_file(identity.federated_token_file, ctx.secret(32))
    tok = aoai_json("token", "--scope", "api://aoai-gateway/.default")
    register_secret(tok["accessToken"])
    assert [q["status"] for q in identity.requests("entra")] == [200, 200]


def test_workload_identity_config_overrides_environment(ctx, build, identity, serve, aoai_json):
    other = "11111111-2222-4333-8444-555555555555"
    env = entra_env(identity, AZURE_FEDERATED_TOKEN_FILE=ctx.path("nonexistent"),
                    AZURE_TENANT_ID=other, AZURE_CLIENT_ID=other)
    fake = serve({"type": "workload-identity", "tenant_id": TENANT, "client_id": CLIENT,
                  "token_file": str(identity.federated_token_file), "authority_host": identity.authority},
                 env=env)
    end_to_end(ctx, build, aoai_json, fake, "workload-identity", "entra")
    assert only(identity.requests("entra"), "token endpoint")["path"].startswith(f"/{TENANT}/")


def test_client_secret(ctx, build, identity, serve, aoai_json):
    fake = serve({"type": "client-secret", "tenant_id": TENANT, "client_id": CLIENT,
                  "secret": "sp"},
                 env=entra_env(identity), secrets={"sp": {"file": str(identity.client_secret_file)}})
    end_to_end(ctx, build, aoai_json, fake, "client-secret", "entra")
    req = only(identity.requests("entra"), "token endpoint")
    assert set(req["form"]) == {"grant_type", "client_id", "scope", "client_secret"}, req


def test_client_secret_rejected_is_not_retried(ctx, identity, serve, aoai, aoai_json):
    wrong = ctx.write_file("wrong-secret", ctx.secret() + "\n")
    serve({"type": "client-secret", "tenant_id": TENANT, "client_id": CLIENT, "secret": "sp"},
          env=entra_env(identity), secrets={"sp": {"file": str(wrong)}})
    r = expect_rc(aoai("token"), 6, "wrong client secret")
    # The identity service's own words reach the user: status and description.
    assert "401" in r.stderr and "AADSTS7000215" in r.stderr, describe(r)
    assert len(identity.requests("entra")) == 1, "401 must not be retried"
    (p,) = aoai_json("list")["profiles"]
    assert "AADSTS7000215" in (p["token"]["last_error"] or ""), p


@pytest.mark.parametrize("body_kind", ["text", "json"])
def test_echoed_secret_is_masked_in_errors(ctx, identity, serve, aoai, aoai_json, body_kind):
    # A proxy or a broken endpoint that echoes the request must not get the
    # client secret into the error the agent logs and hands to clients.
    secret = "s3cr+t/" + ctx.secret()  # characters that form-encoding changes
    secret_file = ctx.write_file("sp-secret", secret + "\n")
    encoded = secret.replace("+", "%2B").replace("/", "%2F")
    if body_kind == "text":
        body = f"bad gateway; request was client_secret={encoded} raw={secret}"
    else:
        body = {"error": "invalid_client", "error_description": f"got {secret} / {encoded}"}
    identity.script("entra", {"status": 400, "body": body})
    serve({"type": "client-secret", "tenant_id": TENANT, "client_id": CLIENT, "secret": "sp"},
          env=entra_env(identity), secrets={"sp": {"file": str(secret_file)}})
    r = expect_rc(aoai("token"), 6, "echoing endpoint")
    assert_absent(secret, r.stderr, "the error message")
    assert_absent(encoded, r.stderr, "the error message")
    assert "[redacted]" in r.stderr and "400" in r.stderr, describe(r)
    (p,) = aoai_json("list")["profiles"]
    assert_absent(secret, p["token"]["last_error"] or "", "aoai list")


@pytest.mark.parametrize("send_chain", [False, True])
def test_client_certificate(ctx, build, identity, serve, aoai_json, send_chain):
    fake = serve({"type": "client-certificate", "tenant_id": TENANT, "client_id": CLIENT,
                  "certificate": str(identity.cert_rsa), "send_chain": send_chain},
                 env=entra_env(identity))
    end_to_end(ctx, build, aoai_json, fake, "client-certificate", "entra")
    req = only(identity.requests("entra"), "token endpoint")
    assert set(req["form"]) == {"grant_type", "client_id", "scope", "client_assertion_type",
                                "client_assertion"}, req


# --- Azure CLI --------------------------------------------------------------------

def test_azure_cli(ctx, build, identity, serve, aoai_json):
    fake = serve({"type": "azure-cli", "tenant_id": TENANT}, env=fake_az_env(ctx, identity))
    end_to_end(ctx, build, aoai_json, fake, "azure-cli")
    (call,) = az_calls(ctx)
    assert call["argv"][1:] == ["account", "get-access-token", "--output", "json",
                                "--resource", RESOURCE, "--tenant", TENANT], call


def test_azure_cli_not_logged_in(ctx, identity, serve, aoai):
    serve({"type": "azure-cli"}, env=fake_az_env(ctx, identity, mode="login"))
    r = expect_rc(aoai("token"), 6, "az not logged in")
    assert "az login" in r.stderr, describe(r)
    assert len(az_calls(ctx)) == 1, "a login problem is not retried"


def test_azure_cli_garbage(ctx, identity, serve, aoai):
    serve({"type": "azure-cli"}, env=fake_az_env(ctx, identity, mode="garbage"))
    r = expect_rc(aoai("token"), 6, "az printed no JSON")
    assert "azure-cli" in r.stderr, describe(r)
