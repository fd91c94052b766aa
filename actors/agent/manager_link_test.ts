import { assertEquals, assertMatch } from "../../tests/support/assert.ts";
import { HandshakeRefusedError } from "../cluster/mod.ts";
import { ManagerLink, reachability, refusalLine } from "./manager_link.ts";

function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("manager link: a closed port is one line with its cause; the cluster's lines wait for the join", async () => {
  const port = closedPort();
  const url = `ws://127.0.0.1:${port}/x/cluster`;
  assertMatch((await reachability(url))!, /^connection refused/);
  const lines: string[] = [];
  const link = new ManagerLink("a-1", url, (l) => lines.push(l));
  link.log("info", "dial ...: cannot connect; retry in 100 ms");
  await link.dialing(60_000);
  link.log("info", "dial ...: cannot connect; retry in 200 ms");
  assertEquals(lines, [
    `agent a-1: cannot reach the manager at ${url}: connection refused (is the manager running on port ${port}?); retrying until it answers`,
  ]);
  link.joined();
  link.log("info", "m (incarnation 1) is up");
  assertEquals(lines.slice(1), [
    `agent a-1: reached the manager at ${url}`,
    "[cluster a-1] info: m (incarnation 1) is up",
  ]);
});

Deno.test("manager link: a listening port says nothing; its own address is the local end", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `ws://127.0.0.1:${(l.addr as Deno.NetAddr).port}/x/cluster`;
  const accepted = (async () => {
    for await (const c of l) c.close();
  })();
  try {
    const lines: string[] = [];
    const link = new ManagerLink("a-2", url, (x) => lines.push(x));
    await link.dialing(60_000);
    link.joined();
    assertEquals(lines, []);
    assertEquals(await link.ownAddress(), "127.0.0.1");
  } finally {
    l.close();
    await accepted.catch(() => undefined);
  }
});

Deno.test("manager link: refusals an operator can fix, in words", () => {
  const url = "ws://m:8081";
  assertEquals(
    refusalLine("g-1", url, new HandshakeRefusedError("bad-secret", "MAC")),
    "agent g-1: the manager at ws://m:8081 refused it: wrong cluster secret (CLUSTER_SECRET must be the manager's: its var/cluster.secret)",
  );
  assertMatch(
    refusalLine("g-1", url, new HandshakeRefusedError("self", "id g-1"))!,
    /pick another --id/,
  );
  assertEquals(refusalLine("g-1", url, new Error("docker down")), undefined);
});
