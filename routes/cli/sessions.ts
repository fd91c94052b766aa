/**
 * `cli ps`, `cli logs SESSION`, `cli rm SESSION...`: the sessions of the
 * keypair in use (an admin keypair lists its own too; `GET
 * /x/admin/sessions` lists everyone's).
 *
 * @module
 */

import { isEnded } from "../../actors/manager/lifecycle.ts";
import type { ApiClient } from "./client.ts";
import { CliError } from "./errors.ts";
import type { Output } from "./output.ts";

interface SessionRow {
  id: string;
  name: string;
  image: string;
  status: string;
  created_at: string | null;
}

/** Sessions per page (the API's most). */
const PAGE = 100;

const listQuery = (offset: number) =>
  `query {
  compute_session_list(limit: ${PAGE}, offset: ${offset}) {
    items { id name image status created_at }
    total_count
  }
}`;

/**
 * A table of rows with a header, columns padded to their widest cell.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { table } from "./sessions.ts";
 * assert.ok(table(["A", "BB"], [["xyz", "1"]]) === "A    BB\nxyz  1\n");
 * ```
 */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r[i].length))
  );
  return [head, ...rows].map((r) =>
    r.map((c, i) => i === r.length - 1 ? c : c.padEnd(widths[i])).join("  ")
  ).join("\n") + "\n";
}

/** `ps`: live sessions (with `all`, ended ones too), oldest first. */
export async function listSessions(
  api: ApiClient,
  all: boolean,
  io: Output,
): Promise<void> {
  const rows: SessionRow[] = [];
  for (let offset = 0;; offset += PAGE) {
    const answer = await api.json<{
      data?: {
        compute_session_list?: { items: SessionRow[]; total_count: number };
      };
      errors?: { message: string }[];
    }>("POST", "/admin/gql", { query: listQuery(offset) });
    if (answer.errors?.length) {
      throw new CliError(
        `the session list failed: ${answer.errors[0].message}`,
      );
    }
    const page = answer.data?.compute_session_list;
    rows.push(...(page?.items ?? []));
    if (!page || page.items.length < PAGE || rows.length >= page.total_count) {
      break;
    }
  }
  const items = rows
    .filter((s) => all || !isEnded(s.status))
    .sort((a, b) => (a.created_at ?? "").localeCompare(b.created_at ?? ""));
  await io.out(table(
    ["NAME", "STATUS", "IMAGE", "CREATED", "ID"],
    items.map((s) => [
      s.name,
      s.status,
      s.image,
      (s.created_at ?? "").slice(0, 19).replace("T", " "),
      s.id.slice(0, 8),
    ]),
  ));
}

/** `logs SESSION`: the kernel's container log. */
export async function showLogs(
  api: ApiClient,
  ref: string,
  io: Output,
): Promise<void> {
  const answer = await api.json<{ result?: { logs?: string } }>(
    "GET",
    `/session/${encodeURIComponent(ref)}/logs`,
  );
  const logs = answer.result?.logs ?? "";
  await io.out(logs.endsWith("\n") || logs === "" ? logs : logs + "\n");
}

/** `rm SESSION...`: ends each; answers false when one could not be removed. */
export async function removeSessions(
  api: ApiClient,
  refs: string[],
  io: Output,
): Promise<boolean> {
  let ok = true;
  for (const ref of refs) {
    try {
      await api.json("DELETE", `/session/${encodeURIComponent(ref)}`);
      await io.out(`removed ${ref}\n`);
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      ok = false;
      await io.err(`cli: ${e.message}\n`);
    }
  }
  return ok;
}
