# SPDX-License-Identifier: MIT
"""The persistent store (`aoai add --persist`, `aoai passwd`): secrets survive
the agent, sealed with XChaCha20-Poly1305 under an Argon2id key; a store on
disk means the agent starts locked; damaged files are reported with the file
named and never written over; a SIGKILL during writes never leaves a file
that fails to load."""

import hashlib
import os
import random
import re
import stat
import struct
import threading
import time

import pytest

from aoaitest import (VALGRIND, RawClient, api_key_profile, assert_absent, expect_ok, expect_rc,
                      fail, wait_until)

HOST = "store.openai.azure.com"
URL = f"https://{HOST}/openai/v1/chat/completions"
HEADER_LEN = 68


def store_file(ctx):
    return ctx.home / ".local" / "share" / "aoai" / "store"


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture
def store_config(ctx):
    """A config whose new passphrases use Argon2id "interactive" (64 MiB, 2
    passes): the default, "moderate", takes 4 MiB less than a second, too
    slow to repeat hundreds of times."""
    return ctx.write_config({"store": {"kdf": "interactive"},
                             "profiles": {"cfg": api_key_profile("cfg.example")}})


@pytest.fixture
def with_store(ctx, start_agent, aoai, aoai_json, store_config):
    """An agent with a store holding "kept" (--host, 1 h lifetime); returns
    (agent, key, passphrase)."""
    a = start_agent(config=store_config)
    pw, key = ctx.secret(8), ctx.secret()
    assert aoai_json("status")["store"]["state"] == "none"
    expect_rc(aoai("passwd", input=pw + "\n"), 0, "passwd creating the store")
    expect_rc(aoai("add", "kept", "--host", HOST, "-t", "1h", "--persist", input=key), 0,
              "add --persist")
    return a, key, pw


def restart(a, start_agent, store_config):
    a.stop()
    return start_agent(config=store_config)


def test_round_trip_across_restart(ctx, with_store, start_agent, store_config, aoai,
                                   aoai_json):
    a, key, pw = with_store
    path = store_file(ctx)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    with open(path, "rb") as f:
        data = f.read()
    assert data.startswith(b"aoaistor") and struct.unpack(">I", data[8:12])[0] == 2
    assert_absent(key.encode(), data, "the store file")
    st = aoai_json("status")["store"]
    assert st["state"] == "unlocked" and st["secrets"] == 1 and st["path"] == str(path)
    assert [s["persisted"] for s in aoai_json("list")["secrets"]] == [True]

    a = restart(a, start_agent, store_config)
    status = aoai_json("status")
    assert status["locked"] is True and status["store"]["state"] == "locked", status
    # The --host profile is inside the store: until unlock no profile covers HOST.
    expect_rc(aoai("headers", URL), 4, "headers for the store's host before unlock")
    expect_rc(aoai("headers", "https://cfg.example/"), 5, "headers before unlock")
    expect_rc(aoai("unlock", input=pw + "\n"), 0, "unlock")
    h = expect_rc(aoai("headers", URL), 0, "headers after unlock")
    if f"api-key: {key}" not in h.stdout.splitlines():
        fail("the persisted secret did not come back with its --host profile")
    (secret,) = aoai_json("list")["secrets"]
    assert secret["name"] == "kept" and secret["persisted"] is True
    assert 3500 <= secret["expires_in"] <= 3600, secret  # the lifetime kept running
    assert "persisted" in expect_rc(aoai("list"), 0, "list").stdout
    a.wait_log("1 persisted secret(s) loaded", what="the unlock log line")


def test_wrong_passphrase_changes_nothing(ctx, with_store, start_agent, store_config, aoai,
                                          aoai_json):
    a, key, pw = with_store
    before = digest(store_file(ctx))
    a = restart(a, start_agent, store_config)
    r = expect_rc(aoai("unlock", input="not-" + pw + "\n"), 1, "unlock, wrong passphrase")
    assert "wrong passphrase" in r.stderr
    assert aoai_json("status")["locked"] is True
    expect_rc(aoai("headers", "https://cfg.example/"), 5, "headers after a wrong passphrase")
    assert digest(store_file(ctx)) == before


