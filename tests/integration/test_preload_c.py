# SPDX-License-Identifier: MIT
"""libaoai-preload.so in a C libcurl program (tests/preload/curl-client.c):
handle life cycles (reuse, CURLU, duphandle, reset, freed lists), redirects,
threads and fork, the multi interface, debug output, an absent or locked
agent, strict mode, programs without libcurl — and the same under valgrind.

The fake Azure OpenAI endpoint listens on plain http on 127.0.0.1, a
loopback URL, so the agent serves it; a second fake on another port is a
host no profile covers.  The fakes' request logs tell which requests carried
an api-key (never its value)."""

import os
import shutil

import pytest

from aoaitest import (api_key_profile, assert_absent, describe, expect_rc, fail, run, start_fake,
                      stop_fake)

VALGRIND = shutil.which("valgrind")
VALGRIND_ARGS = ("--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite",
                 "--quiet")
CLIENT_TIMEOUT = 60.0     # seconds for one curl-client run
VALGRIND_TIMEOUT = 240.0  # valgrind is slow, threads more so
REDACTED = "[redacted by aoai]"


class Preload:
    def __init__(self, build):
        self.lib = (build.root / "lib" / "libaoai-preload.so").resolve()
        self.client = build.root / "tests" / "preload" / "curl-client"
        for p in (self.lib, self.client):
            if not p.is_file():
                pytest.fail(f"missing {p}: build first (`make all`)", pytrace=False)
        # The dynamic loader ignores a relative LD_PRELOAD in some contexts.
        assert os.path.isabs(self.lib)


@pytest.fixture
def preload(build):
    return Preload(build)


@pytest.fixture
def other_fake(ctx):
    """A second fake on another port: no profile covers it."""
    fake = start_fake(ctx, name="other")
    yield fake
    stop_fake(fake)


@pytest.fixture
def agent_with_key(ctx, start_agent, fake_aoai, aoai):
    cfg = ctx.write_config({"profiles": {"contoso": api_key_profile(fake_aoai.hostport)}})
    a = start_agent(config=cfg)
    expect_rc(aoai("add", "contoso", input=fake_aoai.key + "\n"), 0, "aoai add")
    return a


def models(fake):
    return f"{fake.base}/openai/v1/models"


def redirect(fake, to):
    return f"{fake.base}/fake/redirect?to={to}"


def client(ctx, preload, *args, env=None, valgrind=False, timeout=None, preloaded=True,
           secret=None):
    """Runs curl-client ARGS with the hook preloaded; never shows a secret."""
    e = env or ctx.env()
    if preloaded:
        e = dict(e, LD_PRELOAD=str(preload.lib))
    cmd = [preload.client, *args]
    if valgrind:
        cmd = [VALGRIND, *VALGRIND_ARGS, *cmd]
    r = run(cmd, e, timeout=timeout or (VALGRIND_TIMEOUT if valgrind else CLIENT_TIMEOUT))
    if secret:
        assert_absent(secret, r.stdout + r.stderr, "curl-client's output")
    return r


def statuses(r):
    """{label: status} from curl-client's "LABEL: STATUS" lines."""
    out = {}
    for line in r.stdout.splitlines():
        label, sep, status = line.rpartition(": ")
        if sep and not line.startswith("debug> "):
            out[label] = status
    return out


def expect_statuses(r, want, what):
    got = statuses(r)
    if got != want:
        fail(f"{what}: expected {want}, got {got}\n{describe(r)}")


def expect_silent(r, what):
    expect_rc(r, 0, what)
    if r.stderr:
        fail(f"{what}: the hook printed something\n{describe(r)}")


def key_flags(fake):
    """(status, api-key present) of each request the fake saw, in order."""
    return [(q["status"], q["api_key_present"]) for q in fake.requests()]


# --- handle life cycles ---------------------------------------------------------


