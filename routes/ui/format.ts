/**
 * How the dashboard says amounts, in the product's own words: a
 * configuration is "1 core 2 GB", usage "121 sec 551 MB", an age "3 min
 * 12 s". Pure functions; the server formats everything (live updates too),
 * so the browser never needs a second copy of these rules.
 *
 * Sizes use binary units with the short names people read on dashboards
 * (1 GB here is 1024³ bytes, as in Backend.AI's console).
 *
 * @module
 */

import { isSizeSlot } from "../../policies/slots.ts";

const KIB = 1024;
const MIB = KIB * 1024;
const GIB = MIB * 1024;
const TIB = GIB * 1024;

/** Up to `digits` decimals, trailing zeros dropped. */
function trim(n: number, digits: number): string {
  return String(Number(n.toFixed(digits)));
}

/**
 * Bytes as `"512 MB"`, `"1.5 GB"`, `"0 B"`.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./format.ts";
 * formatBytes(2 * 1024 ** 3); // "2 GB"
 * ```
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "?";
  if (bytes >= TIB) return `${trim(bytes / TIB, 2)} TB`;
  if (bytes >= GIB) return `${trim(bytes / GIB, 2)} GB`;
  if (bytes >= MIB) return `${Math.round(bytes / MIB)} MB`;
  if (bytes >= KIB) return `${Math.round(bytes / KIB)} KB`;
  return `${Math.round(bytes)} B`;
}

/** One slot amount in words: `cpu` 1 → "1 core", `mem` → "2 GB", `cuda.device` 1 → "1 GPU". */
export function formatSlot(slot: string, amount: number): string {
  if (slot === "cpu") {
    return `${trim(amount, 2)} ${amount === 1 ? "core" : "cores"}`;
  }
  if (isSizeSlot(slot)) return formatBytes(amount);
  if (slot === "cuda.device") {
    return `${trim(amount, 2)} ${amount === 1 ? "GPU" : "GPUs"}`;
  }
  if (slot === "cuda.shares") return `${trim(amount, 2)} GPU shares`;
  return `${trim(amount, 3)} ${slot}`;
}

/**
 * A session's configuration: cpu first, then memory, then the rest by name;
 * `"1 core 2 GB"`. Empty slots read as "—".
 *
 * @example
 * ```ts
 * import { formatConfiguration } from "./format.ts";
 * formatConfiguration({ mem: 2 * 1024 ** 3, cpu: 1 }); // "1 core 2 GB"
 * ```
 */
export function formatConfiguration(slots: Record<string, number>): string {
  const order = (k: string) => k === "cpu" ? 0 : k === "mem" ? 1 : 2;
  const keys = Object.keys(slots)
    .filter((k) => Number.isFinite(Number(slots[k])) && Number(slots[k]) > 0)
    .sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  if (keys.length === 0) return "—";
  return keys.map((k) => formatSlot(k, Number(slots[k]))).join(" ");
}

/**
 * CPU time as `"121 sec"` (one decimal under 10 s, whole seconds after).
 *
 * @example
 * ```ts
 * import { formatCpuTime } from "./format.ts";
 * formatCpuTime(121_400); // "121 sec"
 * formatCpuTime(420); // "0.4 sec"
 * ```
 */
export function formatCpuTime(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  const s = ms / 1000;
  return s < 10 ? `${trim(s, 1)} sec` : `${Math.round(s)} sec`;
}

/** Usage of a kernel in the seed's words: `"121 sec 551 MB"`. */
export function formatUsage(cpuMs: number, memKiB: number): string {
  return `${formatCpuTime(cpuMs)} ${formatBytes(memKiB * KIB)}`;
}

/**
 * A duration as its two largest units: `"45 s"`, `"3 min 12 s"`,
 * `"2 h 5 min"`, `"1 d 3 h"`.
 *
 * @example
 * ```ts
 * import { formatAge } from "./format.ts";
 * formatAge(192_000); // "3 min 12 s"
 * ```
 */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) ms = 0;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** An ISO time as `"2026-12-01 08:13:05 UTC"` (the page shows UTC everywhere). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** Seconds as an operator setting reads: 0 → "none", 1800 → "30 min". */
export function formatSeconds(s: number): string {
  return s > 0 ? formatAge(s * 1000) : "none";
}

/**
 * An amount of cost (the currency of the price tables, which names none):
 * two decimals, more for small non-zero amounts so a cheap session does not
 * read as free; `"0.00"`, `"1.25"`, `"0.0042"`.
 *
 * @example
 * ```ts
 * import { formatCost } from "./format.ts";
 * formatCost(1.254); // "1.25"
 * formatCost(0.00423); // "0.0042"
 * ```
 */
export function formatCost(amount: number): string {
  if (!Number.isFinite(amount)) return "?";
  const a = Math.abs(amount);
  if (a === 0 || a >= 0.01) return amount.toFixed(2);
  // Two significant digits, at most 6 decimals.
  const digits = Math.min(6, 1 - Math.floor(Math.log10(a)));
  return amount.toFixed(digits);
}

/** Core-ms held as core-hours: `"1.5 core-h"`. */
export function formatCoreHours(coreMs: number): string {
  if (!Number.isFinite(coreMs) || coreMs < 0) return "?";
  const h = coreMs / 3_600_000;
  return `${h >= 10 ? trim(h, 1) : trim(h, 3)} core-h`;
}
