/**
 * Dashboard web sessions against a real (embedded) Postgres: what the
 * manager's port implementation (actors/manager/web.ts) keeps at rest,
 * how sessions slide and expire, and how they end.
 */
import { createHash } from "node:crypto";
import { openStore, type Store } from "../../actors/manager/store/mod.ts";
import { createWebDeps } from "../../actors/manager/web.ts";
import type { WebSessionDeps } from "../../actors/manager/port/mod.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { freePort } from "../support/ports.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOUR = 3_600_000;

Deno.test({
  name: "web sessions: hashed at rest, sliding, expiring, closable",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "bai-web-" });
    let store: Store | undefined;
    try {
      store = await openStore({
        dataDir,
        port: freePort(),
        durable: false,
        log: () => {},
      });
      await store.ensureDefaults();
      const db = store;
      const kp = await db.keypairs.create({ userId: "alice" });
      const web: WebSessionDeps = createWebDeps({
        store: db,
        // Only the web-session part is exercised here: no actors needed.
        sessions: undefined as never,
        listAgents: () => Promise.resolve([]),
        imageResources: () => ({}),
      }).webSessions;

      await t.step("only a hash of the token is stored", async () => {
        const s = await web.open(kp.accessKey, {
          idleMs: HOUR,
          maxAgeMs: 2 * HOUR,
          userAgent: "test",
        });
        assertEquals(s.accessKey, kp.accessKey);
        assert(s.token.length >= 43 && s.csrfToken.length >= 43);
        assert(s.token !== s.csrfToken);
        const rows = await db.sql`select * from web_sessions`;
        assertEquals(rows.length, 1);
        const stored = JSON.stringify(rows[0]);
        assert(!stored.includes(s.token), "the token is not at rest");
        assertEquals(
          rows[0].token_hash,
          createHash("sha256").update(s.token).digest("hex"),
        );
        assertEquals((await web.find(s.token, HOUR))?.csrfToken, s.csrfToken);
        // The hash itself opens nothing.
        assertEquals(
          await web.find(String(rows[0].token_hash), HOUR),
          undefined,
        );
        assertEquals(await web.find("", HOUR), undefined);
        assertEquals(await web.find("x".repeat(5000), HOUR), undefined);
        await web.close(s.token);
        assertEquals(await web.find(s.token, HOUR), undefined);
        await web.close(s.token); // twice is fine
      });

      await t.step("an unused session ends after the idle time", async () => {
        const s = await web.open(kp.accessKey, {
          idleMs: 400,
          maxAgeMs: HOUR,
        });
        assert(await web.find(s.token, 400), "live at first");
        await sleep(900);
        assertEquals(await web.find(s.token, 400), undefined);
      });

      await t.step(
        "use slides the idle expiry, never past max age",
        async () => {
          const s = await web.open(kp.accessKey, {
            idleMs: 600,
            maxAgeMs: 1500,
          });
          for (let i = 0; i < 4; i++) {
            await sleep(300);
            assert(await web.find(s.token, 600), `still live after use ${i}`);
          }
          await sleep(800);
          assertEquals(
            await web.find(s.token, 600),
            undefined,
            "hard expiry reached although used",
          );
        },
      );

      await t.step("deleting the keypair ends its sessions", async () => {
        const bob = await db.keypairs.create({ userId: "bob" });
        const s = await web.open(bob.accessKey, {
          idleMs: HOUR,
          maxAgeMs: HOUR,
        });
        await db.keypairs.delete(bob.accessKey);
        assertEquals(await web.find(s.token, HOUR), undefined);
      });

      await t.step("signing in sweeps expired rows", async () => {
        await web.open(kp.accessKey, { idleMs: 1, maxAgeMs: 1 });
        await sleep(50);
        await web.open(kp.accessKey, { idleMs: HOUR, maxAgeMs: HOUR });
        const [{ n }] = await db.sql`
          select count(*)::int as n from web_sessions where expires_at <= now()`;
        assertEquals(n, 0);
      });
    } finally {
      await store?.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
