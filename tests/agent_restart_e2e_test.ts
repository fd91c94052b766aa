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
 * actors/manager/session.ts owns that behaviour).
 */
import assert from "node:assert/strict";
import { startCluster, type TestCluster } from "./support/cluster.ts";
import { containersOf, query, stdout } from "../actors/agent/_e2e_support.ts";

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
      const r = await queryWhenBack(c, "rs-keep", "print(survivor)");
      assert.equal(stdout(r), "42\n");
      await c.json("DELETE", "/session/rs-keep");
      assert.deepEqual(await containersOf(before.kernelId), []);
    } finally {
      await c.stop();
    }
  },
});

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
