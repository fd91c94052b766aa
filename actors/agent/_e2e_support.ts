/**
 * Helpers of the agent's end-to-end tests (tests/agent_*e2e_test.ts), which
 * drive a real cluster through the public API: run code to the end, read
 * output, find a kernel's containers and records, wait for the warm pool.
 * Test-only (like actors/cluster/_test_assert.ts); nothing here runs in a node.
 *
 * @module
 */
import type { TestCluster } from "../../tests/support/cluster.ts";

export type ConsoleItem = [string, unknown];

/** The `result` of `POST /session/{ref}`. */
export interface ExecResult {
  result: {
    runId: string;
    status: string;
    exitCode: number | null;
    console: ConsoleItem[];
  };
}

/** Runs `code` to the end, following `continued` long-polls. */
export async function query(
  c: TestCluster,
  name: string,
  code: string,
  options: Record<string, unknown> = {},
): Promise<ExecResult["result"]> {
  let res = await c.json<ExecResult>("POST", `/session/${name}`, {
    mode: "query",
    code,
    runId: null,
    options,
  });
  const console: ConsoleItem[] = [...res.result.console];
  while (res.result.status === "continued") {
    res = await c.json<ExecResult>("POST", `/session/${name}`, {
      mode: "continue",
      code: "",
      runId: res.result.runId,
    });
    console.push(...res.result.console);
  }
  return { ...res.result, console };
}

const joined = (r: { console: ConsoleItem[] }, kind: string) =>
  r.console.filter(([k]) => k === kind).map(([, v]) => String(v)).join("");
/** All stdout of a result. */
export const stdout = (r: { console: ConsoleItem[] }) => joined(r, "stdout");
/** All stderr of a result. */
export const stderr = (r: { console: ConsoleItem[] }) => joined(r, "stderr");

async function docker(args: string[]): Promise<string[]> {
  const out = await new Deno.Command("docker", {
    args,
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean);
}

/** Container ids (any state) labelled with a kernel id. */
export async function containersOf(
  kernelId: string,
  pool?: { dataDir: string; agentId: string },
): Promise<string[]> {
  const labelled = await docker([
    "ps",
    "-aq",
    "--filter",
    `label=ai.backend.kernel-id=${kernelId}`,
  ]);
  if (!pool) return labelled;
  // A kernel taken from the warm pool runs in a container created before its
  // id was known: its kernel.json record names the container instead.
  const rec = (await kernelRecords(pool.dataDir, pool.agentId)).get(kernelId);
  const cid = typeof rec?.containerId === "string" ? rec.containerId : "";
  const byRecord = cid
    ? await docker(["ps", "-aq", "--no-trunc", "--filter", `id=${cid}`])
    : [];
  return [...new Set([...labelled, ...byRecord.map((id) => id.slice(0, 12))])];
}

/** Number of processes running in a container (`docker top`); 0 when it is gone. */
export async function processCount(containerId: string): Promise<number> {
  const lines = await docker(["top", containerId, "-o", "pid"]);
  return Math.max(0, lines.length - 1); // less the header line
}

/** Running container ids of an agent. */
export function agentContainers(agentId: string): Promise<string[]> {
  return docker([
    "ps",
    "-q",
    "--filter",
    `label=ai.backend.agent-id=${agentId}`,
  ]);
}

/** The agent's records (kernel.json) by kernel id; idle pool dirs have none. */
export async function kernelRecords(
  dataDir: string,
  agentId: string,
): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  const root = `${dataDir}/${agentId}/kernels`;
  for await (const e of Deno.readDir(root)) {
    try {
      const rec = JSON.parse(
        await Deno.readTextFile(`${root}/${e.name}/kernel.json`),
      );
      if (typeof rec.kernelId === "string") out.set(rec.kernelId, rec);
    } catch { /* an idle pool container, or one being made */ }
  }
  return out;
}

/**
 * Waits until the agent runs one more container than it has kernels (the
 * idle warm one), then a moment more: the pool offers a container only
 * after its runner said `ready`, which takes a few hundred ms.
 */
export async function poolReady(
  c: TestCluster,
  agentId: string,
  liveKernels: number,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await agentContainers(agentId)).length === liveKernels + 1) {
      await new Promise((r) => setTimeout(r, 2000));
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the warm pool of ${agentId} never filled (${c.endpoint})`);
}

/** Polls GET /session/{name} until `pred` holds (bounded; nothing timed is asserted). */
export async function sessionUntil(
  c: TestCluster,
  name: string,
  pred: (s: Record<string, unknown>) => boolean,
  what: string,
  ms = 60_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + ms;
  let last: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    last = await c.json("GET", `/session/${name}`);
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`session ${name}: no ${what}; last ${JSON.stringify(last)}`);
}
