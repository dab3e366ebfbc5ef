# SPDX-License-Identifier: MIT
"""The agent releases a URL's headers only for a host every mainstream URL
parser reads from it: libcurl (asked through ctypes, as the hook's programs
ask it), Python's urllib.parse, urllib3 and requests, and Node's WHATWG
`URL`.  Where one of them reads another host, a program sending the request
with it would hand the headers to that host: the agent must refuse."""

import ctypes
import ctypes.util
import json
import shutil
import subprocess
import urllib.parse

import pytest
import requests
import urllib3.util

from aoaitest import api_key_profile, assert_absent, expect_error, expect_rc, fail

CONTOSO = "contoso.openai.azure.com"
EVIL = "evil.example"

# (url, what the agent must do): "ok" releases contoso's headers, "refuse"
# gives insecure_url; None leaves it to the agreement rule alone.
URLS = [
    (f"https://{CONTOSO}/openai/v1/models", "ok"),
    (f"https://{EVIL}@{CONTOSO}/", "ok"),
    (f"https://u:p%40x@{CONTOSO}/", "ok"),
    (f"https://{EVIL}:443@{CONTOSO}/", "ok"),
    (f"https://{CONTOSO}#@{EVIL}/", "ok"),
    (f"https://{CONTOSO}?@{EVIL}/", "ok"),
    (f"https://{CONTOSO}/@{EVIL}", "ok"),
    (f"https://{CONTOSO}/p\\q?x=\\#\\", "ok"),
    (f"https://{CONTOSO}./", "ok"),
    (f"HTTPS://CONTOSO.OpenAI.Azure.com/", "ok"),
    (f"https://{CONTOSO}:0443/", "ok"),
    (f"https://{EVIL}\\@{CONTOSO}/", "refuse"),
    (f"https://{EVIL}\\.{CONTOSO}/", "refuse"),
    (f"https://{CONTOSO}\\@{EVIL}/", "refuse"),
    (f"https://{CONTOSO}:443\\@{EVIL}/", "refuse"),
    (f"https://\\{CONTOSO}/", "refuse"),
    (f"https:\\\\{CONTOSO}/", "refuse"),
    (f"https://{CONTOSO}\t.{EVIL}/", "refuse"),
    (f"https://{CONTOSO}\r\n.{EVIL}/", "refuse"),
    (f"https://{EVIL}\t@{CONTOSO}/", "refuse"),
    (f" https://{CONTOSO}/", "refuse"),
    (f"https:/{CONTOSO}/", "refuse"),
    (f"https:{CONTOSO}/", "refuse"),
    (f"https:///{CONTOSO}/", "refuse"),
    (f"https://{CONTOSO.replace('.', '%2e', 1)}/", "refuse"),
    (f"https://{CONTOSO.replace('.', chr(0xFF0E))}/", "refuse"),
    (f"https://{CONTOSO}{chr(0x3002)}{EVIL}/", "refuse"),
    (f"https://con{chr(0xAD)}toso.openai.azure.com/", "refuse"),
    (f"https://a@{EVIL}@{CONTOSO}/", "refuse"),
    (f"https://{CONTOSO}\x7f/", "refuse"),
    ("http://127.1/", "refuse"),
    ("http://0x7f.0.0.1/", "refuse"),
    ("http://2130706433/", "refuse"),
    ("http://[::1%25lo]/", "refuse"),
    (f"https://{CONTOSO}@{EVIL}/", None),
    (f"https://{EVIL}/@{CONTOSO}/", None),
    (f"https://{EVIL}%2f@{CONTOSO}/", None),
]


def normal(host):
    """A host as the agent compares it: lower case, no brackets, no final dot."""
    if host is None:
        return None
    host = host.lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host[:-1] if host.endswith(".") else host


