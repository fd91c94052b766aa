import { DeadLetters } from "./dead_letters.ts";
import type { DeadLetter } from "./types.ts";
import { assertEquals } from "./_test_util.ts";

Deno.test("dead letters are counted and published until unsubscribed", () => {
  const dl = new DeadLetters();
  const seen: DeadLetter[] = [];
  const off = dl.subscribe((d) => seen.push(d));
  dl.subscribe(() => {
    throw new Error("a bad subscriber does not stop the others");
  });
  const origError = console.error;
  console.error = () => {};
  try {
    dl.publish({ node: "n", path: "/user/a" }, "hi", "no such actor");
    off();
    dl.publish({ node: "n", path: "/user/b" }, "ho", "stopped");
  } finally {
    console.error = origError;
  }
  assertEquals(dl.count, 2);
  assertEquals(seen, [{
    to: { node: "n", path: "/user/a" },
    message: "hi",
    reason: "no such actor",
  }]);
});
