import { assert, assertEquals, assertFalse } from "./store/_testing.ts";
import {
  canTransition,
  ENDED_STATUSES,
  isLive,
  SESSION_STATUSES,
  SESSION_TRANSITIONS,
} from "./lifecycle.ts";

Deno.test("the happy path is allowed step by step", () => {
  const path = [
    "PENDING",
    "SCHEDULED",
    "PREPARING",
    "RUNNING",
    "TERMINATING",
    "TERMINATED",
  ] as const;
  for (let i = 1; i < path.length; i++) {
    assert(canTransition(path[i - 1], path[i]), `${path[i - 1]}→${path[i]}`);
  }
});

Deno.test("ended statuses are final and not live", () => {
  for (const s of ENDED_STATUSES) {
    assertEquals(SESSION_TRANSITIONS[s], []);
    assertFalse(isLive(s));
  }
  assert(isLive("TERMINATING"));
});

Deno.test("no skipping ahead, no going back, no self loops", () => {
  assertFalse(canTransition("PENDING", "RUNNING"));
  assertFalse(canTransition("RUNNING", "PENDING"));
  assertFalse(canTransition("RUNNING", "TERMINATED"));
  for (const s of SESSION_STATUSES) assertFalse(canTransition(s, s));
});

Deno.test("every target in the table is a known status and every live status can end", () => {
  for (const s of SESSION_STATUSES) {
    for (const t of SESSION_TRANSITIONS[s]) {
      assert(SESSION_STATUSES.includes(t));
    }
    if (isLive(s)) {
      assert(SESSION_TRANSITIONS[s].includes("ERROR"), `${s} can fail`);
    }
  }
});
