// SPDX-License-Identifier: MIT
// A client of aoai-agent for Node.js, written from protocol/PROTOCOL.md alone:
// length-prefixed JSON frames over the agent's Unix socket.  One connection is
// kept per client and requests are pipelined on it (the agent answers in
// request order); it holds the process open only while a request is pending.
// Nothing here puts a secret (a header value, a token) into an error message.

import fs from "node:fs";
import net from "node:net";
import process from "node:process";

export const PROTOCOL_VERSION = 1;
/** PROTO_MAX_FRAME: the largest payload either side sends. */
export const MAX_FRAME = 262144;
export const DEFAULT_SCOPE = "https://cognitiveservices.azure.com/.default";

const CONNECT_TIMEOUT_MS = 5000;
// The agent bounds its own wait for a token source (a client "sets no timeout of
// its own"); this only catches an agent that stopped answering altogether.
const REPLY_TIMEOUT_MS = 120000;
// Requests sent again on a fresh connection when the first one closed before
// their reply: those that change nothing in the agent.
const RESENDABLE = new Set(["headers", "token", "list", "status", "jwks"]);
const MAX_REDIRECTS = 20;
const START_HINT =
  'start one with eval "$(aoai-agent)", or use the systemd agent with eval "$(aoai env)"';

// The exit status `aoai` gives each outcome (client/shared/exitcode.c); every
// other kind is 1.  Local kinds: no_agent, io (the connection broke or timed
// out), protocol (the agent sent something invalid), invalid (a bad argument).
const EXIT_CODES = Object.freeze({
  invalid: 2,
  no_agent: 3,
  no_match: 4,
  insecure_url: 4,
  locked: 5,
  missing_secret: 6,
  unavailable: 6,
  denied: 7,
});

/** The exit status the `aoai` CLI uses for an error of @kind. */
export function exitCodeFor(kind) {
  return Object.hasOwn(EXIT_CODES, kind) ? EXIT_CODES[kind] : 1;
}

export class AoaiError extends Error {
  /**
   * @param {string} kind the agent's error code (`no_match`, `locked` …) or a
   *   local one (`no_agent`, `io`, `protocol`, `invalid`)
   * @param {string} message for people; never holds a secret
   */
  constructor(kind, message, options) {
    super(message, options);
    this.name = "AoaiError";
    this.kind = kind;
    this.exitCode = exitCodeFor(kind);
  }
}

/**
 * The agent's socket path: $AOAI_AUTH_SOCK, else $XDG_RUNTIME_DIR/aoai/agent.sock;
 * null when neither is set (an absolute XDG_RUNTIME_DIR only, as the C clients).
 */
export function socketPath(env = process.env) {
  if (env.AOAI_AUTH_SOCK) return env.AOAI_AUTH_SOCK;
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && runtime.startsWith("/")) return `${runtime}/aoai/agent.sock`;
  return null;
}

// strerror()'s words for what connect() meets, as the C clients print them.
const ERRNO_TEXT = {
  ENOENT: "No such file or directory",
  ECONNREFUSED: "Connection refused",
  EACCES: "Permission denied",
  ENOTDIR: "Not a directory",
  ENOTSOCK: "Socket operation on non-socket",
};

function noAgent(path, err) {
  const hints = {
    ENOENT: `: ${START_HINT}`,
    ECONNREFUSED: ` (a stale socket: its agent has stopped): ${START_HINT}`,
  };
  const why = ERRNO_TEXT[err.code] || err.code || err.message;
  const hint = hints[err.code] || "";
  return new AoaiError("no_agent", `cannot reach the agent at ${path}: ${why}${hint}`);
}

// The agent refuses peers of another uid; Node cannot read SO_PEERCRED, so the
// socket's owner stands in for the listener's (root's agent is accepted, as
// the C clients accept a root peer).
function checkOwner(path) {
  const st = fs.statSync(path);
  const uid = typeof process.getuid === "function" ? process.getuid() : null;
  if (uid !== null && st.uid !== uid && st.uid !== 0) {
    throw new AoaiError("no_agent", `the agent at ${path} runs as another user: not using it`);
  }
}