def test_remove_and_plain_add_leave_the_store(ctx, with_store, start_agent, store_config, aoai,
                                              aoai_json):
    a, key, pw = with_store
    other, third = ctx.secret(), ctx.secret()
    expect_rc(aoai("add", "other", "--persist", input=other), 0, "second --persist")
    expect_rc(aoai("add", "third", "--persist", input=third), 0, "third --persist")
    assert aoai_json("status")["store"]["secrets"] == 3
    expect_rc(aoai("remove", "other"), 0, "remove")
    # Added again without --persist: the file must not bring the old value back.
    expect_rc(aoai("add", "third", input=ctx.secret()), 0, "add without --persist")
    assert aoai_json("status")["store"]["secrets"] == 1
    with open(store_file(ctx), "rb") as f:
        data = f.read()
    assert struct.unpack(">I", data[64:68])[0] == 2  # the check record and "kept"

    a = restart(a, start_agent, store_config)
    expect_rc(aoai("unlock", input=pw + "\n"), 0, "unlock")
    assert [s["name"] for s in aoai_json("list")["secrets"]] == ["kept"]
    expect_rc(aoai("remove", "--all"), 0, "remove --all")
    assert aoai_json("status")["store"]["secrets"] == 0
    a = restart(a, start_agent, store_config)
    expect_rc(aoai("unlock", input=pw + "\n"), 0, "unlock an empty store")
    assert aoai_json("list")["secrets"] == []


def test_passwd_reencrypts(ctx, with_store, start_agent, store_config, aoai, aoai_json):
    a, key, pw = with_store
    new = ctx.secret(8)
    with open(store_file(ctx), "rb") as f:
        old_header = f.read(HEADER_LEN)
    before = digest(store_file(ctx))
    r = expect_rc(aoai("passwd", input=f"not-{pw}\n{new}\n"), 1, "passwd, wrong current")
    assert "current passphrase is wrong" in r.stderr
    assert digest(store_file(ctx)) == before
    time.sleep(1.1)  # the back-off that wrong passphrase earned (1 s)
    expect_rc(aoai("passwd", input=f"{pw}\n{new}\n"), 0, "passwd")
    with open(store_file(ctx), "rb") as f:
        assert f.read(HEADER_LEN)[32:48] != old_header[32:48], "passwd kept the salt"
    a = restart(a, start_agent, store_config)
    expect_rc(aoai("unlock", input=pw + "\n"), 1, "the old passphrase no longer unlocks")
    time.sleep(1.1)
    expect_rc(aoai("unlock", input=new + "\n"), 0, "the new one does")
    assert [s["name"] for s in aoai_json("list")["secrets"]] == ["kept"]


def test_lock_wipes_store_secrets_and_needs_store_passphrase(ctx, with_store, aoai, aoai_json):
    a, key, pw = with_store
    r = expect_rc(aoai("lock", input="another\n"), 1, "lock with another passphrase")
    assert "store's passphrase" in r.stderr
    assert aoai_json("status")["locked"] is False
    time.sleep(1.1)
    expect_rc(aoai("lock", input=pw + "\n"), 0, "lock")
    st = aoai_json("status")
    assert st["locked"] is True and st["store"]["state"] == "locked" and st["secrets"] == 0
    a.wait_log("persisted secrets wiped from memory", what="the lock log line")
    expect_rc(aoai("unlock", input=pw + "\n"), 0, "unlock")
    h = expect_rc(aoai("headers", URL), 0, "headers after unlock")
    assert f"api-key: {key}" in h.stdout.splitlines()


