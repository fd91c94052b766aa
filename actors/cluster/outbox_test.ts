import { assert, assertEquals } from "./_test_assert.ts";
import { FRAGMENT_HEADER_BYTES } from "./fragments.ts";
import { Outbox } from "./outbox.ts";

const big = (tag: string) =>
  JSON.stringify([0, "/p", tag + "x".repeat(5000), ""]);
const small = (tag: string) => JSON.stringify([0, "/p", tag, ""]);

/** Drains like a link: small frames first, then one fragment, until empty. */
function drain(box: Outbox): string[] {
  const seen: string[] = [];
  const parts = new Map<number, Uint8Array[]>();
  const dec = new TextDecoder();
  for (;;) {
    if (box.hasSmall) {
      for (const env of JSON.parse(box.takeSmall()!)) seen.push(env[2]);
    } else if (box.hasLarge) {
      const f = box.takeFragment()!;
      const id = new DataView(f.buffer).getUint32(4);
      const list = parts.get(id) ?? [];
      list.push(f.subarray(FRAGMENT_HEADER_BYTES));
      parts.set(id, list);
      if (f[1] & 2) {
        const text = dec.decode(
          new Uint8Array(list.flatMap((p) => [...p])),
        );
        seen.push(JSON.parse(text)[0][2].slice(0, 2));
      }
    } else return seen;
  }
}

Deno.test("outbox: small envelopes overtake a large one, except those for the same key", () => {
  const box = new Outbox({ fragmentThreshold: 1000, fragmentBytes: 1000 });
  assert(box.push(small("a1"), "/a", false));
  assert(box.push(big("A2"), "/a", false)); // large, key /a
  assert(box.push(small("a3"), "/a", false)); // must wait behind A2
  assert(box.push(small("b1"), "/b", false)); // other key: passes
  assert(box.push(small("r1"), undefined, true)); // a reply: passes
  assert(box.push(big("A4"), "/a", false)); // large behind a3
  assert(box.push(small("a5"), "/a", false));
  assertEquals(box.size, 7);
  const order = drain(box);
  assertEquals(order.filter((t) => t[0].toLowerCase() === "a"), [
    "a1",
    "A2",
    "a3",
    "A4",
    "a5",
  ]);
  assert(order.indexOf("b1") < order.indexOf("A2"), order.join());
  assert(order.indexOf("r1") < order.indexOf("A2"), order.join());
  assertEquals(box.size, 0);
  assertEquals(box.largeBytes, 0);
  assertEquals(box.largeMessages, 2);
});

Deno.test("outbox: two large messages for different keys take turns", () => {
  const box = new Outbox({ fragmentThreshold: 1000, fragmentBytes: 1000 });
  box.push(big("P1"), "/p", false);
  box.push(big("Q1"), "/q", false);
  const ids: number[] = [];
  while (box.hasLarge) {
    ids.push(new DataView(box.takeFragment()!.buffer).getUint32(4));
  }
  assertEquals(ids.slice(0, 4), [1, 2, 1, 2]);
});

Deno.test("outbox: bounds refuse ordinary traffic but not urgent traffic", () => {
  const box = new Outbox({
    fragmentThreshold: 1000,
    fragmentBytes: 1000,
    maxQueuedBytes: 8000,
    maxQueued: 3,
  });
  assert(box.push(big("A1"), "/a", false));
  assert(!box.push(big("B1"), "/b", false)); // over the byte bound
  assert(box.push(big("B2"), "/b", true)); // urgent: a reply must go out
  assert(box.push(small("c"), "/c", false));
  assert(!box.push(small("d"), "/d", false)); // 3 queued
  assert(box.push(small("e"), "/e", true));
  assertEquals(box.clear(), 4);
  assertEquals([box.size, box.largeBytes], [0, 0]);
});
