/**
 * Which cluster the client talks to, and as whom, found the way a user
 * expects:
 *
 * - endpoint: `--endpoint`, else `BACKEND_ENDPOINT` (the Backend.AI
 *   client's name), else the URL the local manager wrote to
 *   `$DATA_DIR/endpoint` at start (`DATA_DIR` defaults to `./var`), else
 *   `http://127.0.0.1:$PORT`, else `http://127.0.0.1:8081`;
 * - keypair: `--access-key` with `--secret-key`, else `--keypair FILE`,
 *   else `BACKEND_ACCESS_KEY` with `BACKEND_SECRET_KEY`, else the admin
 *   keypair the manager saved in `$DATA_DIR/admin.keypair`.
 *
 * A pair given half (one flag, or one of the two variables) is refused
 * rather than completed with the admin keypair: a user's test must not
 * silently run as admin.
 *
 * @module
 */

import { CliError } from "./errors.ts";
import type { Credentials } from "./sign.ts";

/** What the command line and environment say. */
export interface TargetInput {
  endpoint?: string;
  accessKey?: string;
  secretKey?: string;
  /** `--keypair FILE`: a JSON `{accessKey, secretKey}` file. */
  keypairFile?: string;
  env: Record<string, string | undefined>;
  /** Reads a text file; undefined when it does not exist. */
  readText(path: string): Promise<string | undefined>;
}

/** The cluster and identity a command uses, and where each came from. */
export interface Target {
  endpoint: string;
  /** e.g. `--endpoint`, `BACKEND_ENDPOINT`, `var/endpoint`. */
  endpointFrom: string;
  creds: Credentials;
  /** e.g. `BACKEND_ACCESS_KEY`, `var/admin.keypair`. */
  credsFrom: string;
}

const nonEmpty = (v: string | undefined) => v === "" ? undefined : v;

/** The data dir the local cluster uses (`DATA_DIR`, default `./var`). */
export function dataDirOf(env: Record<string, string | undefined>): string {
  return nonEmpty(env.DATA_DIR) ?? "./var";
}

/**
 * Resolves endpoint and keypair (module doc).
 * @throws {CliError} for a half-given pair, a malformed URL or key file, or
 * no keypair anywhere.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveTarget } from "./target.ts";
 * const t = await resolveTarget({
 *   env: { BACKEND_ENDPOINT: "http://10.0.0.5:8081", BACKEND_ACCESS_KEY: "AKIA1", BACKEND_SECRET_KEY: "s" },
 *   readText: () => Promise.resolve(undefined),
 * });
 * assert.ok(t.endpoint === "http://10.0.0.5:8081" && t.credsFrom === "BACKEND_ACCESS_KEY");
 * ```
 */
export async function resolveTarget(input: TargetInput): Promise<Target> {
  const dataDir = dataDirOf(input.env);
  const { endpoint, endpointFrom } = await findEndpoint(input, dataDir);
  const { creds, credsFrom } = await findCredentials(input, dataDir);
  return { endpoint, endpointFrom, creds, credsFrom };
}

async function findEndpoint(
  input: TargetInput,
  dataDir: string,
): Promise<{ endpoint: string; endpointFrom: string }> {
  const given = nonEmpty(input.endpoint);
  if (given) {
    return {
      endpoint: checkUrl(given, "--endpoint"),
      endpointFrom: "--endpoint",
    };
  }
  const env = nonEmpty(input.env.BACKEND_ENDPOINT);
  if (env) {
    return {
      endpoint: checkUrl(env, "BACKEND_ENDPOINT"),
      endpointFrom: "BACKEND_ENDPOINT",
    };
  }
  const file = `${dataDir}/endpoint`;
  const written = (await input.readText(file))?.trim();
  if (written) return { endpoint: checkUrl(written, file), endpointFrom: file };
  const port = nonEmpty(input.env.PORT);
  if (port) {
    return {
      endpoint: checkUrl(`http://127.0.0.1:${port}`, "PORT"),
      endpointFrom: "PORT",
    };
  }
  return { endpoint: "http://127.0.0.1:8081", endpointFrom: "the default" };
}

function checkUrl(raw: string, from: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`${from} is not a URL: ${JSON.stringify(raw)}`, 2);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliError(
      `${from} must be an http:// or https:// URL, not ${JSON.stringify(raw)}`,
      2,
    );
  }
  return raw.replace(/\/+$/, "");
}

async function findCredentials(
  input: TargetInput,
  dataDir: string,
): Promise<{ creds: Credentials; credsFrom: string }> {
  const flagPair = pair(
    nonEmpty(input.accessKey),
    nonEmpty(input.secretKey),
    "--access-key",
    "--secret-key",
  );
  if (flagPair) return { creds: flagPair, credsFrom: "--access-key" };
  if (input.keypairFile) {
    return {
      creds: await keypairFile(input, input.keypairFile, true),
      credsFrom: input.keypairFile,
    };
  }
  const envPair = pair(
    nonEmpty(input.env.BACKEND_ACCESS_KEY),
    nonEmpty(input.env.BACKEND_SECRET_KEY),
    "BACKEND_ACCESS_KEY",
    "BACKEND_SECRET_KEY",
  );
  if (envPair) return { creds: envPair, credsFrom: "BACKEND_ACCESS_KEY" };
  const file = `${dataDir}/admin.keypair`;
  return { creds: await keypairFile(input, file, false), credsFrom: file };
}

function pair(
  accessKey: string | undefined,
  secretKey: string | undefined,
  akName: string,
  skName: string,
): Credentials | undefined {
  if (accessKey && secretKey) return { accessKey, secretKey };
  if (accessKey || secretKey) {
    const [have, missing] = accessKey ? [akName, skName] : [skName, akName];
    throw new CliError(
      `${have} is set but ${missing} is not: set both (or neither, to use the local admin keypair)`,
      2,
    );
  }
  return undefined;
}

async function keypairFile(
  input: TargetInput,
  file: string,
  given: boolean,
): Promise<Credentials> {
  const text = await input.readText(file);
  if (text === undefined) {
    throw new CliError(
      given
        ? `no keypair file ${file}`
        : `no keypair: set BACKEND_ACCESS_KEY and BACKEND_SECRET_KEY, or start the cluster here first (deno task start writes ${file})`,
      2,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const kp = parsed as Partial<Credentials> | undefined;
  if (
    typeof kp?.accessKey !== "string" || typeof kp.secretKey !== "string" ||
    !kp.accessKey || !kp.secretKey
  ) {
    throw new CliError(
      `${file} is not a keypair file (JSON with accessKey and secretKey)`,
      2,
    );
  }
  return { accessKey: kp.accessKey, secretKey: kp.secretKey };
}

/** {@link TargetInput.readText} over the file system. */
export async function readTextIfAny(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new CliError(`cannot read ${path}: ${(e as Error).message}`, 2);
  }
}