def test_unlock_derives_the_key_without_blocking_others(ctx, with_store, start_agent,
                                                        store_config, aoai_json, raw):
    """Argon2id runs on a worker thread: a client asking while an unlock's
    key is being derived is answered at once, and sees the agent still
    locked (a blocked loop would answer it only after the unlock)."""
    a, key, pw = with_store
    a = restart(a, start_agent, store_config)
    with raw() as unlocker:
        unlocker.send_json({"v": 1, "op": "unlock", "passphrase": pw})
        # The debug line "pid N (…): unlock" says the request is being handled.
        a.wait_log(lambda t: re.search(r"\): unlock$", t, re.M),
                   what="the unlock request reaching the agent")
        with raw() as other:
            assert other.request({"v": 1, "op": "status"})["locked"] is True
        expect_ok(unlocker.recv_frame(), "the unlock")
    assert aoai_json("status")["locked"] is False


def test_persist_needs_a_store(ctx, start_agent, store_config, aoai):
    start_agent(config=store_config)
    r = expect_rc(aoai("add", "x", "--persist", input=ctx.secret()), 1, "--persist, no store")
    assert "aoai passwd" in r.stderr
    assert not store_file(ctx).exists()


def damage(data, how):
    if how == "truncated":
        return data[:len(data) - 7]
    if how == "header-only":
        return data[:HEADER_LEN - 1]
    if how == "version":
        return data[:8] + struct.pack(">I", 7) + data[12:]
    if how == "garbage":
        return b'{"not": "a store"}\n'
    if how == "empty":
        return b""
    raise ValueError(how)


@pytest.mark.parametrize("how,reason", [
    ("truncated", "truncated"),
    ("header-only", "truncated"),
    ("version", "format version 7, this agent reads versions 1 to 2"),
    ("garbage", "not an aoai store"),
    ("empty", "empty file"),
])
def test_unreadable_store_reported_and_untouched(ctx, with_store, start_agent, store_config,
                                                 aoai, aoai_json, how, reason):
    a, key, pw = with_store
    path = store_file(ctx)
    a.stop()
    with open(path, "rb") as f:
        data = damage(f.read(), how)
    ctx.write_file(path, "")
    with open(path, "wb") as f:
        f.write(data)
    before = digest(path)
    a = start_agent(config=store_config)
    st = aoai_json("status")
    # Nothing of the file can be in memory: the agent serves the rest, unlocked.
    assert st["locked"] is False and st["store"]["state"] == "broken", st
    assert str(path) in st["store"]["error"] and reason in st["store"]["error"], st
    assert reason in a.log()
    r = expect_rc(aoai("add", "new", "--persist", input=ctx.secret()), 1, "--persist")
    assert str(path) in r.stderr and reason in r.stderr
    r = expect_rc(aoai("passwd", input="x\ny\n"), 1, "passwd over a broken store")
    assert reason in r.stderr
    expect_rc(aoai("remove", "--all"), 0, "remove --all")
    assert digest(path) == before, "the damaged store was written over"


@pytest.mark.parametrize("offset", [-1, -40, HEADER_LEN + 30])
def test_tampered_record_refused_untouched(ctx, with_store, start_agent, store_config, aoai,
                                           aoai_json, offset):
    a, key, pw = with_store
    expect_rc(aoai("add", "second", "--persist", input=ctx.secret()), 0, "second --persist")
    path = store_file(ctx)
    a.stop()
    with open(path, "rb") as f:
        data = bytearray(f.read())
    data[offset] ^= 0x01
    with open(path, "wb") as f:
        f.write(data)
    before = digest(path)
    a = start_agent(config=store_config)
    assert aoai_json("status")["store"]["state"] == "locked"
    r = expect_rc(aoai("unlock", input=pw + "\n"), 1, "unlock of a tampered store")
    if offset < 0:
        # A record of the secrets fails: the passphrase was right.
        assert "failed authentication" in r.stderr and str(path) in r.stderr, r.stderr
        st = aoai_json("status")
        assert st["locked"] is False and st["store"]["state"] == "broken"
        assert aoai_json("list")["secrets"] == [], "a damaged store was half-loaded"
        expect_rc(aoai("headers", URL), 4, "no profile from a damaged store")
    else:
        # The check record: indistinguishable from a wrong passphrase.
        assert "wrong passphrase" in r.stderr, r.stderr
        assert aoai_json("status")["locked"] is True
    assert_absent(key, r.stdout + r.stderr + a.log(), "unlock output and log")
    assert digest(path) == before, "the tampered store was written over"


