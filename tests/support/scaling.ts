/**
 * Helpers of the autoscaler's integration tests (tests/scale_in_test.ts,
 * tests/autoscaler_*_test.ts): the admin views they read, and the cleanup
 * of containers left by agents the manager's local driver started.
 *
 * @module
 */

import type { TestCluster } from "./cluster.ts";

/** An agent as `GET /x/admin/agents` shows it. */
export interface AgentView {
  id: string;
  status: string;
  statusInfo: string | null;
  schedulable: boolean;
  numKernels: number;
  drain: { by: string; reason: string; since: string } | null;
  scaleIn: { action: string; reason: string; detail: string } | null;
}

/** A session as `GET /session/{ref}` shows it. */
export interface SessionView {
  sessionId: string;
  status: string;
  statusInfo: string | null;
  agentId: string | null;
  kernelId: string | null;
  terminationTime: string | null;
  lastStat: Record<string, unknown> | null;
}

/** What `GET /x/admin/scaling-groups/{g}/autoscaler` reports. */
export interface AutoscalerView {
  config: Record<string, unknown>;
  status: {
    idPrefix: string;
    managed: string[];
    starting: string[];
    last?: {
      at: string;
      add: number;
      undrain: { agentId: string }[];
      drain: { agentId: string; reason: string }[];
      stop: { agentId: string; reason: string }[];
    };
  } | null;
}

export const agents = (c: TestCluster): Promise<AgentView[]> =>
  c.json<{ agents: AgentView[] }>("GET", "/x/admin/agents").then((r) =>
    r.agents
  );

export const agent = (c: TestCluster, id: string): Promise<AgentView> =>
  c.json<AgentView>("GET", `/x/admin/agents/${id}`);

export const session = (c: TestCluster, name: string): Promise<SessionView> =>
  c.json<SessionView>("GET", `/session/${name}`);

export const autoscaler = (c: TestCluster, group = "default") =>
  c.json<AutoscalerView>("GET", `/x/admin/scaling-groups/${group}/autoscaler`);

export const configure = (
  c: TestCluster,
  config: Record<string, unknown>,
  group = "default",
) => c.json("PUT", `/x/admin/scaling-groups/${group}/autoscaler`, config);

/** A short random `idPrefix`, so parallel runs never share agent ids. */
export const testPrefix = () => `as${crypto.randomUUID().slice(0, 6)}`;

/**
 * Teardown of an autoscaler test: the group's autoscaler off (`config`
 * with `enabled: false, minAgents: 0`; a failure is ignored, the cluster
 * may be half down), the cluster stopped, and the containers of the agents
 * its driver started (ids with `prefix`) removed.
 */
export async function stopAutoscaledCluster(
  c: TestCluster,
  config: Record<string, unknown>,
  prefix: string,
): Promise<void> {
  await configure(c, { ...config, enabled: false, minAgents: 0 })
    .catch(() => undefined);
  await c.stop();
  await removeContainersWithPrefix(prefix);
}

/** Removes containers of agents the manager's driver started (ids with `prefix`). */
export async function removeContainersWithPrefix(
  prefix: string,
): Promise<void> {
  const out = await new Deno.Command("docker", {
    args: [
      "ps",
      "-a",
      "--filter",
      "label=ai.backend.agent-id",
      "--format",
      '{{.ID}} {{.Label "ai.backend.agent-id"}}',
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  const ids = new TextDecoder().decode(out.stdout).split("\n")
    .map((l) => l.split(" "))
    .filter(([, agentId]) => agentId?.startsWith(prefix))
    .map(([id]) => id);
  if (ids.length) {
    await new Deno.Command("docker", {
      args: ["rm", "-f", ...ids],
      stdout: "null",
      stderr: "null",
    }).output();
  }
}

/**
 * Polls `check` every 100 ms until it returns a value; the time it was
 * first seen (ms) comes with it, for "within N s" checks.
 */
export async function firstSeen<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<{ value: T; at: number }> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const value = await check();
      if (value !== undefined) return { value, at: Date.now() };
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${
      last ? ` (last error: ${last})` : ""
    }`,
  );
}
