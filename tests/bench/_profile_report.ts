/**
 * The tables exec_profile.ts prints: per-process CPU, the runs' own
 * clocks, wake-ups, profile rows; and a Prometheus histogram reader.
 *
 * @module
 */
import { type Activity, addActivity } from "./_proc_cpu.ts";
import type { Row } from "./_cpuprofile.ts";

/** What one measured workload gave. */
export interface Figures {
  workload: string;
  round: number;
  n: number;
  wallP50Ms: number;
  wallMeanMs: number;
  /** µs per request, by source. */
  us: Map<string, number>;
  ticksUs: Map<string, number>;
  machineUs: number;
  /** Totals over the n requests, by source. */
  activity: Map<string, Activity>;
  /** Mean ms inside the manager's and the agent's run clocks (runs only). */
  managerRunMs?: number;
  agentRunMs?: number;
}

/** µs of CPU per request by process, the wall clock, and their difference. */
export function table(all: Figures[], names: string[]): string {
  const cols = [
    "workload",
    "rnd",
    "n",
    "p50 ms",
    "mean ms",
    ...names,
    "sum",
    "mean-sum",
    "others",
  ];
  const rows = all.map((f) => {
    const sum = names.reduce((s, k) => s + f.us.get(k)!, 0);
    return [
      f.workload,
      String(f.round),
      String(f.n),
      f.wallP50Ms.toFixed(3),
      f.wallMeanMs.toFixed(3),
      ...names.map((k) => f.us.get(k)!.toFixed(0)),
      sum.toFixed(0),
      (f.wallMeanMs * 1000 - sum).toFixed(0),
      (f.machineUs - sum).toFixed(0),
    ];
  });
  return markdown(cols, rows);
}

/**
 * Per request and process, pooled over the measured rounds: wake-ups, and
 * the user/system split of the CPU (tick-sampled: a split).
 */
export function activityTable(all: Figures[], names: string[]): string {
  const rows: string[][] = [];
  for (const w of new Set(all.map((f) => f.workload))) {
    const fs = all.filter((f) => f.workload === w);
    const n = fs.reduce((s, f) => s + f.n, 0);
    for (const k of names) {
      const a = fs.map((f) => f.activity.get(k)!).reduce(addActivity);
      if (a.runs === 0) continue;
      const cpu = a.userNs + a.sysNs;
      rows.push([
        w,
        k,
        (a.runs / n).toFixed(1),
        cpu ? `${(100 * a.sysNs / cpu).toFixed(0)}%` : "-",
      ]);
    }
  }
  return markdown(
    ["workload", "process", "runs", "sys"],
    rows,
  );
}

/** The runs' own clocks against the client's: where a run's wall time is. */
export function hopTable(all: Figures[]): string {
  const rows = all.filter((f) => f.managerRunMs !== undefined).map((f) => {
    const m = f.managerRunMs!;
    const a = f.agentRunMs!;
    return [
      f.workload,
      String(f.round),
      f.wallMeanMs.toFixed(3),
      m.toFixed(3),
      a.toFixed(3),
      (f.wallMeanMs - m).toFixed(3),
      (m - a).toFixed(3),
      a.toFixed(3),
    ];
  });
  return markdown([
    "workload",
    "rnd",
    "client",
    "manager",
    "agent",
    "client−manager (HTTP, auth, session)",
    "manager−agent (cluster, agent)",
    "agent (runner lane or attach, runner)",
  ], rows);
}

/** A right-aligned markdown table. */
export function markdown(cols: string[], rows: string[][]): string {
  const width = cols.map((c, i) =>
    Math.max(c.length, ...rows.map((r) => r[i].length))
  );
  const line = (r: string[]) =>
    "| " + r.map((x, i) => x.padStart(width[i])).join(" | ") + " |";
  return [
    line(cols),
    "|" + width.map((w) => "-".repeat(w + 1) + ":").join("|") + "|",
    ...rows.map(line),
  ].join("\n");
}

/** Rows as µs per request and % of the busy (not idle) samples. */
export function rowsText(
  title: string,
  rows: Row[],
  busyUs: number,
  n: number,
) {
  const lines = rows.filter((r) => r.name !== "(idle)").slice(0, 25).map((
    r,
  ) =>
    `  ${(r.us / n).toFixed(1).padStart(7)} µs/q ${
      (100 * r.us / busyUs).toFixed(1).padStart(5)
    }%  ${r.name}`
  );
  return `${title}\n${lines.join("\n")}`;
}

/**
 * Mean of a Prometheus histogram's series (`_sum` / `_count`) whose labels
 * include `labels`, from the exposition `text`; totals, to be differenced.
 */
export function histogramTotals(
  text: string,
  name: string,
  labels: string,
): { sum: number; count: number } {
  let sum = 0;
  let count = 0;
  for (const line of text.split("\n")) {
    if (!line.includes(labels)) continue;
    const v = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (line.startsWith(`${name}_sum{`)) sum += v;
    else if (line.startsWith(`${name}_count{`)) count += v;
  }
  return { sum, count };
}
