/**
 * The hand-written envelope check against the zod schemas it implements:
 * same verdict and same output on valid envelopes, on every single-field
 * mutation of them, and on random junk (seeded, so a failure reproduces).
 */
import { assertEquals } from "./_test_assert.ts";
import { checkEnvelope } from "./envelope.ts";
import { Kind, parseEnvelope } from "./protocol.ts";

const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

const valid: unknown[][] = [
  [Kind.TELL, "/user/a", { x: 1 }, tp],
  [Kind.TELL, "/", null, ""],
  [Kind.ASK, 0, "/user/a", [1, 2], 1, tp],
  [Kind.ASK, 2 ** 53 - 1, "/a", "m", 86_400_000, tp],
  [Kind.REPLY, 7, "v", tp],
  [Kind.FAIL, 7, "TypeError", "nope", tp],
  [Kind.WATCH, "/user/t", "/user/w", tp],
  [Kind.UNWATCH, "/user/t", "/user/w", tp],
  [Kind.TERMINATED, "/user/w", "/user/t", { kind: "normal" }, tp],
  [Kind.TERMINATED, "/w", "/t", { kind: "failure", error: "boom" }, tp],
  [Kind.TERMINATED, "/w", "/t", { kind: "node-down", node: "n", x: 1 }, tp],
  [Kind.HEARTBEAT, 123.5],
  [Kind.PONG, 0],
  [Kind.PING, -3],
  [Kind.LEAVE, "shutdown"],
];

/** Values that probe each kind of field check. */
const probes: unknown[] = [
  undefined,
  null,
  -1,
  0,
  -0,
  0.5,
  1,
  86_400_001,
  2 ** 53,
  1e400,
  "",
  "rel",
  "/ok",
  "/" + "x".repeat(1023),
  "/" + "x".repeat(1024),
  "😀".repeat(64),
  "😀".repeat(65),
  "\ud83d".repeat(65),
  "x".repeat(65),
  "y".repeat(257),
  {},
  { kind: "normal" },
  { kind: "failure" },
  { kind: "node-down", node: 1 },
  [],
  [1],
  true,
];

function same(raw: unknown) {
  const a = checkEnvelope(raw);
  const z = parseEnvelope(raw);
  assertEquals(
    a === undefined ? "invalid" : JSON.stringify(a),
    z === undefined ? "invalid" : JSON.stringify(z),
    `verdicts differ on ${JSON.stringify(raw)}`,
  );
}

Deno.test("envelope: valid envelopes pass both checks with the same output", () => {
  for (const env of valid) {
    assertEquals(checkEnvelope(env) !== undefined, true, JSON.stringify(env));
    same(env);
  }
});

Deno.test("envelope: every one-field mutation, shorter and longer, gets the zod verdict", () => {
  for (const env of valid) {
    for (let i = 0; i < env.length; i++) {
      for (const p of probes) {
        const m = [...env];
        m[i] = p;
        same(m);
      }
    }
    same(env.slice(0, -1));
    same([...env, "extra"]);
  }
  for (const junk of probes) same(junk);
  for (let k = -1; k < 13; k++) same([k, "/a", 1, tp]);
});

Deno.test("envelope: random junk (seeded) gets the zod verdict", () => {
  let seed = 0x2545f491;
  const rnd = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  for (let i = 0; i < 20_000; i++) {
    const len = Math.floor(rnd() * 7);
    const env: unknown[] = [Math.floor(rnd() * 12)];
    for (let j = 1; j < len; j++) env.push(pick(probes));
    same(env);
  }
});
