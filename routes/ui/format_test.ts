import { assertEquals } from "../../tests/support/assert.ts";
import {
  formatAge,
  formatBytes,
  formatConfiguration,
  formatCoreHours,
  formatCost,
  formatCpuTime,
  formatSeconds,
  formatTime,
  formatUsage,
} from "./format.ts";

const GIB = 1024 ** 3;

Deno.test("configuration reads like the seed: 1 core 2 GB", () => {
  assertEquals(formatConfiguration({ cpu: 1, mem: 2 * GIB }), "1 core 2 GB");
  assertEquals(formatConfiguration({ mem: GIB / 2, cpu: 2 }), "2 cores 512 MB");
  assertEquals(
    formatConfiguration({ "cuda.device": 1, cpu: 4, mem: 1.5 * GIB }),
    "4 cores 1.5 GB 1 GPU",
  );
  assertEquals(formatConfiguration({}), "—");
  assertEquals(formatConfiguration({ cpu: 0 }), "—");
});

Deno.test("usage reads like the seed: 121 sec 551 MB", () => {
  assertEquals(formatUsage(121_400, 551 * 1024), "121 sec 551 MB");
  assertEquals(formatCpuTime(420), "0.4 sec");
  assertEquals(formatCpuTime(0), "0 sec");
  assertEquals(formatCpuTime(-1), "?");
});

Deno.test("sizes pick the largest unit that keeps the number at least 1", () => {
  assertEquals(formatBytes(0), "0 B");
  assertEquals(formatBytes(1536), "2 KB");
  assertEquals(formatBytes(5 * 1024 ** 4), "5 TB");
  assertEquals(formatBytes(Number.NaN), "?");
});

Deno.test("ages show their two largest units", () => {
  assertEquals(formatAge(0), "0 s");
  assertEquals(formatAge(59_999), "59 s");
  assertEquals(formatAge(192_000), "3 min 12 s");
  assertEquals(formatAge(3_600_000), "1 h");
  assertEquals(formatAge(2 * 3_600_000 + 5 * 60_000), "2 h 5 min");
  assertEquals(formatAge(27 * 3_600_000), "1 d 3 h");
  assertEquals(formatAge(-5), "0 s");
  assertEquals(formatSeconds(0), "none");
  assertEquals(formatSeconds(1800), "30 min");
});

Deno.test("times are shown in UTC, junk as a dash", () => {
  assertEquals(
    formatTime("2026-12-01T08:13:05.123Z"),
    "2026-12-01 08:13:05 UTC",
  );
  assertEquals(formatTime(null), "—");
  assertEquals(formatTime("not a time"), "—");
});

Deno.test("cost amounts: two decimals, small ones not shown as free", () => {
  assertEquals(formatCost(0), "0.00");
  assertEquals(formatCost(1.254), "1.25");
  assertEquals(formatCost(12), "12.00");
  assertEquals(formatCost(0.00423), "0.0042");
  assertEquals(formatCost(0.0000001), "0.000000");
  assertEquals(formatCost(NaN), "?");
  assertEquals(formatCoreHours(5_400_000), "1.5 core-h");
  assertEquals(formatCoreHours(36_000_000 * 2.5), "25 core-h");
  assertEquals(formatCoreHours(-1), "?");
});
