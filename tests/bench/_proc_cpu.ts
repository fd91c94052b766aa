/**
 * CPU consumed by the processes on a request's path, read from Linux's own
 * accounting, for profiling benchmarks (exec_profile.ts):
 *
 * - a process: the growth, thread by thread, of `/proc/PID/task/TID/schedstat`'s
 *   first field (ns on a CPU, precise; `/proc/PID/schedstat` alone is the
 *   main thread only); `/proc/PID/stat` utime+stime (10 ms ticks, dead
 *   threads included) is kept beside it as a check and for the user/system
 *   split, and schedstat's third field counts how often a thread ran;
 * - a container: its cgroup's CPU counter (cgroup v1 `cpuacct.usage`, ns,
 *   or v2 `cpu.stat` usage_usec);
 * - the whole machine: `/proc/stat` busy ticks, so that other people's load
 *   on the same cores shows up next to the figures instead of inside them.
 *
 * @module
 */

const CLK_TCK_NS = 1e9 / 100; // getconf CLK_TCK is 100 on Linux/x86_64

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/**
 * ns on a CPU by thread (`PID/TID`) of `pid`'s live threads, into `out`.
 * By thread, so that a thread exiting between two reads (Deno's blocking
 * pool lets idle threads go) drops out instead of making the sum fall.
 */
export function threadsCpu(
  pid: number,
  out: Map<string, number> = new Map(),
): Map<string, number> {
  try {
    for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
      const s = readText(`/proc/${pid}/task/${t.name}/schedstat`);
      if (s) out.set(`${pid}/${t.name}`, Number(s.split(" ")[0]));
    }
  } catch { /* gone */ }
  return out;
}

/** utime+stime of `pid` in ns (10 ms resolution; exited threads counted). */
export function ticksCpuNs(pid: number): number {
  const s = readText(`/proc/${pid}/stat`);
  if (!s) return 0;
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  // Fields after the name: state is f[0], utime the 14th field of the line.
  return (Number(f[11]) + Number(f[12])) * CLK_TCK_NS;
}

/**
 * Counters of `pid` beside its CPU: how often it ran, and the user/system
 * split. (Syscalls: _perf_trace.ts; `/proc/PID/io` counts only the
 * read/write family, not the sendmsg/recvfrom a Deno process uses.)
 */
export interface Activity {
  /** User and system CPU, ns (10 ms ticks: a split, not a total). */
  userNs: number;
  sysNs: number;
  /** Times a thread was put on a CPU (schedstat's third field): wake-ups. */
  runs: number;
}

/**
 * {@link Activity} counters of `pid` into `out`, by counter: `user/PID`,
 * `sys/PID` (the process's, dead threads included) and `runs/PID/TID` (by
 * thread, so a thread that exits drops out instead of making a sum fall).
 */
export function activityCounters(
  pid: number,
  out: Map<string, number> = new Map(),
): Map<string, number> {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return out;
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  out.set(`user/${pid}`, Number(f[11]) * CLK_TCK_NS);
  out.set(`sys/${pid}`, Number(f[12]) * CLK_TCK_NS);
  try {
    for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
      const s = readText(`/proc/${pid}/task/${t.name}/schedstat`);
      if (s) out.set(`runs/${pid}/${t.name}`, Number(s.split(" ")[2]));
    }
  } catch { /* gone */ }
  return out;
}

/** Field-wise sum of activities. */
export function addActivity(a: Activity, b: Activity): Activity {
  return {
    userNs: a.userNs + b.userNs,
    sysNs: a.sysNs + b.sysNs,
    runs: a.runs + b.runs,
  };
}

/** Pid → parent pid, command name, of every process now. */
export function processTable(): Map<number, { ppid: number; comm: string }> {
  const out = new Map<number, { ppid: number; comm: string }>();
  for (const e of Deno.readDirSync("/proc")) {
    const pid = Number(e.name);
    if (!Number.isInteger(pid)) continue;
    const s = readText(`/proc/${pid}/stat`);
    if (!s) continue;
    const comm = s.slice(s.indexOf("(") + 1, s.lastIndexOf(")"));
    const ppid = Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[1]);
    out.set(pid, { ppid, comm });
  }
  return out;
}

