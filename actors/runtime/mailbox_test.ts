import { Mailbox, type Reply } from "./mailbox.ts";
import { assertEquals } from "./_test_util.ts";

Deno.test("mailbox is FIFO across growth and wrap-around", () => {
  const mb = new Mailbox();
  const out: number[] = [];
  let next = 0;
  // Interleave pushes and shifts so the ring wraps while it grows.
  for (let round = 0; round < 50; round++) {
    for (let k = 0; k < round + 3; k++) mb.push(next++, undefined);
    for (let k = 0; k < round; k++) out.push(mb.shift() as number);
  }
  while (mb.size > 0) out.push(mb.shift() as number);
  assertEquals(out, Array.from({ length: next }, (_, i) => i));
});

Deno.test("mailbox keeps each message's reply beside it", () => {
  const mb = new Mailbox();
  const r: Reply = { resolve() {}, reject() {} };
  mb.push("tell", undefined);
  mb.push("ask", r);
  assertEquals(mb.shift(), "tell");
  assertEquals(mb.reply, undefined);
  assertEquals(mb.shift(), "ask");
  assertEquals(mb.reply === r, true);
});

Deno.test("drain empties in order", () => {
  const mb = new Mailbox();
  for (let i = 0; i < 10; i++) mb.push(i, undefined);
  const seen: unknown[] = [];
  mb.drain((m) => seen.push(m));
  assertEquals(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assertEquals(mb.size, 0);
});
