import { assert, assertEquals } from "../../runtime/_test_util.ts";
import type { ExecuteResult, SessionInfo } from "../port/mod.ts";
import { harness, spawnRunning, until } from "./_test_support.ts";

const ASK = { timeoutMs: 5_000 };
const REASON = "stopped by scale-in at the drain deadline of group default";

Deno.test("agent retired: the session ends at once in ERROR with the reason and its final usage", async () => {
  const h = harness();
  try {
    const id = crypto.randomUUID();
    const ref = await spawnRunning(h, id);
    const kernelId = h.agent.created[0];
    // A run in progress ends with the reason on stderr.
    const hanging = ref.ask<ExecuteResult>({
      type: "execute",
      mode: "query",
      code: "hang",
      runId: "r1",
      options: {},
      waitMs: 10_000,
    }, ASK);
    const ended = await ref.ask<boolean>(
      { type: "agent.retired", agentId: "a1", reason: REASON },
      ASK,
    );
    assertEquals(ended, true);
    const row = h.store.rows.get(id)!;
    assertEquals([row.status, row.statusInfo], ["ERROR", REASON]);
    assertEquals(row.lastStat, { cpuMs: 5 });
    assertEquals(h.store.usage, [{ id, stats: { cpuMs: 5 } }]);
    // The agent is told to end the kernel (the forced stop removes the rest).
    await until(() => h.agent.destroyed.length > 0, "kernel.destroy");
    assertEquals(h.agent.destroyed, [kernelId]);
    const err = h.events.find((e) => e.event === "session_error");
    assertEquals((err?.data as { reason?: string }).reason, REASON);
    const run = await hanging;
    assertEquals(run.status, "finished");
    assert(
      JSON.stringify(run.console).includes(REASON),
      `the run says why: ${JSON.stringify(run.console)}`,
    );
  } finally {
    await h.close();
  }
});

Deno.test("agent retired: a session on another agent is left alone", async () => {
  const h = harness();
  try {
    const id = crypto.randomUUID();
    const ref = await spawnRunning(h, id);
    assertEquals(
      await ref.ask({ type: "agent.retired", agentId: "a2", reason: REASON }),
      false,
    );
    const info = await ref.ask<SessionInfo>({ type: "info" }, ASK);
    assertEquals(info.status, "RUNNING");
    assertEquals(h.agent.destroyed, []);
  } finally {
    await h.close();
  }
});

Deno.test("agent retired: an agent that cannot answer still ends the session, without usage", async () => {
  const h = harness();
  try {
    const id = crypto.randomUUID();
    const ref = await spawnRunning(h, id);
    // The agent's actor is gone (its node is being killed): no final usage.
    const agentPath = h.agentRef.path;
    h.services.agentRef = () =>
      h.system.refFor({ node: "manager", path: `${agentPath}-gone` });
    h.services.kernelRef = (_agentId, kernelId) =>
      h.system.refFor({
        node: "manager",
        path: `${agentPath}-gone/${kernelId}`,
      });
    const started = Date.now();
    assertEquals(
      await ref.ask(
        { type: "agent.retired", agentId: "a1", reason: REASON },
        ASK,
      ),
      true,
    );
    assert(Date.now() - started < 4_000, "ended within the usage wait");
    const row = h.store.rows.get(id)!;
    assertEquals([row.status, row.statusInfo], ["ERROR", REASON]);
    assertEquals(h.store.usage, []);
  } finally {
    await h.close();
  }
});
