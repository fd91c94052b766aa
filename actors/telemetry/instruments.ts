/**
 * Metric instruments: {@link Counter}, {@link Gauge} and {@link Histogram},
 * each a family of series keyed by label values. The number of label sets
 * a family keeps is bounded (`maxSeries`): past the bound every new set is
 * counted in one overflow series whose labels all read `_overflow`, so a
 * label fed from client input (a problem type, a peer name) can never grow
 * memory or the exposition without limit.
 *
 * @example
 * ```ts
 * import { Counter } from "./instruments.ts";
 * import { strictEqual as assertEquals } from "node:assert";
 *
 * const c = new Counter("http_problems_total", {
 *   help: "Problem responses by type.",
 *   labels: ["type"],
 *   maxSeries: 2,
 * });
 * c.inc({ type: "auth-failed" });
 * c.inc({ type: "url-not-found" }, 2);
 * c.inc({ type: "made-up-by-a-client" }); // third set: overflow
 * assertEquals(c.value({ type: "url-not-found" }), 2);
 * assertEquals(c.value({ type: "_overflow" }), 1);
 * ```
 *
 * @module
 */

/** Label values by label name; numbers and booleans are written as text. */
export type Labels = Readonly<Record<string, string | number | boolean>>;

/** What every instrument is made with. */
export interface MetricOptions {
  /** The `# HELP` text. */
  help: string;
  /** Label names, in exposition order. @default {[]} */
  labels?: readonly string[];
  /** Distinct label sets kept; further ones share the overflow series. @default {200} */
  maxSeries?: number;
}

/** Options of a {@link Histogram}. */
export interface HistogramOptions extends MetricOptions {
  /** Upper bounds of the buckets, increasing (`+Inf` is implied). @default {DEFAULT_BUCKETS} */
  buckets?: readonly number[];
}

/** Prometheus client libraries' default buckets, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** The label value of the overflow series. */
export const OVERFLOW = "_overflow";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** One series: its label values and its data. */
export interface Series<D> {
  readonly values: readonly string[];
  data: D;
}

/** The part every instrument shares: name, help, labels, bounded series. */
export abstract class Metric<D> {
  abstract readonly type: "counter" | "gauge" | "histogram";
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly maxSeries: number;
  readonly #series = new Map<string, Series<D>>();
  #overflowed = 0;

  constructor(readonly name: string, options: MetricOptions) {
    if (!METRIC_NAME.test(name)) throw new Error(`bad metric name: ${name}`);
    this.help = options.help;
    this.labelNames = options.labels ?? [];
    for (const l of this.labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith("__")) {
        throw new Error(`bad label name ${l} of ${name}`);
      }
    }
    this.maxSeries = Math.max(1, options.maxSeries ?? 200);
  }

  /** Fresh data of a new series. */
  protected abstract empty(): D;

  /** Observations that went to the overflow series (label sets past the bound). */
  get overflowed(): number {
    return this.#overflowed;
  }

  /** The key and label values of `labels`. */
  #keyOf(labels: Labels | undefined): [string, readonly string[]] {
    const names = this.labelNames;
    if (names.length === 0) return ["", EMPTY];
    const values = names.map((n) => {
      const v = labels?.[n];
      return v === undefined ? "" : String(v);
    });
    return [values.join("\x1f"), values];
  }

  /** The series for `labels`, created on first use (the overflow one past the bound). */
  protected series(labels: Labels | undefined): Series<D> {
    const [key, values] = this.#keyOf(labels);
    let s = this.#series.get(key);
    if (s !== undefined) return s;
    if (this.#series.size >= this.maxSeries) {
      this.#overflowed++;
      const okey = values.map(() => OVERFLOW).join("\x1f");
      s = this.#series.get(okey);
      if (s === undefined) {
        // The overflow series may pass the bound by one: that is its job.
        s = { values: values.map(() => OVERFLOW), data: this.empty() };
        this.#series.set(okey, s);
      }
      return s;
    }
    s = { values, data: this.empty() };
    this.#series.set(key, s);
    return s;
  }

  /** The series for `labels` if it exists (a look-up creates nothing). */
  protected peek(labels: Labels | undefined): Series<D> | undefined {
    return this.#series.get(this.#keyOf(labels)[0]);
  }

  /** Every series, in creation order. */
  all(): IterableIterator<Series<D>> {
    return this.#series.values();
  }

  /** Forgets every series (a gauge sampled afresh on each collection). */
  reset(): void {
    this.#series.clear();
  }
}

const EMPTY: readonly string[] = [];

/** A value that only goes up (requests, failures). */
export class Counter extends Metric<{ value: number }> {
  readonly type = "counter";

  protected empty(): { value: number } {
    return { value: 0 };
  }

  /** Adds `n` (default 1; negative amounts are ignored: counters never go down). */
  inc(labels?: Labels, n = 1): void {
    if (!(n >= 0)) return;
    this.series(labels).data.value += n;
  }

  /**
   * Sets the total of a series from a source that counts by itself (the
   * runtime's dead letters, a link's reconnects): what a collector samples.
   */
  sample(labels: Labels | undefined, total: number): void {
    this.series(labels).data.value = total;
  }

  /** The current value of a series (0 when it does not exist). */
  value(labels?: Labels): number {
    return this.peek(labels)?.data.value ?? 0;
  }
}

/** A value that goes up and down (queue length, memory, free slots). */
export class Gauge extends Metric<{ value: number }> {
  readonly type = "gauge";

  protected empty(): { value: number } {
    return { value: 0 };
  }

  set(labels: Labels | undefined, value: number): void {
    this.series(labels).data.value = value;
  }

  inc(labels?: Labels, n = 1): void {
    this.series(labels).data.value += n;
  }

  dec(labels?: Labels, n = 1): void {
    this.series(labels).data.value -= n;
  }

  /** The current value of a series (0 when it does not exist). */
  value(labels?: Labels): number {
    return this.peek(labels)?.data.value ?? 0;
  }
}

/** Data of one histogram series: cumulative-ready bucket counts, sum and count. */
export interface HistogramData {
  counts: number[];
  sum: number;
  count: number;
}

/** A distribution (latencies): counts per bucket, their sum and number. */
export class Histogram extends Metric<HistogramData> {
  readonly type = "histogram";
  readonly buckets: readonly number[];

  constructor(name: string, options: HistogramOptions) {
    super(name, options);
    if (this.labelNames.includes("le")) {
      throw new Error(`histogram ${name}: "le" is a reserved label`);
    }
    const b = options.buckets ?? DEFAULT_BUCKETS;
    for (let i = 1; i < b.length; i++) {
      if (!(b[i] > b[i - 1])) {
        throw new Error(`histogram ${name}: buckets must increase`);
      }
    }
    this.buckets = b.filter((x) => Number.isFinite(x));
  }

  protected empty(): HistogramData {
    return { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 };
  }

  /** Records one value (NaN is ignored). */
  observe(labels: Labels | undefined, value: number): void {
    if (Number.isNaN(value)) return;
    const d = this.series(labels).data;
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]) {
        d.counts[i]++;
        break;
      }
    }
    d.sum += value;
    d.count++;
  }

  /** The data of a series (for tests and summaries), if it exists. */
  data(labels?: Labels): Readonly<HistogramData> | undefined {
    return this.peek(labels)?.data;
  }
}
