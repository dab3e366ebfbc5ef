# SPDX-License-Identifier: MIT
"""libcurl and OpenSSL are loaded on first use (common/curl_dl.c,
agent/util/openssl_dl.c): an agent holding only API keys never maps them; the
first token fetch loads them; on a machine without them the profile's token
error names the library and the package to install, and the agent lives on.
The last case runs build/tests/aoai-agent-nolibs, an agent built to ask for
sonames that do not exist."""

import os

import pytest

from aoaitest import expect_rc, fail, register_secret

HOST = "lazy.openai.azure.com"
OPTIONAL = ("libcurl", "libssl", "libcrypto")


def mapped_libraries(pid):
    """The file names of the shared objects mapped into @pid."""
    names = set()
    with open(f"/proc/{pid}/maps", encoding="ascii", errors="replace") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 6 and ".so" in fields[5]:
                names.add(os.path.basename(fields[5]))
    return names


def optional_mapped(pid):
    return sorted(n for n in mapped_libraries(pid) if n.startswith(OPTIONAL))


def managed_identity_config(ctx, identity):
    """A profile whose token comes from the fake IMDS, and the environment pointing there."""
    cfg = {"profiles": {"mi": {"hosts": [HOST], "credential": {"type": "managed-identity"}}}}
    env = ctx.env(sock=False, AZURE_POD_IDENTITY_AUTHORITY_HOST=identity.base)
    return ctx.write_config(cfg), env


def test_api_key_agent_maps_neither_libcurl_nor_openssl(ctx, start_agent, aoai):
    a = start_agent()
    key = register_secret("fake-lazy-key-" + ctx.secret())
    expect_rc(aoai("add", "contoso", "--host", HOST, input=key + "\n"), 0, "aoai add")
    expect_rc(aoai("list"), 0, "aoai list")
    expect_rc(aoai("status"), 0, "aoai status")
    assert optional_mapped(a.pid) == [], optional_mapped(a.pid)


def test_first_token_fetch_loads_libcurl(ctx, start_agent, aoai, aoai_json, identity):
    config, env = managed_identity_config(ctx, identity)
    a = start_agent(config=config, env=env)
    tok = aoai_json("token")
    register_secret(tok["accessToken"])
    assert tok["tokenType"] == "Bearer", tok
    (p,) = aoai_json("list")["profiles"]
    assert p["token"]["state"] == "valid", p
    libs = optional_mapped(a.pid)
    if not any(n.startswith("libcurl") for n in libs):
        fail(f"libcurl is not mapped after a token fetch: {libs}")
    assert len(identity.requests("imds")) == 1


@pytest.fixture
def nolibs_agent(build):
    path = build.root / "tests" / "aoai-agent-nolibs"
    if not os.access(path, os.X_OK):
        fail(f"missing {path}: build it with `make all`")
    return path


def test_missing_libcurl_named_in_the_token_error(ctx, start_agent, aoai, aoai_json, identity,
                                                  nolibs_agent):
    config, env = managed_identity_config(ctx, identity)
    a = start_agent(config=config, env=env, binary=nolibs_agent)
    r = aoai("token")
    assert r.returncode != 0, r
    for words in ("libcurl-aoai-missing.so.4 cannot be loaded", "install the libcurl4 package"):
        assert words in r.stderr, r.stderr
    (p,) = aoai_json("list")["profiles"]
    assert "libcurl-aoai-missing.so.4" in p["token"]["last_error"], p
    listing = expect_rc(aoai("list"), 0, "aoai list").stdout
    assert "install the libcurl4 package" in listing, listing
    assert identity.requests("imds") == []
    assert a.alive(), "the agent died"
    # An API key still works without the libraries.
    key = register_secret("fake-lazy-key-" + ctx.secret())
    expect_rc(aoai("add", "contoso", "--host", "other.openai.azure.com", input=key + "\n"), 0,
              "aoai add")
    assert optional_mapped(a.pid) == [], optional_mapped(a.pid)
