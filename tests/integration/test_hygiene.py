# SPDX-License-Identifier: MIT
"""Secrets never leak: not into the debug log, not into list/status output,
not into error messages; every release is logged without the secret; the
process is hardened."""

import os
import re
import subprocess

from aoaitest import CMD_TIMEOUT, api_key_profile, assert_absent, describe, expect_rc, fail


def test_secret_never_in_logs_or_listings(ctx, build, start_agent, fake_aoai, aoai):
    cfg = ctx.write_config({"profiles": {"contoso": api_key_profile(fake_aoai.hostport)}})
    a = start_agent(config=cfg)
    key = fake_aoai.key
    outputs = []

    def keep(r, what):
        outputs.append((what, r.stdout + r.stderr))
        return r

    keep(expect_rc(aoai("add", "contoso", input=key + "\n"), 0, "add"), "add")
    for args in (["list"], ["list", "--json"], ["status"], ["status", "--json"]):
        keep(expect_rc(aoai(*args), 0, " ".join(args)), " ".join(args))
    h = expect_rc(aoai("headers", fake_aoai.chat_url), 0, "headers")
    if f"api-key: {key}" not in h.stdout.splitlines():
        fail("headers did not release the key")
    keep(aoai("headers", "https://nowhere.example/"), "headers, no match")
    keep(aoai("headers", "http://example.com/"), "headers, insecure")
    keep(aoai("add", "bad/name", input=key + "\n"), "add with a bad name")
    keep(aoai("add", "contoso", "--host", "x.example", input=key + "\n"), "add conflict")
    keep(expect_rc(aoai("remove", "contoso"), 0, "remove"), "remove")
    for args in (["list"], ["list", "--json"], ["status", "--json"]):
        keep(expect_rc(aoai(*args), 0, " ".join(args)), " ".join(args) + " after remove")
    keep(aoai("headers", fake_aoai.chat_url), "headers after remove")

    for what, text in outputs:
        assert_absent(key, text, f"the output of `aoai {what}`")
    assert_absent(key, a.log(), "the agent's debug log")
    assert_absent(key, a.stdout_text(), "the agent's stdout")


def test_release_is_logged(ctx, build, start_agent, aoai):
    """Every release is logged with profile, host, peer pid/uid/exe and result."""
    cfg = ctx.write_config({"profiles": {"contoso": api_key_profile("contoso.openai.azure.com")}})
    a = start_agent(config=cfg)
    key = ctx.secret()
    expect_rc(aoai("add", "contoso", input=key + "\n"), 0, "add")
    p = subprocess.Popen([str(build.aoai), "headers", "https://contoso.openai.azure.com/x"],
                         env=ctx.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert p.wait(CMD_TIMEOUT) == 0
    pid = str(p.pid)
    uid = str(os.getuid())
    exe = os.path.realpath(build.aoai)

    def release_line(text):
        for line in text.splitlines():
            if "contoso" in line and "contoso.openai.azure.com" in line \
                    and re.search(rf"\b{pid}\b", line) and re.search(rf"\b{uid}\b", line) \
                    and exe in line:
                return line
        return None

    log = a.wait_log(lambda t: release_line(t) is not None, what=f"a release line for pid {pid}")
    assert_absent(key, log, "the agent's debug log")

    # A refused request is logged too, with its outcome.
    p = subprocess.Popen([str(build.aoai), "headers", "https://nope.example/x"], env=ctx.env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert p.wait(CMD_TIMEOUT) == 4
    a.wait_log(lambda t: any(str(p.pid) in line and "nope.example" in line
                             for line in t.splitlines()),
               what="a log line for the refused request")


def test_process_hardening(ctx, start_agent):
    a = start_agent()
    with open(f"/proc/{a.pid}/limits") as f:
        core = [line for line in f if line.startswith("Max core file size")]
    assert core and core[0].split()[4] == "0", f"core dumps are not disabled: {core}"
    with open(f"/proc/{a.pid}/status") as f:
        status = f.read()
    # SIGPIPE (13) is ignored: bit 12 of SigIgn.
    sigign = int(re.search(r"^SigIgn:\s*([0-9a-f]+)", status, re.M).group(1), 16)
    assert sigign & (1 << 12), f"SIGPIPE not ignored: SigIgn={sigign:x}"


def test_secret_not_in_process_environment_or_argv(ctx, start_agent, aoai):
    a = start_agent()
    key = ctx.secret()
    expect_rc(aoai("add", "k", "--host", "k.example", input=key + "\n"), 0, "add")
    with open(f"/proc/{a.pid}/cmdline", "rb") as f:
        assert_absent(key.encode(), f.read(), "the agent's argv")
    with open(f"/proc/{a.pid}/environ", "rb") as f:
        assert_absent(key.encode(), f.read(), "the agent's environment")


def test_error_output_of_cli_is_secret_free(ctx, agent, aoai):
    key = ctx.secret()
    r = aoai("add", "x" * 80, input=key + "\n")
    assert r.returncode != 0, describe(r)
    assert_absent(key, r.stdout + r.stderr, "the error output of a refused add")