def test_covered_and_uncovered_hosts(ctx, preload, agent_with_key, fake_aoai, other_fake):
    r = client(ctx, preload, "get", models(fake_aoai), secret=fake_aoai.key)
    expect_silent(r, "get covered")
    expect_statuses(r, {"get": "200"}, "covered host")
    r = client(ctx, preload, "get", models(other_fake), secret=fake_aoai.key)
    expect_silent(r, "get uncovered")
    expect_statuses(r, {"get": "401"}, "uncovered host")
    (req,) = fake_aoai.requests()
    assert req["api_key_present"] and "x-app" in req["headers"], req
    (req,) = other_fake.requests()
    assert not req["api_key_present"] and "x-app" in req["headers"], req

    # Without the hook the same program gets nothing.
    r = client(ctx, preload, "get", models(fake_aoai), preloaded=False)
    expect_statuses(r, {"get": "401"}, "without the hook")


def test_reused_handle(ctx, preload, agent_with_key, fake_aoai, other_fake):
    r = client(ctx, preload, "reuse", models(fake_aoai), models(other_fake),
               secret=fake_aoai.key)
    expect_silent(r, "reuse")
    expect_statuses(r, {"first": "200", "second": "401", "third": "200"}, "reused handle")
    assert key_flags(other_fake) == [(401, False)]
    assert key_flags(fake_aoai) == [(200, True), (200, True)]


def test_curlu_disagreeing_with_url_gets_nothing(ctx, preload, agent_with_key, fake_aoai,
                                                 other_fake):
    # libcurl connects to the CURLU but reports CURLOPT_URL: the covered URL
    # must not send the key to the uncovered destination, nor the reverse.
    r = client(ctx, preload, "curlu", models(other_fake), models(fake_aoai),
               secret=fake_aoai.key)
    expect_rc(r, 0, "curlu uncovered/covered")
    expect_statuses(r, {"curlu": "401"}, "CURLU to the uncovered host")
    assert key_flags(other_fake) == [(401, False)]
    assert fake_aoai.requests() == []
    if len(r.stderr.splitlines()) != 1 or not r.stderr.startswith("aoai-preload: "):
        fail(f"expected one line from the hook\n{describe(r)}")

    r = client(ctx, preload, "curlu", models(fake_aoai), models(other_fake))
    expect_statuses(r, {"curlu": "401"}, "CURLU to the covered host, URL elsewhere")
    assert key_flags(fake_aoai) == [(401, False)]

    r = client(ctx, preload, "curlu", models(fake_aoai), "-")
    expect_silent(r, "CURLU alone")
    expect_statuses(r, {"curlu": "200"}, "CURLU alone")

    r = client(ctx, preload, "curlu", models(other_fake), models(fake_aoai),
               env=ctx.env(AOAI_PRELOAD_STRICT=1))
    expect_rc(r, 1, "curlu mismatch in strict mode")
    assert len(other_fake.requests()) == 1, "strict mode must abort before sending"


def test_duphandle(ctx, preload, agent_with_key, fake_aoai):
    r = client(ctx, preload, "dup", models(fake_aoai), secret=fake_aoai.key)
    expect_silent(r, "dup")
    expect_statuses(r, {"original": "200", "copy": "200", "original-again": "200",
                        "copy-after-cleanup": "200"}, "duphandle")


def test_reset(ctx, preload, agent_with_key, fake_aoai):
    r = client(ctx, preload, "reset", models(fake_aoai), secret=fake_aoai.key)
    expect_silent(r, "reset")
    expect_statuses(r, {"before-reset": "200", "after-reset": "200"}, "reset")
    reqs = fake_aoai.requests()
    # After curl_easy_reset the application set no headers: only ours remain.
    assert "x-app" in reqs[0]["headers"] and "x-app" not in reqs[1]["headers"], reqs


def test_list_freed_after_perform(ctx, preload, agent_with_key, fake_aoai):
    r = client(ctx, preload, "free-list", models(fake_aoai), secret=fake_aoai.key)
    expect_silent(r, "free-list")
    expect_statuses(r, {"first-list": "200", "second-list": "200"}, "freed list")
    first, second = fake_aoai.requests()
    assert "x-second" not in first["headers"] and "x-second" in second["headers"]


