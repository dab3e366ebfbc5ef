# SPDX-License-Identifier: MIT
"""Harness for the fake Azure Key Vault (tests/fakes/fake_keyvault.py).

    kv = start_keyvault(ctx, fi)             # fi: a running fake identity service
    version = kv.set_secret("aoai-key", value)   # a new version; value registered as secret
    kv.script({"status": 503})               # the next request fails
    kv.fail_until_cleared({"hang": True}); kv.clear()
    kv.permit_get(False)                     # 403 Forbidden until permit_get(True)
    kv.requests()                            # the fake's log (never values or tokens)
    stop_keyvault(kv)

The fake accepts bearer tokens minted by the fake identity service for the
Key Vault resource (it shares fi's signing key).
"""

import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import aoaitest
from aoaitest import PYTHON, fail, register_secret
from identity import FAKES_DIR, _opener, openssl_self_signed, wait_first_lines

FAKE_KEYVAULT = os.path.join(FAKES_DIR, "fake_keyvault.py")
CONTROL_TIMEOUT = 10.0
VAULT_RESOURCE = "https://vault.azure.net"
VAULT_SCOPE = VAULT_RESOURCE + "/.default"


class FakeKeyVault:
    """A running fake_keyvault.py; see the module docstring."""

    def __init__(self, proc, port, log, stderr_path, tls_cert=None):
        self.proc = proc
        self.port = port
        self.hostport = f"127.0.0.1:{port}"
        self.tls_cert = tls_cert   # the CA file a client verifies the HTTPS fake with
        self.base = f"{'https' if tls_cert else 'http'}://127.0.0.1:{port}"
        self.log = log
        self.stderr_path = stderr_path

    def secret_url(self, name, version=None):
        """The secret identifier the agent's config names (no api-version)."""
        return f"{self.base}/secrets/{name}" + (f"/{version}" if version else "")

    # --- control API -------------------------------------------------------------------

    def _control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with self.opener().open(req, timeout=CONTROL_TIMEOUT) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            fail(f"fake Key Vault control {method} {path}: {e.code} {e.read()[:500]!r}")
        except (OSError, ValueError) as e:
            fail(f"fake Key Vault control {method} {path} failed: {e}")

    def opener(self):
        """A urllib opener without proxies that trusts the fake's certificate, if any."""
        if not self.tls_cert:
            return _opener()
        import ssl
        tls = ssl.create_default_context(cafile=str(self.tls_cert))
        return urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                           urllib.request.HTTPSHandler(context=tls))

    def set_secret(self, name, value):
        """Stores @value as the newest version of @name; returns the version id."""
        register_secret(value)
        return self._control("POST", f"/_control/secrets/{name}", {"value": value})["version"]

    def versions(self):
        """{name: [version ids, oldest first]}."""
        return self._control("GET", "/_control/secrets")["secrets"]

    def script(self, *responses):
        """Queues one scripted response for each of the next requests."""
        return self._control("POST", "/_control/script", {"responses": list(responses)})

    def fail_until_cleared(self, response):
        """Answers every request with @response (after any queued ones) until clear()."""
        return self._control("POST", "/_control/script", {"until_cleared": response})

    def clear(self):
        """Drops the queued and the until-cleared responses."""
        self._control("POST", "/_control/clear", {})

    def permit_get(self, allowed):
        """Grants or revokes the caller's `secrets get` permission (403 when revoked)."""
        self._control("POST", "/_control/permissions", {"get": allowed})

    def reset(self):
        self._control("POST", "/_control/reset", {})

    def requests(self):
        return self._control("GET", "/_control/requests")["requests"]

    def wait_requests(self, pred, n=1, timeout=10.0, what="requests"):
        """Waits until at least @n logged requests satisfy @pred; returns them."""
        def enough():
            hits = [r for r in self.requests() if pred(r)]
            return hits if len(hits) >= n else None
        return aoaitest.wait_until(enough, timeout, f"{n} {what} at the fake Key Vault")

    def alive(self):
        return self.proc.poll() is None

    def log_text(self):
        try:
            return Path(self.log).read_text()
        except FileNotFoundError:
            return ""


def start_keyvault(ctx, fi, name="kv", tls=False, api_versions=()):
    """Starts tests/fakes/fake_keyvault.py trusting the tokens @fi mints (over HTTPS
    with a fresh self-signed certificate for 127.0.0.1 when @tls), accepting
    @api_versions (default: 7.4 only)."""
    log = ctx.path(f"{name}.requests.jsonl")
    stderr_path = ctx.path(f"{name}.stderr")
    argv = [PYTHON, FAKE_KEYVAULT, "--port", "0", "--jwt-key-file", str(fi.jwt_key_file),
            "--log", str(log), "--max-lifetime", "900"]
    for v in api_versions:
        argv += ["--api-version", v]
    cert = None
    if tls:
        cert, key = openssl_self_signed(ctx, f"{name}.tls", "localhost",
                                        ("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"))
        argv += ["--tls-cert", str(cert), "--tls-key", str(key)]
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=err, env=ctx.base_env())
    (line,) = wait_first_lines(proc, 1, "fake_keyvault", stderr_path)
    if not line.startswith("listening on 127.0.0.1:"):
        proc.kill()
        fail(f"fake_keyvault printed an unexpected first line: {line!r}")
    return FakeKeyVault(proc, int(line.rsplit(":", 1)[1]), log, stderr_path, cert)


def stop_keyvault(kv):
    """Stops the fake; returns its exit status (0 after SIGTERM)."""
    if kv.proc.poll() is None:
        kv.proc.terminate()
        try:
            kv.proc.wait(10)
        except subprocess.TimeoutExpired:
            kv.proc.kill()
            kv.proc.wait(5)
    kv.proc.stdout.close()
    return kv.proc.returncode


def check_log_has_no_secrets(kv):
    """The fake's request log must hold no registered secret (values, tokens)."""
    text = kv.log_text()
    for s in list(aoaitest._SECRETS):
        if s in text:
            fail("a secret appears in the fake Key Vault's request log")


def managed_identity_profile(fi, *hosts):
    """A token profile using the fake IMDS; the via profile of keyvault secrets."""
    return {"hosts": list(hosts),
            "credential": {"type": "managed-identity", "endpoint": fi.imds_url}}


def keyvault_config(fi, kv, aoai_hostport, url, refresh=5, secret="kv-key"):
    """An agent config: profile "vm" (managed identity, covering the vault's host),
    secret @secret from Key Vault @url via "vm", and profile "aoai" (api-key from
    that secret) for @aoai_hostport."""
    entry = {"keyvault": url, "via": "vm"}
    if refresh is not None:
        entry["refresh"] = refresh
    return {"secrets": {secret: entry},
            "profiles": {"vm": managed_identity_profile(fi, kv.hostport),
                         "aoai": {"hosts": [aoai_hostport],
                                  "credential": {"type": "api-key", "secret": secret}}}}


@pytest.fixture
def keyvault(ctx, identity):
    """A running fake Key Vault trusting the `identity` fixture's tokens; at teardown
    it must exit cleanly, without a traceback and with no secret in its log."""
    kv = start_keyvault(ctx, identity)
    yield kv
    check_log_has_no_secrets(kv)
    rc = stop_keyvault(kv)
    err = Path(kv.stderr_path).read_text(errors="replace")
    if rc != 0 or "Traceback" in err:
        fail(f"fake_keyvault exited {rc}; stderr:\n{err[-4000:]}")
