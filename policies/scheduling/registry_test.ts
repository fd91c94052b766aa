import assert from "node:assert/strict";
import {
  DEFAULT_SCHEDULER,
  isSchedulerKind,
  SCHEDULER_KINDS,
  schedulingPolicy,
  UnknownSchedulerError,
} from "./registry.ts";

Deno.test("registry: every kind resolves to the policy of that name", () => {
  assert.deepEqual([...SCHEDULER_KINDS], ["fifo", "lifo", "drf"]);
  assert.equal(DEFAULT_SCHEDULER, "fifo");
  for (const k of SCHEDULER_KINDS) {
    assert.equal(schedulingPolicy(k).name, k);
    assert.ok(isSchedulerKind(k));
    assert.ok(schedulingPolicy(k).description.length > 0);
  }
  assert.ok(Object.isFrozen(SCHEDULER_KINDS));
});

Deno.test("registry: unknown names are refused with a typed error", () => {
  for (const bad of ["", "FIFO", "round-robin", 1, null, undefined]) {
    assert.equal(isSchedulerKind(bad), false, String(bad));
  }
  assert.throws(
    () => schedulingPolicy("priority" as "fifo"),
    (e: unknown) => e instanceof UnknownSchedulerError && e.kind === "priority",
  );
});
