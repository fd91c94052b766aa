import { assert, assertEquals, assertRejects } from "./_test_assert.ts";
import { HandshakeRefusedError } from "./errors.ts";
import {
  checkHello,
  checkWelcome,
  importSecret,
  makeHello,
  makeWelcome,
  NonceCache,
} from "./handshake.ts";

const good = await importSecret("s3cret");
const bad = await importSecret("wrong");
const dialer = { key: good, node: "agent-1", incarnation: 11 };
const acceptor = { key: good, node: "manager", incarnation: 22 };

Deno.test("handshake: a hello and welcome with the same secret pass, and the secret is not on the wire", async () => {
  const nonces = new NonceCache();
  const hello = await makeHello(dialer);
  assert(!JSON.stringify(hello).includes("s3cret"));
  const h = await checkHello(good, JSON.parse(JSON.stringify(hello)), nonces);
  assertEquals([h.node, h.inc], ["agent-1", 11]);
  const welcome = await makeWelcome(acceptor, h.nonce);
  const w = await checkWelcome(
    good,
    JSON.parse(JSON.stringify(welcome)),
    hello.nonce,
  );
  assertEquals([w.node, w.inc], ["manager", 22]);
});

Deno.test("handshake: a wrong secret is refused as bad-secret (both directions)", async () => {
  const err = await assertRejects(
    checkHello(
      good,
      await makeHello({ ...dialer, key: bad }),
      new NonceCache(),
    ),
    HandshakeRefusedError,
  );
  assertEquals(err.code, "bad-secret");
  const hello = await makeHello(dialer);
  const w = await makeWelcome({ ...acceptor, key: bad }, hello.nonce);
  assertEquals(
    (await assertRejects(
      checkWelcome(good, w, hello.nonce),
      HandshakeRefusedError,
    )).code,
    "bad-secret",
  );
});

Deno.test("handshake: a tampered field breaks the MAC", async () => {
  const hello = await makeHello(dialer);
  const err = await assertRejects(
    checkHello(good, { ...hello, inc: 12 }, new NonceCache()),
    HandshakeRefusedError,
  );
  assertEquals(err.code, "bad-secret");
});

Deno.test("handshake: a welcome for another hello's nonce is refused", async () => {
  const h1 = await makeHello(dialer);
  const h2 = await makeHello(dialer);
  const w = await makeWelcome(acceptor, h1.nonce);
  assertEquals(
    (await assertRejects(
      checkWelcome(good, w, h2.nonce),
      HandshakeRefusedError,
    )).code,
    "bad-secret",
  );
});

Deno.test("handshake: a replayed hello is refused within the window", async () => {
  const nonces = new NonceCache(30_000);
  const hello = await makeHello(dialer);
  await checkHello(good, hello, nonces);
  assertEquals(
    (await assertRejects(
      checkHello(good, hello, nonces),
      HandshakeRefusedError,
    )).code,
    "replay",
  );
});

Deno.test("handshake: a hello outside the ±30 s window is refused as clock-skew", async () => {
  const now = Date.now();
  const old = await makeHello(dialer, now - 31_000);
  const future = await makeHello(dialer, now + 31_000);
  const nonces = new NonceCache(30_000);
  assertEquals(
    (await assertRejects(
      checkHello(good, old, nonces, now),
      HandshakeRefusedError,
    )).code,
    "clock-skew",
  );
  assertEquals(
    (await assertRejects(
      checkHello(good, future, nonces, now),
      HandshakeRefusedError,
    )).code,
    "clock-skew",
  );
  await checkHello(good, await makeHello(dialer, now - 29_000), nonces, now);
});

Deno.test("handshake: malformed hellos are refused as malformed", async () => {
  for (const raw of [null, "hello", { t: "hello" }, [1, 2, 3]]) {
    assertEquals(
      (await assertRejects(
        checkHello(good, raw, new NonceCache()),
        HandshakeRefusedError,
      )).code,
      "malformed",
    );
  }
});

Deno.test("handshake: nonces are forgotten once they are older than the window allows", () => {
  const nonces = new NonceCache(1000);
  assert(nonces.add("a", 0));
  assert(!nonces.add("a", 500));
  assert(nonces.add("b", 2500)); // expires "a" (older than 2 windows)
  assertEquals(nonces.size, 1);
  assert(nonces.add("a", 2600));
});
