/**
 * The cluster with real processes on loopback: this test process is one node
 * ("t"), tests/fixtures/cluster_node.ts children are the others. Checks
 * tells/asks and refs across three nodes, death watch and pending asks when
 * a node is killed with SIGKILL, the restarted node rejoining as a new
 * incarnation, a wrong secret being refused, and junk frames leaving the
 * link up.
 */
import { ActorSystem } from "../actors/runtime/mod.ts";
import {
  Actor,
  type ActorRef,
  type Terminated,
} from "../actors/runtime/types.ts";
import {
  Cluster,
  importSecret,
  Kind,
  makeHello,
  NodeUnreachableError,
} from "../actors/cluster/mod.ts";
import { newTraceparent } from "../actors/cluster/trace.ts";
import {
  assert,
  assertEquals,
  assertRejects,
} from "../actors/cluster/_test_assert.ts";
import { fragmentFrame, rawPeer } from "../actors/cluster/_test_util.ts";
import { NodeProcess } from "./fixtures/cluster_process.ts";

const SECRET = `test-${crypto.randomUUID()}`;

/** Collects what it receives (and Terminated of what it watches) so the test can await it. */
class Inbox extends Actor<unknown> {
  static got: unknown[] = [];
  static waiters: ((m: unknown) => void)[] = [];
  static push(m: unknown) {
    Inbox.got.push(m);
    for (const w of Inbox.waiters.splice(0)) w(m);
  }
  static async until(
    pred: (m: unknown) => boolean,
    what: string,
    ms = 10_000,
  ): Promise<unknown> {
    const deadline = Date.now() + ms;
    while (true) {
      const hit = Inbox.got.find(pred);
      if (hit !== undefined) return hit;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `no ${what} within ${ms} ms; got ${JSON.stringify(Inbox.got)}`,
        );
      }
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        Inbox.waiters.push(() => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
  }
  receive(msg: unknown) {
    if (typeof msg === "object" && msg !== null && "watch" in msg) {
      this.ctx.watch((msg as { watch: ActorRef }).watch);
      return "watching";
    }
    Inbox.push(msg);
  }
  override onTerminated(t: Terminated) {
    Inbox.push({
      type: "terminated",
      by: "t",
      node: t.ref.node,
      path: t.ref.path,
      reason: t.reason,
    });
  }
}

const isTerminated = (by: string, node: string) => (m: unknown) => {
  const t = m as {
    type?: string;
    by?: string;
    node?: string;
    reason?: { kind: string };
  };
  return t.type === "terminated" && t.by === by && t.node === node &&
    t.reason?.kind === "node-down";
};

