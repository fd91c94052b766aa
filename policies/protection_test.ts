import assert from "node:assert/strict";
import {
  hostsProtectedSession,
  isSessionProtected,
  protectionReason,
} from "./protection.ts";

const MIN = 60_000;

Deno.test("flag protects whatever the rules", () => {
  const s = {
    type: "interactive",
    createdAt: 0,
    config: { scale_in_protected: true },
  };
  assert.equal(protectionReason(s, {}, 0), "flag");
  assert.equal(
    protectionReason({ ...s, config: { scale_in_protected: false } }, {}, 0),
    null,
  );
  assert.equal(protectionReason({ ...s, config: null }, {}, 0), null);
});

Deno.test("batch rule protects batch sessions only", () => {
  const rules = { batchSessions: true };
  assert.equal(
    protectionReason({ type: "batch", createdAt: 0 }, rules, 0),
    "batch",
  );
  assert.equal(
    protectionReason({ type: "interactive", createdAt: 0 }, rules, 0),
    null,
  );
  assert.equal(protectionReason({ type: "batch", createdAt: 0 }, {}, 0), null);
});

Deno.test("age rule: at or past N minutes", () => {
  const s = { type: "interactive", createdAt: 1000 };
  const rules = { olderThanMinutes: 30 };
  assert.ok(!isSessionProtected(s, rules, 1000 + 30 * MIN - 1));
  assert.equal(protectionReason(s, rules, 1000 + 30 * MIN), "age");
  assert.ok(isSessionProtected(s, { olderThanMinutes: 0 }, 1000));
  assert.ok(!isSessionProtected(s, { olderThanMinutes: null }, 1e12));
});

Deno.test("precedence: flag, then batch, then age", () => {
  const s = {
    type: "batch",
    createdAt: 0,
    config: { scale_in_protected: true },
  };
  const rules = { batchSessions: true, olderThanMinutes: 0 };
  assert.equal(protectionReason(s, rules, 0), "flag");
  assert.equal(protectionReason({ ...s, config: {} }, rules, 0), "batch");
  assert.equal(
    protectionReason({ type: "interactive", createdAt: 0 }, rules, 0),
    "age",
  );
});

Deno.test("hostsProtectedSession: any one suffices", () => {
  const plain = { type: "interactive", createdAt: 0 };
  const batch = { type: "batch", createdAt: 0 };
  assert.ok(hostsProtectedSession([plain, batch], { batchSessions: true }, 0));
  assert.ok(!hostsProtectedSession([plain, batch], {}, 0));
});
