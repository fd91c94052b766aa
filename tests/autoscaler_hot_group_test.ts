/**
 * A hot group keeps its busy agent (issue 20's repro), against a real
 * manager whose local driver starts real agent processes: with a
 * free-capacity target of one cpu on one-cpu agents, a session fills the
 * first agent, the autoscaler starts a spare for the target, and the full
 * agent is never drained, however long the session runs (watched for 32 s,
 * three times `drainTimeoutSeconds`). Once `maxAgents` is what keeps a
 * session waiting, the pending queue says so.
 */
import { startCluster } from "./support/cluster.ts";
import { eventually } from "./support/eventually.ts";
import { assert, assertEquals, assertMatch } from "./support/assert.ts";
import { stdoutOf } from "./api_helpers_test.ts";
import {
  agent,
  agents,
  configure,
  session,
  stopAutoscaledCluster,
  testPrefix,
} from "./support/scaling.ts";

interface Pending {
  sessionId: string;
  code: string;
  reason: string;
}

Deno.test({
  name:
    "hot group: a busy agent is never drained while the target needs it; the queue names maxAgents",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const c = await startCluster({ agents: 0 });
    const prefix = testPrefix();
    // The settings, with a random idPrefix and a faster tick (more
    // decisions to get wrong in the same time).
    const repro = {
      enabled: true,
      minAgents: 1,
      maxAgents: 3,
      targetFreeCapacity: { cpu: 1 },
      agentCapacity: { cpu: 1, mem: 2147483648 },
      agentArgs: ["--cpu", "1", "--mem", "2147483648", "--pool", "0"],
      drainTimeoutSeconds: 10,
      idPrefix: prefix,
      intervalMs: 1000,
    };
    const [one, two] = [`${prefix}-default-1`, `${prefix}-default-2`];
    let busy = "";
    const steps: [string, () => Promise<void>][] = [
      ["the session keeps running and its agent is never drained", async () => {
        await configure(c, repro);
        await c.waitAgent(one, 120_000);
        const s = await c.json<{ status: string }>("POST", "/session", {
          image: "python",
          name: "hot-job",
          config: { resources: { cpu: 1 } },
        });
        assertEquals(s.status, "RUNNING");
        busy = (await session(c, "hot-job")).agentId!;
        assertEquals(busy, one);
        // The spare for the free-capacity target.
        await c.waitAgent(two, 120_000);
        const until = Date.now() + 32_000;
        while (Date.now() < until) {
          const [s, a] = await Promise.all([
            session(c, "hot-job"),
            agent(c, busy),
          ]);
          assertEquals(s.status, "RUNNING", `the session: ${s.statusInfo}`);
          assertEquals(
            [a.status, a.schedulable, a.drain],
            ["ALIVE", true, null],
            `the busy agent: ${JSON.stringify(a)}`,
          );
          await new Promise((r) => setTimeout(r, 1000));
        }
        assertEquals(await stdoutOf(c, "hot-job", "print(6 * 7)"), "42\n");
        // Both agents stay, and say why.
        for (const id of [one, two]) {
          const a = await agent(c, id);
          assertEquals(a.scaleIn?.action, "keep");
          assertEquals(a.scaleIn?.reason, "target-free-capacity");
        }
      }],
      ["a session held back by maxAgents is told so", async () => {
        await configure(c, { ...repro, maxAgents: 2 });
        await c.json("POST", "/session", {
          image: "python",
          name: "hot-job-2",
          config: { resources: { cpu: 1 } },
        });
        const waiting = await c.json<{ sessionId: string }>(
          "POST",
          "/session",
          {
            image: "python",
            name: "hot-job-3",
            enqueueOnly: true,
            config: { resources: { cpu: 1 } },
          },
        );
        const p = await eventually("the queue to name maxAgents", async () => {
          const { pending } = await c.json<{ pending: Pending[] }>(
            "GET",
            "/x/admin/scheduler/pending",
          );
          const p = pending.find((x) => x.sessionId === waiting.sessionId);
          return p?.code === "scaling-limit" ? p : undefined;
        }, 30_000);
        assertMatch(p.reason, /^the scaling group is at maxAgents \(2\)/);
        // Nothing was drained or stopped to make room.
        const all = await agents(c);
        assertEquals(all.map((a) => a.id).sort(), [one, two].sort());
        assert(all.every((a) => a.status === "ALIVE" && a.schedulable));
        assertEquals((await session(c, "hot-job")).status, "RUNNING");
      }],
    ];
    try {
      for (const [name, fn] of steps) {
        if (!await t.step(name, fn)) break;
      }
    } finally {
      await stopAutoscaledCluster(c, repro, prefix);
    }
  },
});