def persist_writer(ctx, stop, counter, refusals):
    """Adds --persist secrets over one connection until the agent dies."""
    try:
        with RawClient(ctx.sock) as c:
            while not stop.is_set():
                reply = c.request({"v": 1, "op": "add", "name": f"w{counter[0] % 5}",
                                   "persist": True, "secret": f"FAKE-{counter[0]:08d}"})
                if not reply["ok"]:
                    refusals.append(reply)
                    return
                counter[0] += 1
    except (OSError, EOFError, TimeoutError):
        return  # the SIGKILL


def sanitized(build):
    with open(build.agent, "rb") as f:
        return b"__asan_init" in f.read()


def test_kill9_during_writes_never_leaves_a_bad_file(ctx, build, start_agent, store_config, aoai,
                                                     aoai_json):
    """SIGKILL at random moments while --persist writes go on; every restart
    must unlock and load the store (the old file or the new one, whole).
    200 rounds natively; a sanitizer or valgrind run looks for memory errors,
    for which fewer suffice."""
    iterations = 10 if VALGRIND else 50 if sanitized(build) else 200
    rng = random.Random(8)
    a = start_agent(config=store_config)
    pw = ctx.secret(8)
    expect_rc(aoai("passwd", input=pw + "\n"), 0, "passwd")
    writes = torn = 0
    deadline = time.monotonic() + 240
    for i in range(iterations):
        if time.monotonic() > deadline:
            fail(f"the kill loop ran out of time after {i} iterations")
        stop, counter, refusals = threading.Event(), [0], []
        t = threading.Thread(target=persist_writer, args=(ctx, stop, counter, refusals))
        t.start()
        # Kill once a write has gone through, at a random point of the next ones.
        wait_until(lambda: counter[0] > 0 or not t.is_alive(), 30,
                   f"iteration {i}: a first --persist write", interval=0.002)
        if counter[0] == 0 or refusals:
            fail(f"iteration {i}: --persist writes refused: {refusals}")
        time.sleep(rng.uniform(0, 0.03))
        a.expect_exit = None
        a.proc.kill()
        a.proc.wait(10)
        stop.set()
        t.join(10)
        writes += counter[0]
        torn += any(p.startswith(".store-") for p in os.listdir(store_file(ctx).parent))
        a = start_agent(config=store_config)
        st = aoai_json("status")["store"]
        if st["state"] != "locked":
            fail(f"iteration {i}: store state {st} after SIGKILL")
        r = aoai("unlock", input=pw + "\n")
        if r.returncode != 0:
            fail(f"iteration {i}: the store fails to load after SIGKILL: {r.stderr}")
        assert aoai_json("status")["store"]["state"] == "unlocked"
    print(f"{iterations} SIGKILLs during {writes} --persist writes, {torn} of them "
          "in the middle of writing a temporary file")


# --- the store's directory ---------------------------------------------------------

NOBODY = 65534
UNSAFE_DIRS = ["other-owner", "group-writable", "symlink"]


def make_unsafe(d, how):
    """Makes directory @d (created when missing) one another user could change:
    another uid's and 0777, group-writable, or a symbolic link to a directory
    of ours.  Returns what the agent's message must say about it."""
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    if how == "other-owner":
        if os.geteuid() != 0:
            pytest.skip("needs root to give the directory to another uid")
        os.chown(d, NOBODY, NOBODY)
        os.chmod(d, 0o777)
        return f"belongs to uid {NOBODY}"
    if how == "group-writable":
        os.chmod(d, 0o770)
        return "accessible by other users"
    real = d.with_name(d.name + ".real")
    os.rename(d, real)
    os.symlink(real, d)
    return "symbolic link"