def test_multi(ctx, preload, agent_with_key, fake_aoai, other_fake):
    r = client(ctx, preload, "multi", models(fake_aoai), models(other_fake), models(fake_aoai),
               secret=fake_aoai.key)
    expect_silent(r, "multi")
    expect_statuses(r, {"multi 0": "200", "multi 1": "401", "multi 2": "200"}, "multi")
    assert key_flags(other_fake) == [(401, False)]


def test_app_prereq_callback_chained(ctx, preload, agent_with_key, fake_aoai, other_fake):
    r = client(ctx, preload, "prereq", redirect(other_fake, models(fake_aoai)))
    expect_silent(r, "prereq")
    expect_statuses(r, {"prereq": "200", "app prereq calls": "2"}, "chained prereq")


# --- redirects ------------------------------------------------------------------


def test_redirect_to_other_host_or_port_gets_nothing(ctx, preload, agent_with_key, fake_aoai,
                                                     other_fake):
    # Another port on the same address.
    r = client(ctx, preload, "get", "--follow", redirect(fake_aoai, models(other_fake)),
               secret=fake_aoai.key)
    expect_silent(r, "redirect to another port")
    expect_statuses(r, {"get": "401"}, "redirect to another port")
    assert key_flags(fake_aoai) == [(302, True)]
    (hop,) = other_fake.requests()
    assert not hop["api_key_present"] and "x-app" in hop["headers"], hop

    # Another host name for the same socket: the profile names 127.0.0.1 only.
    target = f"http://localhost:{fake_aoai.port}/openai/v1/models"
    r = client(ctx, preload, "get", "--follow", redirect(fake_aoai, target))
    expect_statuses(r, {"get": "401"}, "redirect to another host name")
    assert key_flags(fake_aoai)[1:] == [(302, True), (401, False)]


def test_redirect_into_covered_host_injects(ctx, preload, agent_with_key, fake_aoai,
                                            other_fake):
    """The documented policy: the decision is per request, by destination."""
    r = client(ctx, preload, "get", "--follow", redirect(other_fake, models(fake_aoai)),
               secret=fake_aoai.key)
    expect_silent(r, "redirect into the covered host")
    expect_statuses(r, {"get": "200"}, "redirect into the covered host")
    assert key_flags(other_fake) == [(302, False)]
    assert key_flags(fake_aoai) == [(200, True)]


def test_curlopt_port_elsewhere_gets_nothing(ctx, preload, agent_with_key, fake_aoai,
                                             other_fake):
    """CURLOPT_PORT sends the request to another port than the URL names."""
    r = client(ctx, preload, "get", "--port", str(other_fake.port), models(fake_aoai),
               secret=fake_aoai.key)
    expect_rc(r, 0, "CURLOPT_PORT")
    expect_statuses(r, {"get": "401"}, "CURLOPT_PORT to the uncovered port")
    assert key_flags(other_fake) == [(401, False)] and fake_aoai.requests() == []
    r = client(ctx, preload, "get", "--port", str(fake_aoai.port), models(fake_aoai))
    expect_silent(r, "CURLOPT_PORT naming the URL's own port")
    expect_statuses(r, {"get": "200"}, "CURLOPT_PORT naming the URL's own port")


def test_unified_headers_get_nothing(ctx, preload, agent_with_key, fake_aoai):
    """CURLHEADER_UNIFIED would also send the headers to a proxy (CONNECT)."""
    r = client(ctx, preload, "get", "--unified", models(fake_aoai))
    expect_silent(r, "CURLHEADER_UNIFIED")
    expect_statuses(r, {"get": "401"}, "CURLHEADER_UNIFIED")


# --- debug output ---------------------------------------------------------------


def test_verbose_default_printer_redacts(ctx, preload, agent_with_key, fake_aoai):
    r = client(ctx, preload, "get", "--verbose", models(fake_aoai), secret=fake_aoai.key)
    expect_rc(r, 0, "verbose")
    lines = r.stderr.splitlines()
    for want in ("> GET /openai/v1/models HTTP/1.1", f"api-key: {REDACTED}",
                 "X-App: curl-client", "< HTTP/1.1 200 OK"):
        if want not in [ln.rstrip("\r") for ln in lines]:
            fail(f"verbose output lacks {want!r}\n{describe(r)}")


