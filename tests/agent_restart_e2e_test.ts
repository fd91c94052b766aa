/**
 * Agent crash and restart end to end: `kill -9` of the agent process, then
 * the same agent id started again. The running kernel's container outlives
 * the agent; the new incarnation re-adopts it (agent_actor.ts / adopt() in
 * docker_host.ts) and announces it to its session (`kernel.adopted`), so
 * the interpreter's variables are still there through the manager.
 *
 * Needs the manager side to cope: the session actor gets
 * Terminated(node-down) for its kernel while the agent is away and must not
 * end the session before the agent is back (see the report of this change;
 * actors/manager/session/kernel_link.ts owns that behaviour).
 */
import assert from "node:assert/strict";
import { startCluster, type TestCluster } from "./support/cluster.ts";
import {
  containersOf,
  type ExecResult,
  query,
  stderr,
  stdout,
} from "../actors/agent/_e2e_support.ts";

Deno.test({
  name:
    "agent restart end to end: kill -9, restart, kernel re-adopted with its state",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const c = await startCluster({ agents: 1 });
    try {
      const agentId = c.agents[0].id;
      await c.json("POST", "/session", { image: "python", name: "rs-keep" });
      await query(c, "rs-keep", "survivor = 6 * 7");
      const before = await c.json<{ kernelId: string }>(
        "GET",
        "/session/rs-keep",
      );
      // A run in flight when the agent dies (it outlasts the first poll).
      const inFlight = (await c.json<ExecResult>("POST", "/session/rs-keep", {
        mode: "query",
        code: "import time\ntime.sleep(4)\nprint('late')",
        runId: null,
      })).result;
      assert.equal(inFlight.status, "continued");

      await c.killAgent(agentId);
      // The container is not the agent's child: it keeps running.
      assert.equal((await containersOf(before.kernelId)).length, 1);
      await c.startAgent(agentId);

      // The session stays RUNNING on the same kernel, and answers again once
      // its actor re-watches the re-adopted kernel.
      const s = await c.json<{ status: string; kernelId: string }>(
        "GET",
        "/session/rs-keep",
      );
      assert.equal(s.status, "RUNNING", JSON.stringify(s));
      assert.equal(s.kernelId, before.kernelId);
      // The run in flight ended with a clear note and a non-zero exit code.
      const ended = await follow(c, "rs-keep", inFlight);
      assert.equal(ended.status, "finished", JSON.stringify(ended));
      assert.equal(ended.exitCode, 137, JSON.stringify(ended));
      assert.match(stderr(ended), /kernel unreachable: agent .* is down/);
      const r = await queryWhenBack(c, "rs-keep", "print(survivor)");
      assert.equal(stdout(r), "42\n");
      await c.json("DELETE", "/session/rs-keep");
      assert.deepEqual(await containersOf(before.kernelId), []);
    } finally {
      await c.stop();
    }
  },
});

/** Follows a run's long-polls to its end, gathering its console. */
async function follow(
  c: TestCluster,
  name: string,
  first: ExecResult["result"],
): Promise<ExecResult["result"]> {
  let r = first;
  const console = [...r.console];
  while (r.status === "continued") {
    r = (await c.json<ExecResult>("POST", `/session/${name}`, {
      mode: "continue",
      code: "",
      runId: r.runId,
    })).result;
    console.push(...r.console);
  }
  return { ...r, console };
}

Deno.test({
  name:
    "agent gone for good: the session stays RUNNING for the grace, then ERROR",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const c = await startCluster({
      agents: 1,
      // A short grace, so the test does not wait 30 s.
      managerEnv: { BAI_KERNEL_REJOIN_GRACE_MS: "3000" },
    });
    try {
      await c.json("POST", "/session", { image: "python", name: "rs-lost" });
      await query(c, "rs-lost", "y = 1");
      await c.killAgent(c.agents[0].id);
      // While the agent is away the session is still RUNNING, saying why ...
      const away = await eventually("the session to notice", async () => {
        const s = await c.json<{ status: string; statusInfo: string | null }>(
          "GET",
          "/session/rs-lost",
        );
        return s.status !== "RUNNING" ||
            /kernel unreachable/.test(s.statusInfo ?? "")
          ? s
          : undefined;
      });
      // ... (unless the grace already ran out while we polled)
      if (away.status === "RUNNING") {
        assert.match(away.statusInfo ?? "", /waiting up to 3 s/);
        // Kernel calls other than runs answer 503, not 500.
        const res = await c.api("POST", "/session/rs-lost/complete", {
          code: "pri",
          options: {},
        });
        await res.body?.cancel();
        assert.ok(
          res.status === 503 || res.status === 400 || res.status === 404,
          String(res.status),
        );
      }
      // ... and once the grace is over it ends in ERROR, saying why.
      const ended = await eventually("ERROR", async () => {
        const s = await c.json<{ status: string; statusInfo: string | null }>(
          "GET",
          "/session/rs-lost",
        );
        return s.status === "ERROR" ? s : undefined;
      });
      assert.match(ended.statusInfo ?? "", /did not bring the kernel back/);
    } finally {
      await c.stop();
    }
  },
});

/** Polls `check` until it answers a value (bounded; no timing is asserted). */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** A query retried while the session still reports its kernel unreachable (bounded). */
async function queryWhenBack(c: TestCluster, name: string, code: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await query(c, name, code);
    const s = await c.json<{ status: string }>("GET", `/session/${name}`);
    if (s.status !== "RUNNING" || r.exitCode === 0 || Date.now() > deadline) {
      return r;
    }
    await new Promise((res) => setTimeout(res, 300));
  }
}
