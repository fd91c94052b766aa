/**
 * The cost part of the store (migrations/0004_cost.sql, store/cost.ts)
 * against a real embedded PostgreSQL: prices per scaling group, a
 * keypair's cost settings, and the running / paused phases the trigger on
 * session_events writes for every status change.
 */
import { openStore, type Store } from "../actors/manager/store/mod.ts";
import { assert, assertEquals } from "../actors/manager/store/_testing.ts";
import { freePort } from "./support/ports.ts";

async function withStore(fn: (store: Store) => Promise<void>): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "cost-store-test-" });
  await Deno.chmod(dataDir, 0o755);
  const store = await openStore({
    dataDir,
    port: freePort(),
    durable: false,
    log: () => {},
  });
  try {
    await store.ensureDefaults();
    await fn(store);
  } finally {
    await store.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => undefined);
  }
}

Deno.test("cost store: prices per group, settings per keypair, phases from status changes", async () => {
  await withStore(async (store) => {
    // Prices: unknown group undefined, unpriced null, set, cleared.
    assertEquals(await store.cost.prices("nope"), undefined);
    assertEquals(await store.cost.prices("default"), null);
    assert(!(await store.cost.setPrices("nope", null)));
    const table = {
      cpuCoreHour: 0.5,
      memGiBHour: 0.01,
      deviceHour: { "cuda.device": 2 },
    };
    assert(await store.cost.setPrices("default", table));
    assertEquals(await store.cost.prices("default"), table);
    assertEquals((await store.cost.allPrices()).default, table);

    // Settings: none, then stored and replaced.
    const kp = await store.keypairs.create({ userId: "alice" });
    assertEquals(await store.cost.settings(kp.accessKey), null);
    const s = {
      dailyCostLimit: 3.5,
      action: "terminate" as const,
      warnRatio: 0.5,
      maintain: true,
      idlePauseSeconds: 60,
      timeZone: "Asia/Seoul",
    };
    assertEquals(await store.cost.putSettings(kp.accessKey, s), s);
    const s2 = { ...s, dailyCostLimit: null, action: "pause" as const };
    await store.cost.putSettings(kp.accessKey, s2);
    assertEquals(await store.cost.settings(kp.accessKey), s2);

    // Phases: RUNNING opens running, SUSPENDED closes it and opens paused,
    // RUNNING again, TERMINATING closes; paused_ms sums the paused phase.
    const t0 = Date.now();
    const sess = await store.sessions.insert({
      name: "metered",
      accessKey: kp.accessKey,
      image: "python",
      requestedSlots: { cpu: 2, mem: 1024 },
    });
    for (const st of ["SCHEDULED", "PREPARING"] as const) {
      await store.sessions.transition(sess.id, st, st);
    }
    assertEquals(
      await store.cost.phases({ accessKey: kp.accessKey, from: 0, to: 9e15 }),
      [],
    );
    await store.sessions.transition(sess.id, "RUNNING", "up");
    await store.sessions.transition(sess.id, "SUSPENDED", "idle");
    await new Promise((r) => setTimeout(r, 30));
    await store.sessions.transition(sess.id, "RUNNING", "resumed");
    let [p] = await store.cost.phases({
      accessKey: kp.accessKey,
      from: t0 - 1000,
      to: Date.now() + 1000,
    });
    assertEquals(p.phases.map((x) => [x.state, x.to === undefined]), [
      ["running", false],
      ["paused", false],
      ["running", true],
    ]);
    assertEquals(p.slots, { cpu: 2, mem: 1024 });
    assertEquals(p.prices, table);
    assert(p.pausedMs >= 25, `paused_ms ${p.pausedMs}`);
    await store.sessions.transition(sess.id, "RESTARTING", "restart");
    await store.sessions.transition(sess.id, "RUNNING", "restarted");
    await store.sessions.transition(sess.id, "TERMINATING", "bye");
    await store.sessions.transition(sess.id, "TERMINATED", "gone");
    [p] = await store.cost.phases({ from: t0 - 1000, to: Date.now() + 1000 });
    // The restart kept the running phase open; TERMINATING closed it.
    assertEquals(p.phases.length, 3);
    assert(p.phases.every((x) => x.to !== undefined));
    // A range after the session's end finds nothing.
    assertEquals(
      await store.cost.phases({ from: Date.now() + 5000, to: 9e15 }),
      [],
    );
  });
});
