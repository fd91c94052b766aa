/**
 * Syscalls per request, by process and by name, with `perf trace -s`
 * (Linux perf; the tracepoints need root or a low perf_event_paranoid), for
 * profiling benchmarks (exec_profile.ts). `/proc/PID/io` counts only
 * read(2)/write(2)-family calls, not the sendmsg/recvfrom/epoll_wait/futex
 * a Deno or Go process makes, hence perf.
 *
 * perf attaches to running processes with no signal that it is ready, and
 * the processes have their own background work (heartbeats, timers): a
 * trace of the same processes doing nothing, as long as the setup margin,
 * is subtracted.
 *
 * @module
 */

/** A set of processes traced together. */
export interface TraceGroup {
  name: string;
  pids: number[];
}

/** Syscall name → calls, per group. */
export type SyscallCounts = Map<string, Map<string, number>>;

/** Whether `perf trace` can run here. */
export async function perfAvailable(): Promise<boolean> {
  try {
    const out = await new Deno.Command("perf", {
      args: ["trace", "-s", "--", "true"],
      stdout: "null",
      stderr: "piped",
    }).output();
    return out.success &&
      new TextDecoder().decode(out.stderr).includes("syscall");
  } catch {
    return false;
  }
}

/** Parses `perf trace -s` summaries: every thread's table, summed by syscall. */
export function parseSummary(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^\s+([a-z_0-9]+)\s+(\d+)\s+(\d+)\s+[\d.]+/.exec(line);
    if (!m || m[1] === "syscall") continue;
    out.set(m[1], (out.get(m[1]) ?? 0) + Number(m[2]));
  }
  return out;
}

/** How long perf gets to attach (to every thread of dockerd, say) before the work starts. */
const SETTLE_MS = 3000;

async function traceOnce(
  groups: TraceGroup[],
  work: () => Promise<void>,
): Promise<{ counts: SyscallCounts; marginMs: number }> {
  const t0 = performance.now();
  const procs = groups.filter((g) => g.pids.length).map((g) => ({
    g,
    p: new Deno.Command("perf", {
      args: ["trace", "-s", "-p", g.pids.join(",")],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn(),
  }));
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const w0 = performance.now();
  await work();
  const workMs = performance.now() - w0;
  for (const { p } of procs) {
    try {
      p.kill("SIGINT");
    } catch { /* it ended on its own: its output says why */ }
  }
  const counts: SyscallCounts = new Map();
  for (const { g, p } of procs) {
    const text = new TextDecoder().decode((await p.output()).stderr);
    if (!text.includes("Summary of events")) {
      console.error(`perf trace ${g.name}: no summary: ${text.slice(0, 300)}`);
    }
    counts.set(g.name, parseSummary(text));
  }
  return { counts, marginMs: performance.now() - t0 - workMs };
}

/**
 * Syscalls each group made while `work` ran, background subtracted (a
 * trace of an idle period as long as the setup margin). Counts are totals.
 */
export async function traceSyscalls(
  groups: TraceGroup[],
  work: () => Promise<void>,
): Promise<SyscallCounts> {
  const busy = await traceOnce(groups, work);
  const idle = await traceOnce(groups, async () => {});
  const scale = busy.marginMs / Math.max(1, idle.marginMs);
  const out: SyscallCounts = new Map();
  for (const [g, calls] of busy.counts) {
    const bg = idle.counts.get(g) ?? new Map();
    const m = new Map<string, number>();
    for (const [name, n] of calls) {
      m.set(name, Math.max(0, n - (bg.get(name) ?? 0) * scale));
    }
    out.set(g, m);
  }
  return out;
}
