/**
 * Scale-in that never surprises, against a real manager whose local driver
 * starts real agent processes (issue 20): lowering `maxAgents` drains the
 * least-loaded agent and keeps the other; a new session undrains the
 * drained agent instead of starting one; an agent stopped at its drain
 * deadline ends its sessions at once, in ERROR, with the scale-in reason and
 * their final usage; an admin's stop likewise with its own reason; and the
 * stopped agents show TERMINATED with that reason and no kernels.
 *
 * "At once" is checked against the manager's own clock (the decision's time
 * in the autoscaler status, the session's terminationTime): within 2 s,
 * where waiting out the 30 s rejoin grace would take 30 s.
 */
import { startCluster } from "./support/cluster.ts";
import { eventually } from "./support/eventually.ts";
import { assert, assertEquals, assertMatch } from "./support/assert.ts";
import { stdoutOf } from "./api_helpers_test.ts";
import {
  agent,
  agents,
  autoscaler,
  configure,
  firstSeen,
  session,
  type SessionView,
  stopAutoscaledCluster,
  testPrefix,
} from "./support/scaling.ts";

/** Two cpus each: two sessions of one cpu fill an agent. */
const AGENT = ["--cpu", "2", "--mem", String(3 * 1024 ** 3), "--pool", "0"];

const create = (name: string) => ({
  image: "python",
  name,
  config: { resources: { cpu: 1, mem: "512m" } },
});

/** Every named session, once none of them is RUNNING any more. */
const allEnded = (c: Parameters<typeof session>[0], names: string[]) => () =>
  Promise.all(names.map((n) => session(c, n))).then((ss) =>
    ss.every((s) => s.status !== "RUNNING") ? ss : undefined
  );

