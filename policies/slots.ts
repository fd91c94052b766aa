/**
 * Resource-slot arithmetic. A slot set is a plain `Record<string, number>`
 * keyed by slot name, as in Backend.AI: `cpu` (cores, may be fractional),
 * `mem` (bytes), `cuda.device` (devices) and so on. A missing key means 0
 * everywhere except in caps, where the caller decides (see `admission.ts`).
 *
 * All functions return fresh objects and never mutate their arguments.
 *
 * @module
 */

/** Amounts per slot name: `{ cpu: 2, mem: 4294967296, "cuda.device": 1 }`. */
export type ResourceSlots = Record<string, number>;

/**
 * Slack used when comparing amounts, so that fractional cpu sums such as
 * `0.1 + 0.2` still fit into `0.3`. Far below any meaningful amount (a byte,
 * a thousandth of a core).
 */
export const SLOT_EPSILON = 1e-9;

/** Raised by {@link parseBinarySize} for input that is not a binary size. */
export class InvalidBinarySizeError extends Error {
  override readonly name = "InvalidBinarySizeError";
  /** The value that could not be parsed. */
  readonly input: unknown;
  constructor(input: unknown, why: string) {
    super(`Invalid binary size ${JSON.stringify(input)}: ${why}`);
    this.input = input;
  }
}

/** Raised when a requested slot amount is not a finite, non-negative number. */
export class InvalidSlotAmountError extends Error {
  override readonly name = "InvalidSlotAmountError";
  /** Slot name whose amount was bad. */
  readonly slot: string;
  /** The value given. */
  readonly value: unknown;
  constructor(slot: string, value: unknown) {
    super(
      `Invalid amount for resource slot "${slot}": ${JSON.stringify(value)}`,
    );
    this.slot = slot;
    this.value = value;
  }
}

/** Raised when a request names a slot type the cluster does not know. */
export class UnknownSlotError extends Error {
  override readonly name = "UnknownSlotError";
  /** The unknown slot names, sorted. */
  readonly slots: readonly string[];
  constructor(slots: string[]) {
    super(`Unknown resource slot(s): ${slots.join(", ")}`);
    this.slots = slots;
  }
}

/** One slot a request asks less of than an image requires. */
export interface SlotShortfall {
  /** Slot name. */
  slot: string;
  /** Amount asked (after defaults were applied). */
  requested: number;
  /** The image's minimum. */
  min: number;
}

/**
 * Raised when a request is below an image's minimum for some slot
 * (Backend.AI refuses such a session rather than silently raising it,
 * since the user would then be billed for more than they asked).
 */
export class ResourceBelowMinimumError extends Error {
  override readonly name = "ResourceBelowMinimumError";
  /** Each slot under its minimum. */
  readonly shortfalls: readonly SlotShortfall[];
  constructor(shortfalls: SlotShortfall[]) {
    super(
      "Requested resources are below the image's minimum: " +
        shortfalls.map((s) => `${s.slot} ${s.requested} < ${s.min}`).join(
          ", ",
        ),
    );
    this.shortfalls = shortfalls;
  }
}

const SIZE_RE = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgtpe]?)(i?b)?\s*$/i;
const SIZE_EXP: Record<string, number> = {
  "": 0,
  k: 1,
  m: 2,
  g: 3,
  t: 4,
  p: 5,
  e: 6,
};

/**
 * Parses a binary size as Backend.AI does: a number of bytes, or a decimal
 * number with a suffix `k`, `m`, `g`, `t`, `p` or `e` (powers of 1024,
 * case-insensitive), optionally followed by `b` or `ib` (`"512m"`,
 * `"1.5G"`, `"2GiB"`, `"100b"`). Fractions of a byte are rounded down.
 *
 * Throws {@link InvalidBinarySizeError} on anything else: negative or
 * non-finite numbers, empty strings, unknown suffixes, results beyond
 * `Number.MAX_SAFE_INTEGER` bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBinarySize } from "./slots.ts";
 * assert.ok(parseBinarySize("512m") === 512 * 1024 ** 2);
 * assert.ok(parseBinarySize("1.5G") === 1.5 * 1024 ** 3);
 * assert.ok(parseBinarySize(1024) === 1024);
 * ```
 */
export function parseBinarySize(value: string | number): number {
  let bytes: number;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      throw new InvalidBinarySizeError(value, "not a finite number");
    }
    bytes = value;
  } else if (typeof value === "string") {
    const m = SIZE_RE.exec(value);
    if (!m) {
      throw new InvalidBinarySizeError(
        value,
        "expected a number with an optional k/m/g/t/p/e suffix",
      );
    }
    bytes = Number(m[1]) * 1024 ** SIZE_EXP[m[2].toLowerCase()];
  } else {
    throw new InvalidBinarySizeError(value, "expected a string or a number");
  }
  if (bytes < 0) throw new InvalidBinarySizeError(value, "negative size");
  bytes = Math.floor(bytes);
  if (!Number.isSafeInteger(bytes)) {
    throw new InvalidBinarySizeError(value, "too large");
  }
  return bytes;
}

