import { assertEquals, assertMatch } from "../../../tests/support/assert.ts";
import { parseSettingsForm } from "./settings.tsx";

const FORM = {
  dailyCostLimit: "5",
  action: "terminate",
  warnPercent: "80",
  maintain: "on",
  optimise: "on",
  idleMinutes: "15",
  timeZone: "UTC",
};

Deno.test("settings form: fields become a settings change", () => {
  const r = parseSettingsForm(FORM, null);
  assertEquals("patch" in r && r.patch, {
    dailyCostLimit: 5,
    action: "terminate",
    maintain: true,
    idlePauseSeconds: 900,
    warnRatio: 0.8,
    timeZone: "UTC",
  });
  // Unchecked boxes and an empty limit: no own limit, no idle pause.
  const off = parseSettingsForm({
    ...FORM,
    dailyCostLimit: "",
    maintain: undefined,
    optimise: undefined,
    idleMinutes: "x",
  }, null);
  assertEquals("patch" in off && off.patch.dailyCostLimit, null);
  assertEquals("patch" in off && off.patch.idlePauseSeconds, 0);
  assertEquals("patch" in off && off.patch.maintain, false);
});

Deno.test("settings form: bounds of the policy and of each field", () => {
  const err = (form: Record<string, unknown>, policy: number | null = null) => {
    const r = parseSettingsForm({ ...FORM, ...form }, policy);
    return "error" in r ? r.error : "";
  };
  assertMatch(err({ dailyCostLimit: "11" }, 10), /at most 10\.00/);
  assertEquals(err({ dailyCostLimit: "10" }, 10), "");
  assertMatch(err({ dailyCostLimit: "-1" }), /0 or more/);
  assertMatch(err({ dailyCostLimit: "abc" }), /a number/);
  assertMatch(err({ action: "explode" }), /at the limit/);
  assertMatch(err({ idleMinutes: "0" }), /1 to 43200/);
  assertMatch(err({ idleMinutes: "1.5" }), /whole number/);
  assertMatch(err({ warnPercent: "0" }), /1 to 100/);
  assertMatch(err({ timeZone: "Mars/Olympus" }), /time zone/);
  assertEquals(err({ timeZone: "Asia/Seoul" }), "");
});
