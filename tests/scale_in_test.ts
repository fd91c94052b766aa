/**
 * Scale-in protection and the autoscaler against a real manager, with real
 * agent processes: the autoscaler's local driver starts agents to reach a
 * minimum; scaling in with one agent hosting a protected session
 * (`config.scale_in_protected`) and one idle agent stops only the idle one
 * and only drains the other (no new sessions, never stopped); an admin's stop still
 * stops the protected one, and its session ends at once with that reason.
 * And SIGTERM to a busy agent drains it: its session runs on until it ends,
 * then the agent exits. (More: tests/autoscaler_*_test.ts.)
 */
import { startCluster } from "./support/cluster.ts";
import { eventually } from "./support/eventually.ts";
import { assert, assertEquals, assertMatch } from "./support/assert.ts";
import { stdoutOf } from "./api_helpers_test.ts";
import { containersOf } from "../actors/agent/_e2e_support.ts";
import {
  agent,
  session,
  stopAutoscaledCluster,
  testPrefix,
} from "./support/scaling.ts";

const SMALL_AGENT = ["--cpu", "1", "--mem", String(2 * 1024 ** 3)];

const info = session;

Deno.test({
  name: "scale-in: the idle agent stops, the protected one stays",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const c = await startCluster({ agents: 0 });
    const prefix = testPrefix();
    const config = {
      enabled: true,
      minAgents: 2,
      maxAgents: 2,
      agentArgs: [...SMALL_AGENT, "--pool", "0"],
      idPrefix: prefix,
      intervalMs: 500,
      // No group rule: the session's own flag protects its agent.
      protection: { batchSessions: false, olderThanMinutes: null },
    };
    const [one, two] = [`${prefix}-default-1`, `${prefix}-default-2`];
    try {
      await t.step(
        "the autoscaler starts agents up to its minimum",
        async () => {
          const put = await c.json<{ config: { minAgents: number } }>(
            "PUT",
            "/x/admin/scaling-groups/default/autoscaler",
            config,
          );
          assertEquals(put.config.minAgents, 2);
          await c.waitAgent(one, 120_000);
          await c.waitAgent(two, 120_000);
          const st = await c.json<{ status: { managed: string[] } }>(
            "GET",
            "/x/admin/scaling-groups/default/autoscaler",
          );
          assertEquals(st.status.managed.sort(), [one, two]);
        },
      );

      let busy = "";
      let idle = "";
      await t.step("scale-in stops only the idle agent", async () => {
        const s = await c.json<{ status: string }>("POST", "/session", {
          image: "python",
          name: "keep-me",
          config: {
            resources: { cpu: 1, mem: "512m" },
            scale_in_protected: true,
          },
        });
        assertEquals(s.status, "RUNNING");
        busy = (await info(c, "keep-me")).agentId!;
        idle = busy === one ? two : one;
        await c.json("PUT", "/x/admin/scaling-groups/default/autoscaler", {
          ...config,
          minAgents: 0,
        });
        const left = await eventually("the idle agent to leave", async () => {
          const a = await agent(c, idle);
          return a && a.status !== "ALIVE" ? a : undefined;
        });
        // Stopped on purpose: TERMINATED, with the reason, nothing counted.
        assertEquals([left.status, left.numKernels], ["TERMINATED", 0]);
        assertMatch(
          left.statusInfo ?? "",
          /^stopped by scale-in of group default/,
        );
        // The decision that stopped the idle agent drained the protected
        // one (no new sessions) and did not stop it.
        const st = await c.json<{
          status: {
            managed: string[];
            last?: {
              stop: { agentId: string }[];
              drain: { agentId: string }[];
            };
          };
        }>("GET", "/x/admin/scaling-groups/default/autoscaler");
        assertEquals(st.status.last?.stop.map((x) => x.agentId), [idle]);
        assertEquals(st.status.last?.drain.map((x) => x.agentId), [busy]);
        const b = await agent(c, busy);
        assertEquals(b?.status, "ALIVE");
        assertEquals(b?.schedulable, false);
        assertEquals((await info(c, "keep-me")).status, "RUNNING");
        assertEquals(await stdoutOf(c, "keep-me", "print(6 * 7)"), "42\n");
      });

      await t.step(
        "an admin's stop still stops the protected agent",
        async () => {
          const res = await c.api("POST", `/x/admin/agents/${busy}/stop`);
          assertEquals(res.status, 204, await res.text());
          // Ended by the stop itself, not after the 30 s rejoin grace.
          const s = await info(c, "keep-me");
          assertEquals(
            [s.status, s.statusInfo],
            ["ERROR", "agent stopped by an administrator"],
          );
          const a = await eventually("the busy agent to be gone", async () => {
            const a = await agent(c, busy);
            return a && a.status !== "ALIVE" ? a : undefined;
          });
          assertEquals(
            [a.status, a.statusInfo, a.numKernels],
            ["TERMINATED", "agent stopped by an administrator", 0],
          );
        },
      );
    } finally {
      await stopAutoscaledCluster(c, config, prefix);
    }
  },
});

