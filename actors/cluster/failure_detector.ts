/**
 * Phi-accrual failure detector (Hayashibara et al.), as in Akka: instead of a
 * fixed timeout it learns the heartbeat inter-arrival distribution of each
 * peer and reports a suspicion level φ; a node whose φ passes the threshold
 * is considered down. With the defaults (1 s heartbeats, 2 s acceptable
 * pause, threshold 8) a node that goes silent is declared down after about
 * 4–5 s, and jittery-but-alive links are tolerated.
 *
 * @module
 */

/** Options of {@link PhiAccrualFailureDetector}. */
export interface FailureDetectorOptions {
  /** φ above which the node is considered unavailable. @default {8} */
  threshold?: number;
  /** Inter-arrival samples kept. @default {200} */
  maxSampleSize?: number;
  /** Floor for the standard deviation, so a very regular link is not declared dead on the first hiccup. @default {200} */
  minStdDeviationMs?: number;
  /** Extra silence tolerated on top of the mean interval (GC pauses, busy event loop). @default {2000} */
  acceptableHeartbeatPauseMs?: number;
  /** Expected interval before any sample exists (the heartbeat interval). @default {1000} */
  firstHeartbeatEstimateMs?: number;
}

/** Learns heartbeat arrivals of one peer and says how suspicious its silence is. */
export class PhiAccrualFailureDetector {
  readonly threshold: number;
  readonly #maxSamples: number;
  readonly #minStd: number;
  readonly #pause: number;
  #intervals: number[] = [];
  #sum = 0;
  #sumSq = 0;
  #last: number | undefined;

  constructor(options: FailureDetectorOptions = {}) {
    this.threshold = options.threshold ?? 8;
    this.#maxSamples = options.maxSampleSize ?? 200;
    this.#minStd = options.minStdDeviationMs ?? 200;
    this.#pause = options.acceptableHeartbeatPauseMs ?? 2000;
    const first = options.firstHeartbeatEstimateMs ?? 1000;
    // Seed with two samples around the estimate (Akka does the same) so φ is
    // meaningful before real samples arrive.
    const std = first / 4;
    this.#add(first - std);
    this.#add(first + std);
  }

  /** Record a heartbeat (or any sign of life) at `now` (ms). */
  heartbeat(now: number): void {
    if (this.#last !== undefined) {
      const interval = now - this.#last;
      if (interval > 0) this.#add(interval);
    }
    this.#last = now;
  }

  /** Time of the last heartbeat, if any. */
  get lastHeartbeat(): number | undefined {
    return this.#last;
  }

  /** Suspicion level at `now`; 0 before the first heartbeat. */
  phi(now: number): number {
    if (this.#last === undefined) return 0;
    const n = this.#intervals.length;
    const mean = this.#sum / n + this.#pause;
    const variance = Math.max(0, this.#sumSq / n - (this.#sum / n) ** 2);
    const std = Math.max(Math.sqrt(variance), this.#minStd);
    return phiOf(now - this.#last, mean, std);
  }

  /** False once φ passes the threshold. */
  isAvailable(now: number): boolean {
    return this.phi(now) < this.threshold;
  }

  #add(interval: number) {
    if (this.#intervals.length >= this.#maxSamples) {
      const old = this.#intervals.shift()!;
      this.#sum -= old;
      this.#sumSq -= old * old;
    }
    this.#intervals.push(interval);
    this.#sum += interval;
    this.#sumSq += interval * interval;
  }
}

/**
 * φ = -log10(P(silence ≥ elapsed)) under a normal distribution, using the
 * logistic approximation of the CDF that Akka uses (accurate to ~1e-4 and
 * cheap).
 */
export function phiOf(elapsed: number, mean: number, std: number): number {
  const y = (elapsed - mean) / std;
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
  if (elapsed > mean) return -Math.log10(e / (1 + e));
  return -Math.log10(1 - 1 / (1 + e));
}
