// SPDX-License-Identifier: MIT
// The `openai` SDK, unmodified, under aoai-exec's relay, configured only from
// the environment aoai-exec gives it.
//   node relay_node_client.js MODE DIR
//   MODE  azure | azure-stream   AzureOpenAI (AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY)
//         openai | openai-stream OpenAI (OPENAI_BASE_URL, OPENAI_API_KEY), Azure's v1 API
// Writes its own /proc/self/environ to DIR/child.environ and that of a grandchild
// (cat) to DIR/grandchild.environ; prints one JSON line (never a key).
"use strict";
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const { AzureOpenAI, OpenAI } = require("openai");

async function chat(client, stream) {
  const req = { model: "gpt-4o", messages: [{ role: "user", content: "Say hello" }] };
  if (!stream) {
    const r = await client.chat.completions.create(req);
    return { content: r.choices[0].message.content, chunks: 0 };
  }
  const s = await client.chat.completions.create({ ...req, stream: true });
  let content = "";
  let chunks = 0;
  for await (const c of s) {
    chunks++;
    if (c.choices.length) content += c.choices[0].delta.content || "";
  }
  return { content, chunks };
}

async function main() {
  const [mode, dir] = process.argv.slice(2);
  fs.writeFileSync(path.join(dir, "child.environ"), fs.readFileSync("/proc/self/environ"),
    { mode: 0o600 });
  fs.writeFileSync(path.join(dir, "grandchild.environ"),
    execFileSync("/bin/cat", ["/proc/self/environ"]), { mode: 0o600 });
  const opts = { maxRetries: 0, timeout: 15000 };
  const client = mode.startsWith("azure")
    ? new AzureOpenAI({ ...opts, apiVersion: "2024-10-21", deployment: "gpt-4o" })
    : new OpenAI(opts);
  try {
    const r = await chat(client, mode.endsWith("-stream"));
    console.log(JSON.stringify({ status: 200, ...r }));
    return 0;
  } catch (e) {
    const error = String(e.message || e).slice(0, 500);
    console.log(JSON.stringify({ status: e.status || 0, error }));
    return 1;
  }
}

main().then((code) => process.exit(code), (e) => {
  console.log(JSON.stringify({ status: 0, error: String(e && e.stack || e).slice(0, 1000) }));
  process.exit(1);
});