function encodeFrame(request) {
  const payload = Buffer.from(JSON.stringify(request), "utf8");
  if (payload.length < 1 || payload.length > MAX_FRAME) {
    throw new AoaiError("invalid", `request of ${payload.length} bytes exceeds the frame limit`);
  }
  const frame = Buffer.allocUnsafe(4 + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  payload.copy(frame, 4);
  payload.fill(0);
  return frame;
}

// Splits incoming bytes into frames, checking each length before waiting for
// (and allocating) its payload.
class FrameReader {
  #chunks = [];
  #size = 0;

  push(chunk) {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
  }

  #take(n) {
    const all = this.#chunks.length === 1 ? this.#chunks[0]
      : Buffer.concat(this.#chunks, this.#size);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length ? [rest] : [];
    this.#size = rest.length;
    return out;
  }

  /** The next complete payload, null when more bytes are needed; throws on a bad length. */
  next() {
    if (this.#size < 4) return null;
    const head = this.#chunks[0].length >= 4 ? this.#chunks[0] : Buffer.concat(this.#chunks, 4);
    const length = head.readUInt32BE(0);
    if (length < 1 || length > MAX_FRAME) {
      throw new AoaiError("protocol", `the agent sent a frame of invalid length ${length}`);
    }
    if (this.#size < 4 + length) return null;
    return this.#take(4 + length).subarray(4);
  }
}

function decodeReply(payload) {
  let reply;
  try {
    reply = JSON.parse(payload.toString("utf8"));
  } catch {
    // Not quoted: the payload may hold a secret.
    throw new AoaiError("protocol", "the agent sent a reply that is not JSON");
  }
  if (reply === null || typeof reply !== "object" || Array.isArray(reply) ||
      reply.v !== PROTOCOL_VERSION || typeof reply.ok !== "boolean") {
    throw new AoaiError("protocol", "the agent sent a reply without v=1 and ok");
  }
  return reply;
}

function replyError(reply) {
  const kind = typeof reply.error === "string" && reply.error ? reply.error : "internal";
  const message = typeof reply.message === "string" ? reply.message
    : `the agent refused the request (${kind})`;
  return new AoaiError(kind, message);
}

/**
 * A connection to one agent.  Requests are written as they come and matched
 * to replies in order; a request whose connection closed before its reply is
 * sent once more on a fresh connection (the agent may have restarted).
 */
export class AgentClient {
  #path;
  #connectTimeout;
  #replyTimeout;
  #sock = null;
  #pending = []; // written, awaiting a reply, oldest first
  #timer = null;

  /**
   * @param {{socketPath?: string, connectTimeout?: number, replyTimeout?: number}} [options]
   *   socketPath: fixed path (default: looked up at each connect); timeouts in ms
   */
  constructor(options = {}) {
    this.#path = options.socketPath ?? null;
    this.#connectTimeout = options.connectTimeout ?? CONNECT_TIMEOUT_MS;
    this.#replyTimeout = options.replyTimeout ?? REPLY_TIMEOUT_MS;
  }

  /** Sends @request (an object; `v` is added) and resolves with the ok reply. */
  request(request) {
    let frame;
    try {
      frame = encodeFrame({ v: PROTOCOL_VERSION, ...request });
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.#send({ frame, resolve, reject, resend: RESENDABLE.has(request.op) });
    });
  }

  /** Closes the connection; pending requests fail with kind `io`. */
  close() {
    this.#drop(new AoaiError("io", "the client was closed"), false);
  }

  #send(entry) {
    let sock;
    try {
      sock = this.#sock ?? this.#connect();
    } catch (err) {
      entry.frame.fill(0);
      entry.reject(err);
      return;
    }
    this.#pending.push(entry);
    sock.ref();
    if (this.#pending.length === 1) this.#arm();
    sock.write(entry.frame);
  }

  #connect() {
    const path = this.#path ?? socketPath();
    if (!path) {
      throw new AoaiError("no_agent",
        `no agent socket: AOAI_AUTH_SOCK and XDG_RUNTIME_DIR are both unset: ${START_HINT}`);
    }
    try {
      checkOwner(path);
    } catch (err) {
      throw err instanceof AoaiError ? err : noAgent(path, err);
    }
    const sock = net.createConnection({ path });
    const reader = new FrameReader();
    let connected = false;
    const connectTimer = setTimeout(() => {
      const ms = this.#connectTimeout;
      this.#fail(sock, new AoaiError("io", `no connection to the agent at ${path} within ${ms} ms`),
        false);
    }, this.#connectTimeout);
    connectTimer.unref();
    sock.once("connect", () => {
      connected = true;
      clearTimeout(connectTimer);
    });
    sock.on("data", (chunk) => this.#onData(sock, reader, chunk));
    sock.on("error", (err) => {
      clearTimeout(connectTimer);
      const why = err.code || err.message;
      this.#fail(sock, connected ? new AoaiError("io", `the connection to the agent broke: ${why}`)
        : noAgent(path, err), connected);
    });
    sock.on("close", () => {
      clearTimeout(connectTimer);
      this.#fail(sock, new AoaiError("io", "the agent closed the connection"), connected);
    });
    this.#sock = sock;
    return sock;
  }

  #onData(sock, reader, chunk) {
    if (sock !== this.#sock) return;
    reader.push(chunk);
    for (;;) {
      let reply;
      try {
        const payload = reader.next();
        if (payload === null) return;
        reply = decodeReply(payload);
        payload.fill(0);
      } catch (err) {
        this.#fail(sock, err, false);
        return;
      }
      const entry = this.#pending.shift();
      if (!entry) {
        this.#fail(sock, new AoaiError("protocol", "the agent sent a reply to no request"), false);
        return;
      }
      entry.frame.fill(0);
      if (reply.ok) entry.resolve(reply);
      else entry.reject(replyError(reply));
      this.#arm();
    }
  }

  // The reply timer runs for the oldest pending request; idle, the socket is unref'd.
  #arm() {
    clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#pending.length === 0) {
      this.#sock?.unref();
      return;
    }
    const sock = this.#sock;
    this.#timer = setTimeout(() => {
      const ms = this.#replyTimeout;
      this.#fail(sock, new AoaiError("io", `no reply from the agent within ${ms} ms`), false);
    }, this.#replyTimeout);
    this.#timer.unref();
  }

  // The connection @sock is unusable: forget it; its pending requests are sent
  // once more (when @retry and the request may be resent) or fail with @err.
  #fail(sock, err, retry) {
    if (sock !== this.#sock) return;
    this.#drop(err, retry);
  }

  #drop(err, retry) {
    const sock = this.#sock;
    const pending = this.#pending;
    this.#sock = null;
    this.#pending = [];
    clearTimeout(this.#timer);
    this.#timer = null;
    sock?.destroy();
    for (const entry of pending) {
      if (retry && entry.resend) {
        entry.resend = false;
        this.#send(entry);
      } else {
        entry.frame.fill(0);
        entry.reject(err);
      }
    }
  }

  /**
   * The headers the agent gives for a request to @url, as sent on the wire:
   * [{name, value, exists_action}] plus the profile that matched.
   */
  async headerList(url) {
    const reply = await this.request({ op: "headers", url: String(url) });
    if (!Array.isArray(reply.headers) || !reply.headers.every(validHeader)) {
      throw new AoaiError("protocol", "the agent sent a headers reply without valid headers");
    }
    return { profile: reply.profile, headers: reply.headers };
  }

  /** The headers for a request to @url as a plain object {name: value}. */
  async headers(url) {
    const { headers } = await this.headerList(url);
    const out = {};
    for (const h of headers) {
      out[h.name] = Object.hasOwn(out, h.name) ? `${out[h.name]}, ${h.value}` : h.value;
    }
    return out;
  }

  /**
   * An access token of a token profile (default: the agent's only one) for
   * @scope (default: the profile's).  expiresOnTimestamp is in milliseconds,
   * as @azure/core-auth's AccessToken has it.
   */
  async token(profile, scope) {
    const req = { op: "token" };
    if (profile !== undefined && profile !== null) req.profile = profile;
    if (scope !== undefined && scope !== null) req.scope = scope;
    const r = await this.request(req);
    if (typeof r.access_token !== "string" || !Number.isInteger(r.expires_on)) {
      throw new AoaiError("protocol", "the agent sent a token reply without its token or expiry");
    }
    return {
      token: r.access_token,
      expiresOn: r.expires_on,
      expiresOnTimestamp: r.expires_on * 1000,
      tokenType: r.token_type,
      profile: r.profile,
      scope: r.scope,
      source: r.source,
    };
  }

  /** The agent's profiles, as `list` describes them (never a secret). */
  async listProfiles() {
    const r = await this.request({ op: "list" });
    return Array.isArray(r.profiles) ? r.profiles : [];
  }

  /** `async () => token` for `new AzureOpenAI({ azureADTokenProvider })`. */
  azureADTokenProvider(profile, scope = DEFAULT_SCOPE) {
    return async () => (await this.token(profile, scope)).token;
  }

  /**
   * A TokenCredential (@azure/core-auth) served by the agent: getToken(scopes)
   * asks for the first scope of @profile (default: the only token profile).
   */
  tokenCredential(profile) {
    return {
      getToken: async (scopes) => {
        const scope = Array.isArray(scopes) ? scopes[0] : scopes;
        const t = await this.token(profile, scope);
        return { token: t.token, expiresOnTimestamp: t.expiresOnTimestamp, tokenType: "Bearer" };
      },
    };
  }

  /** A fetch that adds the agent's headers for each request's URL; see createFetch. */
  createFetch(baseFetch = globalThis.fetch) {
    return makeFetch(this, baseFetch);
  }
}