/**
 * Adds two slot sets key by key; a key missing on one side counts as 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addSlots } from "./slots.ts";
 * const s = addSlots({ cpu: 1, mem: 10 }, { cpu: 2, "cuda.device": 1 });
 * assert.ok(s.cpu === 3 && s.mem === 10 && s["cuda.device"] === 1);
 * ```
 */
export function addSlots(a: ResourceSlots, b: ResourceSlots): ResourceSlots {
  const out: ResourceSlots = { ...a };
  for (const k in b) out[k] = (out[k] ?? 0) + b[k];
  return out;
}

/**
 * Subtracts `b` from `a` key by key (missing = 0). The result may be
 * negative: callers that need a floor use {@link clampSlots}, so that an
 * over-commit stays visible instead of being hidden by a silent clamp.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { subtractSlots } from "./slots.ts";
 * assert.ok(subtractSlots({ cpu: 4 }, { cpu: 1, mem: 2 }).mem === -2);
 * ```
 */
export function subtractSlots(
  a: ResourceSlots,
  b: ResourceSlots,
): ResourceSlots {
  const out: ResourceSlots = { ...a };
  for (const k in b) out[k] = (out[k] ?? 0) - b[k];
  return out;
}

/**
 * Sums any number of slot sets; the sum of nothing is `{}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sumSlots } from "./slots.ts";
 * assert.ok(sumSlots([{ cpu: 1 }, { cpu: 2 }]).cpu === 3);
 * ```
 */
export function sumSlots(list: Iterable<ResourceSlots>): ResourceSlots {
  const out: ResourceSlots = {};
  for (const s of list) for (const k in s) out[k] = (out[k] ?? 0) + s[k];
  return out;
}

/**
 * Raises every amount below 0 to 0 (e.g. free capacity of an over-committed
 * agent).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clampSlots } from "./slots.ts";
 * assert.ok(clampSlots({ cpu: -1, mem: 3 }).cpu === 0);
 * ```
 */
export function clampSlots(slots: ResourceSlots): ResourceSlots {
  const out: ResourceSlots = {};
  for (const k in slots) out[k] = Math.max(0, slots[k]);
  return out;
}

/**
 * Returns a copy of `slots` with every name in `keys` present, missing ones
 * set to 0: handy before showing `occupiedSlots` or comparing per slot.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { zeroFillSlots } from "./slots.ts";
 * const s = zeroFillSlots({ cpu: 1 }, ["cpu", "mem", "cuda.device"]);
 * assert.ok(s.mem === 0 && s["cuda.device"] === 0 && s.cpu === 1);
 * ```
 */
export function zeroFillSlots(
  slots: ResourceSlots,
  keys: Iterable<string>,
): ResourceSlots {
  const out: ResourceSlots = { ...slots };
  for (const k of keys) if (!(k in out)) out[k] = 0;
  return out;
}

/**
 * Whether `request` fits into `available`: every slot asked for with a
 * positive amount has at least that much available (missing = 0). Slots
 * asked at 0 always fit. Allows {@link SLOT_EPSILON} of rounding slack.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fits } from "./slots.ts";
 * assert.ok(fits({ cpu: 2, mem: 1024 }, { cpu: 4, mem: 2048 }));
 * assert.ok(!fits({ "cuda.device": 1 }, { cpu: 64 }));
 * ```
 */
export function fits(
  request: ResourceSlots,
  available: ResourceSlots,
): boolean {
  for (const k in request) {
    const want = request[k];
    if (want > 0 && want > (available[k] ?? 0) + SLOT_EPSILON) return false;
  }
  return true;
}

/**
 * Names of the slots for which `request` exceeds `available` (the
 * complement of {@link fits}), in the request's key order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exceededSlots } from "./slots.ts";
 * const over = exceededSlots({ cpu: 8, mem: 1 }, { cpu: 4, mem: 8 });
 * assert.ok(over.length === 1 && over[0] === "cpu");
 * ```
 */
export function exceededSlots(
  request: ResourceSlots,
  available: ResourceSlots,
): string[] {
  const out: string[] = [];
  for (const k in request) {
    const want = request[k];
    if (want > 0 && want > (available[k] ?? 0) + SLOT_EPSILON) out.push(k);
  }
  return out;
}