def assert_names_dir(text, d, why, what):
    if str(d) not in text or why not in text:
        fail(f"{what}: the message does not name {d} and '{why}':\n{text}")


@pytest.mark.parametrize("how", UNSAFE_DIRS)
def test_unsafe_directory_refused_at_start(ctx, start_agent, store_config, aoai, aoai_json, how):
    """No store yet, but its directory is another user's to change: passwd and
    --persist are refused with the directory and what to do, and nothing is
    written there."""
    d = store_file(ctx).parent
    why = make_unsafe(d, how)
    a = start_agent(config=store_config)
    st = aoai_json("status")
    assert st["locked"] is False and st["store"]["state"] == "broken", st
    assert_names_dir(st["store"]["error"], d, why, "aoai status")
    assert_names_dir(a.log(), d, why, "the agent log")
    r = expect_rc(aoai("passwd", input="x\n"), 1, "passwd in an unsafe directory")
    assert_names_dir(r.stderr, d, why, "passwd")
    assert "restart the agent" in r.stderr, r.stderr
    r = expect_rc(aoai("add", "new", "--persist", input=ctx.secret()), 1, "--persist")
    assert_names_dir(r.stderr, d, why, "add --persist")
    assert os.listdir(d) == [], "the agent wrote into the unsafe directory"


@pytest.mark.parametrize("how", UNSAFE_DIRS)
def test_store_in_unsafe_directory_not_trusted(ctx, with_store, start_agent, store_config,
                                               aoai, aoai_json, how):
    """A store file in a directory another user could change may have been
    planted or rolled back: the agent does not read it, starts unlocked and
    says why; the file is left alone."""
    a, key, pw = with_store
    a.stop()
    path = store_file(ctx)
    before = digest(path)
    why = make_unsafe(path.parent, how)
    a = start_agent(config=store_config)
    st = aoai_json("status")
    assert st["locked"] is False and st["store"]["state"] == "broken", st
    assert_names_dir(st["store"]["error"], path.parent, why, "aoai status")
    r = expect_rc(aoai("unlock", input=pw + "\n"), 1, "unlock")
    assert aoai_json("list")["secrets"] == [], "a store from an unsafe directory was loaded"
    expect_rc(aoai("headers", URL), 4, "no profile from the untrusted store")
    r = expect_rc(aoai("passwd", input=f"{pw}\nnew\n"), 1, "passwd")
    assert_names_dir(r.stderr, path.parent, why, "passwd")
    assert digest(path) == before, "the store in the unsafe directory was written over"


@pytest.mark.parametrize("how", UNSAFE_DIRS)
def test_directory_made_unsafe_while_running(ctx, with_store, aoai, aoai_json, how):
    """Checked at every write too: the file is not replaced in a directory
    that has become another user's to change."""
    a, key, pw = with_store
    path = store_file(ctx)
    before = digest(path)
    why = make_unsafe(path.parent, how)
    r = expect_rc(aoai("add", "more", "--persist", input=ctx.secret()), 1, "--persist")
    assert_names_dir(r.stderr, path.parent, why, "add --persist")
    assert digest(path) == before, "the store was written in an unsafe directory"
    assert not [p for p in os.listdir(path.parent) if p.startswith(".store-")]


def test_shared_data_home_gets_a_private_directory(ctx, start_agent, store_config, aoai,
                                                   aoai_json):
    """XDG_DATA_HOME in a shared sticky directory (as /tmp): the agent makes
    its own aoai/ there, 0700, and uses it."""
    shared = ctx.dir / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    start_agent(config=store_config, env=ctx.env(sock=False, XDG_DATA_HOME=shared))
    expect_rc(aoai("passwd", input=ctx.secret(8) + "\n"), 0, "passwd")
    d = shared / "aoai"
    st = os.lstat(d)
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700, oct(st.st_mode)
    assert aoai_json("status")["store"]["path"] == str(d / "store")
    expect_rc(aoai("add", "kept", "--persist", input=ctx.secret()), 0, "add --persist")