function validHeader(h) {
  return h && typeof h.name === "string" && typeof h.value === "string" &&
    ["override", "skip", "append"].includes(h.exists_action);
}

function inputUrl(input) {
  if (typeof input === "string") return input;
  if (input instanceof URL) return input.href;
  if (input && typeof input.url === "string") return input.url;
  return String(input);
}

// The request's own headers with the agent's merged in by exists_action
// (PROTOCOL.md, `headers`); each hop starts again from the request's own.
function mergeHeaders(own, agentHeaders) {
  const h = new Headers(own);
  for (const { name, value, exists_action: action } of agentHeaders) {
    if (action === "append") h.append(name, value);
    else if (action === "skip") {
      if (!h.has(name)) h.set(name, value);
    } else h.set(name, value);
  }
  return h;
}

// The headers of the agent's reply for @url, or null for a URL it has no
// profile for (no_match, insecure_url): such a request goes out untouched, as
// the LD_PRELOAD hook lets it.
async function agentHeadersFor(client, url) {
  try {
    return (await client.headerList(url)).headers;
  } catch (err) {
    const unmatched = err instanceof AoaiError &&
      (err.kind === "no_match" || err.kind === "insecure_url");
    if (unmatched) return null;
    throw err;
  }
}

function replayable(body) {
  return body === undefined || body === null || typeof body === "string" ||
    body instanceof ArrayBuffer || ArrayBuffer.isView(body) || body instanceof URLSearchParams ||
    (typeof Blob !== "undefined" && body instanceof Blob);
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const CROSS_ORIGIN_DROP = ["authorization", "cookie", "proxy-authorization"];
const BODY_HEADERS = ["content-encoding", "content-language", "content-location", "content-type"];

function makeFetch(client, baseFetch) {
  if (typeof baseFetch !== "function") {
    throw new TypeError("createFetch: baseFetch is not a function");
  }
  // Redirects are followed here, each hop asking the agent afresh, so the
  // agent's headers never follow a Location to a host they are not for.
  return async function aoaiFetch(input, init) {
    init ??= {};
    const isRequest = typeof Request !== "undefined" && input instanceof Request;
    let url = inputUrl(input);
    const own = new Headers(init.headers ?? (isRequest ? input.headers : undefined));
    const mode = init.redirect ?? (isRequest ? input.redirect : "follow");
    // A Request's body is a stream: it goes out once, so a 307/308 ends here.
    const streamed = isRequest && input.body !== null && init.body === undefined;
    let req = isRequest ? { method: input.method, signal: input.signal, ...init } : { ...init };
    for (let hop = 0; ; hop++) {
      const extra = await agentHeadersFor(client, url);
      const opts = { ...req, headers: extra ? mergeHeaders(own, extra) : new Headers(own) };
      if (mode === "follow") opts.redirect = "manual";
      const res = await baseFetch(hop === 0 ? input : url, opts);
      const location = res.headers.get("location");
      if (mode !== "follow" || !REDIRECTS.has(res.status) || location === null) return res;
      if (hop >= MAX_REDIRECTS) throw new TypeError("fetch failed: too many redirects");
      const method = (req.method ?? "GET").toUpperCase();
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
        req = { ...req, method: method === "HEAD" ? "HEAD" : "GET", body: undefined };
        BODY_HEADERS.forEach((n) => own.delete(n));
      } else if (streamed || !replayable(req.body)) {
        return res;
      }
      await res.body?.cancel();
      const next = new URL(location, url);
      // As fetch itself does: the program's credentials stay with their origin.
      if (next.origin !== new URL(url).origin) CROSS_ORIGIN_DROP.forEach((n) => own.delete(n));
      url = next.href;
    }
  };
}

