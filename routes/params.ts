/**
 * Request parameters (API.md "Parameters"): read from the JSON body if there
 * is one, else from the query string; both naming generations accepted
 * (`lang`/`image`, `clientSessionToken`/`name`, snake/camel case); validated
 * with zod, failures reported as 400 invalid-api-params with the issues in
 * `data`.
 *
 * @module
 */
import { z } from "zod";
import type { Context } from "hono";
import type { GatewayEnv } from "./context.ts";
import type {
  CreateSessionRequest,
  ExecuteMode,
} from "../actors/manager/port/mod.ts";
import { InvalidApiParams } from "./problems.ts";
import { assertCleanInput } from "./input.ts";
import { InvalidBinarySizeError, parseBinarySize } from "../policies/slots.ts";

// Fatal: a body that is not UTF-8 is refused, not stored with U+FFFD in it.
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The raw parameters of a request: the JSON body when non-empty and not
 * multipart, else the query string (repeated keys become arrays).
 * @throws {InvalidApiParams} "Malformed body" when the body is not a JSON
 * object in UTF-8, and when any string in it is not clean text (input.ts).
 */
export function rawParams(c: Context<GatewayEnv>): Record<string, unknown> {
  const body = c.get("body");
  const type = c.req.header("content-type") ?? "";
  if (body.byteLength > 0 && !type.startsWith("multipart/")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(decoder.decode(body));
    } catch {
      throw new InvalidApiParams("Malformed body");
    }
    if (
      parsed === null || typeof parsed !== "object" || Array.isArray(parsed)
    ) {
      throw new InvalidApiParams("Malformed body: a JSON object is expected");
    }
    assertCleanInput(parsed);
    return parsed as Record<string, unknown>;
  }
  return queryParams(c);
}

/** The query string as an object; repeated keys become arrays. */
export function queryParams(c: Context<GatewayEnv>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const url = c.req.url;
  const q = url.indexOf("?");
  if (q < 0) return out;
  for (const [k, v] of new URLSearchParams(url.slice(q + 1))) {
    const prev = out[k];
    out[k] = prev === undefined
      ? v
      : Array.isArray(prev)
      ? [...prev, v]
      : [prev, v];
  }
  assertCleanInput(out);
  return out;
}

/** Options of {@link validate}. */
export interface ValidateOptions {
  /**
   * Top-level keys whose `null` is a value of its own (e.g. "clear the
   * limit"), kept as sent. Every other `null` means "not given".
   * @default {[]}
   */
  keepNull?: readonly string[];
}

/**
 * Object members whose value is `null` removed, at every depth of nested
 * objects (arrays are left as they are): the Python SDK sends `null` for
 * every option left unset, and Backend.AI's manager reads that as absent.
 *
 * @example
 * ```ts
 * withoutNulls({ tag: null, config: { environ: null, mounts: [] } });
 * // → { config: { mounts: [] } }
 * ```
 */
export function withoutNulls(
  value: unknown,
  keep: readonly string[] = [],
): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return value;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null) {
      if (keep.includes(k)) out[k] = v;
      continue;
    }
    out[k] = withoutNulls(v);
  }
  return out;
}

/**
 * Validates `raw` against `schema`, mapping failures to invalid-api-params.
 * A `null` member counts as absent (see {@link withoutNulls}) unless its key
 * is in `options.keepNull`.
 */
export function validate<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  options: ValidateOptions = {},
): z.output<S> {
  const r = schema.safeParse(withoutNulls(raw, options.keepNull));
  if (!r.success) {
    const issues = r.error.issues.map((i) => ({
      path: i.path.join("."),
      message: i.message,
    }));
    // The first issues in the message too: clients often show only `msg`.
    const said = issues.slice(0, 3).map((i) =>
      i.path ? `${i.path}: ${i.message}` : i.message
    );
    throw new InvalidApiParams(
      `Invalid parameters (${said.join("; ")})`,
      issues,
    );
  }
  return r.data;
}

/** snake_case → camelCase (`owner_access_key` → `ownerAccessKey`). */
export function camelKey(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
}

/**
 * Renames keys to camelCase and applies generation aliases, keeping the
 * first value when both spellings are sent. Values are not touched: user
 * keys inside `resources`, `environ`, `mountMap` keep their spelling.
 */
export function normalizeKeys(
  obj: Record<string, unknown>,
  aliases: Record<string, string> = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const camel = camelKey(k);
    const name = aliases[camel] ?? camel;
    if (!(name in out)) out[name] = v;
  }
  return out;
}

/** Booleans as JSON or query-string text. */
export const boolish = z.union([
  z.boolean(),
  z.enum(["true", "false", "1", "0", "yes", "no", "True", "False"]).transform((
    s,
  ) => s === "true" || s === "1" || s === "yes" || s === "True"),
]);

