import assert from "node:assert/strict";
import { decideStartWithinBudget, projectDayCost } from "./maintain.ts";

Deno.test("projection: spent + burn rate × hours left, in the zone", () => {
  const now = Date.UTC(2024, 0, 2, 12); // 21:00 in Seoul
  const utc = projectDayCost({ spent: 1, runningPerHour: 0.5, now });
  assert.equal(utc.hoursLeft, 12);
  assert.equal(utc.projected, 7);
  assert.equal(utc.endsAt, Date.UTC(2024, 0, 3));
  const seoul = projectDayCost({
    spent: 1,
    runningPerHour: 0.5,
    now,
    timeZone: "Asia/Seoul",
  });
  assert.equal(seoul.hoursLeft, 3);
  assert.equal(seoul.projected, 2.5);
  // At 00:00 CET on the fall-back day, 25 hours are left.
  const berlin = projectDayCost({
    spent: 0,
    runningPerHour: 1,
    now: Date.UTC(2024, 9, 26, 22),
    timeZone: "Europe/Berlin",
  });
  assert.equal(berlin.projected, 25);
});

Deno.test("maintain: starts when the projection with it fits, exactly included", () => {
  const now = Date.UTC(2024, 0, 2, 12);
  const base = { spent: 2, runningPerHour: 0.25, now, limit: 8 };
  assert.deepEqual(decideStartWithinBudget({ ...base, newPerHour: 0.25 }), {
    start: true,
    projected: 8,
  });
  assert.ok(decideStartWithinBudget({ ...base, newPerHour: 0.1 }).start);
  // Without a limit, or for a session that costs nothing: always.
  assert.ok(
    decideStartWithinBudget({ ...base, limit: null, newPerHour: 9 }).start,
  );
  assert.ok(
    decideStartWithinBudget({ ...base, spent: 100, newPerHour: 0 }).start,
  );
});

Deno.test("maintain: waits, says why, and fits later the same day", () => {
  const now = Date.UTC(2024, 0, 2, 12);
  const input = {
    spent: 2,
    runningPerHour: 0.25,
    newPerHour: 1,
    limit: 8,
    now,
    timeZone: "UTC",
  };
  const d = decideStartWithinBudget(input);
  assert.ok(!d.start);
  assert.equal(d.projected, 17);
  // Headroom 8 - (2 + 3) = 3: fits when 3 hours are left, at 21:00.
  assert.equal(d.fitsAt, Date.UTC(2024, 0, 2, 21));
  assert.equal(
    d.reason,
    "waiting for the daily cost budget: starting now would bring today's " +
      "projected cost to 17.00 of the 8.00 limit; it fits from 21:00 (UTC)",
  );
  // At that time, with the running sessions having burnt on, it starts.
  const later = decideStartWithinBudget({
    ...input,
    spent: 2 + 0.25 * 9,
    now: d.fitsAt,
  });
  assert.ok(later.start);
  // A minute earlier it still waits.
  const early = decideStartWithinBudget({
    ...input,
    spent: 2 + 0.25 * (9 - 1 / 60),
    now: d.fitsAt - 60_000,
  });
  assert.ok(!early.start);
});

Deno.test("maintain: nothing fits today, so it waits for the rollover", () => {
  const now = Date.UTC(2024, 0, 2, 12, 30); // 21:30 in Seoul
  const d = decideStartWithinBudget({
    spent: 9,
    runningPerHour: 1,
    newPerHour: 0.5,
    limit: 10,
    now,
    timeZone: "Asia/Seoul",
  });
  assert.ok(!d.start);
  assert.equal(d.fitsAt, Date.UTC(2024, 0, 2, 15)); // 00:00 KST on the 3rd
  assert.match(d.reason, /reset at midnight \(Asia\/Seoul\)$/);
  assert.match(d.reason, /projected cost to 12\.75 of the 10\.00 limit/);
});

Deno.test("maintain: bad numbers are refused", () => {
  const now = 0;
  assert.throws(() =>
    decideStartWithinBudget({
      spent: -1,
      runningPerHour: 0,
      newPerHour: 0,
      limit: 1,
      now,
    })
  );
  assert.throws(() =>
    decideStartWithinBudget({
      spent: 0,
      runningPerHour: 0,
      newPerHour: NaN,
      limit: 1,
      now,
    })
  );
});
