import { assert, assertEquals } from "../../tests/support/assert.ts";
import { SigninLimiter } from "./signin_limiter.ts";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

Deno.test("a key is refused after its failures, until the window ends", () => {
  const c = clock();
  const l = new SigninLimiter({
    perKey: 3,
    perAddress: 100,
    windowMs: 60_000,
    now: c.now,
  });
  for (let i = 0; i < 3; i++) {
    assert(l.check(`10.0.0.${i}`, "AKIA1").allowed);
    l.failed(`10.0.0.${i}`, "AKIA1");
  }
  const v = l.check("10.0.0.9", "AKIA1");
  assert(!v.allowed);
  if (!v.allowed) assertEquals(v.retryAfterMs, 60_000);
  assert(l.check("10.0.0.9", "AKIA2").allowed, "other keys are not affected");
  c.advance(60_000);
  assert(l.check("10.0.0.9", "AKIA1").allowed, "the window ended");
});

Deno.test("an address is refused after its failures, whatever key it tries", () => {
  const c = clock();
  const l = new SigninLimiter({ perAddress: 2, perKey: 100, now: c.now });
  l.failed("10.0.0.1", "AKIA1");
  l.failed("10.0.0.1", "AKIA2");
  assert(!l.check("10.0.0.1", "AKIA3").allowed);
  assert(l.check("10.0.0.2", "AKIA3").allowed);
});

Deno.test("success clears the key's count but not the address's", () => {
  const l = new SigninLimiter({ perAddress: 3, perKey: 2 });
  l.failed("a", "K");
  l.failed("a", "K");
  assert(!l.check("b", "K").allowed);
  l.succeeded("K");
  assert(l.check("b", "K").allowed);
  l.failed("a", "J");
  assert(!l.check("a", "other").allowed, "address a has 3 failures");
});

Deno.test("memory stays bounded and a persistent address survives a flood", () => {
  const l = new SigninLimiter({
    perAddress: 5,
    perKey: 5,
    maxEntries: 100,
  });
  for (let i = 0; i < 5; i++) l.failed("attacker", `K${i}`);
  for (let i = 0; i < 1000; i++) {
    l.failed(`spoof-${i}`, `X${i}`);
    if (i % 50 === 0) l.failed("attacker", "again");
  }
  const sizes = l.sizes;
  assert(sizes.addresses <= 100 && sizes.keys <= 100, JSON.stringify(sizes));
  assert(!l.check("attacker", "fresh-key").allowed);
});