def test_app_debug_function_sees_redacted_headers(ctx, preload, agent_with_key, fake_aoai):
    r = client(ctx, preload, "get", "--debug", models(fake_aoai), secret=fake_aoai.key)
    expect_silent(r, "debug")
    if f"api-key: {REDACTED}" not in r.stdout:
        fail(f"the application's debug function did not see the redaction\n{describe(r)}")


# --- threads and fork -----------------------------------------------------------


def test_threads(ctx, preload, agent_with_key, fake_aoai):
    r = client(ctx, preload, "threads", "8", models(fake_aoai), "5", secret=fake_aoai.key)
    expect_silent(r, "threads")
    got = statuses(r)
    want = {f"thread {t} #{i}": "200" for t in range(8) for i in range(5)}
    if got != want:
        fail(f"threads: not every request succeeded\n{describe(r)}")
    assert key_flags(fake_aoai) == [(200, True)] * 40


def test_threads_and_fork(ctx, preload, agent_with_key, fake_aoai):
    r = client(ctx, preload, "fork", models(fake_aoai), "8", secret=fake_aoai.key)
    expect_silent(r, "fork")
    got = statuses(r)
    want = {f"thread {t} #{i}": "200" for t in range(8) for i in range(5)}
    want.update({k: "200" for k in ("parent-before", "parent-after", "child-inherited",
                                     "child-new")})
    want["child-exit"] = "0"
    got.pop("child-pid", None)
    if got != want:
        fail(f"fork: not every request succeeded\n{describe(r)}")
    assert all(flags == (200, True) for flags in key_flags(fake_aoai))


# --- agent trouble, strict mode, programs without libcurl ---------------------------


def test_agent_down_one_line_and_unchanged_requests(ctx, preload, fake_aoai):
    env = ctx.env(sock=ctx.path("no-agent.sock"))
    r = client(ctx, preload, "reuse", models(fake_aoai), models(fake_aoai), env=env)
    expect_rc(r, 0, "agent down")
    expect_statuses(r, {"first": "401", "second": "401", "third": "401"}, "agent down")
    lines = r.stderr.splitlines()
    if len(lines) != 1 or not lines[0].startswith("aoai-preload: agent unreachable"):
        fail(f"expected exactly one line from the hook\n{describe(r)}")
    assert key_flags(fake_aoai) == [(401, False)] * 3
    assert all("x-app" in q["headers"] for q in fake_aoai.requests())


def test_agent_down_strict_fails_transfer(ctx, preload, fake_aoai):
    env = ctx.env(sock=ctx.path("no-agent.sock"), AOAI_PRELOAD_STRICT=1)
    r = client(ctx, preload, "get", models(fake_aoai), env=env)
    expect_rc(r, 1, "strict mode")
    if "aborted by an application callback" not in r.stderr:
        fail(f"expected CURLE_ABORTED_BY_CALLBACK\n{describe(r)}")
    assert fake_aoai.requests() == [], "a strict failure must not send the request"


def test_locked_agent(ctx, preload, agent_with_key, fake_aoai, aoai):
    expect_rc(aoai("lock", input="passphrase\n"), 0, "lock")
    r = client(ctx, preload, "get", models(fake_aoai), secret=fake_aoai.key)
    expect_statuses(r, {"get": "401"}, "locked agent")
    if len(r.stderr.splitlines()) != 1 or "locked" not in r.stderr:
        fail(f"expected one line naming the lock\n{describe(r)}")
    r = client(ctx, preload, "get", models(fake_aoai), env=ctx.env(AOAI_PRELOAD_STRICT=1))
    expect_rc(r, 1, "locked agent, strict mode")
    expect_rc(aoai("unlock", input="passphrase\n"), 0, "unlock")
    r = client(ctx, preload, "get", models(fake_aoai), secret=fake_aoai.key)
    expect_silent(r, "after unlock")
    expect_statuses(r, {"get": "200"}, "after unlock")


