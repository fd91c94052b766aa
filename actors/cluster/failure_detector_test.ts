import { assert } from "./_test_assert.ts";
import { PhiAccrualFailureDetector, phiOf } from "./failure_detector.ts";

Deno.test("failure detector: regular heartbeats keep a node available", () => {
  const fd = new PhiAccrualFailureDetector();
  let t = 0;
  for (let i = 0; i < 30; i++) {
    fd.heartbeat(t);
    assert(fd.isAvailable(t + 900));
    t += 1000;
  }
});

Deno.test("failure detector: a silent node is suspected after a few seconds, not after one missed beat", () => {
  const fd = new PhiAccrualFailureDetector(); // 1 s heartbeats, 2 s pause, φ 8
  let t = 0;
  for (let i = 0; i < 20; i++) fd.heartbeat(t += 1000);
  assert(fd.isAvailable(t + 2000), "one or two missed beats are tolerated");
  assert(fd.isAvailable(t + 3000));
  assert(!fd.isAvailable(t + 5000), "five silent seconds mean down");
  assert(fd.phi(t + 6000) > fd.phi(t + 5000), "suspicion grows with silence");
});

Deno.test("failure detector: jittery links widen the tolerance", () => {
  const steady = new PhiAccrualFailureDetector({ minStdDeviationMs: 10 });
  const jittery = new PhiAccrualFailureDetector({ minStdDeviationMs: 10 });
  let a = 0;
  let b = 0;
  for (let i = 0; i < 50; i++) {
    steady.heartbeat(a += 1000);
    jittery.heartbeat(b += i % 2 ? 400 : 1600);
  }
  assert(jittery.phi(b + 3500) < steady.phi(a + 3500));
});

Deno.test("failure detector: phi is monotonic and 0-ish at the mean", () => {
  assert(phiOf(1000, 1000, 100) < 1);
  assert(phiOf(1500, 1000, 100) > phiOf(1200, 1000, 100));
  assert(
    new PhiAccrualFailureDetector().phi(1e9) === 0,
    "no heartbeat yet: no suspicion",
  );
});
