import { assert, assertEquals } from "./_test_assert.ts";
import { backoffDelay } from "./backoff.ts";

Deno.test("backoff: grows exponentially to the ceiling, jitter keeps at least half", () => {
  const low = () => 0;
  const high = () => 0.999999;
  assertEquals(
    [0, 1, 2, 3].map((n) =>
      backoffDelay(n, { baseMs: 100, maxMs: 10_000 }, low)
    ),
    [50, 100, 200, 400],
  );
  assertEquals(backoffDelay(20, { baseMs: 100, maxMs: 10_000 }, high), 10_000);
  assertEquals(backoffDelay(20, { baseMs: 100, maxMs: 10_000 }, low), 5000);
  for (let i = 0; i < 100; i++) {
    const d = backoffDelay(5, { baseMs: 100, maxMs: 10_000 });
    assert(d >= 1600 && d <= 3200);
  }
});
