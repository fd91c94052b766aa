/**
 * V8 CPU profiles of another Deno process over its inspector (started with
 * `--inspect=127.0.0.1:PORT`; Chrome DevTools Protocol over a WebSocket),
 * and summaries of them: self time by function and by module, inclusive
 * time of our own functions. For profiling benchmarks (exec_profile.ts).
 *
 * The sampler cannot tell a thread blocked in `epoll_wait` from one in
 * native code: both are `(program)` in V8's profile. Read `(program)` next
 * to the process's CPU time (_proc_cpu.ts) for the split.
 *
 * @module
 */

/** A `.cpuprofile` (Profiler.stop's `profile`). */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: {
      functionName: string;
      url: string;
      lineNumber: number;
      columnNumber: number;
    };
    hitCount?: number;
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One inspector session on the main isolate of the process at `port`. */
export class Inspector {
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: Error): void }
  >();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      const p = msg.id === undefined ? undefined : this.#pending.get(msg.id);
      if (!p) return; // events
      this.#pending.delete(msg.id);
      if (msg.error) p.reject(new Error(JSON.stringify(msg.error)));
      else p.resolve(msg.result);
    };
  }

  /** Connects to the first target listed by `GET /json/list`. */
  static async connect(port: number): Promise<Inspector> {
    const list = await (await fetch(`http://127.0.0.1:${port}/json/list`))
      .json() as { webSocketDebuggerUrl: string; title: string }[];
    if (!list.length) throw new Error(`no inspector target on ${port}`);
    const ws = new WebSocket(list[0].webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`inspector ${port}: cannot connect`));
    });
    return new Inspector(ws);
  }

  /** Sends one protocol command and waits for its result. */
  send<T = unknown>(method: string, params: unknown = {}): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, {
        resolve: (v) => resolve(v as T),
        reject,
      });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Starts sampling every `intervalUs`. */
  async start(intervalUs: number): Promise<void> {
    await this.send("Profiler.enable");
    await this.send("Profiler.setSamplingInterval", { interval: intervalUs });
    await this.send("Profiler.start");
  }

  /** Stops sampling and returns the profile. */
  async stop(): Promise<CpuProfile> {
    const { profile } = await this.send<{ profile: CpuProfile }>(
      "Profiler.stop",
    );
    await this.send("Profiler.disable");
    return profile;
  }

  close(): void {
    this.#ws.close();
  }
}

/** A row of a summary: a name and µs of samples. */
export interface Row {
  name: string;
  us: number;
}

/** Where this checkout lives, to name our own files by their path. */
const ROOT = new URL("../../", import.meta.url).href;

/**
 * The profiler's own cost in the profiled process: with a session attached
 * Deno reports network activity (sockets, WebSocket frames) to it as
 * protocol events. Absent when nobody profiles.
 */
export const INSPECTOR_OVERHEAD =
  "(inspector: network events, absent unprofiled)";

/** A module's group: our files by path, npm packages by package, the rest by URL. */
export function moduleOf(url: string, functionName: string): string {
  if (
    functionName === "op_inspector_emit_protocol_event" ||
    functionName === "installServerInspector" ||
    url.includes("inspector_network_bridge")
  ) return INSPECTOR_OVERHEAD;
  if (!url) {
    return functionName.startsWith("(")
      ? functionName
      : "(native: V8 builtins, no url)";
  }
  if (url.startsWith(ROOT)) return url.slice(ROOT.length);
  const npm = /\/npm\/[^/]+\/((?:@[^/]+\/)?[^/]+)\/([^/]+)\//.exec(url);
  if (npm) return `npm:${npm[1]}@${npm[2]}`;
  if (url.startsWith("ext:") || url.startsWith("node:")) return url;
  return url;
}

/**
 * µs each sample stands for: the median gap between samples. Not each
 * sample's own gap to the next: on two busy cores the sampler thread is now
 * and then not scheduled for milliseconds, and that gap would all be
 * charged to whatever function happened to be sampled before it.
 */
function sampleDurations(p: CpuProfile): number[] {
  const gaps = p.timeDeltas.slice(1).filter((d) => d > 0).sort((a, b) => a - b);
  const median = gaps.length ? gaps[Math.floor(gaps.length / 2)] : 0;
  return p.samples.map(() => median);
}

/** Self time by function (`name url:line`), by module, and inclusive time. */
export function summarise(p: CpuProfile): {
  totalUs: number;
  /** Of totalUs, the samples V8 marked `(idle)` (the event loop waiting). */
  idleUs: number;
  byFunction: Row[];
  byModule: Row[];
  inclusive: Row[];
} {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const label = (id: number) => {
    const f = byId.get(id)!.callFrame;
    const where = f.url ? ` ${moduleOf(f.url, "")}:${f.lineNumber + 1}` : "";
    return `${f.functionName || "(anonymous)"}${where}`;
  };
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  const incl = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number) =>
    m.set(k, (m.get(k) ?? 0) + v);
  const durations = sampleDurations(p);
  let totalUs = 0;
  let idleUs = 0;
  p.samples.forEach((id, i) => {
    const us = durations[i];
    totalUs += us;
    const f = byId.get(id)!.callFrame;
    if (f.functionName === "(idle)") idleUs += us;
    add(fn, label(id), us);
    add(mod, moduleOf(f.url, f.functionName), us);
    // Inclusive: each function of our own once per sample (recursion too).
    const seen = new Set<string>();
    for (
      let at: number | undefined = id;
      at !== undefined;
      at = parent.get(at)
    ) {
      const cf = byId.get(at)!.callFrame;
      if (!cf.url.startsWith(ROOT)) continue;
      const l = label(at);
      if (!seen.has(l)) {
        seen.add(l);
        add(incl, l, us);
      }
    }
  });
  const rows = (m: Map<string, number>) =>
    [...m].map(([name, us]) => ({ name, us })).sort((a, b) => b.us - a.us);
  return {
    totalUs,
    idleUs,
    byFunction: rows(fn),
    byModule: rows(mod),
    inclusive: rows(incl),
  };
}