/** What an image says about resources (from its labels). */
export interface ImageResourceSpec {
  /** Amount used for a slot the request leaves out. */
  defaults?: ResourceSlots;
  /** Smallest acceptable amount per slot. */
  minimums?: ResourceSlots;
}

/** Options of {@link normalizeRequestedSlots}. */
export interface NormalizeOptions {
  /**
   * Slot names the cluster knows (`GET /config/resource-slots`). When given,
   * a request naming any other slot is refused with {@link UnknownSlotError}.
   * @default {undefined} (any name accepted)
   */
  knownSlots?: Iterable<string>;
}

/** A raw request value as clients send it: numbers, or strings for sizes. */
export type RequestedSlotValue = number | string | null | undefined;

/**
 * Turns a session's requested resources (`config.resources`, values may be
 * strings like `"1g"` or `"2"`) into slot amounts: `mem` (and any slot
 * whose name ends in `.mem` or `mem`) goes through {@link parseBinarySize},
 * other slots must be finite non-negative numbers; slots left out (or
 * null) take the image's default; the result is then checked against the
 * image's minimums.
 *
 * Throws {@link InvalidBinarySizeError}, {@link InvalidSlotAmountError},
 * {@link UnknownSlotError} or {@link ResourceBelowMinimumError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeRequestedSlots } from "./slots.ts";
 * const s = normalizeRequestedSlots(
 *   { cpu: "2", mem: "1g" },
 *   { defaults: { cpu: 1, mem: 512 * 1024 ** 2, "cuda.device": 0 } },
 * );
 * assert.ok(s.cpu === 2 && s.mem === 1024 ** 3 && s["cuda.device"] === 0);
 * ```
 */
export function normalizeRequestedSlots(
  requested: Record<string, RequestedSlotValue> | null | undefined,
  image: ImageResourceSpec = {},
  options: NormalizeOptions = {},
): ResourceSlots {
  const out: ResourceSlots = { ...image.defaults };
  for (const [slot, raw] of Object.entries(requested ?? {})) {
    if (raw === null || raw === undefined) continue;
    out[slot] = parseSlotAmount(slot, raw);
  }
  if (options.knownSlots) {
    const known = new Set(options.knownSlots);
    const unknown = Object.keys(out).filter((k) => !known.has(k)).sort();
    if (unknown.length) throw new UnknownSlotError(unknown);
  }
  const shortfalls: SlotShortfall[] = [];
  for (const [slot, min] of Object.entries(image.minimums ?? {})) {
    const have = out[slot] ?? 0;
    if (have + SLOT_EPSILON < min) {
      shortfalls.push({ slot, requested: have, min });
    }
  }
  if (shortfalls.length) throw new ResourceBelowMinimumError(shortfalls);
  return out;
}

/**
 * Whether a slot's amount is a number of bytes (`mem`, `cuda.mem`,
 * `shared_mem`): such slots take binary-size strings and print as sizes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSizeSlot } from "./slots.ts";
 * assert.ok(isSizeSlot("mem") && isSizeSlot("cuda.mem") && !isSizeSlot("cpu"));
 * ```
 */
export function isSizeSlot(slot: string): boolean {
  return slot === "mem" || slot.endsWith(".mem") || slot.endsWith("_mem");
}

const SIZE_NAMES = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/**
 * A slot set as an operator reads it, in key order: `"cpu 1, mem 2 GiB"`.
 * Sizes print in the largest binary unit that keeps them at least 1, with
 * up to two decimals; other amounts with up to three. The empty set prints
 * as `"nothing"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatSlots } from "./slots.ts";
 * assert.equal(formatSlots({ cpu: 0.5, mem: 1.5 * 1024 ** 3 }), "cpu 0.5, mem 1.5 GiB");
 * assert.equal(formatSlots({}), "nothing");
 * ```
 */
export function formatSlots(slots: ResourceSlots): string {
  const parts: string[] = [];
  for (const k in slots) {
    const v = slots[k];
    if (isSizeSlot(k) && Number.isFinite(v)) {
      let u = 0, x = Math.abs(v);
      while (x >= 1024 && u < SIZE_NAMES.length - 1) {
        x /= 1024;
        u++;
      }
      parts.push(`${k} ${round(Math.sign(v) * x, 2)} ${SIZE_NAMES[u]}`);
    } else {
      parts.push(`${k} ${round(v, 3)}`);
    }
  }
  return parts.length ? parts.join(", ") : "nothing";
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function parseSlotAmount(slot: string, raw: number | string): number {
  if (isSizeSlot(slot)) return parseBinarySize(raw);
  const n = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
  if (typeof n !== "number" || !Number.isFinite(n) || n < 0) {
    throw new InvalidSlotAmountError(slot, raw);
  }
  return n;
}
