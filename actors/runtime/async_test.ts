import {
  abortable,
  deadline,
  DeadlineError,
  delay,
  pooledMap,
  retry,
  RetryError,
} from "./async.ts";
import { assert, assertEquals, assertRejects } from "./_test_util.ts";

Deno.test("delay resolves, and rejects with the signal's reason on abort", async () => {
  await delay(1);
  const c = new AbortController();
  const p = delay(60_000, { signal: c.signal });
  c.abort(new RangeError("aborted"));
  await assertRejects(p, RangeError);
  await assertRejects(
    delay(1, { signal: AbortSignal.abort(new TypeError("x")) }),
    TypeError,
  );
});

Deno.test("deadline passes a fast promise through and fails a slow one", async () => {
  assertEquals(await deadline(Promise.resolve(5), 1000), 5);
  const e = await assertRejects(
    deadline(new Promise(() => {}), 5),
    DeadlineError,
  );
  assertEquals(e.ms, 5);
  await assertRejects(
    deadline(Promise.reject(new TypeError("inner")), 1000),
    TypeError,
  );
});

Deno.test("retry retries until success, then gives up with RetryError", async () => {
  let n = 0;
  assertEquals(
    await retry(() => ++n < 3 ? Promise.reject(new Error("flaky")) : n, {
      minTimeout: 1,
      maxTimeout: 2,
    }),
    3,
  );
  let calls = 0;
  const e = await assertRejects(
    retry(() => {
      calls++;
      throw new TypeError("always");
    }, { minTimeout: 1, maxTimeout: 2, maxAttempts: 3 }),
    RetryError,
  );
  assertEquals(calls, 3);
  assert(e.cause instanceof TypeError);
});

Deno.test("pooledMap bounds concurrency and keeps input order", async () => {
  let inFlight = 0;
  let max = 0;
  const out: number[] = [];
  for await (
    const x of pooledMap(2, [30, 10, 20, 5], async (ms) => {
      inFlight++;
      max = Math.max(max, inFlight);
      await delay(ms);
      inFlight--;
      return ms * 2;
    })
  ) out.push(x);
  assertEquals(out, [60, 20, 40, 10]);
  assertEquals(max, 2);
});

Deno.test("pooledMap reports failures as an AggregateError", async () => {
  const e = await assertRejects(async () => {
    for await (
      const _ of pooledMap(
        2,
        [1, 2, 3],
        (n) => n === 2 ? Promise.reject(new Error("two")) : Promise.resolve(n),
      )
    ) { /* drain */ }
  }, AggregateError);
  assertEquals(e.errors.map((x: Error) => x.message), ["two"]);
});

Deno.test("abortable abandons a promise or an iterable on abort", async () => {
  const c = new AbortController();
  const p = abortable(new Promise(() => {}), c.signal);
  c.abort(new RangeError("enough"));
  await assertRejects(p, RangeError);
  assertEquals(
    await abortable(Promise.resolve(1), new AbortController().signal),
    1,
  );
  async function* gen() {
    yield 1;
    yield 2;
    await new Promise(() => {});
  }
  const c2 = new AbortController();
  const seen: number[] = [];
  await assertRejects(async () => {
    for await (const x of abortable(gen(), c2.signal)) {
      seen.push(x);
      if (x === 2) c2.abort(new TypeError("stop"));
    }
  }, TypeError);
  assertEquals(seen, [1, 2]);
});