Deno.test({
  name:
    "scale-in: maxAgents drains the right agent, demand undrains it, and stops end sessions at once with the reason",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const c = await startCluster({ agents: 0 });
    const prefix = testPrefix();
    const base = {
      enabled: true,
      minAgents: 2,
      maxAgents: 2,
      agentArgs: AGENT,
      idPrefix: prefix,
      intervalMs: 500,
    };
    const [one, two] = [`${prefix}-default-1`, `${prefix}-default-2`];
    let full = "", light = "";
    const on: Record<string, string[]> = {};
    let survivor = "";
    const steps: [string, () => Promise<void>][] = [
      [
        "two agents; two sessions on one, one on the other",
        async () => {
          await configure(c, base);
          await c.waitAgent(one, 120_000);
          await c.waitAgent(two, 120_000);
          for (const name of ["job-1", "job-2", "job-3"]) {
            const r = await c.json<{ status: string }>(
              "POST",
              "/session",
              create(name),
            );
            assertEquals(r.status, "RUNNING");
          }
          const at = await Promise.all(
            ["job-1", "job-2", "job-3"].map((n) =>
              session(c, n).then((s) => s.agentId!)
            ),
          );
          // Bin-packing fills the first agent before it opens the second.
          assertEquals(at[0], at[1]);
          assert(at[2] !== at[0]);
          [full, light] = [at[0], at[2]];
        },
      ],

      [
        "lowering maxAgents drains the least-loaded agent only",
        async () => {
          await configure(c, { ...base, minAgents: 0, maxAgents: 1 });
          const drained = await eventually("an agent to drain", async () => {
            const a = await agent(c, light);
            return a.drain ? a : undefined;
          });
          assertEquals([drained.status, drained.schedulable], [
            "ALIVE",
            false,
          ]);
          assertEquals(drained.drain?.by, "scale-in");
          assertMatch(
            drained.drain?.reason ?? "",
            /^over-max: .*above maxAgents 1/,
          );
          assertMatch(drained.statusInfo ?? "", /^draining \(by scale-in\)/);
          // The full agent stays, and says why: the drained one's session
          // would have nowhere to go.
          const kept = await eventually(
            "the other agent's note",
            async () => {
              const a = await agent(c, full);
              return a.scaleIn ? a : undefined;
            },
          );
          assertEquals([kept.schedulable, kept.drain], [true, null]);
          assertEquals(kept.scaleIn?.action, "keep");
          assertEquals(kept.scaleIn?.reason, "target-free-capacity");
          // Drained, not stopped: its session runs on.
          assertEquals((await session(c, "job-3")).status, "RUNNING");
          assertEquals(await stdoutOf(c, "job-3", "print(6 * 7)"), "42\n");
        },
      ],

      [
        "a new session undrains it instead of starting an agent",
        async () => {
          await configure(c, { ...base, minAgents: 0, maxAgents: 3 });
          const r = await c.json<{ status: string }>(
            "POST",
            "/session",
            create("job-4"),
          );
          assertEquals(r.status, "RUNNING");
          assertEquals((await session(c, "job-4")).agentId, light);
          const a = await agent(c, light);
          assertEquals([a.schedulable, a.drain], [true, null]);
          const st = await autoscaler(c);
          assertEquals(st.status?.managed.sort(), [one, two].sort());
          assertEquals(st.status?.starting, []);
          assertEquals(
            (await agents(c)).map((x) => x.id).sort(),
            [one, two].sort(),
          );
          on[full] = ["job-1", "job-2"];
          on[light] = ["job-3", "job-4"];
        },
      ],

      [
        "at its drain deadline, its sessions are ERROR at once, saying why",
        async () => {
          await configure(c, {
            ...base,
            minAgents: 0,
            maxAgents: 1,
            drainTimeoutSeconds: 2,
          });
          const victim = (await eventually("an agent to drain", async () =>
            (await agents(c)).find((a) =>
              a.status === "ALIVE" && a.drain?.by === "scale-in"
            ))).id;
          survivor = victim === one ? two : one;
          const { value: ended } = await firstSeen(
            "its sessions to end",
            allEnded(c, on[victim]),
            30_000,
          );
          const st = await autoscaler(c);
          const stop = st.status?.last?.stop.find((s) =>
            s.agentId === victim
          );
          assertEquals(stop?.reason, "drain-deadline");
          const decidedAt = Date.parse(st.status!.last!.at);
          for (const s of ended) {
            assertEquals(s.status, "ERROR");
            assertMatch(
              s.statusInfo ?? "",
              /^stopped by scale-in at the drain deadline of group default/,
            );
            assert(s.lastStat !== null, "the final usage is recorded");
            const after = Date.parse(s.terminationTime!) - decidedAt;
            assert(after < 2_000, `ERROR ${after} ms after the stop`);
          }
          const gone = await eventually("the agent to be gone", async () => {
            const a = await agent(c, victim);
            return a.status !== "ALIVE" ? a : undefined;
          });
          assertEquals([gone.status, gone.numKernels], ["TERMINATED", 0]);
          assertMatch(
            gone.statusInfo ?? "",
            /drain deadline of group default/,
          );
          // The other agent and its sessions are untouched.
          assertEquals((await agent(c, survivor)).schedulable, true);
          assertEquals(await stdoutOf(c, on[survivor][0], "print(1)"), "1\n");
        },
      ],

      [
        "an admin's stop ends its sessions at once, saying so",
        async () => {
          const before = Date.now();
          const res = await c.api("POST", `/x/admin/agents/${survivor}/stop`);
          assertEquals(res.status, 204, await res.text());
          const { value: ended } = await firstSeen(
            "its sessions to end",
            allEnded(c, on[survivor]),
            30_000,
          );
          for (const s of ended as SessionView[]) {
            assertEquals(
              [s.status, s.statusInfo],
              ["ERROR", "agent stopped by an administrator"],
            );
            const after = Date.parse(s.terminationTime!) - before;
            assert(after < 2_000, `ERROR ${after} ms after the stop`);
          }
          const gone = await eventually("the agent to be gone", async () => {
            const a = await agent(c, survivor);
            return a.status !== "ALIVE" ? a : undefined;
          });
          assertEquals(
            [gone.status, gone.statusInfo, gone.numKernels],
            ["TERMINATED", "agent stopped by an administrator", 0],
          );
        },
      ],
    ];
    try {
      // In order; once one fails, the rest would only fail after it.
      for (const [name, fn] of steps) {
        if (!await t.step(name, fn)) {
          break;
        }
      }
    } finally {
      await stopAutoscaledCluster(c, base, prefix);
    }
  },
});

Deno.test({
  name:
    "an agent's drain, who made it and since when, survive a manager restart",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // Who drained an agent decides whether the autoscaler may undrain it
    // (its own drain) or not (an operator's cordon), and the drain deadline
    // counts from `since`: both come back from the store.
    const c = await startCluster({ agents: 1 });
    try {
      const id = c.agents[0].id;
      const res = await c.api("POST", `/x/admin/agents/${id}/drain`);
      assertEquals(res.status, 200, await res.text());
      const before = await agent(c, id);
      assertEquals(before.drain?.by, "admin");
      assertEquals(before.schedulable, false);
      await c.restartManager();
      const after = await eventually("the agent to rejoin", async () => {
        const a = await agent(c, id);
        return a.status === "ALIVE" ? a : undefined;
      });
      assertEquals(after.drain, before.drain);
      assertEquals(after.schedulable, false);
      assertEquals(
        after.statusInfo,
        "draining (by an administrator): drained by an administrator",
      );
      // Undrained: cleared, in the store too (another restart shows none).
      await c.api("POST", `/x/admin/agents/${id}/undrain`).then((r) =>
        r.body?.cancel()
      );
      await c.restartManager();
      const clear = await eventually("the agent to rejoin", async () => {
        const a = await agent(c, id);
        return a.status === "ALIVE" ? a : undefined;
      });
      assertEquals([clear.drain, clear.schedulable], [null, true]);
    } finally {
      await c.stop();
    }
  },
});
