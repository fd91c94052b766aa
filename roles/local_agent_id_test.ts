import { assertEquals, assertMatch } from "../tests/support/assert.ts";
import { localAgentId } from "./local_agent_id.ts";

Deno.test("local agent id: new per data dir, recorded, stable across starts", async () => {
  const a = await Deno.makeTempDir();
  const b = await Deno.makeTempDir();
  try {
    const idA = await localAgentId(a);
    const idB = await localAgentId(b);
    assertMatch(idA, /^local-[0-9a-f]{8}$/);
    assertMatch(idB, /^local-[0-9a-f]{8}$/);
    assertEquals(idA === idB, false);
    assertEquals(await localAgentId(a), idA);
    assertEquals((await Deno.readTextFile(`${a}/agent.id`)).trim(), idA);
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});

Deno.test("local agent id: a data dir whose agent already ran kernels keeps `local`", async () => {
  const d = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${d}/agent/kernels/k1`, { recursive: true });
    assertEquals(await localAgentId(d), "local");
    assertEquals(await localAgentId(d), "local");
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});

Deno.test("local agent id: LOCAL_AGENT_ID wins and records nothing", async () => {
  const d = await Deno.makeTempDir();
  try {
    assertEquals(await localAgentId(d, { override: "edge-1" }), "edge-1");
    let recorded = true;
    await Deno.stat(`${d}/agent.id`).catch(() => (recorded = false));
    assertEquals(recorded, false);
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});
