/**
 * Harness around the real, unchanged Backend.AI JavaScript client
 * (`npm:backend.ai-client@21.3.1`), so integration tests can drive our
 * manager exactly as Backend.AI's web UI does.
 *
 * Facts about the package (investigated in 21.3.1):
 * - its `main` (`backend.ai-client.js`) is missing from the tarball; the Node
 *   build is `backend.ai-client-node.js` (CommonJS, exports `backend.Client`,
 *   `backend.ClientConfig`). It uses the global `fetch`/`Headers`,
 *   `node:crypto`, `querystring` and `Buffer`.
 * - after every successful request it appends a log entry to
 *   `localStorage["backendaiwebui.logs"]` (up to 3000 entries), and on a
 *   failed request it reads `navigator.onLine`. Deno's own `localStorage`
 *   would persist to disk and `navigator.onLine` is undefined (so every
 *   network error reads "Network disconnected"); {@link installBrowserGlobals}
 *   replaces both with in-memory stubs.
 * - `new ClientConfig(accessKey, secretKey, endpoint)` starts at API
 *   `v4.20190615` and `/kernel` paths; `client.get_manager_version()` reads
 *   `GET /` and switches to the server's version (v6 → `/session`).
 * - requests time out after `client.requestTimeout` ms (5000); errors are
 *   thrown as plain objects `{isError, type, statusCode, title, message, ...}`.
 *
 * @module
 */
// deno-lint-ignore-file no-explicit-any
// Inline specifier on purpose: deno.json is shared and this package is only a
// test dependency. Its `main` is missing, so the Node build is named directly.
// deno-lint-ignore no-import-prefix
import ai from "npm:backend.ai-client@21.3.1/backend.ai-client-node.js";

// The package ships a TypeScript source beside the build that Deno picks as
// its types; it does not match the CommonJS exports, so go through `any`.
const lib: { ClientConfig: any; Client: any } = (ai as any).backend;

/** An in-memory `Storage`. */
class MemoryStorage implements Storage {
  #items = new Map<string, string>();
  get length(): number {
    return this.#items.size;
  }
  clear(): void {
    this.#items.clear();
  }
  getItem(key: string): string | null {
    return this.#items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.#items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.#items.delete(key);
  }
  setItem(key: string, value: string): void {
    this.#items.set(key, String(value));
  }
  [name: string]: unknown;
}

let installed = false;

/**
 * Stubs the browser globals the client touches: an in-memory `localStorage`
 * and `navigator.onLine = true`. Idempotent.
 */
export function installBrowserGlobals(): void {
  if (installed) return;
  installed = true;
  Object.defineProperty(globalThis, "localStorage", {
    value: new MemoryStorage(),
    configurable: true,
    writable: true,
  });
  if ((navigator as any).onLine === undefined) {
    Object.defineProperty(navigator, "onLine", {
      value: true,
      configurable: true,
    });
  }
}

/** The error object the client throws. */
export interface BaiClientError {
  isError: true;
  type: string;
  statusCode: number;
  title: string;
  message: string;
  description: string;
}

/** The subset of the client's methods our tests use (it has many more). */
export interface BaiClient {
  /** The underlying client object, for methods not typed here. */
  raw: any;
  /** `GET /` */
  getServerVersion(): Promise<{ version: string; manager: string }>;
  /** `GET /`, then switches the client to the server's API version. */
  get_manager_version(): Promise<string>;
  get_resource_slots(): Promise<Record<string, string>>;
  createIfNotExists(
    kernelType: string,
    sessionId: string,
    resources?: Record<string, unknown>,
    timeout?: number,
  ): Promise<Record<string, unknown>>;
  get_info(
    sessionId: string,
    ownerKey?: string | null,
  ): Promise<Record<string, unknown>>;
  execute(
    sessionId: string,
    runId: string | null,
    mode: string,
    code: string,
    opts: Record<string, unknown>,
  ): Promise<{ result: Record<string, unknown> }>;
  restart(sessionId: string): Promise<unknown>;
  destroy(
    sessionId: string,
    ownerKey?: string | null,
    forced?: boolean,
  ): Promise<Record<string, unknown>>;
  /** The kernel path prefix in use: `/kernel` (v4) or `/session` (v5+). */
  readonly kernelPrefix: string;
}

/** Options of {@link createBaiClient}. */
export interface BaiClientOptions {
  /** e.g. `http://127.0.0.1:8081` (no trailing slash: the host is signed). */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** Appended to the User-Agent. @default {"deno-test"} */
  agentSignature?: string;
  /** Per-request timeout, ms. @default {5000} */
  requestTimeoutMs?: number;
}

/** Constructs the real client against `endpoint`. */
export function createBaiClient(options: BaiClientOptions): BaiClient {
  installBrowserGlobals();
  const config = new lib.ClientConfig(
    options.accessKey,
    options.secretKey,
    options.endpoint,
  );
  const client = new lib.Client(
    config,
    options.agentSignature ?? "deno-test",
  );
  if (options.requestTimeoutMs) {
    client.requestTimeout = options.requestTimeoutMs;
  }
  return new Proxy(client, {
    get(target, prop) {
      if (prop === "raw") return target;
      const v = target[prop];
      return typeof v === "function" ? v.bind(target) : v;
    },
  }) as BaiClient;
}

/** Narrows a thrown value to the client's error object. */
export function isBaiClientError(err: unknown): err is BaiClientError {
  return typeof err === "object" && err !== null &&
    (err as any).isError === true;
}
