/**
 * Idle timeout and maximum lifetime from the keypair's resource policy,
 * against a real manager and agent: a session left alone past
 * `idleTimeout` is terminated with that reason; one kept busy is still
 * ended at `maxSessionLifetime`. Sessions of other keypairs are untouched.
 * (The manager checks expiry on a 5 s tick, so each case takes ~5–15 s.)
 */
import { startCluster } from "./support/cluster.ts";
import { assert, assertEquals, assertMatch } from "./support/assert.ts";

interface Info {
  status: string;
  statusInfo: string | null;
}

Deno.test({
  name: "api: idle timeout and max lifetime end sessions with the reason",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const c = await startCluster({ agents: 1 });
    try {
      await c.json("PUT", "/x/admin/resource-policies/short-idle", {
        idleTimeout: 2,
      });
      await c.json("PUT", "/x/admin/resource-policies/short-life", {
        maxSessionLifetime: 6,
      });
      const idle = await c.newKeypair({ resourcePolicy: "short-idle" });
      const life = await c.newKeypair({ resourcePolicy: "short-life" });
      const waitEnded = async (
        name: string,
        creds: typeof idle,
        busy = false,
      ) => {
        for (let i = 0; i < 120; i++) {
          const s = await c.json<Info>(
            "GET",
            `/session/${name}`,
            undefined,
            creds,
          );
          if (s.status === "TERMINATED" || s.status === "ERROR") return s;
          if (busy && s.status === "RUNNING") {
            // Activity: a run keeps the idle clock at zero, not the lifetime.
            await c.api("POST", `/session/${name}`, {
              mode: "query",
              code: "pass",
              runId: null,
            }, creds).then((r) => r.body?.cancel());
          }
          await new Promise((r) => setTimeout(r, 250));
        }
        throw new Error(`${name} did not end`);
      };

      await t.step("idle past idleTimeout: terminated as idle", async () => {
        await c.json(
          "POST",
          "/session",
          { image: "python", name: "idle-one" },
          idle,
        );
        await c.json("POST", "/session", { image: "python", name: "keeper" });
        const ran = await c.json<{ result: { status: string } }>(
          "POST",
          "/session/idle-one",
          { mode: "query", code: "print(1)", runId: null },
          idle,
        );
        assertEquals(ran.result.status, "finished");
        const s = await waitEnded("idle-one", idle);
        assertEquals(s.status, "TERMINATED");
        assertMatch(s.statusInfo ?? "", /idle/);
        // The admin's session (default policy: no idle timeout) lives on.
        const k = await c.json<Info>("GET", "/session/keeper");
        assertEquals(k.status, "RUNNING");
      });

      await t.step(
        "busy past maxSessionLifetime: terminated at the lifetime",
        async () => {
          const t0 = Date.now();
          await c.json("POST", "/session", {
            image: "python",
            name: "life-one",
          }, life);
          const s = await waitEnded("life-one", life, true);
          assertEquals(s.status, "TERMINATED");
          assertMatch(s.statusInfo ?? "", /lifetime/);
          assert(Date.now() - t0 >= 6_000, "not before the lifetime");
        },
      );
    } finally {
      await c.stop();
    }
  },
});