/** Every descendant of `root` (not itself). */
export function descendants(root: number): number[] {
  const table = processTable();
  const kids = new Map<number, number[]>();
  for (const [pid, { ppid }] of table) {
    kids.set(ppid, [...(kids.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const todo = [...(kids.get(root) ?? [])];
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(kids.get(p) ?? []));
  }
  return out;
}

/** Pids whose command name is one of `names`. */
export function pidsNamed(...names: string[]): number[] {
  return [...processTable()].filter(([, p]) => names.includes(p.comm))
    .map(([pid]) => pid);
}

/** The cgroup CPU counter of a Docker container (ns), or undefined if none is found. */
export function containerCpuReader(
  fullId: string,
): (() => number) | undefined {
  const v1 = [
    `/sys/fs/cgroup/cpuacct/docker/${fullId}/cpuacct.usage`,
    `/sys/fs/cgroup/cpu,cpuacct/docker/${fullId}/cpuacct.usage`,
    `/sys/fs/cgroup/cpuacct/system.slice/docker-${fullId}.scope/cpuacct.usage`,
  ];
  for (const p of v1) {
    if (readText(p) !== undefined) return () => Number(readText(p) ?? 0);
  }
  const v2 = [
    `/sys/fs/cgroup/system.slice/docker-${fullId}.scope/cpu.stat`,
    `/sys/fs/cgroup/docker/${fullId}/cpu.stat`,
    `/sys/fs/cgroup/unified/docker/${fullId}/cpu.stat`,
  ];
  for (const p of v2) {
    const text = readText(p);
    if (text?.includes("usage_usec")) {
      return () => {
        const m = /usage_usec (\d+)/.exec(readText(p) ?? "");
        return m ? Number(m[1]) * 1000 : 0;
      };
    }
  }
  return undefined;
}

/** Busy CPU of the whole machine, all cores, ns (10 ms ticks). */
export function machineBusyNs(): number {
  const line = (readText("/proc/stat") ?? "").split("\n")[0];
  const [, user, nice, system, _idle, _iowait, irq, softirq, steal] = line
    .trim().split(/\s+/).map(Number);
  return (user + nice + system + irq + softirq + steal) * CLK_TCK_NS;
}

/** A named set of processes (or a cgroup) whose CPU can be read. */
export interface CpuSource {
  name: string;
  /** Re-lists what is read (processes come and go); called before a measurement, not timed. */
  refresh?(): void;
  /**
   * ns of CPU so far, by counter (a thread, a cgroup): take differences
   * counter by counter. Cheap: a few small reads.
   */
  read(): Map<string, number>;
  /** The same from tick accounting, where there is one (a cross-check). */
  readTicks?(): number;
  /** {@link activityCounters}, where there are processes. */
  readActivity?(): Map<string, number>;
}

/** A source summing the threads of the processes `pids()` lists at each refresh. */
export function processSource(
  name: string,
  pids: () => number[],
): CpuSource {
  let now = pids();
  return {
    name,
    refresh: () => {
      now = pids();
    },
    read: () => {
      const out = new Map<string, number>();
      for (const p of now) threadsCpu(p, out);
      return out;
    },
    readTicks: () => now.reduce((s, p) => s + ticksCpuNs(p), 0),
    readActivity: () => {
      const out = new Map<string, number>();
      for (const p of now) activityCounters(p, out);
      return out;
    },
  };
}

/** Pids of the processes in a Docker container's cgroup (host pids). */
export function containerPids(fullId: string): number[] {
  for (
    const f of [
      `/sys/fs/cgroup/cpuacct/docker/${fullId}/cgroup.procs`,
      `/sys/fs/cgroup/cpu,cpuacct/docker/${fullId}/cgroup.procs`,
      `/sys/fs/cgroup/system.slice/docker-${fullId}.scope/cgroup.procs`,
      `/sys/fs/cgroup/docker/${fullId}/cgroup.procs`,
    ]
  ) {
    const t = readText(f);
    if (t !== undefined) return t.split("\n").filter(Boolean).map(Number);
  }
  return [];
}

/**
 * A container: CPU from its cgroup counter, activity from the threads its
 * cgroup lists (`tasks`; they are host thread ids).
 */
export function containerSource(
  name: string,
  fullId: string,
): CpuSource | undefined {
  const cpu = containerCpuReader(fullId);
  if (!cpu) return undefined;
  const tasksFiles = [
    `/sys/fs/cgroup/cpuacct/docker/${fullId}/tasks`,
    `/sys/fs/cgroup/cpu,cpuacct/docker/${fullId}/tasks`,
    `/sys/fs/cgroup/system.slice/docker-${fullId}.scope/cgroup.threads`,
    `/sys/fs/cgroup/docker/${fullId}/cgroup.threads`,
  ];
  const tids = () => {
    for (const f of tasksFiles) {
      const t = readText(f);
      if (t !== undefined) return t.split("\n").filter(Boolean).map(Number);
    }
    return [];
  };
  let now = tids();
  return {
    name,
    refresh: () => {
      now = tids();
    },
    read: () => new Map([["cgroup", cpu()]]),
    // A thread's /proc/TID/stat is its own: the counters by thread.
    readActivity: () => {
      const out = new Map<string, number>();
      for (const t of now) {
        const stat = readText(`/proc/${t}/stat`);
        if (!stat) continue;
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        out.set(`user/${t}`, Number(f[11]) * CLK_TCK_NS);
        out.set(`sys/${t}`, Number(f[12]) * CLK_TCK_NS);
        const sched = readText(`/proc/${t}/schedstat`) ?? "0 0 0";
        out.set(`runs/${t}`, Number(sched.split(" ")[2]));
      }
      return out;
    },
  };
}

/** Σ of each counter's growth; a counter that appeared counts whole, one gone counts 0. */
function counterDelta(
  before: Map<string, number>,
  after: Map<string, number>,
): number {
  let sum = 0;
  for (const [k, v] of after) sum += Math.max(0, v - (before.get(k) ?? 0));
  return sum;
}

/** CPU of each source consumed while `work` ran, ns, and the wall time, ms. */
export async function measureCpu(
  sources: CpuSource[],
  work: () => Promise<void>,
): Promise<{
  wallMs: number;
  ns: Map<string, number>;
  ticksNs: Map<string, number>;
  activity: Map<string, Activity>;
}> {
  for (const s of sources) s.refresh?.();
  const actBefore = sources.map((s) => s.readActivity?.() ?? new Map());
  const ticksBefore = sources.map((s) => s.readTicks?.() ?? 0);
  const before = sources.map((s) => s.read());
  const t0 = performance.now();
  await work();
  const wallMs = performance.now() - t0;
  const after = sources.map((s) => s.read());
  const ticksAfter = sources.map((s) => s.readTicks?.() ?? 0);
  const actAfter = sources.map((s) => s.readActivity?.() ?? new Map());
  const ns = new Map<string, number>();
  const ticksNs = new Map<string, number>();
  const activity = new Map<string, Activity>();
  sources.forEach((s, i) => {
    ns.set(s.name, counterDelta(before[i], after[i]));
    ticksNs.set(s.name, Math.max(0, ticksAfter[i] - ticksBefore[i]));
    const grew = (kind: string) =>
      counterDelta(
        new Map([...actBefore[i]].filter(([k]) => k.startsWith(kind))),
        new Map([...actAfter[i]].filter(([k]) => k.startsWith(kind))),
      );
    activity.set(s.name, {
      userNs: grew("user/"),
      sysNs: grew("sys/"),
      runs: grew("runs/"),
    });
  });
  return { wallMs, ns, ticksNs, activity };
}
