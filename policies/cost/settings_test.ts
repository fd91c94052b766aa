import assert from "node:assert/strict";
import {
  DEFAULT_KEYPAIR_COST_SETTINGS,
  effectiveDailyLimit,
  KeypairCostSettingsPatchSchema,
  KeypairCostSettingsSchema,
  limitAbovePolicy,
  MAX_IDLE_PAUSE_SECONDS,
} from "./settings.ts";

Deno.test("keypair cost settings: defaults filled, bad values and unknown keys refused", () => {
  assert.deepEqual(
    KeypairCostSettingsSchema.parse({}),
    DEFAULT_KEYPAIR_COST_SETTINGS,
  );
  const ok = KeypairCostSettingsSchema.parse({
    dailyCostLimit: 12.5,
    idlePauseSeconds: 300,
    action: "terminate",
    warnRatio: 0.5,
    maintain: true,
    timeZone: "Asia/Seoul",
  });
  assert.equal(ok.timeZone, "Asia/Seoul");
  for (
    const bad of [
      { dailyCostLimit: -1 },
      { dailyCostLimit: Infinity },
      { idlePauseSeconds: 1.5 },
      { idlePauseSeconds: MAX_IDLE_PAUSE_SECONDS + 1 },
      { action: "pause-everything" },
      { warnRatio: 0 },
      { warnRatio: 1.5 },
      { timeZone: "Mars/Olympus" },
      { maintain: "yes" },
      { limit: 3 },
    ]
  ) {
    assert.ok(
      !KeypairCostSettingsSchema.safeParse(bad).success,
      JSON.stringify(bad),
    );
    assert.ok(
      !KeypairCostSettingsPatchSchema.safeParse(bad).success,
      JSON.stringify(bad),
    );
  }
});

Deno.test("keypair cost settings: a patch keeps what it leaves out, null clears the own limit", () => {
  const stored = KeypairCostSettingsSchema.parse({
    dailyCostLimit: 5,
    maintain: true,
  });
  const patch = KeypairCostSettingsPatchSchema.parse({ dailyCostLimit: null });
  const merged = KeypairCostSettingsSchema.parse({ ...stored, ...patch });
  assert.equal(merged.dailyCostLimit, null);
  assert.equal(merged.maintain, true);
  assert.deepEqual(KeypairCostSettingsPatchSchema.parse({}), {});
});

Deno.test("effectiveDailyLimit: the smaller limit wins, none means unlimited", () => {
  assert.equal(effectiveDailyLimit(10, 20), 10);
  assert.equal(effectiveDailyLimit(10, 0), 0);
  assert.equal(effectiveDailyLimit(null, null), null);
  assert.equal(effectiveDailyLimit(Infinity, null), null);
});

Deno.test("limitAbovePolicy: a keypair may lower its limit, never raise it", () => {
  assert.equal(limitAbovePolicy(10, 10), undefined);
  assert.equal(limitAbovePolicy(0, 10), undefined);
  assert.ok(limitAbovePolicy(10.01, 10));
  assert.equal(limitAbovePolicy(1e9, undefined), undefined);
});
