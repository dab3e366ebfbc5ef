// SPDX-License-Identifier: MIT
// Types of the aoai-agent Node client (index.js).

export const PROTOCOL_VERSION: 1;
/** The largest frame payload either side sends (256 KiB). */
export const MAX_FRAME: number;
export const DEFAULT_SCOPE: "https://cognitiveservices.azure.com/.default";

/**
 * The agent's error codes, and the client's own: `no_agent` (nothing to talk
 * to), `io` (the connection broke or no reply came in time), `protocol` (an
 * invalid reply), `invalid` (a bad argument).
 */
export type AoaiErrorKind =
  | "bad_request" | "unsupported_version" | "unknown_op" | "no_match" | "insecure_url"
  | "locked" | "not_locked" | "bad_passphrase" | "missing_secret" | "unavailable"
  | "not_found" | "conflict" | "bad_config" | "denied" | "limit" | "internal" | "store"
  | "no_agent" | "io" | "protocol" | "invalid"
  | (string & {});

export class AoaiError extends Error {
  constructor(kind: AoaiErrorKind, message: string, options?: { cause?: unknown });
  readonly name: "AoaiError";
  /** The agent's error code or a local kind; stable, for programs. */
  readonly kind: AoaiErrorKind;
  /** The exit status `aoai` gives the same failure: 1, 2, 3 (no agent), 4, 5, 6 or 7. */
  readonly exitCode: number;
}

/** The exit status the `aoai` CLI uses for an error of @kind. */
export function exitCodeFor(kind: string): number;

/** $AOAI_AUTH_SOCK, else $XDG_RUNTIME_DIR/aoai/agent.sock, else null. */
export function socketPath(env?: Record<string, string | undefined>): string | null;

export type ExistsAction = "override" | "skip" | "append";

export interface AgentHeader {
  name: string;
  value: string;
  /** What to do when the request already has a header of that name. */
  exists_action: ExistsAction;
}

export interface HeaderList {
  profile: string;
  headers: AgentHeader[];
}

export interface AgentToken {
  token: string;
  /** Expiry in seconds since the Unix epoch. */
  expiresOn: number;
  /** Expiry in milliseconds since the Unix epoch (@azure/core-auth's AccessToken). */
  expiresOnTimestamp: number;
  tokenType: string;
  profile: string;
  scope: string;
  /** imds, app-service, workload-identity, client-secret, azure-cli … */
  source: string;
}

/** A profile as the agent's `list` describes it (never a secret). */
export interface AgentProfile {
  name: string;
  hosts: string[];
  credential: string;
  origin: "config" | "added" | (string & {});
  state: "ready" | "locked" | "missing_secret" | "unavailable" | (string & {});
  detail: string | null;
  token?: {
    source: string;
    scope: string;
    state: "valid" | "none" | "fetching" | "expired" | (string & {});
    expires_in: number | null;
    refresh_in: number | null;
    last_error: string | null;
  };
  [field: string]: unknown;
}

/** What `new AzureOpenAI({ azureADTokenProvider })` takes. */
export type TokenProvider = () => Promise<string>;

/** The shape of @azure/core-auth's TokenCredential. */
export interface AgentTokenCredential {
  getToken(scopes: string | string[]): Promise<{
    token: string;
    expiresOnTimestamp: number;
    tokenType: "Bearer";
  }>;
}

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface AgentClientOptions {
  /** A fixed socket path; default: socketPath() at each connect. */
  socketPath?: string;
  /** Milliseconds to connect (default 5000). */
  connectTimeout?: number;
  /** Milliseconds to wait for a reply (default 120000; the agent bounds token waits itself). */
  replyTimeout?: number;
}

/**
 * One kept connection to the agent; requests are pipelined on it and it is
 * reopened once when the agent restarted.  Idle, it does not keep Node running.
 */
export class AgentClient {
  constructor(options?: AgentClientOptions);
  /** Sends a raw protocol request (`v` is added); resolves with the ok reply. */
  request(request: { op: string; [field: string]: unknown }): Promise<Record<string, unknown>>;
  headerList(url: string | URL): Promise<HeaderList>;
  headers(url: string | URL): Promise<Record<string, string>>;
  token(profile?: string | null, scope?: string | null): Promise<AgentToken>;
  listProfiles(): Promise<AgentProfile[]>;
  azureADTokenProvider(profile?: string | null, scope?: string): TokenProvider;
  tokenCredential(profile?: string | null): AgentTokenCredential;
  createFetch(baseFetch?: FetchLike): FetchLike;
  /** Closes the connection; pending requests fail with kind `io`. */
  close(): void;
}

/** The client the functions below share. */
export function getDefaultClient(): AgentClient;

/** The headers the agent gives for a request to @url: {name: value}. */
export function headers(url: string | URL): Promise<Record<string, string>>;
export function headerList(url: string | URL): Promise<HeaderList>;
/** A token of @profile (default: the only token profile) for @scope (default: the profile's). */
export function token(profile?: string | null, scope?: string | null): Promise<AgentToken>;
export function listProfiles(): Promise<AgentProfile[]>;
/** `async () => token` for `new AzureOpenAI({ azureADTokenProvider })`. */
export function azureADTokenProvider(profile?: string | null, scope?: string): TokenProvider;
export function tokenCredential(profile?: string | null): AgentTokenCredential;
/**
 * A fetch that adds the agent's headers for each request's URL (merged by
 * their exists_action) and follows redirects itself, asking the agent for each
 * hop; a URL without a profile goes out unchanged.
 */
export function createFetch(baseFetch?: FetchLike): FetchLike;
/** globalThis.fetch with the agent's headers: `new OpenAI({ fetch: aoaiFetch })`. */
export function aoaiFetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
