// SPDX-License-Identifier: MIT
// A real Node.js client for the aoai-exec tests: the `openai` SDK's AzureOpenAI,
// configured only from the environment aoai-exec gives it.
//   node exec_node_client.js apikey   one chat request with AZURE_OPENAI_API_KEY
//   node exec_node_client.js entra    DefaultAzureCredential (the identity endpoint):
//       one request, prints {"phase":"first"}, waits for a line on stdin, then keeps
//       requesting (at most 20 times, 250 ms apart) until the token provider has
//       handed out a second, different token.
// Prints one JSON line per phase; never a token or a key (only counts).
"use strict";
const { AzureOpenAI } = require("openai");

const SCOPE = "https://cognitiveservices.azure.com/.default";
const opts = { apiVersion: "2024-10-21", deployment: "gpt-4o", maxRetries: 0, timeout: 10000 };

async function chat(client) {
  try {
    const r = await client.chat.completions.create({
      model: "gpt-4o", messages: [{ role: "user", content: "Say hello" }],
    });
    return { status: 200, content: r.choices[0].message.content };
  } catch (e) {
    return { status: e.status || 0, error: String(e.message || e).slice(0, 500) };
  }
}

function line() {
  return new Promise((resolve) => process.stdin.once("data", resolve));
}

async function entra() {
  const { DefaultAzureCredential, getBearerTokenProvider } = require("@azure/identity");
  const provider = getBearerTokenProvider(new DefaultAzureCredential(), SCOPE);
  const seen = new Set();
  const tracking = async () => {
    const t = await provider();
    seen.add(t);
    return t;
  };
  const client = new AzureOpenAI({ ...opts, azureADTokenProvider: tracking });
  const first = await chat(client);
  console.log(JSON.stringify({ phase: "first", ...first, tokens: seen.size }));
  if (first.status !== 200) return 1;
  await line();
  const statuses = [];
  for (let i = 0; i < 20 && seen.size < 2; i++) {
    const r = await chat(client);
    statuses.push(r.status);
    if (r.status !== 200) {
      console.log(JSON.stringify({ phase: "after", statuses, error: r.error, tokens: seen.size }));
      return 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const last = await chat(client);
  statuses.push(last.status);
  console.log(JSON.stringify({ phase: "after", statuses, tokens: seen.size }));
  return 0;
}

async function main() {
  if (process.argv[2] === "apikey") {
    const r = await chat(new AzureOpenAI(opts));
    console.log(JSON.stringify(r));
    return r.status === 200 ? 0 : 1;
  }
  return entra();
}

main().then((code) => process.exit(code), (e) => {
  console.log(JSON.stringify({ status: 0, error: String(e && e.stack || e).slice(0, 1000) }));
  process.exit(1);
});
