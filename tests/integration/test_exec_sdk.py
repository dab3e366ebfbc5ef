# SPDX-License-Identifier: MIT
"""Real SDK clients through aoai-exec: Debian's python3-azure
(DefaultAzureCredential) and, from npm, `openai` (AzureOpenAI) with
`@azure/identity` (DefaultAzureCredential, getBearerTokenProvider).

The npm packages are installed once per build tree into $AOAI_BUILD/node
(`npm install --prefix`); without network that fails, and so do these tests."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import aoaitest
from aoaitest import CHAT_BODY, PYTHON, describe, expect_rc, fail, register_secret
from exectest import CONFLICTING

SCOPE = "https://cognitiveservices.azure.com/.default"
NPM_PACKAGES = ("openai", "@azure/identity")
NPM_TIMEOUT = 600
NODE_CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exec_node_client.js")

PY_CLIENT = r"""
import hashlib, json, os, sys, urllib.request
from azure.identity import DefaultAzureCredential
t = DefaultAzureCredential().get_token(sys.argv[1])
url = os.environ["AZURE_OPENAI_ENDPOINT"].rstrip("/") + \
    "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
req = urllib.request.Request(url, data=sys.argv[2].encode(), method="POST",
    headers={"Authorization": "Bearer " + t.token, "Content-Type": "application/json"})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(req, timeout=10) as r:
    status = r.status
print(json.dumps({"fp": hashlib.sha256(t.token.encode()).hexdigest()[:12],
                  "expires_on": t.expires_on, "status": status}))
"""


def sha12(value):
    import hashlib
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def test_python_azure_default_credential(ctx, mi_scene, aoai_exec, aoai_json):
    mi_scene.start()
    # Every other credential DefaultAzureCredential knows is offered a stale setting:
    # aoai-exec must remove them all, so that the managed identity (ours) wins.
    r = expect_rc(aoai_exec("--", PYTHON, "-c", PY_CLIENT, SCOPE, CHAT_BODY,
                            env=ctx.env(**CONFLICTING)), 0, "python3-azure client")
    got = json.loads(r.stdout.strip().splitlines()[-1])
    tok = aoai_json("token", "mi")
    register_secret(tok["accessToken"])
    assert got["fp"] == sha12(tok["accessToken"]), "DefaultAzureCredential's token is not the agent's"
    assert got["expires_on"] == tok["expires_on"] and got["status"] == 200, got


# --- Node.js ----------------------------------------------------------------------

@pytest.fixture(scope="session")
def node_modules(build):
    """$AOAI_BUILD/node/node_modules with openai and @azure/identity (installed once)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("node and npm are required (scripts/install-deps.sh test installs them)",
                    pytrace=False)
    prefix = Path(build.root) / "node"
    modules = prefix / "node_modules"
    if all((modules / p / "package.json").is_file() for p in NPM_PACKAGES):
        return modules
    prefix.mkdir(exist_ok=True)
    # The user's npm configuration (registry, proxy, CA) applies; only the cache is ours.
    env = dict(os.environ, npm_config_cache=str(prefix / ".npm-cache"),
               npm_config_update_notifier="false")
    try:
        r = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix),
                            *NPM_PACKAGES], env=env, capture_output=True, text=True,
                           timeout=NPM_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"npm install {' '.join(NPM_PACKAGES)} did not finish within "
                    f"{NPM_TIMEOUT}s (no network?)", pytrace=False)
    if r.returncode != 0:
        pytest.fail(f"npm install {' '.join(NPM_PACKAGES)} failed (exit {r.returncode}; "
                    f"network needed once per build tree):\n{r.stderr[-3000:]}", pytrace=False)
    return modules


def node_env(ctx, modules, **extra):
    return ctx.env(NODE_PATH=modules, **extra)


def test_node_openai_api_key(ctx, key_scene, aoai_exec, node_modules):
    r = expect_rc(aoai_exec("--", "node", NODE_CLIENT, "apikey",
                            env=node_env(ctx, node_modules, **CONFLICTING)), 0, "node apikey")
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["status"] == 200 and "fake Azure OpenAI" in got["content"], got
    (req,) = [e for e in key_scene.fake.requests() if e["path"].endswith("/chat/completions")]
    assert req["header_fps"].get("api-key") == [sha12(key_scene.key)], req


def test_node_entra_across_refresh(ctx, mi_scene, exec_child, node_modules):
    # Tokens of 45 s: the agent serves one until 30 s before it expires and fetches
    # the next one halfway there, and the SDKs see it as due for renewal at once.
    mi_scene.identity.settings(expires_in=45)
    mi_scene.start()
    c = exec_child("--", "node", NODE_CLIENT, "entra",
                   env=node_env(ctx, node_modules, **CONFLICTING))
    first = json.loads(c.line(timeout=30))
    assert first["phase"] == "first" and first["status"] == 200, (first, c.stderr())
    mi_scene.identity.wait_requests("imds", 2, timeout=20)  # the agent refreshed
    c.send("go\n")
    after = json.loads(c.line(timeout=30))
    assert after["phase"] == "after" and set(after["statuses"]) == {200}, (after, c.stderr())
    assert after["tokens"] == 2, f"the client never got the refreshed token: {after}"
    assert c.wait() == 0, c.stderr()
    fps = [e["header_fps"]["authorization"][0] for e in mi_scene.fake.requests()
           if e["path"].endswith("/chat/completions")]
    assert len(set(fps)) == 2 and len(fps) == 1 + len(after["statuses"]), fps
    assert all(e["status"] == 200 for e in mi_scene.fake.requests()), mi_scene.fake.requests()