/** Non-negative integers as JSON or text. */
export const intish = z.union([
  z.number().int(),
  z.string().regex(/^-?\d+$/).transform(Number),
]);

/** A size slot's bytes (policies/slots.ts rules), undefined when invalid. */
function sizeOrUndefined(value: string | number): number | undefined {
  try {
    return parseBinarySize(value);
  } catch (e) {
    if (e instanceof InvalidBinarySizeError) return undefined;
    throw e;
  }
}

/**
 * Slots whose amounts requests may give as binary sizes (`"4g"`,
 * `"512MiB"`): `mem`, `shmem` and device memory (`*.mem`). One rule for
 * session creation, admin caps and GraphQL policy input.
 */
export function isSizeParam(slot: string): boolean {
  return slot === "mem" || slot === "shmem" || slot.endsWith(".mem");
}

/** Slot amounts: numbers or numeric strings; size slots also binary-size strings. */
const resourcesSchema = z.record(z.string(), z.union([z.number(), z.string()]))
  .transform(
    (r, ctx) => {
      const out: Record<string, number> = {};
      for (const [slot, v] of Object.entries(r)) {
        const n = isSizeParam(slot)
          ? sizeOrUndefined(v)
          : typeof v === "number"
          ? v
          : Number(v);
        if (n === undefined || !Number.isFinite(n) || n < 0) {
          ctx.addIssue({
            code: "custom",
            message: `invalid amount for slot ${slot}`,
            path: [slot],
          });
          continue;
        }
        out[slot] = n;
      }
      return out;
    },
  );

const CONFIG_ALIASES: Record<string, string> = {};
const configSchema = z.preprocess(
  (
    v,
  ) => (v && typeof v === "object" && !Array.isArray(v)
    ? normalizeKeys(v as Record<string, unknown>, CONFIG_ALIASES)
    : v),
  z.object({
    resources: resourcesSchema.default({}),
    resourceOpts: z.record(z.string(), z.unknown()).default({}),
    mounts: z.array(z.string()).default([]),
    mountMap: z.record(z.string(), z.string()).default({}),
    environ: z.record(z.string(), z.string()).default({}),
    scalingGroup: z.string().min(1).optional(),
    // `--preopen 8080` arrives as ["8080"].
    preopenPorts: z.array(intish.pipe(z.number().int().min(1).max(65535)))
      .default([]),
    /** `config.scale_in_protected`: scale-in never stops its node (only drains it). */
    scaleInProtected: boolish.optional(),
    // Old clients put slots at the top of config (`{"cpu": 1, "mem": "1g"}`).
    cpu: z.union([z.number(), z.string()]).optional(),
    mem: z.union([z.number(), z.string()]).optional(),
  }).loose(),
);

/** Session names: `^\w[\w.-]*\w$`, 4–64 characters. */
export const sessionNameSchema = z.string().min(4).max(64).regex(
  /^\w[\w.-]*\w$/,
);

const CREATE_ALIASES: Record<string, string> = {
  lang: "image",
  clientSessionToken: "name",
  sessionName: "name",
  sessionType: "type",
};

const createSchema = z.object({
  image: z.string().min(1),
  name: sessionNameSchema,
  type: z.enum(["interactive", "batch"]).default("interactive"),
  startupCommand: z.string().optional(),
  enqueueOnly: boolish.default(false),
  maxWaitSeconds: intish.pipe(z.number().int().min(0)).default(0),
  reuseIfExists: boolish.default(true),
  tag: z.string().optional(),
  bootstrapScript: z.string().optional(),
  ownerAccessKey: z.string().min(1).optional(),
  config: configSchema.default({
    resources: {},
    resourceOpts: {},
    mounts: [],
    mountMap: {},
    environ: {},
    preopenPorts: [],
  }),
});

function decodeBase64(text: string): string | undefined {
  try {
    const bin = atob(text.replace(/\s+/g, ""));
    return new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(bin, (ch) => ch.charCodeAt(0)),
    );
  } catch {
    return undefined;
  }
}

/** A validated create request plus the optional `owner_access_key`. */
export interface ParsedCreate {
  request: CreateSessionRequest;
  ownerAccessKey?: string;
}

