import { assert, assertEquals } from "../../runtime/_test_util.ts";
import type { ExecuteResult, SessionInfo } from "../port/mod.ts";
import { harness, spawnPending, spawnRunning, until } from "./_test_support.ts";

const ASK = { timeoutMs: 5_000 };

Deno.test("session actor: PENDING → RUNNING, every step stored and announced", async () => {
  const h = harness();
  try {
    const id = crypto.randomUUID();
    const ref = await spawnRunning(h, id);
    assertEquals(h.scheduled[0].type, "enqueue");
    assertEquals(
      h.events.map((e) => e.event),
      ["session_scheduled", "session_preparing", "session_running"],
    );
    const info = await ref.ask<SessionInfo>({ type: "info" }, ASK);
    assertEquals(info.status, "RUNNING");
    assertEquals(info.agentId, "a1");
    assertEquals(info.kernelId, h.agent.created[0]);
    // The keypair actor hears about every status (it counts live sessions).
    assert(h.keypairMsgs.some((k) => k.msg.type === "session.status"));
  } finally {
    await h.close();
  }
});

Deno.test("session actor: a query's output comes back through a deferred reply", async () => {
  const h = harness();
  try {
    const ref = await spawnRunning(h, crypto.randomUUID());
    const res = await ref.ask<ExecuteResult>({
      type: "execute",
      mode: "query",
      code: "print(42)",
      runId: "r1",
      options: {},
    }, ASK);
    assertEquals(res.status, "finished");
    assertEquals(res.console, [["stdout", "print(42)"]]);
    // While a run hangs, a second query is refused and info still answers.
    const hanging = ref.ask<ExecuteResult>({
      type: "execute",
      mode: "query",
      code: "hang",
      runId: "r2",
      options: {},
      waitMs: 200,
    }, ASK);
    const info = await ref.ask<SessionInfo>({ type: "info" }, ASK);
    assertEquals(info.numQueriesExecuted, 2);
    let refused: unknown;
    await ref.ask({
      type: "execute",
      mode: "query",
      code: "x",
      runId: "r3",
      options: {},
    }, ASK).catch((e) => refused = e);
    assertEquals(
      (refused as { problemType?: string }).problemType,
      "session-busy",
    );
    assertEquals((await hanging).status, "continued");
  } finally {
    await h.close();
  }
});

Deno.test("session actor: destroy answers once TERMINATED, with the kernel's usage", async () => {
  const h = harness();
  try {
    const id = crypto.randomUUID();
    const ref = await spawnRunning(h, id);
    const res = await ref.ask<{ stats: Record<string, number> }>({
      type: "destroy",
      reason: "user-requested",
    }, ASK);
    assertEquals(res.stats, { cpuMs: 5 });
    assertEquals(h.store.rows.get(id)?.status, "TERMINATED");
    assertEquals(h.store.usage.map((u) => u.id), [id]);
    assertEquals(h.agent.destroyed.length, 1);
    assert(h.scheduled.some((m) => m.type === "released"));
  } finally {
    await h.close();
  }
});

Deno.test("session actor: a failed kernel creation ends in ERROR with the reason", async () => {
  const h = harness();
  try {
    const id = crypto.randomUUID();
    const ref = await spawnPending(h, id);
    h.agent.failCreate = true;
    const waited = ref.ask<{ status: string; statusInfo: string }>(
      { type: "wait-status", statuses: ["RUNNING"], timeoutMs: 0 },
      ASK,
    );
    ref.tell({ type: "scheduled", agentId: "a1" });
    const w = await waited;
    assertEquals(w.status, "ERROR");
    assert(w.statusInfo.includes("no room on this agent"), w.statusInfo);
  } finally {
    await h.close();
  }
});

Deno.test("session actor: a kernel it did not ask for is destroyed, the session unchanged", async () => {
  const h = harness();
  try {
    const id = crypto.randomUUID();
    const ref = await spawnRunning(h, id);
    const stray = crypto.randomUUID();
    ref.tell({
      type: "created",
      kernelId: stray,
      agentId: "a1",
      containerId: "c-stray",
    });
    await until(() => h.agent.destroyed.includes(stray), "stray destroyed");
    assertEquals(h.store.rows.get(id)?.status, "RUNNING");
  } finally {
    await h.close();
  }
});

Deno.test("session actor: a kernel that stops on its own ends the session in ERROR, saying so", async () => {
  const h = harness();
  try {
    const id = crypto.randomUUID();
    await spawnRunning(h, id);
    const kernelId = h.store.rows.get(id)!.kernelId!;
    await h.system.stop(h.services.kernelRef("a1", kernelId));
    await until(() => h.store.rows.get(id)?.status === "ERROR", "ERROR");
    assertEquals(h.store.rows.get(id)?.statusInfo, "kernel stopped");
  } finally {
    await h.close();
  }
});

Deno.test("session actor: restart makes a new kernel and keeps the session RUNNING", async () => {
  const h = harness();
  try {
    const id = crypto.randomUUID();
    const ref = await spawnRunning(h, id);
    const first = h.store.rows.get(id)!.kernelId;
    await ref.ask({ type: "restart" }, ASK);
    const row = h.store.rows.get(id)!;
    assertEquals(row.status, "RUNNING");
    assert(row.kernelId !== first, "a new kernel id");
    assertEquals(h.agent.destroyed, [first]);
  } finally {
    await h.close();
  }
});
