# SPDX-License-Identifier: MIT
"""Python HTTP clients under aoai-exec's relay, configured only from the
environment: `relay_py_client.py LIB` with LIB urllib | requests | httpx makes
one chat completion and one streamed one (AZURE_OPENAI_ENDPOINT and the
api-key header), then one on Azure's v1 API (OPENAI_BASE_URL, Bearer
OPENAI_API_KEY); prints one JSON line: {"results": [{"status", "content"}...]}."""

import json
import os
import sys

API_VERSION = "2024-10-21"
BODY = {"messages": [{"role": "user", "content": "Say hello"}]}
TIMEOUT = 15


def content_of(status, data, stream):
    if status != 200:
        return ""
    if not stream:
        return json.loads(data)["choices"][0]["message"]["content"]
    text = ""
    lines = [l for l in data.decode().split("\n") if l.startswith("data: ")]
    assert lines[-1] == "data: [DONE]", lines[-1:]
    for line in lines[:-1]:
        obj = json.loads(line[6:])
        if obj["choices"]:
            text += obj["choices"][0]["delta"].get("content") or ""
    return text


def calls():
    """(url, headers, body) of the three requests."""
    azure = os.environ["AZURE_OPENAI_ENDPOINT"].rstrip("/") + \
        f"/openai/deployments/gpt-4o/chat/completions?api-version={API_VERSION}"
    akey = {"api-key": os.environ["AZURE_OPENAI_API_KEY"], "Content-Type": "application/json"}
    v1 = os.environ["OPENAI_BASE_URL"].rstrip("/") + "/chat/completions"
    bearer = {"Authorization": "Bearer " + os.environ["OPENAI_API_KEY"],
              "Content-Type": "application/json"}
    return [(azure, akey, BODY, False), (azure, akey, dict(BODY, stream=True), True),
            (v1, bearer, dict(BODY, model="gpt-4o"), False)]


def with_urllib(url, headers, body, stream):
    import urllib.error
    import urllib.request
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers,
                                 method="POST")
    try:
        with opener.open(req, timeout=TIMEOUT) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def with_requests(url, headers, body, stream):
    import requests
    s = requests.Session()
    s.trust_env = False
    with s.post(url, json=body, headers=headers, timeout=TIMEOUT, stream=stream) as r:
        data = b"".join(r.iter_content(chunk_size=None)) if stream else r.content
        return r.status_code, data


def with_httpx(url, headers, body, stream):
    import httpx
    with httpx.Client(trust_env=False, timeout=TIMEOUT) as c:
        if stream:
            with c.stream("POST", url, json=body, headers=headers) as r:
                return r.status_code, b"".join(r.iter_bytes())
        r = c.post(url, json=body, headers=headers)
        return r.status_code, r.content


def main():
    lib = {"urllib": with_urllib, "requests": with_requests, "httpx": with_httpx}[sys.argv[1]]
    results = []
    for url, headers, body, stream in calls():
        status, data = lib(url, headers, body, stream)
        results.append({"status": status, "content": content_of(status, data, stream),
                        "stream": stream})
    print(json.dumps({"results": results}))
    return 0 if all(r["status"] == 200 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
