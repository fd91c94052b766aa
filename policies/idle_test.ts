import assert from "node:assert/strict";
import { decideExpiry } from "./idle.ts";

const S = 1000;

Deno.test("idle timeout at exactly the deadline, not before", () => {
  const policy = { idle_timeout: 600 };
  assert.deepEqual(
    decideExpiry({
      createdAt: 0,
      lastActivityAt: 100 * S,
      policy,
      now: 700 * S - 1,
    }),
    { expire: false, nextCheckAt: 700 * S },
  );
  assert.deepEqual(
    decideExpiry({
      createdAt: 0,
      lastActivityAt: 100 * S,
      policy,
      now: 700 * S,
    }),
    { expire: true, reason: "idle-timeout", at: 700 * S },
  );
});

Deno.test("max lifetime regardless of activity", () => {
  const policy = { idle_timeout: 600, max_session_lifetime: 3600 };
  const d = decideExpiry({
    createdAt: 0,
    lastActivityAt: 3599 * S,
    policy,
    now: 3600 * S,
  });
  assert.deepEqual(d, { expire: true, reason: "max-lifetime", at: 3600 * S });
  const e = decideExpiry({
    createdAt: 0,
    lastActivityAt: 3500 * S,
    policy,
    now: 3550 * S,
  });
  assert.deepEqual(e, { expire: false, nextCheckAt: 3600 * S });
});

Deno.test("both reached: the earlier deadline is the reason; ties to max-lifetime", () => {
  const policy = { idle_timeout: 60, max_session_lifetime: 100 };
  assert.deepEqual(
    decideExpiry({ createdAt: 0, lastActivityAt: 0, policy, now: 1000 * S }),
    { expire: true, reason: "idle-timeout", at: 60 * S },
  );
  assert.deepEqual(
    decideExpiry({
      createdAt: 0,
      lastActivityAt: 40 * S,
      policy,
      now: 1000 * S,
    }),
    { expire: true, reason: "max-lifetime", at: 100 * S },
  );
});

Deno.test("0 or absent limits never expire", () => {
  for (const policy of [{}, { idle_timeout: 0, max_session_lifetime: 0 }]) {
    assert.deepEqual(
      decideExpiry({ createdAt: 0, lastActivityAt: 0, policy, now: 1e13 }),
      { expire: false, nextCheckAt: null },
    );
  }
});

Deno.test("activity before creation counts as creation", () => {
  const d = decideExpiry({
    createdAt: 100 * S,
    lastActivityAt: 0,
    policy: { idle_timeout: 60 },
    now: 150 * S,
  });
  assert.deepEqual(d, { expire: false, nextCheckAt: 160 * S });
});