Deno.test({
  name: "SIGTERM drains a busy agent: its session runs on, then it exits",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const c = await startCluster({ agents: 1, agentArgs: () => SMALL_AGENT });
    try {
      const a = c.agents[0];
      await c.json("POST", "/session", {
        image: "python",
        name: "long-job",
        config: { resources: { cpu: 1, mem: "512m" } },
      });
      assertEquals(await stdoutOf(c, "long-job", "x = 1\nprint(x)"), "1\n");
      let exited = false;
      const status = a.proc.status.then((s) => {
        exited = true;
        return s;
      });
      a.proc.kill("SIGTERM");
      await eventually("the agent to report draining", async () => {
        const v = await agent(c, a.id);
        return v && !v.schedulable ? v : undefined;
      });
      // Drained, not stopped: the kernel keeps its state and runs code.
      assertEquals((await info(c, "long-job")).status, "RUNNING");
      assertEquals(await stdoutOf(c, "long-job", "x += 1\nprint(x)"), "2\n");
      assert(!exited, "the agent exited while its session was running");
      // New work is not placed on it.
      await c.json("POST", "/session", {
        image: "python",
        name: "not-here",
        enqueueOnly: true,
        config: { resources: { cpu: 1, mem: "512m" } },
      });
      await c.json("DELETE", "/session/long-job");
      const s = await status;
      assertEquals(s.code, 0);
      assertEquals((await info(c, "not-here")).status, "PENDING");
      await eventually("the agent to have left", async () => {
        const v = await agent(c, a.id);
        return v && v.status !== "ALIVE" ? v : undefined;
      });
    } finally {
      await c.stop();
    }
  },
});

Deno.test({
  name:
    "SIGTERM past --drain-deadline: kernels end with the reason, no container is left",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const c = await startCluster({
      agents: 1,
      agentArgs: () => [...SMALL_AGENT, "--drain-deadline", "2"],
    });
    try {
      const a = c.agents[0];
      await c.json("POST", "/session", {
        image: "python",
        name: "overdue",
        config: { resources: { cpu: 1, mem: "512m" } },
      });
      const kernelId = (await info(c, "overdue")).kernelId!;
      const status = a.proc.status;
      a.proc.kill("SIGTERM");
      assertEquals((await status).code, 0);
      const ended = await eventually("the session to end", async () => {
        const s = await info(c, "overdue");
        return s.status === "ERROR" || s.status === "TERMINATED"
          ? s
          : undefined;
      });
      assert(
        /drain deadline/.test(ended.statusInfo ?? ""),
        `the reason is told: ${ended.statusInfo}`,
      );
      assertEquals(await containersOf(kernelId), []);
    } finally {
      await c.stop();
    }
  },
});

Deno.test("autoscaler: the group's rules (batch, older than N minutes) and the flag protect an agent", async () => {
  // The real GroupAutoscalerActor and policies; registry, scheduler, store
  // and driver are recorders, so the decision of one tick can be read.
  const { ActorSystem, Actor } = await import("../actors/runtime/mod.ts");
  const { GroupAutoscalerActor } = await import(
    "../actors/manager/autoscaler.ts"
  );
  const { AutoscalerConfig } = await import(
    "../actors/manager/autoscaler_config.ts"
  );
  const now = Date.now();
  const ids = [1, 2, 3, 4, 5].map((n) => `t-default-${n}`);
  const view = (id: string) => ({
    id,
    scalingGroup: "default",
    status: "ALIVE",
    schedulable: true,
    resourceSlots: { cpu: 4 },
    numKernels: 0,
    lastSeen: new Date(now).toISOString(),
  });
  const session = (
    agentId: string,
    type: string,
    ageMinutes: number,
    flagged = false,
  ) => ({
    agentId,
    scalingGroup: "default",
    status: "RUNNING",
    type,
    createdAt: now - ageMinutes * 60_000,
    protected: flagged,
    requestedSlots: { cpu: 1 },
  });
  const drained: string[] = [];
  const stopped: string[] = [];
  class Fake extends Actor<{ type: string; id?: string }> {
    receive(m: { type: string; id?: string }) {
      if (m.type === "list") return ids.map(view);
      if (m.type === "pending") return [];
      if (m.type === "drain") drained.push(m.id!);
      return undefined;
    }
  }
  const system = new ActorSystem({ nodeId: "manager" });
  try {
    const fake = system.spawn(() => new Fake(), { name: "fake" });
    const group = system.spawn(
      () =>
        new GroupAutoscalerActor(
          "default",
          AutoscalerConfig.parse({
            enabled: true,
            minAgents: 0,
            idPrefix: "t",
            intervalMs: 600_000,
            protection: { batchSessions: true, olderThanMinutes: 10 },
          }),
          {
            registry: fake as never,
            scheduler: fake as never,
            liveSessions: () =>
              Promise.resolve([
                session(ids[0], "batch", 0), // the batch rule
                session(ids[1], "interactive", 11), // older than 10 minutes
                session(ids[2], "interactive", 0, true), // its own flag
                session(ids[3], "interactive", 0), // busy, unprotected
              ]),
            loadConfigs: () => Promise.resolve({}),
            log: () => {},
            driver: {
              start: () => Promise.resolve(),
              stop: (id) => (stopped.push(id), Promise.resolve()),
              owns: (id) => ids.includes(id),
              running: () => [...ids],
              close: () => Promise.resolve(),
            },
          },
        ),
      { name: "group" },
    );
    // The first tick runs at start and records what it decided.
    await eventually("the first decision", async () => {
      const st = await group.ask<{ last?: unknown }>({ type: "status" });
      return st.last;
    });
    await fake.ask({ type: "pending" }); // drains told before this are in
    assertEquals(stopped, [ids[4]]); // idle: stopped
    // Busy or protected: drained, never stopped. The last protected agent
    // stays open: the unprotected session on the drained ids[3] needs room
    // to come back (policies/scale_in.ts keeps it).
    assertEquals([...drained].sort(), [ids[0], ids[1], ids[3]].sort());
  } finally {
    await system.shutdown({ deadlineMs: 2000 });
  }
});
