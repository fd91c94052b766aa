/**
 * HTTP long-poll execution (API.md "Execution: HTTP long-poll"):
 * `POST /session/{ref}` with a mode, and `POST /session/{ref}/complete`.
 * The manager decides when a call returns (finished, or ~2 s → continued);
 * the route validates, fills in a runId, and merges console items.
 *
 * @module
 */
import type { Hono } from "hono";
import { requireAuth } from "./auth.ts";
import { callerOf } from "./caller.ts";
import type { GatewayEnv } from "./context.ts";
import type {
  ConsoleItem,
  ExecuteResult,
  GatewayDeps,
} from "../actors/manager/port/mod.ts";
import {
  ownerAccessKeyOf,
  parseComplete,
  parseExecute,
  rawParams,
} from "./params.ts";
import { SESSION_PREFIXES } from "./session.ts";

const HEX = Array.from(
  { length: 256 },
  (_, b) => b.toString(16).padStart(2, "0"),
);
/** Random bytes drawn 4 KiB at a time (a getRandomValues call per id cost ~10 µs of a query). */
const pool = new Uint8Array(4096);
let used = pool.length;

/** A fresh run id: 16 hex characters, like Backend.AI's `token_hex(8)`. */
export function newRunId(): string {
  if (used + 8 > pool.length) {
    crypto.getRandomValues(pool);
    used = 0;
  }
  let id = "";
  for (let i = 0; i < 8; i++) id += HEX[pool[used++]];
  return id;
}

/** Merges consecutive `stdout` (or `stderr`) string items, as clients expect. */
export function mergeConsole(items: ConsoleItem[]): ConsoleItem[] {
  const out: ConsoleItem[] = [];
  for (const item of items) {
    const last = out[out.length - 1];
    if (
      last && last[0] === item[0] &&
      (item[0] === "stdout" || item[0] === "stderr") &&
      typeof last[1] === "string" && typeof item[1] === "string"
    ) {
      out[out.length - 1] = [item[0], last[1] + item[1]];
    } else {
      out.push(item);
    }
  }
  return out;
}

/** Shapes a manager result as the `result` object of the reply. */
export function shapeResult(r: ExecuteResult): ExecuteResult {
  return {
    runId: r.runId,
    status: r.status,
    exitCode: r.exitCode ?? null,
    console: mergeConsole(r.console ?? []),
    files: r.files ?? [],
    options: r.options ?? null,
  };
}

/** Mounts execute and complete under both prefixes. */
export function mountExecute(app: Hono<GatewayEnv>, deps: GatewayDeps): void {
  for (const prefix of SESSION_PREFIXES) {
    app.post(`${prefix}/:ref`, requireAuth(), async (c) => {
      const raw = rawParams(c);
      const parsed = parseExecute(raw);
      const caller = callerOf(c, ownerAccessKeyOf(raw));
      const result = await deps.sessions.execute(caller, c.req.param("ref"), {
        mode: parsed.mode,
        code: parsed.code,
        runId: parsed.runId ?? newRunId(),
        options: parsed.options,
      });
      return c.json({ result: shapeResult(result) });
    });

    app.post(`${prefix}/:ref/complete`, requireAuth(), async (c) => {
      const raw = rawParams(c);
      const req = parseComplete(raw);
      const caller = callerOf(c, ownerAccessKeyOf(raw));
      const result = await deps.sessions.complete(
        caller,
        c.req.param("ref"),
        req,
      );
      return c.json({ result });
    });
  }
}
