// SPDX-License-Identifier: MIT
// Drives the Node client (bindings/node) for test_bindings_node.py.  Prints one
// JSON line per result and never a secret: header values and tokens appear as
// fingerprints ("fp:" and the first 12 hex digits of their SHA-256).  It never
// calls process.exit(), so a connection left holding the event loop shows as a
// hang.  AOAI_NODE_MODULE names the module to test (default: bindings/node).
//
//   headers URL                   the headers for URL
//   error URL                     the error headers(URL) rejects with
//   timeout MS URL                headers(URL) by a client waiting MS ms for replies
//   token [PROFILE]               a token of PROFILE (default: the only one)
//   parallel N URL...             N headers() calls at once, cycling through the URLs;
//                                 then the agent's count of connections
//   sequence URL...               headers() for each URL, one after the other
//   restart URL                   headers, then again after a line on stdin
//   chat ENDPOINT PROFILE         AzureOpenAI with azureADTokenProvider: one chat
//   fetch URL                     POST URL with plain fetch, then with aoaiFetch
//   send METHOD URL [BODY]        aoaiFetch(URL): status, final URL and body
//   sdkfetch ENDPOINT             AzureOpenAI with fetch: aoaiFetch and a wrong apiKey
//   list                          the profiles' names and credentials

import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const modulePath = process.env.AOAI_NODE_MODULE ||
  pathToFileURL(path.join(here, "..", "..", "bindings", "node", "index.js")).href;
const aoai = await import(modulePath);

const CHAT = { model: "gpt-4o", messages: [{ role: "user", content: "Say hello" }] };
const SDK_OPTS = { apiVersion: "2024-10-21", deployment: "gpt-4o", maxRetries: 0, timeout: 10000 };

function fp(value) {
  return "fp:" + createHash("sha256").update(value).digest("hex").slice(0, 12);
}

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function errorReport(e) {
  return {
    error: e instanceof aoai.AoaiError ? "AoaiError" : String(e && e.name),
    kind: e && e.kind,
    exitCode: e && e.exitCode,
    message: String(e && e.message),
  };
}

async function headersOf(url) {
  const h = await aoai.headers(url);
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, fp(v)]));
}

// The openai SDK from the npm prefix of test_exec_sdk.py's node_modules fixture
// (ESM ignores NODE_PATH, so it is required from there).
function openai() {
  const modules = process.env.NODE_PATH;
  return createRequire(path.join(modules, "noop.js"))("openai");
}

async function chatWith(client) {
  try {
    const r = await client.chat.completions.create(CHAT);
    return { status: 200, content: r.choices[0].message.content };
  } catch (e) {
    return { status: e.status || 0, error: String(e.message || e).slice(0, 500) };
  }
}

function line() {
  return new Promise((resolve) => process.stdin.once("data", resolve));
}

const modes = {
  async headers(url) {
    out({ headers: await headersOf(url) });
  },

  async error(url) {
    try {
      await aoai.headers(url);
      out({ error: null });
    } catch (e) {
      out(errorReport(e));
    }
  },

  async timeout(ms, url) {
    const client = new aoai.AgentClient({ replyTimeout: Number(ms) });
    try {
      await client.headers(url);
      out({ error: null });
    } catch (e) {
      out(errorReport(e));
    }
  },

  async token(profile) {
    const t = await aoai.token(profile);
    out({ fp: fp(t.token), expiresOn: t.expiresOn, expiresOnTimestamp: t.expiresOnTimestamp,
          profile: t.profile, scope: t.scope, source: t.source, tokenType: t.tokenType });
  },

  async parallel(n, ...urls) {
    const calls = [];
    for (let i = 0; i < Number(n); i++) {
      const url = urls[i % urls.length];
      calls.push(headersOf(url).then((h) => ({ url, headers: h }),
        (e) => ({ url, kind: e.kind })));
    }
    const results = await Promise.all(calls);
    // Asked on the same kept connection: the agent counts it, and only it.
    const status = await aoai.getDefaultClient().request({ op: "status" });
    out({ results, connections: status.connections });
  },

  async sequence(...urls) {
    const results = [];
    for (const url of urls) results.push(await headersOf(url));
    out({ results });
  },

  async restart(url) {
    out({ phase: "before", headers: await headersOf(url) });
    await line();
    process.stdin.pause();
    out({ phase: "after", headers: await headersOf(url) });
  },

  async chat(endpoint, profile) {
    const { AzureOpenAI } = openai();
    const tokens = new Set();
    const provider = aoai.azureADTokenProvider(profile);
    const tracking = async () => {
      const t = await provider();
      tokens.add(fp(t));
      return t;
    };
    const client = new AzureOpenAI({ ...SDK_OPTS, endpoint, azureADTokenProvider: tracking });
    out({ ...(await chatWith(client)), tokens: [...tokens] });
  },

  async fetch(url) {
    const init = () => ({ method: "POST", headers: { "content-type": "application/json" },
                          body: JSON.stringify(CHAT) });
    const plain = await fetch(url, init());
    await plain.arrayBuffer();
    const wrapped = await aoai.aoaiFetch(url, init());
    const body = await wrapped.json();
    out({ plain: plain.status, wrapped: wrapped.status,
          content: body.choices ? body.choices[0].message.content : null });
  },

  async send(method, url, body) {
    const res = await aoai.aoaiFetch(url, {
      method, body, headers: { "x-app": "mine", authorization: "Bearer mine" },
    });
    out({ status: res.status, url: res.url, body: await res.text() });
  },

  async sdkfetch(endpoint) {
    const { AzureOpenAI } = openai();
    const client = new AzureOpenAI({ ...SDK_OPTS, endpoint, apiKey: "not-the-key",
                                     fetch: aoai.aoaiFetch });
    out(await chatWith(client));
  },

  async list() {
    const profiles = await aoai.listProfiles();
    out({ profiles: profiles.map((p) => [p.name, p.credential, p.state]) });
  },
};

const [mode, ...args] = process.argv.slice(2);
if (!Object.hasOwn(modes, mode)) {
  out({ error: `unknown mode ${mode}` });
  process.exitCode = 2;
} else {
  try {
    await modes[mode](...args);
  } catch (e) {
    out(errorReport(e));
    process.exitCode = 1;
  }
}