class Curl:
    """libcurl's URL API through ctypes: the host a libcurl program connects to."""
    PART_HOST = 5

    def __init__(self):
        name = ctypes.util.find_library("curl") or "libcurl.so.4"
        self.lib = ctypes.CDLL(name)
        self.lib.curl_url.restype = ctypes.c_void_p
        self.lib.curl_url_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p,
                                          ctypes.c_uint]
        self.lib.curl_url_get.argtypes = [ctypes.c_void_p, ctypes.c_int,
                                          ctypes.POINTER(ctypes.c_char_p), ctypes.c_uint]
        self.lib.curl_url_cleanup.argtypes = [ctypes.c_void_p]
        self.lib.curl_free.argtypes = [ctypes.c_void_p]

    def host(self, url):
        u = self.lib.curl_url()
        try:
            if self.lib.curl_url_set(u, 0, url.encode(), 0) != 0:  # CURLUPART_URL
                return None
            out = ctypes.c_char_p()
            if self.lib.curl_url_get(u, self.PART_HOST, ctypes.byref(out), 0) != 0:
                return None
            host = out.value.decode("utf-8", "replace")
            self.lib.curl_free(ctypes.cast(out, ctypes.c_void_p))
            return host
        finally:
            self.lib.curl_url_cleanup(u)


def python_hosts(url):
    def guard(f):
        try:
            return f()
        except Exception:  # noqa: BLE001 - a parser that refuses sends nothing
            return None
    return {
        "urllib.parse": guard(lambda: urllib.parse.urlsplit(url).hostname),
        "urllib3": guard(lambda: urllib3.util.parse_url(url).host),
        "requests": guard(lambda: urllib3.util.parse_url(
            requests.Request("GET", url).prepare().url).host),
    }


def node_hosts(urls):
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed (scripts/install-deps.sh test installs it)")
    script = ("const u=JSON.parse(require('fs').readFileSync(0,'utf8'));"
              "console.log(JSON.stringify(u.map(x=>{try{return new URL(x).hostname}"
              "catch(e){return null}})));")
    r = subprocess.run([node, "-e", script], input=json.dumps(urls), capture_output=True,
                       text=True, timeout=30, check=True)
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def readings():
    """{url: {parser: normalised host or None}} for every URL in the table."""
    urls = [u for u, _ in URLS]
    curl = Curl()
    node = node_hosts(urls)
    out = {}
    for i, url in enumerate(urls):
        hosts = {"libcurl": curl.host(url), "node URL": node[i], **python_hosts(url)}
        out[url] = {k: normal(v) for k, v in hosts.items()}
    return out


@pytest.fixture
def agent_with_keys(ctx, start_agent, aoai):
    cfg = ctx.write_config({"profiles": {
        "contoso": api_key_profile(CONTOSO),
        "evil": api_key_profile(EVIL),
        "loop": api_key_profile("127.0.0.1"),
    }})
    start_agent(config=cfg)
    keys = {}
    for name in ("contoso", "evil", "loop"):
        keys[name] = ctx.secret()
        expect_rc(aoai("add", name, input=keys[name] + "\n"), 0, f"add {name}")
    return keys


def ask(raw, url):
    with raw() as c:
        return c.request({"v": 1, "op": "headers", "url": url})


@pytest.mark.parametrize("url,want", URLS, ids=[repr(u) for u, _ in URLS])
def test_released_only_where_parsers_agree(agent_with_keys, raw, readings, url, want):
    reply = ask(raw, url)
    seen = readings[url]
    hosts = {h for h in seen.values() if h is not None}
    if reply.get("ok"):
        # Every parser that reads a host at all reads the one released for.
        released = {"contoso": CONTOSO, "evil": EVIL, "loop": "127.0.0.1"}[reply["profile"]]
        if hosts != {released}:
            fail(f"{url!r}: headers of {reply['profile']} released, but parsers read {seen}")
    elif len(hosts) > 1:
        expect_error(reply, "insecure_url", f"{url!r} (parsers read {seen})")
    if want == "ok":
        assert reply.get("ok") and reply["profile"] == "contoso", (url, reply)
    elif want == "refuse":
        expect_error(reply, "insecure_url", repr(url))
        assert_absent(agent_with_keys["contoso"], json.dumps(reply), "refusal")


def test_table_has_disagreements(readings):
    """The table is worth running: parsers do disagree on many of its URLs."""
    split = [u for u, seen in readings.items()
             if len({h for h in seen.values() if h is not None}) > 1]
    assert len(split) >= 10, split


def test_cli_names_the_reason(agent_with_keys, aoai):
    r = expect_rc(aoai("headers", f"https://{EVIL}\\@{CONTOSO}/"), 4, "backslash URL")
    assert "backslash" in r.stderr, r.stderr
    assert r.stdout == ""
    assert_absent(agent_with_keys["contoso"], r.stderr, "refusal")
