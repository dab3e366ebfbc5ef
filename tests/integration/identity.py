# SPDX-License-Identifier: MIT
"""Harness for the fake Microsoft Entra / managed-identity service
(tests/fakes/fake_identity.py), the fake Azure CLI (tests/fakes/az) and a
fake Azure OpenAI endpoint that accepts the tokens they mint.

    fi = start_identity(ctx, tls=True)
    fi.script("imds", {"status": 503, "headers": {"Retry-After": "1"}})
    fi.settings(expires_in=120)
    ... run the agent against fi.imds_authority / fi.authority / ...
    fi.requests("imds")  -> the fake's log entries (names only, never values)
    stop_identity(fi)

With rs256=True (fixture identity_rs256) the fake mints RS256 tokens with a key
made here and publishes Entra's discovery documents for it:

    fi.openid_config_url(tenant, v2=True)   -> its .well-known/openid-configuration
    fi.mint(claims, alg="PS256")            -> a token signed in-process (no argv)
    fi.publish_keys([rs256_jwk(path)])      -> extra keys in discovery/keys
    fi.requests("openid"), fi.requests("jwks")  -> discovery fetches

Every secret made here (signing key, identity header, client secret, federated
token, private keys) is registered with ctx so failure messages redact it.
"""

import hashlib
import json
import os
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

import aoaitest
from aoaitest import PYTHON, READY_TIMEOUT, TESTS_DIR, fail, register_secret

FAKES_DIR = os.path.join(TESTS_DIR, "fakes")
FAKE_IDENTITY = os.path.join(FAKES_DIR, "fake_identity.py")
FAKE_AOAI = os.path.join(FAKES_DIR, "fake_aoai.py")
FAKE_AZ = os.path.join(FAKES_DIR, "az")
sys.path.insert(0, FAKES_DIR)
CONTROL_TIMEOUT = 10.0
OPENSSL_TIMEOUT = 30.0

AOAI_SCOPE = "https://cognitiveservices.azure.com/.default"
AOAI_RESOURCE = "https://cognitiveservices.azure.com"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# The identities fake_identity.py knows (see its SYSTEM_IDENTITY and --user-assigned).
SYSTEM_CLIENT_ID = "0e5b8c2d-4f71-4a3e-b6d9-2c1f7a8e9b40"
SYSTEM_OBJECT_ID = "a7d2e9f1-3b6c-4e85-9f0a-5c4d2b1e8f73"
MI_TENANT = "d3c9f1a4-6e2b-4c87-9a51-0f2e8b7c6d15"
AZ_TENANT = "3f8c2b1e-7a4d-4e59-b6c0-2d9e1f4a8b73"         # the fake az's default tenant
AZ_SUBSCRIPTION = "9b7e4c2a-1d3f-4a86-9e5b-7c0d2f1a3e48"   # and subscription


def _opener():
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def wait_first_lines(proc, n, what, stderr_path, timeout=READY_TIMEOUT):
    """The first @n stdout lines of @proc, read with select within @timeout."""
    buf = b""
    deadline = time.monotonic() + timeout
    while buf.count(b"\n") < n:
        left = deadline - time.monotonic()
        ready = select.select([proc.stdout], [], [], left)[0] if left > 0 else []
        if not ready:
            proc.kill()
            proc.wait(5)
            fail(f"{what} did not report its port in time; stdout: {buf!r}")
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            proc.wait(5)
            fail(f"{what} exited early: {Path(stderr_path).read_text(errors='replace')}")
        buf += chunk
    return [line.decode() for line in buf.split(b"\n")[:n]]


def openssl_self_signed(ctx, stem, cn, extra=()):
    """(cert_path, key_path) of a fresh self-signed RSA-2048 certificate made with openssl."""
    cert, key = ctx.path(f"{stem}.crt"), ctx.path(f"{stem}.key")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-subj", f"/CN={cn}", "-days", "2", "-keyout", str(key),
                        "-out", str(cert), *extra],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=OPENSSL_TIMEOUT, env=ctx.base_env())
    if r.returncode != 0:
        fail(f"openssl req failed: {r.stderr}")
    os.chmod(key, 0o600)
    register_secret(key.read_text())
    return cert, key


