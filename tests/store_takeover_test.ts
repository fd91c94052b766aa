/**
 * The embedded Postgres after its manager died, and side by side with a
 * neighbour's (issue 18 "Restarts and neighbours"), against the real
 * packaged server:
 *
 * - a manager killed with -9 is replaced at once: the new start stops the
 *   dead manager's postmaster (still shutting down, or orphaned for good)
 *   instead of failing on "Address already in use";
 * - each data dir gets its own port by default, recorded and reused;
 * - driver failures are classified (bad value, server away) for the API.
 */
import postgres from "postgres";
import {
  driverFailure,
  startEmbeddedPostgres,
} from "../actors/manager/store/mod.ts";
import { takeOverCluster } from "../actors/manager/store/_orphans.ts";
import { processExists as alive } from "../actors/manager/store/_os.ts";
import { assert, assertEquals } from "../actors/manager/store/_testing.ts";

const quiet = () => {};
const OWNER = new URL("./fixtures/embedded_pg_owner.ts", import.meta.url)
  .pathname;

async function tempDataDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "takeover-test-" });
  await Deno.chmod(dir, 0o755);
  return dir;
}

/** Starts the stand-in manager; resolves with it once its server is ready. */
async function startOwner(dataDir: string) {
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", OWNER, dataDir],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`owner exited: ${text}`);
    text += value;
  }
  reader.releaseLock();
  const [, port, pid] = text.trim().split(" ");
  return { proc, port: Number(port), postmaster: Number(pid) };
}

