/**
 * Suspend and resume of a session actor (suspend.ts) in one process: a
 * stand-in agent (the pause it is asked for is recorded), the recording
 * scheduler and a stand-in keypair answering the cost check.
 */
import { assert, assertEquals } from "../../runtime/_test_util.ts";
import { Actor, type ActorRef, replyLater } from "../../runtime/mod.ts";
import type { AgentMsg } from "../../protocol/agent.ts";
import type { ExecuteResult, SessionInfo } from "../port/mod.ts";
import { harness, spawnRunning, until } from "./_test_support.ts";

const ASK = { timeoutMs: 5_000 };

/** Records pause / resume and forwards everything else to the stand-in agent. */
class PauseRecorder extends Actor<AgentMsg> {
  constructor(readonly to: ActorRef<AgentMsg>, readonly seen: string[]) {
    super();
  }
  receive(msg: AgentMsg): unknown {
    if (msg.type === "kernel.pause" || msg.type === "kernel.resume") {
      this.seen.push(msg.type);
      return { paused: msg.type === "kernel.pause" };
    }
    return replyLater(this.to.ask(msg, ASK));
  }
}

async function setup(check: () => unknown = () => ({ ok: true })) {
  const h = harness();
  const seen: string[] = [];
  const rec = h.system.spawn(() => new PauseRecorder(h.agentRef, seen), {
    name: "recorder",
  }) as ActorRef<AgentMsg>;
  h.services.agentRef = () => rec;
  h.services.keypairs.ask = <T>() => Promise.resolve(check() as T);
  const id = crypto.randomUUID();
  const ref = await spawnRunning(h, id);
  const status = async () =>
    (await ref.ask<SessionInfo>({ type: "info" }, ASK)).status;
  return { h, id, ref, seen, status };
}

const query = (code: string, runId: string) =>
  ({
    type: "execute",
    mode: "query",
    code,
    runId,
    options: {},
  }) as const;

Deno.test("suspend: the kernel is frozen, the scheduler keeps memory only, a query resumes it", async () => {
  const { h, id, ref, seen, status } = await setup();
  try {
    const r = await ref.ask<{ status: string }>(
      { type: "suspend", reason: "paused on request" },
      ASK,
    );
    assertEquals(r.status, "SUSPENDED");
    assertEquals(await status(), "SUSPENDED");
    assertEquals(seen, ["kernel.pause"]);
    const resize = h.scheduled.find((m) => m.type === "resize");
    assertEquals(resize, {
      type: "resize",
      sessionId: id,
      slots: { mem: 1 << 30 },
    });
    // A second suspend of a suspended session is a no-op.
    await ref.ask({ type: "suspend", reason: "again" }, ASK);
    assertEquals(seen, ["kernel.pause"]);

    // The next query resumes it first: the caller sees only the result.
    const res = await ref.ask<ExecuteResult>(query("x = 1", "r1"), ASK);
    assertEquals(res.status, "finished");
    assertEquals(res.console, [["stdout", "x = 1"]]);
    assertEquals(await status(), "RUNNING");
    assertEquals(seen, ["kernel.pause", "kernel.resume"]);
    assert(
      h.scheduled.some((m) =>
        m.type === "reclaim" && m.slots.cpu === 1 && m.slots.mem === 1 << 30
      ),
      "the full slots were booked again",
    );
    const statuses = h.events.map((e) => e.event);
    assert(statuses.includes("session_suspended"));
    assertEquals(statuses.at(-1), "session_running");
  } finally {
    await h.close();
  }
});

Deno.test("suspend: at the daily cost limit a suspended session does not resume (412)", async () => {
  let allowed = false;
  const { h, ref, seen, status } = await setup(() =>
    allowed ? { ok: true } : {
      ok: false,
      message: "Today's cost reached the daily cost limit.",
      data: { exceeded: [{ limit: "daily_cost_limit" }] },
    }
  );
  try {
    await ref.ask({
      type: "cost.limit",
      action: "pause",
      reason: "paused: limit",
    }, ASK);
    await until(async () => (await status()) === "SUSPENDED", "SUSPENDED");
    let refused: { problemType?: string; problemData?: unknown } = {};
    await ref.ask(query("1", "r1"), ASK).catch((e) => refused = e);
    assertEquals(refused.problemType, "quota-exceeded");
    assertEquals(
      (refused.problemData as { exceeded: { limit: string }[] }).exceeded[0]
        .limit,
      "daily_cost_limit",
    );
    assertEquals(await status(), "SUSPENDED");
    assertEquals(seen, ["kernel.pause"]);
    // The day rolled over: the next request resumes it.
    allowed = true;
    const res = await ref.ask<ExecuteResult>(query("2", "r2"), ASK);
    assertEquals(res.status, "finished");
  } finally {
    await h.close();
  }
});

Deno.test("suspend: an idle session pauses after its idle time, a holder keeps it awake", async () => {
  const { h, ref, status } = await setup();
  try {
    h.services.idlePauseSeconds = () => 0.05;
    await ref.ask({ type: "hold", holder: "pty:1" }, ASK);
    await new Promise((r) => setTimeout(r, 80));
    await ref.ask({ type: "tick", now: Date.now() }, ASK);
    assertEquals(await status(), "RUNNING", "held: not paused");
    await ref.ask({ type: "unhold", holder: "pty:1" }, ASK);
    await ref.ask({ type: "tick", now: Date.now() }, ASK);
    assertEquals(
      await status(),
      "RUNNING",
      "just released: its idle time starts now",
    );
    await new Promise((r) => setTimeout(r, 80));
    await ref.ask({ type: "tick", now: Date.now() }, ASK);
    await until(async () => (await status()) === "SUSPENDED", "SUSPENDED");
    const info = await ref.ask<SessionInfo>({ type: "info" }, ASK);
    assert(/idle/.test(info.statusInfo ?? ""), String(info.statusInfo));
    // A hold on a suspended session resumes it (a terminal opening).
    await ref.ask({ type: "hold", holder: "pty:2" }, ASK);
    assertEquals(await status(), "RUNNING");
  } finally {
    await h.close();
  }
});

Deno.test("suspend: the cost limit's terminate ends a running session with the reason", async () => {
  const { h, id, ref } = await setup();
  try {
    await ref.ask({
      type: "cost.limit",
      action: "terminate",
      reason: "terminated: today's cost reached the limit",
    }, ASK);
    await until(
      () => h.store.rows.get(id)?.status === "TERMINATED",
      "TERMINATED",
    );
    assertEquals(
      h.store.rows.get(id)?.statusInfo,
      "terminated: today's cost reached the limit",
    );
  } finally {
    await h.close();
  }
});
