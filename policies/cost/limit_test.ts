import assert from "node:assert/strict";
import {
  CostSettingsSchema,
  costVerdict,
  formatCost,
  limitStatusReason,
} from "./limit.ts";

Deno.test("costVerdict: ok below 80 %, warn from 80 %, limit from 100 %", () => {
  const level = (spent: number, limit: number | null, warnRatio?: number) =>
    costVerdict(spent, limit, { warnRatio }).level;
  assert.equal(level(0, 10), "ok");
  assert.equal(level(7.999, 10), "ok");
  assert.equal(level(8, 10), "warn");
  assert.equal(level(9.999, 10), "warn");
  assert.equal(level(10, 10), "limit");
  assert.equal(level(25, 10), "limit");
  assert.equal(level(5, 10, 0.5), "warn");
  assert.equal(level(4.9, 10, 0.5), "ok");
  // No limit: always ok; a limit of 0: always reached.
  assert.equal(level(1e12, null), "ok");
  assert.equal(level(0, 0), "limit");
  assert.deepEqual(costVerdict(3, undefined), {
    level: "ok",
    spent: 3,
    limit: null,
    ratio: 0,
  });
});

Deno.test("costVerdict: the action is pause unless the policy says terminate", () => {
  assert.deepEqual(costVerdict(12, 10), {
    level: "limit",
    spent: 12,
    limit: 10,
    ratio: 1.2,
    action: "pause",
  });
  const v = costVerdict(10, 10, { action: "terminate" });
  assert.ok(v.level === "limit" && v.action === "terminate");
  assert.throws(() => costVerdict(-1, 10), RangeError);
  assert.throws(() => costVerdict(NaN, 10), RangeError);
});

Deno.test("CostSettingsSchema: defaults, refusals", () => {
  assert.deepEqual(CostSettingsSchema.parse({}), {
    action: "pause",
    warnRatio: 0.8,
    maintain: false,
    timeZone: "UTC",
  });
  assert.equal(
    CostSettingsSchema.parse({ action: "terminate", maintain: true }).action,
    "terminate",
  );
  for (
    const bad of [
      { action: "delete" },
      { warnRatio: 0 },
      { warnRatio: 1.5 },
      { timeZone: "Moon/Base" },
      { limit: 10 },
    ]
  ) {
    assert.equal(
      CostSettingsSchema.safeParse(bad).success,
      false,
      JSON.stringify(bad),
    );
  }
});

Deno.test("status reasons and cost formatting", () => {
  assert.equal(
    limitStatusReason({ action: "terminate", spent: 5, limit: 5 }),
    "terminated: today's cost 5.00 reached the daily cost limit 5.00",
  );
  assert.equal(formatCost(0), "0.00");
  assert.equal(formatCost(1234.567), "1234.57");
  assert.equal(formatCost(0.000123), "0.00012");
});
