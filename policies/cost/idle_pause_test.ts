import assert from "node:assert/strict";
import { decideIdlePause, pausedSlots } from "./idle_pause.ts";

const base = {
  now: 0,
  lastActivityAt: 1_000,
  idlePauseMs: 30_000,
  busy: false,
  holds: 0,
};

Deno.test("decideIdlePause: pauses once the idle time passed since the last use", () => {
  assert.deepEqual(decideIdlePause({ ...base, now: 30_999 }), {
    pause: false,
    nextCheckAt: 31_000,
  });
  const d = decideIdlePause({ ...base, now: 31_000 });
  assert.ok(d.pause);
  assert.match(d.reason, /idle for 30 s/);
  const long = decideIdlePause({ ...base, idlePauseMs: 600_000, now: 1e9 });
  assert.ok(long.pause && /10 min/.test(long.reason));
});

Deno.test("decideIdlePause: never while running, held, or disabled", () => {
  const late = { ...base, now: 1e12 };
  assert.deepEqual(decideIdlePause({ ...late, busy: true }), {
    pause: false,
    nextCheckAt: null,
  });
  assert.equal(decideIdlePause({ ...late, holds: 2 }).pause, false);
  assert.equal(decideIdlePause({ ...late, idlePauseMs: 0 }).pause, false);
  assert.equal(decideIdlePause({ ...late, idlePauseMs: -5 }).pause, false);
  assert.equal(decideIdlePause({ ...late, idlePauseMs: NaN }).pause, false);
});

Deno.test("pausedSlots: memory stays, cpu and devices go back", () => {
  assert.deepEqual(
    pausedSlots({ cpu: 4, mem: 2 ** 30, "cuda.device": 2, "cuda.mem": 5 }),
    { mem: 2 ** 30 },
  );
});