@pytest.mark.parametrize("argv", [["/bin/true"], ["/usr/bin/env"], ["/bin/sh", "-c", "echo hi"]])
def test_program_without_libcurl(ctx, preload, argv):
    env = ctx.env(sock=ctx.path("no-agent.sock"))
    plain = run(argv, env)
    hooked = run(argv, dict(env, LD_PRELOAD=str(preload.lib)))
    expect_rc(hooked, plain.returncode, argv[0])
    if hooked.stderr or hooked.stdout.replace(f"LD_PRELOAD={preload.lib}\n", "") != plain.stdout:
        fail(f"the hook changed the behaviour of {argv[0]}\n{describe(hooked)}")


# --- valgrind ---------------------------------------------------------------------


VALGRIND_CASES = {
    "reuse": lambda f, o: ["reuse", models(f), models(o)],
    "curlu": lambda f, o: ["curlu", models(o), models(f)],
    "dup": lambda f, o: ["dup", models(f)],
    "reset": lambda f, o: ["reset", models(f)],
    "free-list": lambda f, o: ["free-list", models(f)],
    "multi": lambda f, o: ["multi", models(f), models(o)],
    "verbose-redirect": lambda f, o: ["get", "--verbose", "--follow", redirect(o, models(f))],
    "threads": lambda f, o: ["threads", "8", models(f), "2"],
    "fork": lambda f, o: ["fork", models(f), "0"],
}


@pytest.mark.skipif(VALGRIND is None, reason="valgrind is not installed")
@pytest.mark.parametrize("case", sorted(VALGRIND_CASES))
def test_valgrind(ctx, preload, agent_with_key, fake_aoai, other_fake, case):
    args = VALGRIND_CASES[case](fake_aoai, other_fake)
    r = client(ctx, preload, *args, valgrind=True, secret=fake_aoai.key)
    expect_rc(r, 0, f"curl-client {case} under valgrind")
    if any(s == "error" or s.startswith("error ") for s in statuses(r).values()):
        fail(f"a transfer failed under valgrind\n{describe(r)}")


def child_reports_only_leaks(stderr, pid):
    """True when valgrind's lines for process @pid are all leak records."""
    prefix = f"=={pid}=="
    for line in stderr.splitlines():
        if not line.startswith(prefix):
            continue
        body = line[len(prefix):]
        # Blank separators and the "at"/"by" frames under a record are indented.
        if body.strip() and not body.startswith("    ") and "definitely lost" not in body:
            return False
    return True


@pytest.mark.skipif(VALGRIND is None, reason="valgrind is not installed")
def test_valgrind_threads_and_fork(ctx, preload, agent_with_key, fake_aoai):
    """8 threads plus a fork.  The parent must be clean.  The child inherits
    the buffers the other threads had in flight at the fork (libcurl's and
    the hook's), which no thread in it can free, so valgrind may count them
    as lost there; any other report from the child fails the test.  (The
    child of a single-threaded fork is checked fully by the "fork" case.)"""
    r = client(ctx, preload, "fork", models(fake_aoai), "8", valgrind=True,
               secret=fake_aoai.key)
    got = statuses(r)
    child_pid, child_exit = got.pop("child-pid", None), got.pop("child-exit", None)
    if r.returncode not in (0, 1) or child_exit not in ("0", "99"):
        fail(f"fork with threads under valgrind: the parent or the child failed\n{describe(r)}")
    if r.returncode == 1 and child_exit != "99":
        fail(f"fork with threads under valgrind: the parent failed\n{describe(r)}")
    if not child_reports_only_leaks(r.stderr, child_pid):
        fail(f"valgrind found errors in the child\n{describe(r)}")
    for line in r.stderr.splitlines():
        if line.startswith("==") and not line.startswith(f"=={child_pid}=="):
            fail(f"valgrind found errors in the parent\n{describe(r)}")
    if set(got.values()) != {"200"} or len(got) != 44:
        fail(f"fork with threads under valgrind: not every request succeeded\n{describe(r)}")
