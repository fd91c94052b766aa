/**
 * Integration tests of the manager's store against a real embedded
 * PostgreSQL (the packaged binaries), each in a temp dir on a random port.
 */
import postgres from "postgres";
import {
  AlreadyExistsError,
  ClusterInUseError,
  type EmbeddedPostgres,
  EmbeddedPostgresError,
  IllegalTransitionError,
  loadMigrations,
  migrate,
  MigrationChecksumError,
  NotFoundError,
  openStore,
  SchemaTooNewError,
  SessionNameConflictError,
  startEmbeddedPostgres,
  type Store,
} from "../actors/manager/store/mod.ts";
import {
  assert,
  assertEquals,
  assertRejects,
} from "../actors/manager/store/_testing.ts";

const quiet = () => {};

/** A random port nothing listens on right now. */
function freePort(): number {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch {
      // Taken; try another.
    }
  }
}

/** A temp data dir the postgres user can traverse (Deno makes them 0700). */
async function tempDataDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "store-test-" });
  await Deno.chmod(dir, 0o755);
  return dir;
}

Deno.test("embedded postgres: start, restart keeps data, in-use refused, stale pid after kill -9", async () => {
  const dataDir = await tempDataDir();
  const port = freePort();
  let pg: EmbeddedPostgres | undefined;
  try {
    pg = await startEmbeddedPostgres({
      dataDir,
      port,
      durable: false,
      log: quiet,
    });
    assert(pg.initialized);
    assertEquals(pg.clusterDir, `${dataDir}/postgres`);
    console.log(
      `embedded postgres: initdb ${pg.initMs.toFixed(0)} ms, start ${
        pg.startMs.toFixed(0)
      } ms`,
    );
    let sql = postgres(pg.url, { onnotice: quiet });
    await sql`create table kept (v text)`;
    await sql`insert into kept values ('hello')`;
    await sql.end();

    // A second launcher on the same cluster must not start a second server.
    await assertRejects(
      () =>
        startEmbeddedPostgres({
          dataDir,
          port: freePort(),
          durable: false,
          log: quiet,
        }),
      ClusterInUseError,
    );

    await pg.stop();
    pg = await startEmbeddedPostgres({
      dataDir,
      port,
      durable: false,
      log: quiet,
    });
    assert(!pg.initialized);
    console.log(`embedded postgres: restart ${pg.startMs.toFixed(0)} ms`);
    sql = postgres(pg.url, { onnotice: quiet });
    assertEquals((await sql`select v from kept`).map((r) => r.v), ["hello"]);
    await sql.end();

    // kill -9 leaves postmaster.pid behind; point it at a live foreign pid
    // (1), as happens when the pid is recycled, which postgres alone refuses.
    Deno.kill(pg.pid, "SIGKILL");
    await pg.exited;
    const pidFile = `${pg.clusterDir}/postmaster.pid`;
    const lines = (await Deno.readTextFile(pidFile)).split("\n");
    lines[0] = "1";
    await Deno.writeTextFile(pidFile, lines.join("\n"));
    pg = await startEmbeddedPostgres({
      dataDir,
      port,
      durable: false,
      log: quiet,
    });
    sql = postgres(pg.url, { onnotice: quiet });
    assertEquals((await sql`select v from kept`).map((r) => r.v), ["hello"]);
    await sql.end();
  } finally {
    await pg?.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test({
  name:
    "embedded postgres: a data dir the postgres user cannot reach gets a cluster under /var/lib",
  ignore: Deno.uid() !== 0,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "store-test-private-" }); // mode 0700
    const lines: string[] = [];
    let pg: EmbeddedPostgres | undefined;
    try {
      pg = await startEmbeddedPostgres({
        dataDir,
        port: freePort(),
        durable: false,
        log: (l) => lines.push(l),
      });
      assert(
        pg.clusterDir.startsWith("/var/lib/backendai-deno/"),
        pg.clusterDir,
      );
      assert(
        lines.some((l) => l.includes(pg!.clusterDir)),
        "the fallback is announced",
      );
      const sql = postgres(pg.url, { onnotice: quiet });
      assertEquals((await sql`select 1 as x`)[0].x, 1);
      await sql.end();
    } finally {
      await pg?.stop();
      if (pg) await Deno.remove(pg.clusterDir, { recursive: true });
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "openStore without a log on an unreachable data dir: the default log announces the fallback",
  ignore: Deno.uid() !== 0,
  async fn() {
    // Regression: openStore passed `log: undefined` through, which replaced
    // the default and failed with "log is not a function" here.
    const dataDir = await Deno.makeTempDir({ prefix: "store-test-nolog-" }); // mode 0700
    const lines: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => lines.push(args.join(" "));
    let store: Store | undefined;
    try {
      store = await openStore({ dataDir, port: freePort(), durable: false });
      console.error = original;
      const clusterDir = store.embedded!.clusterDir;
      assert(clusterDir.startsWith("/var/lib/backendai-deno/"), clusterDir);
      assert(
        lines.some((l) => l.includes(clusterDir)),
        `the fallback is announced on stderr: ${lines.join(" | ")}`,
      );
      assertEquals((await store.sql`select 1 as x`)[0].x, 1);
    } finally {
      console.error = original;
      const clusterDir = store?.embedded?.clusterDir;
      await store?.close();
      if (clusterDir) await Deno.remove(clusterDir, { recursive: true });
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test("embedded postgres: a taken port fails with the server's log", async () => {
  const dataDir = await tempDataDir();
  const port = freePort();
  const blocker = Deno.listen({ hostname: "127.0.0.1", port });
  try {
    const err = await assertRejects(
      () =>
        startEmbeddedPostgres({ dataDir, port, durable: false, log: quiet }),
      EmbeddedPostgresError,
    );
    assert(err.logTail.includes(String(port)), err.logTail);
  } finally {
    blocker.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("migrations: idempotent, serialised, too-new and changed checksums refused", async () => {
  const dataDir = await tempDataDir();
  const pg = await startEmbeddedPostgres({
    dataDir,
    port: freePort(),
    durable: false,
    log: quiet,
  });
  const admin = postgres(pg.url, { onnotice: quiet });
  const open = async (db: string) => {
    await admin.unsafe(`create database ${db}`);
    return postgres(pg.url.replace(/\/backendai$/, `/${db}`), {
      onnotice: quiet,
      max: 2,
    });
  };
  const dbs: postgres.Sql[] = [];
  try {
    const migrations = await loadMigrations();
    assert(migrations.length >= 1 && migrations[0].version === 1);

    // Two managers racing on a fresh database: exactly one applies.
    const a = await open("race_a");
    const b = postgres(pg.url.replace(/\/backendai$/, "/race_a"), {
      onnotice: quiet,
      max: 2,
    });
    dbs.push(a, b);
    const [ra, rb] = await Promise.all([
      migrate(a, migrations),
      migrate(b, migrations),
    ]);
    assertEquals(ra.applied.length + rb.applied.length, migrations.length);
    const again = await migrate(a, migrations);
    assertEquals(again.applied.length, 0);
    assertEquals(again.version, migrations.at(-1)!.version);
    const recorded =
      await a`select version, name, checksum from schema_migrations order by version`;
    assertEquals(
      recorded.map((r) => r.checksum),
      migrations.map((m) => m.checksum),
    );

    // A database from a newer manager.
    await a`insert into schema_migrations (version, name, checksum) values (9999, 'future', 'x')`;
    const tooNew = await assertRejects(
      () => migrate(a, migrations),
      SchemaTooNewError,
    );
    assertEquals(tooNew.databaseVersion, 9999);
    assert(tooNew.message.includes("newer"), tooNew.message);
    await a`delete from schema_migrations where version = 9999`;

    // An applied migration edited afterwards.
    await a`update schema_migrations set checksum = 'edited' where version = 1`;
    await assertRejects(() => migrate(a, migrations), MigrationChecksumError);
  } finally {
    for (const db of dbs) await db.end();
    await admin.end();
    await pg.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("store: repositories against a real database", async (t) => {
  const dataDir = await tempDataDir();
  const port = freePort();
  let store: Store = await openStore({
    dataDir,
    port,
    durable: false,
    log: quiet,
  });
  try {
    assertEquals(
      store.migration.applied.length,
      (await loadMigrations()).length,
    );
    await store.ensureDefaults();
    await store.ensureDefaults();
    const kp = await store.keypairs.create({ userId: "alice" });
    const other = await store.keypairs.create({
      userId: "bob",
      accessKey: "AKIATESTBOB000000000",
    });

    await t.step("keypairs and policies", async () => {
      assertEquals(kp.accessKey.length, 20);
      assertEquals(kp.secretKey.length, 40);
      assertEquals((await store.keypairs.get(kp.accessKey))?.userId, "alice");
      await assertRejects(
        () =>
          store.keypairs.create({ userId: "x", accessKey: other.accessKey }),
        AlreadyExistsError,
      );
      assertEquals(
        (await store.keypairs.setActive(kp.accessKey, false)).isActive,
        false,
      );
      assertEquals(
        (await store.keypairs.setActive(kp.accessKey, true)).isActive,
        true,
      );
      await assertRejects(
        () => store.keypairs.setActive("AKIANOSUCHKEY0000000", true),
        NotFoundError,
      );
      assertEquals((await store.keypairs.list()).length, 2);
      const p = await store.policies.upsert({
        name: "default",
        maxConcurrentSessions: 3,
        dailyCostLimit: 12.5,
      });
      assertEquals([p.maxConcurrentSessions, p.dailyCostLimit, p.idleTimeout], [
        3,
        12.5,
        1800,
      ]);
      const q = await store.policies.upsert({
        name: "default",
        totalResourceSlots: { cpu: 4, mem: 2 ** 33 },
      });
      assertEquals([
        q.maxConcurrentSessions,
        q.dailyCostLimit,
        q.totalResourceSlots.mem,
      ], [3, 12.5, 2 ** 33]);
      const sg = await store.scalingGroups.upsert({
        name: "gpu",
        scheduler: "drf",
      });
      assertEquals(sg.scheduler, "drf");
      assertEquals((await store.scalingGroups.list()).map((g) => g.name), [
        "default",
        "gpu",
      ]);
    });

    await t.step("agents", async () => {
      const a = await store.agents.upsert({
        id: "i-1",
        addr: "tcp://10.0.0.1:6001",
        resourceSlots: { cpu: 8 },
      });
      assertEquals([a.status, a.availableSlots.cpu, a.schedulable], [
        "ALIVE",
        8,
        true,
      ]);
      const lost = await store.agents.markLost("i-1");
      assert(lost?.status === "LOST" && lost.lostAt !== null);
      const back = await store.agents.upsert({
        id: "i-1",
        addr: "tcp://10.0.0.1:6001",
        resourceSlots: { cpu: 8 },
      });
      assertEquals([back.status, back.lostAt], ["ALIVE", null]);
      assertEquals(back.firstContact.getTime(), a.firstContact.getTime());
      assertEquals((await store.agents.list({ status: "ALIVE" })).length, 1);
    });

    await t.step(
      "transitions are persisted with events; illegal ones refused",
      async () => {
        const s = await store.sessions.insert({
          name: "nb1",
          accessKey: kp.accessKey,
          image: "python:3",
        });
        assertEquals(s.status, "PENDING");
        await assertRejects(
          () => store.sessions.transition(s.id, "RUNNING", "skip"),
          IllegalTransitionError,
        );
        await store.sessions.transition(s.id, "SCHEDULED", "placed", {
          agentId: "i-1",
          occupiedSlots: { cpu: 1 },
        });
        await store.sessions.transition(s.id, "PREPARING", null);
        const running = await store.sessions.transition(
          s.id,
          "RUNNING",
          "started",
        );
        assertEquals([
          running.agentId,
          running.occupiedSlots.cpu,
          running.statusInfo,
        ], ["i-1", 1, "started"]);
        await assertRejects(
          () => store.sessions.transition(s.id, "PENDING"),
          IllegalTransitionError,
        );
        await store.sessions.transition(s.id, "TERMINATING", "user-requested");
        const ended = await store.sessions.transition(
          s.id,
          "TERMINATED",
          "user-requested",
        );
        assert(ended.terminatedAt !== null);
        await assertRejects(
          () => store.sessions.transition(s.id, "RUNNING"),
          IllegalTransitionError,
        );
        await assertRejects(
          () => store.sessions.transition(crypto.randomUUID(), "RUNNING"),
          NotFoundError,
        );
        const events = await store.sessions.events(s.id);
        assertEquals(events.map((e) => e.status), [
          "PENDING",
          "SCHEDULED",
          "PREPARING",
          "RUNNING",
          "TERMINATING",
          "TERMINATED",
        ]);
        assertEquals(events[1].reason, "placed");
        assertEquals((await store.sessions.get(s.id))?.status, "TERMINATED");
      },
    );

    await t.step(
      "a name is unique among live sessions and reusable after the end",
      async () => {
        const first = await store.sessions.insert({
          name: "job",
          accessKey: kp.accessKey,
          image: "python:3",
        });
        const conflict = await assertRejects(
          () =>
            store.sessions.insert({
              name: "job",
              accessKey: kp.accessKey,
              image: "python:3",
            }),
          SessionNameConflictError,
        );
        assertEquals(conflict.existingSessionId, first.id);
        // Another keypair may use the same name.
        await store.sessions.insert({
          name: "job",
          accessKey: other.accessKey,
          image: "python:3",
        });
        await store.sessions.transition(
          first.id,
          "CANCELLED",
          "user-requested",
        );
        const second = await store.sessions.insert({
          name: "job",
          accessKey: kp.accessKey,
          image: "python:3",
        });
        assert(second.id !== first.id);
        await store.sessions.transition(second.id, "ERROR", "boom");
        await store.sessions.insert({
          name: "job",
          accessKey: kp.accessKey,
          image: "python:3",
        });
      },
    );

    await t.step(
      "findByRef: exact name, id prefix, name prefix; live only unless asked",
      async () => {
        const ak = other.accessKey;
        const alpha = await store.sessions.insert({
          name: "alpha-1",
          accessKey: ak,
          image: "python:3",
        });
        await store.sessions.insert({
          name: "alpha-12",
          accessKey: ak,
          image: "python:3",
        });
        const find = (ref: string, includeEnded = false) =>
          store.sessions.findByRef(ak, ref, { includeEnded }).then((r) =>
            r.map((s) => s.name).sort()
          );
        assertEquals(await find("alpha-1"), ["alpha-1"]); // exact name wins over the prefix match
        assertEquals(await find("alpha"), ["alpha-1", "alpha-12"]); // ambiguous: caller says too many matched
        assertEquals(await find(alpha.id.slice(0, 8)), ["alpha-1"]);
        assertEquals(await find(alpha.id.slice(0, 8).toUpperCase()), [
          "alpha-1",
        ]);
        assertEquals(await find(alpha.id), ["alpha-1"]);
        assertEquals(await find("alp%"), []); // wildcards are literal
        assertEquals(
          await store.sessions.findByRef(kp.accessKey, "alpha-1"),
          [],
        ); // other keypair's sessions
        await store.sessions.transition(
          alpha.id,
          "CANCELLED",
          "user-requested",
        );
        assertEquals(await find("alpha-1"), ["alpha-12"]); // the ended exact match is gone; the prefix remains
        assertEquals(await find("alpha-1", true), ["alpha-1"]);
        assertEquals(await find(alpha.id), []);
        assertEquals(await find(alpha.id, true), ["alpha-1"]);
      },
    );

    await t.step("lists, kernels, usage, vfolders", async () => {
      const live = await store.sessions.listLive({
        accessKey: other.accessKey,
      });
      assertEquals(live.map((s) => s.name).sort(), ["alpha-12", "job"]);
      const page = await store.sessions.list({
        filters: { accessKey: kp.accessKey },
        limit: 2,
      });
      assertEquals([page.items.length, page.total], [2, 4]);
      const cancelled = await store.sessions.list({
        filters: { status: ["CANCELLED"] },
      });
      assertEquals(cancelled.total, 2);

      const s = live[0];
      const k = await store.kernels.insert({ sessionId: s.id, image: s.image });
      const k2 = await store.kernels.update(k.id, {
        status: "RUNNING",
        containerId: "abc",
        agentId: "i-1",
      });
      assertEquals([k2?.status, k2?.containerId], ["RUNNING", "abc"]);
      assertEquals((await store.kernels.listBySession(s.id)).length, 1);
      assertEquals((await store.kernels.listLiveOnAgent("i-1")).length, 1);

      const day = new Date("2026-03-01T00:00:00Z");
      const rec = (hours: number, cost: number) =>
        store.usage.record({
          kernelId: k.id,
          sessionId: s.id,
          accessKey: other.accessKey,
          cpuMs: 1000,
          memKibMs: 2 ** 40,
          startedAt: new Date(day.getTime() + (hours - 1) * 3.6e6),
          endedAt: new Date(day.getTime() + hours * 3.6e6),
          cost,
        });
      await rec(1, 0.25);
      await rec(23.5, 0.5);
      await rec(24.5, 4); // the next day
      const sum = await store.usage.sumForDay(other.accessKey, "2026-03-01");
      assertEquals([sum.records, sum.cpuMs, sum.cost, sum.memKibMs], [
        2,
        2000,
        0.75,
        2 ** 41,
      ]);
      assertEquals(
        (await store.usage.sumForDay(other.accessKey, day)).cost,
        0.75,
      );
      assertEquals((await store.usage.sumForDay(kp.accessKey, day)).records, 0);
    });

    await t.step(
      "a transition through a step records both, in order, in one write",
      async () => {
        const s = await store.sessions.insert({
          name: "via1",
          accessKey: kp.accessKey,
          image: "python:3",
        });
        await assertRejects(
          () =>
            store.sessions.transition(s.id, "RUNNING", "go", {}, {
              status: "SCHEDULED",
              reason: "placed",
            }),
          IllegalTransitionError, // SCHEDULED cannot go straight to RUNNING
        );
        const moved = await store.sessions.transition(
          s.id,
          "PREPARING",
          "creating kernel",
          { agentId: "i-1" },
          { status: "SCHEDULED", reason: "placed" },
        );
        assertEquals([moved.status, moved.agentId], ["PREPARING", "i-1"]);
        const events = await store.sessions.events(s.id);
        assertEquals(
          events.map((e) => [e.status, e.reason]),
          [
            ["PENDING", null],
            ["SCHEDULED", "placed"],
            ["PREPARING", "creating kernel"],
          ].map(([st, r]) => [st, r ?? events[0].reason]),
        );
        await assertRejects(
          () =>
            store.sessions.transition(s.id, "PREPARING", "again", {}, {
              status: "SCHEDULED",
              reason: "placed",
            }),
          IllegalTransitionError, // PREPARING cannot step back through SCHEDULED
        );
      },
    );

    await t.step(
      "reopening applies no migration and keeps the data",
      async () => {
        await store.close();
        store = await openStore({ dataDir, port, durable: false, log: quiet });
        assertEquals(store.migration.applied.length, 0);
        assertEquals(
          (await store.keypairs.get(kp.accessKey))?.secretKey,
          kp.secretKey,
        );
      },
    );
  } finally {
    await store.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
