/**
 * Shared parts of the scale benchmarks (density, create rate): a keypair
 * whose policy lets a benchmark hold thousands of sessions, host memory
 * figures from /proc, and bounded concurrency.
 *
 * @module
 */
import type { TestCluster } from "../support/cluster.ts";
import type { Keypair } from "./_signed_http.ts";

/** A keypair on a policy without session, slot, idle or lifetime limits. */
export async function unlimitedKeypair(c: TestCluster): Promise<Keypair> {
  await c.json("PUT", "/x/admin/resource-policies/bench-unlimited", {
    maxConcurrentSessions: 1_000_000,
    idleTimeout: 0,
    maxSessionLifetime: 0,
  });
  return await c.newKeypair({
    resourcePolicy: "bench-unlimited",
    rateLimit: 1_000_000_000,
  });
}

/** `MemAvailable` of the host, bytes. */
export async function memAvailable(): Promise<number> {
  const m = /MemAvailable:\s+(\d+) kB/.exec(
    await Deno.readTextFile("/proc/meminfo"),
  );
  return m ? Number(m[1]) * 1024 : 0;
}

/** Resident set (bytes) of a process, or 0 when it is gone. */
export async function rss(pid: number): Promise<number> {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(
      await Deno.readTextFile(`/proc/${pid}/status`),
    );
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Proportional set (bytes) of a process (shared pages split among sharers). */
export async function pss(pid: number): Promise<number> {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(
      await Deno.readTextFile(`/proc/${pid}/smaps_rollup`),
    );
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Pid of the first process whose command name is `name`. */
export async function pidOf(name: string): Promise<number | undefined> {
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const comm = (await Deno.readTextFile(`/proc/${e.name}/comm`)).trim();
      if (comm === name) return Number(e.name);
    } catch { /* gone */ }
  }
  return undefined;
}

/** The containerd shims serving `containerIds` (their `-id` argument). */
export async function shimsOf(containerIds: Set<string>): Promise<number[]> {
  const out: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const argv = (await Deno.readTextFile(`/proc/${e.name}/cmdline`)).split(
        "\0",
      );
      if (!argv[0]?.includes("containerd-shim")) continue;
      const id = argv[argv.indexOf("-id") + 1];
      if (id && containerIds.has(id)) out.push(Number(e.name));
    } catch { /* gone */ }
  }
  return out;
}

/** Full ids of the running containers labelled with an agent id. */
export async function agentContainers(agentId: string): Promise<string[]> {
  const out = await new Deno.Command("docker", {
    args: [
      "ps",
      "-q",
      "--no-trunc",
      "--filter",
      `label=ai.backend.agent-id=${agentId}`,
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean);
}

/** A container's cgroup v1 memory use (bytes), 0 when unreadable. */
export async function cgroupBytes(id: string): Promise<number> {
  try {
    return Number(
      (await Deno.readTextFile(
        `/sys/fs/cgroup/memory/docker/${id}/memory.usage_in_bytes`,
      )).trim(),
    );
  } catch {
    return 0;
  }
}

/** Runs `fn` over `items`, at most `limit` at a time. */
export async function pooled<T, R>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

/** The `p` quantile (0..1) of `xs`. */
export function quantile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}
