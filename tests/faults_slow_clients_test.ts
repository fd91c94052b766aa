/**
 * Fault: clients that hold connections without using them (issue 18 "Faults
 * to survive"), against a real manager: 50 clients sending their request
 * headers one byte a second, and 1,000 idle execute WebSockets (signed,
 * opened, never sent a frame). Other clients must not be starved: signed
 * requests keep answering promptly throughout; the dribbling clients are cut
 * at the header deadline (20 s) while the idle WebSockets, which did finish
 * their handshake, stay open; and the descriptors go back down once they
 * close.
 */
import { startCluster } from "./support/cluster.ts";
import { openStream } from "./api_helpers_test.ts";
import { assert, assertEquals } from "./support/assert.ts";

const fdCount = (pid: number) =>
  [...Deno.readDirSync(`/proc/${pid}/fd`)].length;

Deno.test({
  name:
    "fault: 50 header-dribbling clients and 1,000 idle WebSockets do not starve other clients",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const c = await startCluster({ agents: 0 });
    const slow: Deno.TcpConn[] = [];
    const sockets: WebSocket[] = [];
    try {
      const pid = c.managerPid();
      const user = await c.newKeypair({ rateLimit: 1_000_000 });
      const baseFds = fdCount(pid);
      const probe = async (n: number) => {
        let worst = 0;
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          const res = await c.api("GET", "/session/nosuch", undefined, user);
          assertEquals(res.status, 404);
          await res.body?.cancel();
          worst = Math.max(worst, performance.now() - t0);
        }
        return worst;
      };

      for (let i = 0; i < 50; i++) {
        slow.push(await Deno.connect({ hostname: "127.0.0.1", port: c.port }));
      }
      const head = new TextEncoder().encode(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(60) + "\r\n\r\n",
      );
      let stop = false;
      const dribble = (async () => {
        for (let k = 0; k < head.length && !stop; k++) {
          await Promise.all(
            slow.map((s) => s.write(head.subarray(k, k + 1)).catch(() => 0)),
          );
          await new Promise((r) => setTimeout(r, 1000));
        }
      })();
      for (let i = 0; i < 1000; i++) {
        sockets.push(
          (await openStream(c, `/stream/session/idle-${i}/execute`, user)).ws,
        );
      }
      let wsClosed = 0;
      for (const ws of sockets) ws.addEventListener("close", () => wsClosed++);
      console.log(
        `held: 50 slow + ${sockets.length} WebSockets, manager fds ${
          fdCount(pid)
        } (from ${baseFds})`,
      );

      const worstUnderLoad = await probe(30);
      await new Promise((r) => setTimeout(r, 22_000));
      const worstLater = await probe(30);
      console.log(
        `others: worst ${worstUnderLoad.toFixed(0)} ms under load, ${
          worstLater.toFixed(0)
        } ms after the header deadline`,
      );
      // Not a speed target: "not starved" means answered, and well within
      // the slow clients' own lifetime.
      assert(worstUnderLoad < 5000, `starved: ${worstUnderLoad} ms`);
      assert(worstLater < 5000, `starved: ${worstLater} ms`);

      const stillWritable = (await Promise.all(
        slow.map((s) =>
          s.write(new Uint8Array([97])).then(() => true, () => false)
        ),
      )).filter(Boolean).length;
      assertEquals(stillWritable, 0, "dribbling clients were cut");
      assertEquals(wsClosed, 0, "idle WebSockets stay open");
      stop = true;
      await dribble;

      for (const ws of sockets) ws.close();
      for (const s of slow) {
        try {
          s.close();
        } catch { /* cut */ }
      }
      let fds = fdCount(pid);
      for (let i = 0; i < 40 && fds > baseFds + 20; i++) {
        await new Promise((r) => setTimeout(r, 250));
        fds = fdCount(pid);
      }
      assert(
        fds <= baseFds + 20,
        `descriptors back down: ${fds} vs ${baseFds}`,
      );
    } finally {
      for (const ws of sockets) {
        try {
          ws.close();
        } catch { /* closed */ }
      }
      await c.stop();
    }
  },
});