Deno.test({
  name:
    "cluster: three processes, tells/asks/refs, kill -9, rejoin, wrong secret, junk frames",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const system = new ActorSystem({ nodeId: "t" });
    const cluster = new Cluster(system, { secret: SECRET, log: () => {} });
    const inbox = system.spawn(() => new Inbox(), { name: "inbox" });
    const procs: NodeProcess[] = [];
    try {
      const { url: tUrl } = await cluster.listen({ port: 0 });
      const refused: string[] = [];
      cluster.on("refused", (e) => refused.push(e.code));

      const a = await NodeProcess.start("a", [
        "--secret",
        SECRET,
        "--dial",
        tUrl,
      ]);
      procs.push(a.proc);
      const b = await NodeProcess.start("b", [
        "--secret",
        SECRET,
        "--dial",
        tUrl,
        "--dial",
        a.url,
      ]);
      procs.push(b.proc);
      await cluster.waitForUp("a");
      await cluster.waitForUp("b");
      const ref = (node: string, name: string) =>
        system.refFor({ node, path: `/user/${name}` });

      await t.step("tells and asks, refs inside messages revived", async () => {
        assertEquals(await ref("a", "echo").ask("hi"), {
          node: "a",
          echo: "hi",
        });
        for (let i = 0; i < 100; i++) ref("b", "counter").tell({ type: "inc" });
        assertEquals(await ref("b", "counter").ask({ type: "get" }), 100);
        // t → a, carrying a ref to b's counter; a asks b over the a↔b link.
        assertEquals(
          await ref("a", "forwarder").ask({
            to: ref("b", "counter"),
            payload: { type: "inc" },
          }),
          101,
        );
        // A ref to t's inbox goes to b and comes back inside the reply, alive.
        const reply = await ref("b", "echo").ask<{ echo: { me: ActorRef } }>({
          me: inbox,
        });
        reply.echo.me.tell("came back");
        await Inbox.until(
          (m) => m === "came back",
          "message through a revived ref",
        );
      });

      await t.step(
        "kill -9: watchers on other nodes get Terminated, pending asks fail",
        async () => {
          const oldInc = cluster.members().find((m) =>
            m.node === "a"
          )!.incarnation;
          inbox.tell({ watch: ref("a", "echo") });
          assertEquals(
            await ref("b", "watcher").ask({
              type: "watch",
              target: ref("a", "echo"),
              notify: inbox,
            }),
            "watching",
          );
          // Make sure both watch registrations reached a before it dies.
          await ref("a", "echo").ask("sync");
          await ref("b", "forwarder").ask({
            to: ref("a", "echo"),
            payload: "sync",
          });
          const pending = assertRejects(
            ref("a", "never").ask("wait", { timeoutMs: 60_000 }),
            NodeUnreachableError,
          );
          a.proc.kill("SIGKILL");
          await a.proc.done();
          await pending;
          await Inbox.until(isTerminated("t", "a"), "Terminated on t", 10_000);
          await Inbox.until(isTerminated("b", "a"), "Terminated on b", 10_000);
          await assertRejects(
            ref("a", "echo").ask("anyone?"),
            NodeUnreachableError,
          );
          // The restarted node joins again as a new incarnation.
          const up = new Promise<number>((r) =>
            cluster.on("up", (e) => e.node === "a" && r(e.incarnation))
          );
          const a2 = await NodeProcess.start("a", [
            "--secret",
            SECRET,
            "--dial",
            tUrl,
          ]);
          procs.push(a2.proc);
          assert((await up) !== oldInc);
          assertEquals(await ref("a", "echo").ask("again"), {
            node: "a",
            echo: "again",
          });
        },
      );

      await t.step(
        "a peer with a wrong secret is refused, told why, and gives up",
        async () => {
          const evil = new NodeProcess("evil", [
            "--secret",
            "not-the-secret",
            "--dial",
            tUrl,
          ]);
          procs.push(evil);
          const line = await evil.waitFor("REFUSED ");
          assert(line.startsWith("REFUSED bad-secret"), line);
          assertEquals((await evil.done()).code, 3);
          assertEquals(refused, ["bad-secret"]);
          assert(!cluster.members().some((m) => m.node === "evil"));
        },
      );

      await t.step(
        "junk frames from a raw WebSocket client do not break the link",
        async () => {
          // Junk before a handshake: refused with a close frame that says why.
          const junk = new WebSocket(b.url);
          await new Promise((r) => junk.onopen = r);
          junk.send("\x00\x01 definitely not a hello");
          const close = await new Promise<CloseEvent>((r) => junk.onclose = r);
          assertEquals(close.code, 4001);
          assert(close.reason.startsWith("malformed"), close.reason);
          // An authenticated raw client sending junk, then a good ask.
          const raw = new WebSocket(b.url);
          await new Promise((r) => raw.onopen = r);
          const replies: unknown[][] = [];
          let wake = () => {};
          raw.onmessage = (e) => {
            try {
              const f = JSON.parse(e.data);
              if (Array.isArray(f)) {
                for (const env of f) {
                  if (env[0] === Kind.REPLY) replies.push(env);
                }
              }
            } catch { /* the welcome */ }
            wake();
          };
          raw.send(
            JSON.stringify(
              await makeHello({
                key: await importSecret(SECRET),
                node: "raw",
                incarnation: 1,
              }),
            ),
          );
          const tp = newTraceparent();
          const junkFrames: (string | Uint8Array)[] = [
            "{{{{",
            new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
            JSON.stringify({ not: "an array" }),
            JSON.stringify([[99, "unknown kind"], [
              Kind.ASK,
              "no id",
              "/user/echo",
              1,
              100,
              tp,
            ]]),
            "[" + "1,".repeat(5 * 1024 * 1024) + "1]", // > 4 MiB
          ];
          await new Promise((r) => setTimeout(r, 200)); // let the handshake finish
          for (const f of junkFrames) raw.send(f);
          raw.send(
            JSON.stringify([[
              Kind.ASK,
              7,
              "/user/echo",
              "still alive",
              5000,
              tp,
            ]]),
          );
          await new Promise<void>((resolve) => {
            wake = () => replies.length > 0 && resolve();
            wake();
          });
          assertEquals(replies[0].slice(0, 3), [Kind.REPLY, 7, {
            node: "b",
            echo: "still alive",
          }]);
          const stats = await ref("b", "stats").ask<
            { framesDropped: number; envelopesDropped: number }
          >({});
          assertEquals(stats.framesDropped, 4);
          assertEquals(stats.envelopesDropped, 2);
          raw.close();
          await new Promise((r) => raw.onclose = r);
          // The real link t↔b is unaffected.
          assertEquals(await ref("b", "echo").ask("after junk"), {
            node: "b",
            echo: "after junk",
          });
        },
      );
    } finally {
      for (const p of procs) p.kill("SIGTERM");
      await Promise.all(procs.map((p) => p.done()));
      await cluster.close();
      await system.shutdown({ deadlineMs: 1000 });
    }
  },
});