class FakeIdentity:
    """A running fake_identity.py; see the module docstring."""

    def __init__(self, proc, port, tls_port, thumbprint, **files):
        self.proc = proc
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.base_url = self.base
        self.tls_port = tls_port
        self.sf_thumbprint = thumbprint
        self.sf_url = f"https://127.0.0.1:{tls_port}/sf/token" if tls_port else None
        self.__dict__.update(files)
        self.imds_authority = self.base
        self.imds_url = self.base + "/metadata/identity/oauth2/token"
        self.app_service_url = self.base + "/msi/token"
        self.arc_url = self.base + "/arc/token"
        self.cloud_shell_url = self.base + "/cloudshell/token"
        self.authority = self.base
        self.system_client_id = SYSTEM_CLIENT_ID
        self.system_object_id = SYSTEM_OBJECT_ID

    def token_url(self, tenant=None):
        """The Entra token endpoint of @tenant (default self.tenant_id)."""
        return f"{self.base}/{tenant or self.tenant_id}/oauth2/v2.0/token"

    # --- Entra discovery and RS256 (rs256=True) --------------------------------------------

    def _discovery_base(self, tls, host):
        if not tls:
            return self.base
        if not self.tls_port:
            fail("the fake identity was started without tls=True")
        return f"https://{host}:{self.tls_port}"

    def openid_config_url(self, tenant=None, v2=True, tls=False, host="127.0.0.1"):
        """The OpenID configuration of @tenant (default self.tenant_id), v2 or v1."""
        return (f"{self._discovery_base(tls, host)}/{tenant or self.tenant_id}"
                f"{'/v2.0' if v2 else ''}/.well-known/openid-configuration")

    def jwks_url(self, tenant=None, v2=True, tls=False, host="127.0.0.1"):
        return (f"{self._discovery_base(tls, host)}/{tenant or self.tenant_id}"
                f"/discovery{'/v2.0' if v2 else ''}/keys")

    def mint(self, claims, alg="RS256", key_file=None, kid=None, header=None):
        """A token of @claims signed in-process with @key_file (default the fake's key)
        and header kid @kid (default that key's x5t); registered as a secret."""
        import jwt_rs256
        key_file = key_file or self.signing_key_file
        if key_file is None:
            fail("mint() needs start_identity(rs256=True) or a key_file")
        if kid is None and key_file == self.signing_key_file:
            kid = self.kid
        token = jwt_rs256.mint(jwt_rs256.load_key(key_file), claims, kid, alg, header)
        return register_secret(token)

    def publish_keys(self, keys):
        """Replaces the extra keys the discovery/keys documents list after the fake's own."""
        return self._control("POST", "/_fake/keys", {"keys": list(keys)})["keys"]

    # --- control API ---------------------------------------------------------------

    def _control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with _opener().open(req, timeout=CONTROL_TIMEOUT) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            fail(f"fake identity control {method} {path}: {e.code} {e.read()[:500]!r}")
        except (OSError, ValueError) as e:
            fail(f"fake identity control {method} {path} failed: {e}")

    def script(self, source, *responses):
        """Queues scripted responses for @source ("imds", …, "entra" or "*")."""
        return self._control("POST", "/_fake/script",
                             {"source": source, "responses": list(responses)})

    def settings(self, **kw):
        """Changes token shapes: expires_in, refresh_in, number_types, date_form, omit,
        client_ids, tenants, roles, defaults=True; returns the settings now in force.

        roles: None (no claim), ["R", …] (every token) or {client_id: ["R", …]} (the
        tokens whose appid is that client id, matched without case)."""
        return self._control("POST", "/_fake/settings", kw)["settings"]

    def requests(self, source=None):
        entries = self._control("GET", "/_fake/requests")["requests"]
        return [e for e in entries if source is None or e["source"] == source]

    def wait_requests(self, source, n, timeout=10.0):
        """Waits until the fake has logged at least @n requests of @source."""
        return aoaitest.wait_until(lambda: (lambda r: r if len(r) >= n else None)(
            self.requests(source)), timeout, f"{n} {source} request(s) at the fake identity")

    def reset(self):
        """Clears the request log and every scripted-response queue."""
        self._control("POST", "/_fake/reset")

    def rotate_federated_token(self):
        """Writes a new workload-identity token (as kubelet would); returns it."""
        token = register_secret(_fake_service_account_token(self.tenant_id))
        self.federated_token = token
        tmp = Path(str(self.federated_token_file) + ".new")
        tmp.write_text(token)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.federated_token_file)
        return token

    def alive(self):
        return self.proc.poll() is None

    def log_text(self):
        try:
            return self.log.read_text()
        except FileNotFoundError:
            return ""


