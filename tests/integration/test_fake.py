# SPDX-License-Identifier: MIT
"""The fake Azure OpenAI endpoint itself (tests/fakes/fake_aoai.py): the
other tests and `make demo` rely on it answering as Azure does."""

import http.client
import json
import urllib.error
import urllib.request
import uuid

from aoaitest import assert_absent, fail, start_fake, stop_fake

MSG_401 = ("Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
           "provide a valid key for an active subscription and use a correct regional API "
           "endpoint for your resource.")
CHAT = json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode()


def call(url, headers=None, data=None, method=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


def test_auth_like_azure(ctx, fake_aoai):
    status, headers, body = call(fake_aoai.chat_url, data=CHAT)
    assert status == 401
    assert body == {"error": {"code": "401", "message": MSG_401}}
    assert headers["Content-Type"] == "application/json"
    for h in ("apim-request-id", "x-request-id"):
        uuid.UUID(headers[h])
    status, _, _ = call(fake_aoai.chat_url, {"api-key": ctx.secret()}, CHAT)
    assert status == 401, "a wrong key must be refused"
    status, _, _ = call(fake_aoai.chat_url, {"Authorization": "Bearer " + fake_aoai.key}, CHAT)
    assert status == 401, "the api-key is not a bearer token"


def test_chat_completion_shapes(fake_aoai):
    key = {"api-key": fake_aoai.key, "Content-Type": "application/json"}
    for url in (fake_aoai.chat_url, fake_aoai.base + "/openai/v1/chat/completions"):
        status, _, body = call(url, key, CHAT)
        assert status == 200, body
        assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
        assert isinstance(body["created"], int) and body["model"]
        (choice,) = body["choices"]
        assert choice["index"] == 0 and choice["finish_reason"] == "stop"
        assert choice["message"]["role"] == "assistant" and choice["message"]["content"]
        u = body["usage"]
        assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]


def test_not_found_cases(fake_aoai):
    key = {"api-key": fake_aoai.key}
    no_version = fake_aoai.base + "/openai/deployments/gpt-4o/chat/completions"
    assert call(no_version, key, CHAT)[0::2] == (404, {"error": {"code": "404",
                                                                "message": "Resource not found"}})
    assert call(fake_aoai.base + "/nowhere?api-version=1", key)[0] == 404
    status, _, body = call(fake_aoai.base + "/openai/deployments/nope/chat/completions"
                           "?api-version=2024-10-21", key, CHAT)
    assert status == 404 and body["error"]["code"] == "DeploymentNotFound"
    status, _, body = call(fake_aoai.chat_url, key, b"not json")
    assert status == 400


def test_lists(fake_aoai):
    key = {"api-key": fake_aoai.key}
    for path in ("/openai/deployments?api-version=2022-12-01",
                 "/openai/models?api-version=2024-10-21", "/openai/v1/models"):
        status, _, body = call(fake_aoai.base + path, key)
        assert status == 200 and body["object"] == "list" and body["data"], (path, body)


def test_bearer_file(ctx):
    token = ctx.secret(24)
    tf = ctx.write_file("token", token + "\n")
    fake = start_fake(ctx, name="bearer", extra=["--bearer-file", str(tf)])
    try:
        status, _, _ = call(fake.chat_url, {"Authorization": "Bearer " + token}, CHAT)
        assert status == 200
        status, _, _ = call(fake.chat_url, {"Authorization": "Bearer x" + token}, CHAT)
        assert status == 401
        assert [r["auth"] for r in fake.requests()] == ["bearer", None]
    finally:
        stop_fake(fake)


def test_log_has_names_not_values(fake_aoai):
    call(fake_aoai.chat_url, {"api-key": fake_aoai.key}, CHAT)
    call(fake_aoai.chat_url, {"X-Other": "v"}, CHAT)
    with open(fake_aoai.log) as f:
        text = f.read()
    assert_absent(fake_aoai.key, text, "the fake's request log")
    reqs = fake_aoai.requests()
    if [(r["status"], r["api_key_present"], r["auth"]) for r in reqs] != \
            [(200, True, "api-key"), (401, False, None)]:
        fail(f"unexpected request log: {reqs}")
    assert "x-other" in reqs[1]["headers"] and reqs[0]["path"].endswith("/chat/completions")
    assert reqs[0]["query"] == "api-version=2024-10-21"


def test_stops_on_sigterm(ctx):
    fake = start_fake(ctx, name="stop")
    fake.proc.terminate()
    assert fake.proc.wait(10) == 0
    stop_fake(fake)


def test_redirect_helper(fake_aoai):
    conn = http.client.HTTPConnection("127.0.0.1", fake_aoai.port, timeout=10)
    try:
        conn.request("GET", "/fake/redirect?to=http://127.0.0.1:1/x")
        r = conn.getresponse()
        r.read()
        assert r.status == 302 and r.getheader("Location") == "http://127.0.0.1:1/x"
    finally:
        conn.close()