Deno.test({
  name:
    "embedded postgres: kill -9 of its manager, then a new start at once takes over (same port, data kept)",
  sanitizeResources: false,
  async fn() {
    const dataDir = await tempDataDir();
    try {
      const owner = await startOwner(dataDir);
      owner.proc.kill("SIGKILL");
      await owner.proc.status;
      // No pause: the dead manager's postmaster may still be running.
      const t0 = performance.now();
      const pg = await startEmbeddedPostgres({
        dataDir,
        durable: false,
        log: quiet,
      });
      try {
        console.log(
          `takeover: new server ready ${
            (performance.now() - t0).toFixed(0)
          } ms after the kill`,
        );
        assertEquals(pg.port, owner.port);
        assert(
          !alive(owner.postmaster) || owner.postmaster === pg.pid,
          `the dead manager's postmaster ${owner.postmaster} still runs beside ${pg.pid}`,
        );
        const sql = postgres(pg.url, { onnotice: quiet });
        assertEquals((await sql`select v from kept`).map((r) => r.v), [
          "before the kill",
        ]);
        await sql.end();
      } finally {
        await pg.stop();
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "embedded postgres: an orphaned postmaster that ignores shutdown requests is stopped (escalating to SIGKILL)",
  sanitizeResources: false,
  async fn() {
    const dataDir = await tempDataDir();
    try {
      const owner = await startOwner(dataDir);
      // Stopped, it cannot act on the manager's death signal or on SIGINT:
      // an orphan that stays up, as one without a death signal would.
      Deno.kill(owner.postmaster, "SIGSTOP");
      owner.proc.kill("SIGKILL");
      await owner.proc.status;
      assert(alive(owner.postmaster), "the orphan is still there");
      const lines: string[] = [];
      await takeOverCluster(`${dataDir}/postgres`, dataDir, {
        log: (l) => lines.push(l),
        graceMs: [300, 300, 5000],
      });
      assert(!alive(owner.postmaster), "the orphan was stopped");
      assert(
        lines.some((l) => l.includes("stopping orphaned postmaster")),
        lines.join("\n"),
      );
      const pg = await startEmbeddedPostgres({
        dataDir,
        durable: false,
        log: quiet,
      });
      try {
        const sql = postgres(pg.url, { onnotice: quiet });
        assertEquals((await sql`select count(*)::int as n from kept`)[0].n, 1);
        await sql.end();
      } finally {
        await pg.stop();
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test("embedded postgres: each data dir its own port, recorded; a taken one is replaced", async () => {
  const a = await tempDataDir();
  const b = await tempDataDir();
  try {
    const pa = await startEmbeddedPostgres({
      dataDir: a,
      durable: false,
      log: quiet,
    });
    const pb = await startEmbeddedPostgres({
      dataDir: b,
      durable: false,
      log: quiet,
    });
    try {
      assert(pa.port !== pb.port, `${pa.port} vs ${pb.port}`);
      assertEquals(
        Number((await Deno.readTextFile(`${a}/postgres.port`)).trim()),
        pa.port,
      );
    } finally {
      await pa.stop();
      await pb.stop();
    }
    // Restarted: the same port again.
    const again = await startEmbeddedPostgres({
      dataDir: a,
      durable: false,
      log: quiet,
    });
    const port = again.port;
    await again.stop();
    assertEquals(port, pa.port);
    // Someone else took it meanwhile: another free one, and the record follows.
    const blocker = Deno.listen({ hostname: "127.0.0.1", port });
    const lines: string[] = [];
    const moved = await startEmbeddedPostgres({
      dataDir: a,
      durable: false,
      log: (l) => lines.push(l),
    });
    try {
      assert(moved.port !== port);
      assert(
        lines.some((l) => l.includes(`recorded port ${port} is taken`)),
        lines.join("\n"),
      );
      assertEquals(
        Number((await Deno.readTextFile(`${a}/postgres.port`)).trim()),
        moved.port,
      );
    } finally {
      blocker.close();
      await moved.stop();
    }
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});

Deno.test("store failures: NUL and out-of-range values are invalid input, a stopped server is unavailable", async () => {
  const dataDir = await tempDataDir();
  const pg = await startEmbeddedPostgres({
    dataDir,
    durable: false,
    log: quiet,
  });
  const sql = postgres(pg.url, { onnotice: quiet, connect_timeout: 2 });
  try {
    await sql`create table t (s text, n int, j jsonb)`;
    const failure = async (q: () => Promise<unknown>) => {
      try {
        await q();
      } catch (e) {
        return driverFailure(e);
      }
      return "no error";
    };
    assertEquals(
      await failure(() => sql`insert into t (s) values (${"a\u0000b"})`),
      "invalid-input",
    );
    assertEquals(
      await failure(() =>
        sql`insert into t (j) values (${
          JSON.stringify({ a: "\u0000" })
        }::text::jsonb)`
      ),
      "invalid-input",
    );
    assertEquals(
      await failure(() => sql`insert into t (n) values (${1e12})`),
      "invalid-input",
    );
    assertEquals(driverFailure(new Error("a bug")), undefined);
    await pg.stop();
    assertEquals(await failure(() => sql`select 1`), "unavailable");
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
    await pg.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("embedded postgres: a zombie is no running process (an orphan's may wait long for its reaper)", async () => {
  // The parent never waits: its child stays a zombie while it sleeps.
  const parent = new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      "import os, time\npid = os.fork()\nif pid == 0: os._exit(0)\nprint(pid, flush=True)\ntime.sleep(30)",
    ],
    stdout: "piped",
  }).spawn();
  const reader = parent.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  const zombie = Number((await reader.read()).value);
  reader.releaseLock();
  try {
    assert(await Deno.stat(`/proc/${zombie}`).then(() => true), "in /proc");
    let state = "";
    for (let i = 0; i < 100 && state !== "Z"; i++) {
      const stat = await Deno.readTextFile(`/proc/${zombie}/stat`);
      state = stat[stat.lastIndexOf(")") + 2];
      if (state !== "Z") await new Promise((r) => setTimeout(r, 10));
    }
    assertEquals(state, "Z");
    assertEquals(alive(zombie), false);
    assertEquals(alive(parent.pid), true);
  } finally {
    parent.kill("SIGKILL");
    await parent.status;
    await parent.stdout.cancel().catch(() => {});
  }
});