def new_rs256_key(ctx, stem):
    """A fresh RSA-2048 signing key in ctx's directory (PEM, mode 0600); its path."""
    import jwt_rs256
    path = ctx.path(f"{stem}.signing.key")
    jwt_rs256.save_key(jwt_rs256.generate_key(), str(path))
    register_secret(path.read_text())
    return path


def rs256_jwk(key_file, kid=None, issuer=None):
    """The public JWK of a key file, shaped as Entra publishes it."""
    import jwt_rs256
    return jwt_rs256.jwk(jwt_rs256.load_key(key_file), kid, issuer)


def start_identity(ctx, tls=False, name="identity", rs256=False, signing_kid=None):
    """Starts tests/fakes/fake_identity.py with fresh fake secrets under ctx.dir.

    @rs256: tokens are RS256, signed with a key made here (fi.signing_key_file,
    published with kid fi.kid: @signing_kid, default the key's x5t as Entra's)
    instead of HS256 with fi.jwt_key_file (the fake az still mints HS256)."""
    jwt_key = ctx.secret(32)
    identity_header = ctx.secret()
    client_secret = ctx.secret()
    files = {
        "jwt_key_file": ctx.write_file(f"{name}.jwt.key", jwt_key + "\n"),
        "identity_header": identity_header,
        "identity_header_file": ctx.write_file(f"{name}.identity-header", identity_header + "\n"),
        "client_secret": client_secret,
        "client_secret_file": ctx.write_file(f"{name}.client-secret", client_secret + "\n"),
        "tenant_id": str(uuid.uuid4()),
        "client_id": str(uuid.uuid4()),
        "ua_client_id": str(uuid.uuid4()),
        "ua_object_id": str(uuid.uuid4()),
        "log": ctx.path(f"{name}.requests.jsonl"),
        "stderr_path": ctx.path(f"{name}.stderr"),
    }
    files["ua_resource_id"] = (f"/subscriptions/{uuid.uuid4()}/resourceGroups/rg-aoai-test/"
                               "providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
                               "id-aoai-test")
    # A workload-identity token as Kubernetes projects it: an opaque JWT to the client.
    sa_token = _fake_service_account_token(files["tenant_id"])
    register_secret(sa_token)
    files["federated_token"] = sa_token
    files["federated_token_file"] = ctx.write_file(f"{name}.federated-token", sa_token)
    arc_dir = ctx.path(f"{name}-arc")
    arc_dir.mkdir(mode=0o700)
    files["arc_key_dir"] = arc_dir
    # The client certificate of the service principal: PEM certificate + private key.
    cert, key = openssl_self_signed(ctx, f"{name}.client", "aoai-test-client")
    files["cert_only"] = cert
    files["cert_key"] = key
    files["cert_rsa"] = ctx.write_file(f"{name}.client.pem", cert.read_text() + key.read_text())

    argv = [PYTHON, FAKE_IDENTITY, "--port", "0", "--jwt-key-file", str(files["jwt_key_file"]),
            "--log", str(files["log"]), "--max-lifetime", "900",
            "--arc-key-dir", str(arc_dir),
            "--identity-header-file", str(files["identity_header_file"]),
            "--client-secret-file", str(files["client_secret_file"]),
            "--federated-token-file", str(files["federated_token_file"]),
            "--client-cert", str(cert),
            "--user-assigned",
            f"{files['ua_client_id']},{files['ua_object_id']},{files['ua_resource_id']}"]
    files["signing_key_file"] = files["kid"] = files["signing_jwk"] = None
    if rs256:
        files["signing_key_file"] = new_rs256_key(ctx, name)
        files["signing_jwk"] = rs256_jwk(files["signing_key_file"], signing_kid)
        files["kid"] = files["signing_jwk"]["kid"]
        argv += ["--signing-key-file", str(files["signing_key_file"])]
        if signing_kid:
            argv += ["--signing-kid", signing_kid]
    files["tls_cert"] = files["tls_key"] = None
    if tls:
        tls_cert, tls_key = openssl_self_signed(
            ctx, f"{name}.tls", "localhost",
            ("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"))
        files["tls_cert"], files["tls_key"] = tls_cert, tls_key
        argv += ["--tls-cert", str(tls_cert), "--tls-key", str(tls_key)]
    with open(files["stderr_path"], "wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=err, env=ctx.base_env())
    lines = wait_first_lines(proc, 2 if tls else 1, "fake_identity", files["stderr_path"])
    if not lines[0].startswith("listening on 127.0.0.1:"):
        proc.kill()
        fail(f"fake_identity printed an unexpected first line: {lines[0]!r}")
    port = int(lines[0].rsplit(":", 1)[1])
    tls_port = thumbprint = None
    if tls:
        words = lines[1].split()
        if len(words) != 5 or words[:2] != ["tls", "on"] or words[3] != "sha1":
            proc.kill()
            fail(f"fake_identity printed an unexpected TLS line: {lines[1]!r}")
        tls_port, thumbprint = int(words[2].rsplit(":", 1)[1]), words[4]
    # Entra accepts any tenant and client id until fi.settings(tenants=…, client_ids=…).
    return FakeIdentity(proc, port, tls_port, thumbprint, **files)


def _fake_service_account_token(tenant):
    import base64
    import secrets

    def seg(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    now = int(time.time())
    return ".".join([
        seg({"alg": "RS256", "kid": secrets.token_hex(8)}),
        seg({"aud": ["api://AzureADTokenExchange"], "iss": f"https://oidc.example/{tenant}/",
             "sub": "system:serviceaccount:default:aoai-test", "iat": now, "exp": now + 3600,
             "nbf": now}),
        base64.urlsafe_b64encode(secrets.token_bytes(256)).rstrip(b"=").decode()])


def stop_identity(fi):
    """Stops the fake; returns its exit status (0 after SIGTERM)."""
    if fi.proc.poll() is None:
        fi.proc.terminate()
        try:
            fi.proc.wait(10)
        except subprocess.TimeoutExpired:
            fi.proc.kill()
            fi.proc.wait(5)
    fi.proc.stdout.close()
    return fi.proc.returncode


def _stop_and_check(fi):
    rc = stop_identity(fi)
    err = Path(fi.stderr_path).read_text(errors="replace")
    if rc != 0 or "Traceback" in err:
        fail(f"fake_identity exited {rc}; stderr:\n{err[-4000:]}")


# --- fake Azure OpenAI that accepts minted tokens -----------------------------------

def start_fake_aoai_jwt(ctx, fi, name="aoai"):
    """tests/fakes/fake_aoai.py accepting only bearer JWTs signed with fi's key."""
    log = ctx.path(f"{name}.requests.jsonl")
    stderr_path = ctx.path(f"{name}.stderr")
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen([PYTHON, FAKE_AOAI, "--jwt-key-file", str(fi.jwt_key_file),
                                 "--log", str(log), "--max-lifetime", "900"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                                env=ctx.base_env())
    (line,) = wait_first_lines(proc, 1, "fake_aoai", stderr_path)
    if not line.startswith("listening on 127.0.0.1:"):
        proc.kill()
        fail(f"fake_aoai printed an unexpected first line: {line!r}")
    return aoaitest.FakeAoai(proc, int(line.rsplit(":", 1)[1]), None, None, log)


# --- fake Azure CLI -------------------------------------------------------------------

def fake_az_env(ctx, fi, mode="ok", expires_in=3600):
    """Writes the fake az's state file; returns env additions (PATH with tests/fakes
    first, FAKE_AZ_STATE).  Call again to change the mode."""
    state = {"mode": mode, "jwt_key_file": str(fi.jwt_key_file), "expires_in": expires_in,
             "log": str(ctx.path("az-calls.jsonl"))}
    path = ctx.write_file("az-state.json", json.dumps(state))
    return {"PATH": f"{FAKES_DIR}:{ctx.base_env()['PATH']}", "FAKE_AZ_STATE": str(path)}


def az_calls(ctx):
    """The fake az's invocations: [{"time", "argv", "pid"}]."""
    try:
        with open(ctx.path("az-calls.jsonl")) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


# --- helpers for tests -------------------------------------------------------------

def sha1_thumbprint(cert_pem_path):
    import ssl
    text = Path(cert_pem_path).read_text()
    start = text.index("-----BEGIN CERTIFICATE-----")
    end = text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
    return hashlib.sha1(ssl.PEM_cert_to_DER_cert(text[start:end])).hexdigest().upper()


@pytest.fixture
def identity(ctx):
    """A running fake identity service (no TLS), stopped at teardown."""
    fi = start_identity(ctx)
    yield fi
    _stop_and_check(fi)


@pytest.fixture
def identity_rs256(ctx):
    """A running fake identity service minting RS256 tokens (no TLS)."""
    fi = start_identity(ctx, rs256=True)
    yield fi
    _stop_and_check(fi)


@pytest.fixture
def identity_tls(ctx):
    """The same with the Service Fabric HTTPS port."""
    fi = start_identity(ctx, tls=True)
    yield fi
    _stop_and_check(fi)
