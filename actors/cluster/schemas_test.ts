import { z } from "zod";
import { assert, assertEquals } from "./_test_assert.ts";
import type { ActorRef, Address } from "../runtime/types.ts";
import { reviveRefs } from "./revive.ts";
import { actorRefSchema, SchemaRegistry } from "./schemas.ts";

Deno.test("schemas: the longest registered prefix governs a path, on segment boundaries", () => {
  const reg = new SchemaRegistry();
  const a = z.object({ a: z.number() });
  const ab = z.object({ ab: z.number() });
  reg.register("/user/a", a);
  const off = reg.register("/user/a/b/", ab);
  assertEquals(reg.lookup("/user/a"), a);
  assertEquals(reg.lookup("/user/a/x"), a);
  assertEquals(reg.lookup("/user/a/b/c"), ab);
  assertEquals(reg.lookup("/user/ab"), undefined);
  off();
  assertEquals(reg.lookup("/user/a/b/c"), a);
});

Deno.test("revive: wire refs inside messages become live refs, other objects stay", () => {
  const made: Address[] = [];
  const refFor = (a: Address) => {
    made.push(a);
    return {
      ...a,
      tell() {},
      ask: () => Promise.resolve(),
      toJSON: () => ({ $ref: a }),
    } as unknown as ActorRef;
  };
  const msg = reviveRefs(
    JSON.parse(JSON.stringify({
      to: { $ref: { node: "n1", path: "/user/x" } },
      list: [{ $ref: { node: "n2", path: "/user/y" } }],
      notARef: { $ref: { node: "n1" } },
      extra: { $ref: { node: "n1", path: "/user/z" }, other: 1 },
    })),
    refFor,
  ) as Record<string, unknown>;
  assertEquals(made.map((a) => a.path), ["/user/x", "/user/y"]);
  assert(actorRefSchema.safeParse(msg.to).success);
  assert(actorRefSchema.safeParse((msg.list as unknown[])[0]).success);
  assert(!actorRefSchema.safeParse(msg.notARef).success);
  assert(!actorRefSchema.safeParse(msg.extra).success);
});
