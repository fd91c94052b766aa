/**
 * A metrics registry: instruments by name, collectors that sample state
 * just before an exposition (queue lengths, memory, rows counted in a
 * store), and the Prometheus text exposition format (version 0.0.4) that
 * `GET /metrics` answers.
 *
 * A collector that throws or takes longer than `collectTimeoutMs` does not
 * fail the scrape: its metrics keep their last values and
 * `telemetry_collect_failures_total` counts the miss.
 *
 * @example
 * ```ts
 * import { Registry } from "./registry.ts";
 * import { strictEqual as assertEquals } from "node:assert";
 *
 * const r = new Registry();
 * const depth = r.gauge("queue_depth", { help: "Jobs waiting.", labels: ["queue"] });
 * r.collect(() => depth.set({ queue: "default" }, 3));
 * const text = await r.render();
 * assertEquals(text.includes('queue_depth{queue="default"} 3\n'), true);
 * ```
 *
 * @module
 */

import {
  Counter,
  Gauge,
  Histogram,
  type HistogramOptions,
  type Metric,
  type MetricOptions,
} from "./instruments.ts";

/** Samples state into instruments; may be async (a store query, an ask). */
export type Collector = () => void | Promise<void>;

/** Options of a {@link Registry}. */
export interface RegistryOptions {
  /** How long one collector may take per exposition. @default {2000} */
  collectTimeoutMs?: number;
}

/** The content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE =
  "text/plain; version=0.0.4; charset=utf-8";

/** Instruments by name, plus the collectors run before each exposition. */
export class Registry {
  readonly #metrics = new Map<string, Metric<unknown>>();
  readonly #collectors = new Set<Collector>();
  readonly #timeoutMs: number;
  readonly #failures: Counter;

  constructor(options: RegistryOptions = {}) {
    this.#timeoutMs = options.collectTimeoutMs ?? 2000;
    this.#failures = this.counter("telemetry_collect_failures_total", {
      help: "Collectors that threw or timed out during an exposition.",
    });
  }

  /** A counter; asking again for the same name answers the same one. */
  counter(name: string, options: MetricOptions): Counter {
    return this.#add(name, () => new Counter(name, options));
  }

  /** A gauge; asking again for the same name answers the same one. */
  gauge(name: string, options: MetricOptions): Gauge {
    return this.#add(name, () => new Gauge(name, options));
  }

  /** A histogram; asking again for the same name answers the same one. */
  histogram(name: string, options: HistogramOptions): Histogram {
    return this.#add(name, () => new Histogram(name, options));
  }

  #add<M extends Metric<unknown>>(name: string, make: () => M): M {
    const found = this.#metrics.get(name);
    const m = make();
    if (found !== undefined) {
      if (found.type !== m.type) {
        throw new Error(`metric ${name} is a ${found.type}, not a ${m.type}`);
      }
      return found as M;
    }
    this.#metrics.set(name, m as Metric<unknown>);
    return m;
  }

  /** The instrument named `name`, if registered. */
  get(name: string): Metric<unknown> | undefined {
    return this.#metrics.get(name);
  }

  /** Adds a collector; returns the function that removes it. */
  collect(fn: Collector): () => void {
    this.#collectors.add(fn);
    return () => this.#collectors.delete(fn);
  }

  /** Runs the collectors (in parallel, each under the timeout). */
  async #runCollectors(): Promise<void> {
    await Promise.all([...this.#collectors].map(async (fn) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(fn),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error("collector timed out")),
              this.#timeoutMs,
            );
          }),
        ]);
      } catch {
        this.#failures.inc();
      } finally {
        clearTimeout(timer);
      }
    }));
  }

  /** Collects, then writes every metric in the Prometheus text format. */
  async render(): Promise<string> {
    await this.#runCollectors();
    return this.renderNow();
  }

  /** The text format of the current values, without running collectors. */
  renderNow(): string {
    const out: string[] = [];
    for (const m of this.#metrics.values()) writeMetric(out, m);
    return out.join("");
  }
}

/** Escapes `# HELP` text: backslash and newline. */
function escapeHelp(s: string): string {
  return s.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

/** Escapes a label value: backslash, double quote and newline. */
function escapeValue(s: string): string {
  return s.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll(
    "\n",
    "\\n",
  );
}

/** A sample value as the format writes it (`+Inf`, `-Inf`, `NaN`). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function labelText(
  names: readonly string[],
  values: readonly string[],
  extra?: string,
): string {
  const parts: string[] = [];
  for (let i = 0; i < names.length; i++) {
    parts.push(`${names[i]}="${escapeValue(values[i])}"`);
  }
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function writeMetric(out: string[], m: Metric<unknown>): void {
  out.push(`# HELP ${m.name} ${escapeHelp(m.help)}\n`);
  out.push(`# TYPE ${m.name} ${m.type}\n`);
  const names = m.labelNames;
  let any = false;
  if (m instanceof Histogram) {
    for (const s of m.all()) {
      any = true;
      let cumulative = 0;
      for (let i = 0; i < m.buckets.length; i++) {
        cumulative += s.data.counts[i];
        const le = `le="${formatValue(m.buckets[i])}"`;
        out.push(
          `${m.name}_bucket${labelText(names, s.values, le)} ${cumulative}\n`,
        );
      }
      out.push(
        `${m.name}_bucket${
          labelText(names, s.values, 'le="+Inf"')
        } ${s.data.count}\n`,
      );
      const l = labelText(names, s.values);
      out.push(`${m.name}_sum${l} ${formatValue(s.data.sum)}\n`);
      out.push(`${m.name}_count${l} ${s.data.count}\n`);
    }
    if (!any && names.length === 0) {
      out.push(`${m.name}_bucket{le="+Inf"} 0\n`);
      out.push(`${m.name}_sum 0\n${m.name}_count 0\n`);
    }
    return;
  }
  for (const s of (m as Counter | Gauge).all()) {
    any = true;
    out.push(
      `${m.name}${labelText(names, s.values)} ${formatValue(s.data.value)}\n`,
    );
  }
  // An unlabelled instrument always shows its one series, 0 until used.
  if (!any && names.length === 0) out.push(`${m.name} 0\n`);
}

/** The registry the process's instruments share (one per process, like prom-client's). */
export const metrics: Registry = new Registry();