let defaultClient = null;

/** The client the module-level functions share (socket looked up at each connect). */
export function getDefaultClient() {
  defaultClient ??= new AgentClient();
  return defaultClient;
}

/** The headers for a request to @url: {name: value}. */
export function headers(url) {
  return getDefaultClient().headers(url);
}

/** As headers(), with each header's exists_action and the profile. */
export function headerList(url) {
  return getDefaultClient().headerList(url);
}

/** {token, expiresOn (s), expiresOnTimestamp (ms), tokenType, profile, scope, source}. */
export function token(profile, scope) {
  return getDefaultClient().token(profile, scope);
}

export function listProfiles() {
  return getDefaultClient().listProfiles();
}

/** `async () => token` for `new AzureOpenAI({ azureADTokenProvider })`. */
export function azureADTokenProvider(profile, scope = DEFAULT_SCOPE) {
  return getDefaultClient().azureADTokenProvider(profile, scope);
}

export function tokenCredential(profile) {
  return getDefaultClient().tokenCredential(profile);
}

/** A fetch (default: globalThis.fetch) that adds the agent's headers. */
export function createFetch(baseFetch = globalThis.fetch) {
  return makeFetch(getDefaultClient(), baseFetch);
}

/** globalThis.fetch with the agent's headers: `new OpenAI({ fetch: aoaiFetch })`. */
export function aoaiFetch(input, init) {
  return createFetch()(input, init);
}
