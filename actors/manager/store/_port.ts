/**
 * The embedded server's port when none is configured: one per data dir,
 * picked free on first start and recorded in `<dataDir>/postgres.port`, so
 * two managers on one host (two `deno task start` clusters) never collide
 * on a fixed default, and a restart finds its server where it left it. A
 * recorded port that something else took meanwhile is replaced by a free
 * one (and the record updated). Internal to embedded.ts.
 *
 * @module
 */
import { join } from "./_path.ts";

/** Whether `port` on 127.0.0.1 can be bound now. */
export function portFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** A port the kernel hands out as free on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** The data dir's recorded port (free now), or a new free one, recorded. */
export async function dataDirPort(
  dataDir: string,
  log: (line: string) => void,
): Promise<number> {
  const file = join(dataDir, "postgres.port");
  let recorded: number | undefined;
  try {
    const n = Number((await Deno.readTextFile(file)).trim());
    if (Number.isInteger(n) && n > 0 && n < 65536) recorded = n;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (recorded !== undefined && portFree(recorded)) return recorded;
  const port = freePort();
  if (recorded !== undefined) {
    log(
      `embedded postgres: recorded port ${recorded} is taken by another process; using ${port}`,
    );
  }
  await Deno.writeTextFile(file, `${port}\n`);
  return port;
}
