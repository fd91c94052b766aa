/**
 * Per-kernel usage from cgroup v1 files (the engine here uses the cgroupfs
 * driver, so a container's cgroups are `<root>/<controller>/docker/<id>/`).
 * Reading four small files costs far less than an Engine stats call; the
 * Engine's one-shot stats are parsed too, as a fallback for other hosts.
 * The parse functions are pure and unit-tested.
 */

/** One usage sample of a kernel. */
export interface UsageSample {
  /** Total CPU time (user+system) in ms. */
  cpuMs: number;
  /** Memory in use now, KiB. */
  memKiB: number;
  /** Highest memory use seen by the cgroup, KiB. */
  memPeakKiB: number;
  ioReadBytes: number;
  ioWriteBytes: number;
}

/** `cpuacct.usage` (ns) → ms. */
export function parseCpuacctUsage(text: string): number {
  const ns = Number(text.trim());
  if (!Number.isFinite(ns)) throw new Error(`bad cpuacct.usage: ${text}`);
  return ns / 1e6;
}

/** A bytes counter file (`memory.usage_in_bytes`, ...) → KiB. */
export function parseBytesToKiB(text: string): number {
  const b = Number(text.trim());
  if (!Number.isFinite(b)) throw new Error(`bad byte counter: ${text}`);
  return Math.round(b / 1024);
}

/**
 * `blkio.throttle.io_service_bytes` lines `MAJ:MIN Op N` (plus `Total N`)
 * → read and write bytes summed over devices.
 */
export function parseBlkioServiceBytes(
  text: string,
): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of text.split("\n")) {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 3) continue;
    const n = Number(parts[2]);
    if (!Number.isFinite(n)) continue;
    if (parts[1] === "Read") read += n;
    else if (parts[1] === "Write") write += n;
  }
  return { read, write };
}

/** The Engine's `GET /containers/{id}/stats?stream=false` body → a sample. */
export function parseEngineStats(stats: Record<string, unknown>): UsageSample {
  // deno-lint-ignore no-explicit-any
  const s = stats as any;
  const cpuNs = Number(s?.cpu_stats?.cpu_usage?.total_usage ?? 0);
  const mem = Number(s?.memory_stats?.usage ?? 0);
  const peak = Number(s?.memory_stats?.max_usage ?? mem);
  let read = 0;
  let write = 0;
  for (
    const e of (s?.blkio_stats?.io_service_bytes_recursive ?? []) as {
      op: string;
      value: number;
    }[]
  ) {
    if (/^read$/i.test(e.op)) read += e.value;
    else if (/^write$/i.test(e.op)) write += e.value;
  }
  return {
    cpuMs: cpuNs / 1e6,
    memKiB: Math.round(mem / 1024),
    memPeakKiB: Math.round(peak / 1024),
    ioReadBytes: read,
    ioWriteBytes: write,
  };
}

/** A container's cgroup v1 dir of `controller`: `<root>/<controller>/<parent>/<id>`. */
export function containerCgroupDir(
  containerId: string,
  controller: string,
  root = "/sys/fs/cgroup",
  parent = "docker",
): string {
  return `${root}/${controller}/${parent}/${containerId}`;
}

/** Where a container's cgroup v1 files are. */
export function cgroupPaths(
  containerId: string,
  root = "/sys/fs/cgroup",
  parent = "docker",
) {
  const dir = (c: string) => containerCgroupDir(containerId, c, root, parent);
  return {
    cpu: `${dir("cpuacct")}/cpuacct.usage`,
    mem: `${dir("memory")}/memory.usage_in_bytes`,
    memPeak: `${dir("memory")}/memory.max_usage_in_bytes`,
    blkio: `${dir("blkio")}/blkio.throttle.io_service_bytes`,
  };
}

/**
 * Zeroes the counters a sample reads (CPU time, memory peak, block I/O),
 * so a container reused for another session (pool/recycle.ts) meters that
 * session from zero. Throws where they cannot be written (not root, not
 * cgroup v1): the container must then not be reused.
 */
export async function resetUsageCounters(
  containerId: string,
  root?: string,
): Promise<void> {
  const p = cgroupPaths(containerId, root);
  await Promise.all([
    Deno.writeTextFile(p.cpu, "0"),
    Deno.writeTextFile(p.memPeak, "0"),
    Deno.writeTextFile(
      `${containerCgroupDir(containerId, "blkio", root)}/blkio.reset_stats`,
      "1",
    ),
  ]);
}

/**
 * Reads a sample from cgroup files; null when the cgroup is gone (the
 * container stopped: cgroupfs removes it at exit, so take the last sample
 * before killing).
 */
export async function readCgroupSample(
  containerId: string,
  root?: string,
): Promise<UsageSample | null> {
  const p = cgroupPaths(containerId, root);
  try {
    const [cpu, mem, peak, blkio] = await Promise.all([
      Deno.readTextFile(p.cpu),
      Deno.readTextFile(p.mem),
      Deno.readTextFile(p.memPeak),
      Deno.readTextFile(p.blkio),
    ]);
    const io = parseBlkioServiceBytes(blkio);
    return {
      cpuMs: parseCpuacctUsage(cpu),
      memKiB: parseBytesToKiB(mem),
      memPeakKiB: parseBytesToKiB(peak),
      ioReadBytes: io.read,
      ioWriteBytes: io.write,
    };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Folds a new sample into the running totals (counters are monotonic; peak is max). */
export function mergeSample(
  prev: UsageSample | null,
  next: UsageSample,
): UsageSample {
  if (!prev) return next;
  return {
    cpuMs: Math.max(prev.cpuMs, next.cpuMs),
    memKiB: next.memKiB,
    memPeakKiB: Math.max(prev.memPeakKiB, next.memPeakKiB, next.memKiB),
    ioReadBytes: Math.max(prev.ioReadBytes, next.ioReadBytes),
    ioWriteBytes: Math.max(prev.ioWriteBytes, next.ioWriteBytes),
  };
}
