/**
 * How many warm containers an agent keeps per image: by recent demand,
 * within the memory budget the operator sets (`--pool-budget`).
 *
 * Each image wants enough idle containers to cover the requests that
 * arrive while one is being launched (its demand rate times its launch
 * time, times a burst factor), at least one if it was asked for at all in
 * the window, and at least the operator's floor (`--pool` for the images of
 * `--pool-images`). The budget is then handed out one container at a time:
 * floors first, then to the image whose next container serves the most
 * demand (rate divided by containers already given), so the images that are
 * asked for win and no image takes the whole budget while another waits.
 * An image whose container does not fit the rest of the budget gets no more.
 *
 * Pure: same input, same output.
 *
 * @module
 */

/** What {@link poolTargets} decides from. */
export interface PoolDemand {
  /** Containers kept per image even without demand (the operator's floor). */
  floor: Record<string, number>;
  /** Requests per image seen in the last `windowMs`. */
  requests: Record<string, number>;
  /** Length of the demand window, ms. */
  windowMs: number;
  /** How long launching one container of an image takes, ms (measured). */
  launchMs: Record<string, number>;
  /** Host memory one idle container of an image holds, bytes (measured). */
  footprint: Record<string, number>;
  /** Host memory all idle containers may hold together, bytes. */
  budget: number;
  /** Cover `burst` times the demand expected during one launch. @default {2} */
  burst?: number;
  /** No image gets more than this many. @default {64} */
  maxPerImage?: number;
}

/** Launch time assumed for an image not launched yet, ms. */
export const DEFAULT_LAUNCH_MS = 250;

/**
 * The wanted idle containers per image (images wanting none are left out).
 *
 * @example
 * ```ts
 * import { poolTargets } from "./pool_sizing.ts";
 * import { deepStrictEqual } from "node:assert";
 *
 * // python asked for 120 times a minute (2/s), c once; 100 MiB of budget,
 * // 20 MiB per container: python gets 4, c 1.
 * deepStrictEqual(
 *   poolTargets({
 *     floor: { python: 1 },
 *     requests: { python: 120, c: 1 },
 *     windowMs: 60_000,
 *     launchMs: { python: 1000, c: 1000 },
 *     footprint: { python: 20 << 20, c: 20 << 20 },
 *     budget: 100 << 20,
 *   }),
 *   { python: 4, c: 1 },
 * );
 * ```
 */
export function poolTargets(d: PoolDemand): Record<string, number> {
  const burst = d.burst ?? 2;
  const cap = d.maxPerImage ?? 64;
  const images = new Set([
    ...Object.keys(d.floor),
    ...Object.keys(d.requests),
  ]);
  const want = new Map<string, number>();
  const rate = new Map<string, number>();
  for (const image of images) {
    const asked = Math.max(0, d.requests[image] ?? 0);
    const perMs = d.windowMs > 0 ? asked / d.windowMs : 0;
    const launch = d.launchMs[image] ?? DEFAULT_LAUNCH_MS;
    const covering = Math.ceil(perMs * launch * burst - 1e-9);
    const w = Math.min(
      cap,
      Math.max(
        Math.max(0, Math.floor(d.floor[image] ?? 0)),
        asked > 0 ? Math.max(1, covering) : 0,
      ),
    );
    if (w > 0) {
      want.set(image, w);
      rate.set(image, perMs);
    }
  }
  const given = new Map<string, number>();
  let left = d.budget;
  for (;;) {
    let best: string | undefined;
    let bestScore = -Infinity;
    for (const [image, w] of want) {
      const n = given.get(image) ?? 0;
      if (n >= w || footprintOf(d, image) > left) continue;
      // Floors first (in demand order), then demand served per container.
      const underFloor = n < Math.floor(d.floor[image] ?? 0);
      const score = (underFloor ? 1e12 : 0) + (rate.get(image)! / (n + 1));
      if (
        score > bestScore || (score === bestScore && best && image < best)
      ) {
        best = image;
        bestScore = score;
      }
    }
    if (best === undefined) break;
    given.set(best, (given.get(best) ?? 0) + 1);
    left -= footprintOf(d, best);
  }
  return Object.fromEntries(
    [...given].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
  );
}

/** A footprint of at least one byte, so a zero estimate cannot loop forever. */
function footprintOf(d: PoolDemand, image: string): number {
  return Math.max(1, d.footprint[image] ?? 64 << 20);
}
