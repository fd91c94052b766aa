import assert from "node:assert/strict";
import {
  ANONYMOUS_RATE_LIMIT_HEADERS,
  checkRateLimit,
  emptyRateLimitState,
  RATE_LIMIT_WINDOW_MS,
  rateLimitCount,
  rateLimitHeaders,
  type RateLimitState,
} from "./rate_limit.ts";

const W = RATE_LIMIT_WINDOW_MS;

function run(times: number[], limit: number, state = emptyRateLimitState()) {
  const allowed: boolean[] = [];
  for (const t of times) {
    const d = checkRateLimit(state, t, limit);
    allowed.push(d.allowed);
    state = d.state;
  }
  return { allowed, state };
}

Deno.test("the (limit+1)-th request inside a window is refused", () => {
  const d = run([0, 1, 2, 3], 3);
  assert.deepEqual(d.allowed, [true, true, true, false]);
});

Deno.test("boundary: a request at t+900 s no longer sees the one at t", () => {
  assert.deepEqual(run([0, W - 1], 1).allowed, [true, false]);
  assert.deepEqual(run([0, W], 1).allowed, [true, true]);
  assert.deepEqual(run([5000, 5000 + W - 1, 5000 + W], 1).allowed, [
    true,
    false,
    true,
  ]);
});

Deno.test("remaining and retryAfterMs", () => {
  let s = emptyRateLimitState();
  const a = checkRateLimit(s, 1000, 3);
  assert.equal(a.remaining, 2);
  s = checkRateLimit(a.state, 2000, 3).state;
  const c = checkRateLimit(s, 3000, 3);
  assert.equal(c.remaining, 0);
  assert.ok(c.allowed);
  const d = checkRateLimit(c.state, 4000, 3);
  assert.ok(!d.allowed);
  assert.equal(d.remaining, 0);
  assert.equal(d.retryAfterMs, 1000 + W - 4000);
  assert.ok(checkRateLimit(d.state, 1000 + W, 3).allowed);
  assert.equal(checkRateLimit(emptyRateLimitState(), 0, 0).retryAfterMs, W);
});

Deno.test("exact against a brute-force model on a random trace", () => {
  // Deterministic LCG so the trace is reproducible.
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const limit = 7, window = 10_000;
  let state = emptyRateLimitState();
  const accepted: number[] = [];
  let t = 0;
  for (let i = 0; i < 5000; i++) {
    t += Math.floor(rnd() * 3000);
    const want = accepted.filter((x) => x > t - window).length < limit;
    const d = checkRateLimit(state, t, limit, { windowMs: window });
    assert.equal(d.allowed, want, `request ${i} at ${t}`);
    if (d.allowed) accepted.push(t);
    state = d.state;
    // Any window of `window` ms holds at most `limit` accepted requests.
    assert.ok(accepted.filter((x) => x > t - window).length <= limit);
    assert.ok(state.end - state.head <= limit);
  }
});

Deno.test("memory stays bounded over a long run", () => {
  let state: RateLimitState = emptyRateLimitState();
  for (let t = 0; t < 200_000; t += 7) {
    state = checkRateLimit(state, t, 100, { windowMs: 1000 }).state;
  }
  assert.ok(state.log.length <= 2 * 100 + 64, `log ${state.log.length}`);
});

Deno.test("states are values: reusing an old state does not see later ones", () => {
  const s0 = checkRateLimit(emptyRateLimitState(), 0, 2).state;
  const s1 = checkRateLimit(s0, 1, 2).state; // full
  assert.ok(!checkRateLimit(s1, 2, 2).allowed);
  // Branch from s0: it has room for one more.
  const b = checkRateLimit(s0, 3, 2);
  assert.ok(b.allowed);
  assert.equal(rateLimitCount(s0, 3), 1);
  assert.equal(rateLimitCount(s1, 3), 2);
  assert.equal(rateLimitCount(b.state, 3), 2);
  assert.ok(!checkRateLimit(s1, 4, 2).allowed);
});

Deno.test("time going backwards counts as the latest time seen", () => {
  const a = run([W, 0], 2);
  assert.deepEqual(a.allowed, [true, true]);
  assert.equal(rateLimitCount(a.state, W), 2);
  // The second one was recorded at W, so it expires at 2W, not W.
  assert.equal(rateLimitCount(a.state, 2 * W - 1), 2);
  assert.equal(rateLimitCount(a.state, 2 * W), 0);
});

Deno.test("limit changes, zero, infinity and invalid arguments", () => {
  const full = run([0, 1, 2], 3).state;
  assert.ok(!checkRateLimit(full, 3, 2).allowed); // lowered below count
  assert.ok(checkRateLimit(full, 3, 4).allowed); // raised
  assert.ok(!checkRateLimit(emptyRateLimitState(), 0, 0).allowed);
  const inf = checkRateLimit(full, 3, Infinity);
  assert.ok(inf.allowed);
  assert.equal(inf.state, full);
  assert.throws(() => checkRateLimit(full, 3, -1), RangeError);
  assert.throws(() => checkRateLimit(full, 3, NaN), RangeError);
  assert.throws(
    () => checkRateLimit(full, 3, 1, { windowMs: 0 }),
    RangeError,
  );
});

Deno.test("headers", () => {
  assert.deepEqual(rateLimitHeaders(1000, 998), {
    "X-RateLimit-Limit": "1000",
    "X-RateLimit-Remaining": "998",
    "X-RateLimit-Window": "900",
  });
  assert.equal(rateLimitHeaders(10, -3)["X-RateLimit-Remaining"], "0");
  assert.deepEqual(ANONYMOUS_RATE_LIMIT_HEADERS, {
    "X-RateLimit-Limit": "1000",
    "X-RateLimit-Remaining": "1000",
    "X-RateLimit-Window": "900",
  });
  assert.ok(Object.isFrozen(ANONYMOUS_RATE_LIMIT_HEADERS));
});
