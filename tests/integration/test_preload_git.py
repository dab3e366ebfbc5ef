# SPDX-License-Identifier: MIT
"""The LD_PRELOAD hook in git over https: git-remote-https uses Debian's GnuTLS
libcurl (symbol version CURL_GNUTLS_3), the multi interface and
curl_easy_duphandle.  The fake serves a bare repository for git's dumb-HTTP
protocol behind the API's authentication, so a clone succeeds only when the
hook adds the api-key; GIT_TRACE_CURL=1 must never show the key.

Skipped while build/lib/libaoai-preload.so has not been built."""

import pytest

from aoaitest import assert_absent, describe, expect_rc, fail
from preloadtest import fp, git_env, git_remote, make_git_repo, secret_fps

README_TEXT = "served by fake_aoai --git-root\n"


@pytest.fixture
def gpl(ctx, pl_factory):
    root, head = make_git_repo(ctx)
    pl = pl_factory(fake_extra=["--git-root", root])
    pl.head = head
    return pl


def remote(pl, host, *args, preload=True, trace=True):
    env = git_env(pl.ctx, base=pl.env(preload=preload),
                  **({"GIT_TRACE_CURL": "1"} if trace else {}))
    return git_remote(pl.ctx, pl.ca.ca_cert, f"{host}:{pl.port}:127.0.0.1", *args, env=env)


def git_url(pl, host):
    return pl.url(host, "/git/repo.git")


def check_trace(pl, r):
    assert_absent(pl.key, r.stdout + r.stderr, "git's output with GIT_TRACE_CURL=1")
    if "api-key" not in r.stderr.lower():
        fail(f"GIT_TRACE_CURL should show the injected header's name:\n{describe(r)}")


def check_all_keyed(pl, host):
    got = pl.reqs(host=host)
    if not got:
        fail("git sent no request to the fake")
    for e in got:
        if secret_fps(e) != {"api-key": [fp(pl.key)]} or e["status"] == 401:
            fail(f"a git request to {host} lacked the key (or got 401): {e}\nall: {got}")


def test_ls_remote(gpl):
    r = expect_rc(remote(gpl, "a.test", "ls-remote", git_url(gpl, "a.test")), 0, "ls-remote")
    if f"{gpl.head}\tHEAD" not in r.stdout.splitlines():
        fail(f"ls-remote did not list HEAD:\n{describe(r)}")
    check_trace(gpl, r)
    check_all_keyed(gpl, "a.test")


def test_clone(ctx, gpl):
    dest = ctx.path("clone")
    r = expect_rc(remote(gpl, "a.test", "clone", git_url(gpl, "a.test"), dest), 0, "git clone")
    check_trace(gpl, r)
    assert (dest / "README").read_text() == README_TEXT
    check_all_keyed(gpl, "a.test")
    paths = {e["path"] for e in gpl.reqs(host="a.test")}
    assert "/git/repo.git/info/refs" in paths and any("/objects/" in p for p in paths), paths


def test_clone_fails_without_the_hook(ctx, gpl):
    dest = ctx.path("clone")
    r = remote(gpl, "a.test", "clone", git_url(gpl, "a.test"), dest, preload=False)
    assert r.returncode != 0 and not dest.exists(), describe(r)
    got = gpl.reqs(host="a.test")
    assert got and got[0]["status"] == 401 and all(secret_fps(e) == {} for e in got), got


def test_unconfigured_host_gets_nothing(ctx, gpl):
    dest = ctx.path("clone")
    r = remote(gpl, "b.test", "clone", git_url(gpl, "b.test"), dest)
    assert r.returncode != 0 and not dest.exists(), describe(r)
    got = gpl.reqs(host="b.test")
    assert got and all(secret_fps(e) == {} and e["status"] == 401 for e in got), got