/** Validates `POST /session` (and `POST /kernel/create`) parameters. */
export function parseCreateSession(raw: Record<string, unknown>): ParsedCreate {
  // Slots belong in `config.resources`; a top-level `resources` was once
  // dropped without a word, and the session silently got the defaults.
  if (raw.resources !== undefined && raw.resources !== null) {
    throw new InvalidApiParams(
      'resources go inside config: {"config": {"resources": {"cpu": 2, "mem": "2g"}}}',
      [{ path: "resources", message: "move it to config.resources" }],
    );
  }
  const p = validate(createSchema, normalizeKeys(raw, CREATE_ALIASES));
  if (p.type === "batch" && !p.startupCommand) {
    throw new InvalidApiParams("Batch sessions need a startupCommand", [
      { path: "startupCommand", message: "required for batch sessions" },
    ]);
  }
  let bootstrapScript: string | undefined;
  if (p.bootstrapScript !== undefined) {
    bootstrapScript = decodeBase64(p.bootstrapScript);
    if (bootstrapScript === undefined) {
      throw new InvalidApiParams("bootstrap_script is not valid base64", [
        { path: "bootstrapScript", message: "invalid base64" },
      ]);
    }
  }
  const {
    cpu,
    mem,
    resources,
    resourceOpts,
    mounts,
    mountMap,
    environ,
    scalingGroup,
    preopenPorts,
    scaleInProtected,
  } = p.config;
  const legacy = validate(resourcesSchema, {
    ...(cpu !== undefined ? { cpu } : {}),
    ...(mem !== undefined ? { mem } : {}),
  });
  return {
    ownerAccessKey: p.ownerAccessKey,
    request: {
      image: p.image,
      name: p.name,
      type: p.type,
      startupCommand: p.startupCommand,
      enqueueOnly: p.enqueueOnly,
      maxWaitSeconds: p.maxWaitSeconds,
      reuseIfExists: p.reuseIfExists,
      tag: p.tag,
      bootstrapScript,
      config: {
        resources: { ...legacy, ...resources },
        resourceOpts,
        mounts,
        mountMap,
        environ,
        scalingGroup,
        preopenPorts,
        ...(scaleInProtected !== undefined ? { scaleInProtected } : {}),
      },
    },
  };
}

const executeSchema = z.object({
  mode: z.enum(["query", "batch", "continue", "input"]),
  code: z.string().default(""),
  runId: z.string().min(1).max(64).nullable(),
  options: z.record(z.string(), z.unknown()).nullable().default({}),
});

/** A validated execute body; `runId` is null when the server must make one. */
export interface ParsedExecute {
  mode: ExecuteMode;
  code: string;
  runId: string | null;
  options: Record<string, unknown>;
}

/**
 * Validates `POST /session/{ref}` execute parameters: the `runId` key must be
 * present; `continue` and `input` need a non-null runId.
 */
export function parseExecute(raw: Record<string, unknown>): ParsedExecute {
  if (!("runId" in raw) && !("run_id" in raw)) {
    throw new InvalidApiParams("runId is required", [{
      path: "runId",
      message: "required",
    }]);
  }
  const p = validate(executeSchema, normalizeKeys(raw), {
    keepNull: ["runId"],
  });
  if ((p.mode === "continue" || p.mode === "input") && p.runId === null) {
    throw new InvalidApiParams(`mode "${p.mode}" needs a runId`, [
      { path: "runId", message: "required for continue and input" },
    ]);
  }
  return {
    mode: p.mode,
    code: p.code,
    runId: p.runId,
    options: p.options ?? {},
  };
}

const completeSchema = z.object({
  code: z.string().default(""),
  options: z.object({
    row: intish.optional(),
    col: intish.optional(),
    line: z.string().optional(),
    post: z.string().optional(),
  }).loose().nullable().default({}),
});

/** Validates `POST /session/{ref}/complete`. */
export function parseComplete(
  raw: Record<string, unknown>,
): {
  code: string;
  options: { row?: number; col?: number; line?: string; post?: string };
} {
  const p = validate(completeSchema, normalizeKeys(raw));
  return { code: p.code, options: p.options ?? {} };
}

/** Reads `owner_access_key` / `ownerAccessKey` from parameters, if any. */
export function ownerAccessKeyOf(
  raw: Record<string, unknown>,
): string | undefined {
  const v = raw.owner_access_key ?? raw.ownerAccessKey;
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

/** Reads a boolean flag like `forced`, from JSON or text. */
export function flagOf(raw: Record<string, unknown>, name: string): boolean {
  const v = raw[name];
  if (v === undefined || v === null) return false;
  const r = boolish.safeParse(v);
  if (!r.success) {
    throw new InvalidApiParams(`${name} must be a boolean`, [{
      path: name,
      message: "boolean",
    }]);
  }
  return r.data;
}

/** Reads a string-list parameter (`files`), accepting one string or a list. */
export function stringListOf(
  raw: Record<string, unknown>,
  name: string,
): string[] {
  const v = raw[name];
  if (v === undefined || v === null) return [];
  const r = z.union([z.string(), z.array(z.string())]).safeParse(v);
  if (!r.success) {
    throw new InvalidApiParams(`${name} must be a list of strings`, [{
      path: name,
      message: "string[]",
    }]);
  }
  return typeof r.data === "string" ? [r.data] : r.data;
}