/** The blob a fixture node makes or expects for `seed` (as in tests/fixtures/cluster_node.ts). */
function blob(n: number, seed: number): string {
  const unit = `${seed}:abcdefghijklmnopqrstuvwxyz0123456789|`;
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

const MiB = 1024 * 1024;

Deno.test({
  name:
    "cluster: 20 MiB messages between processes arrive intact while heartbeats keep the link up; garbage fragments are dropped",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    // Heartbeats every 100 ms and 1 s of silence allowed: a link blocked by
    // one 20 MiB frame, or starved of heartbeats, would be declared down.
    const fast = ["--heartbeat-ms", "100", "--fd-pause-ms", "1000"];
    const system = new ActorSystem({ nodeId: "big" });
    const cluster = new Cluster(system, {
      secret: SECRET,
      heartbeatMs: 100,
      failureDetector: { acceptableHeartbeatPauseMs: 1000 },
      log: () => {},
    });
    const procs: NodeProcess[] = [];
    try {
      const { url } = await cluster.listen({ port: 0 });
      const c = await NodeProcess.start("c", [
        "--secret",
        SECRET,
        "--dial",
        url,
        ...fast,
      ]);
      procs.push(c.proc);
      await cluster.waitForUp("c");
      const trouble: string[] = [];
      for (const ev of ["unreachable", "down"] as const) {
        cluster.on(ev, (e) => trouble.push(`${ev} ${e.node} ${e.reason}`));
      }
      const ref = (name: string) =>
        system.refFor({ node: "c", path: `/user/${name}` });
      const long = { timeoutMs: 60_000 };

      await t.step(
        "20 MiB tells and a 20 MiB ask reply arrive intact and in order; other actors are not held up",
        async () => {
          const rounds = 3;
          for (let seed = 0; seed < rounds; seed++) {
            ref("blobs").tell({
              type: "blob",
              data: blob(20 * MiB, seed),
              seed,
            });
          }
          // Another actor answers before the blobs are through...
          const early = await ref("stats").ask<{ largeMessagesIn: number }>(
            {},
            long,
          );
          assert(early.largeMessagesIn < rounds, JSON.stringify(early));
          // ...while an ask to the same actor comes after all of them.
          assertEquals(await ref("blobs").ask({ type: "count" }, long), rounds);
          const reply = await ref("blobs").ask<string>(
            { type: "make", bytes: 20 * MiB, seed: 9 },
            long,
          );
          assertEquals(reply.length, 20 * MiB);
          assert(
            reply === blob(20 * MiB, 9),
            "the 20 MiB reply came back altered",
          );
          assertEquals(await ref("blobs").ask({ type: "log" }, long), [
            `0 ${20 * MiB} intact`,
            `1 ${20 * MiB} intact`,
            `2 ${20 * MiB} intact`,
          ]);
          assertEquals(trouble, []);
          assert(cluster.isUp("c"));
          // The heartbeats were answered: the link has a round-trip time.
          while (
            cluster.peers().find((p) => p.node === "c")?.rttMs === undefined
          ) {
            await new Promise((r) => setTimeout(r, 50));
          }
          const peer = cluster.peers().find((p) => p.node === "c")!;
          assertEquals([peer.status, peer.reconnects], ["up", 0]);
          // And c never lost sight of this node either.
          const theirs = await ref("stats").ask<
            { node: string; status: string; reconnects: number }[]
          >({ peers: true });
          const us = theirs.find((p) => p.node === "big")!;
          assertEquals([us.status, us.reconnects], ["up", 0]);
          assertEquals(cluster.stats.largeMessagesOut, rounds);
          assertEquals(cluster.stats.largeMessagesIn, 1);
        },
      );

      await t.step(
        "a garbage fragment stream is dropped and counted, the link stays up",
        async () => {
          const { ws: raw, replies } = await rawPeer(
            c.url,
            SECRET,
            "raw-fragments",
            { binaryType: "arraybuffer" },
          );
          await new Promise((r) => setTimeout(r, 200)); // let the handshake finish
          const before = await ref("stats").ask<
            { framesDropped: number; fragmentsDropped: number }
          >({});
          const frag = fragmentFrame;
          const random = (n: number) =>
            crypto.getRandomValues(new Uint8Array(n));
          const garbage = [
            random(9), // shorter than a header
            new Uint8Array(5000), // no fragment header at all
            frag(0, 1, 1, 100, random(50)), // a middle fragment of nothing
            frag(1, 2, 0, 1024 * MiB, random(50)), // declares 1 GiB
            frag(1, 3, 0, 100, random(50)), // starts...
            frag(2, 3, 7, 100, random(50)), // ...and jumps
            frag(3, 4, 0, 64, random(64)), // whole, but not UTF-8 text
          ];
          for (const f of garbage) raw.send(f);
          const ask = new TextEncoder().encode(
            JSON.stringify([[
              Kind.ASK,
              5,
              "/user/echo",
              "still fine",
              5000,
              newTraceparent(),
            ]]),
          );
          raw.send(frag(1, 9, 0, ask.length, ask.subarray(0, 20)));
          raw.send(frag(2, 9, 1, ask.length, ask.subarray(20)));
          while (replies.length === 0) {
            await new Promise((r) => setTimeout(r, 10));
          }
          assertEquals(replies[0].slice(0, 3), [Kind.REPLY, 5, {
            node: "c",
            echo: "still fine",
          }]);
          const after = await ref("stats").ask<
            { framesDropped: number; fragmentsDropped: number }
          >({});
          // Six frames dropped (the one that started well was not), five
          // of them refused as fragments; the last was whole but not text.
          assertEquals(after.framesDropped - before.framesDropped, 6);
          assertEquals(after.fragmentsDropped - before.fragmentsDropped, 5);
          raw.close();
          await new Promise((r) => raw.onclose = r);
          assertEquals(await ref("echo").ask("and the real link"), {
            node: "c",
            echo: "and the real link",
          });
          assertEquals(trouble, []);
        },
      );
    } finally {
      for (const p of procs) p.kill("SIGTERM");
      await Promise.all(procs.map((p) => p.done()));
      await cluster.close();
      await system.shutdown({ deadlineMs: 1000 });
    }
  },
});
