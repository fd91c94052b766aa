import { assertEquals } from "../../tests/support/assert.ts";
import { pick } from "./output.ts";
import { parseResources } from "./run.ts";
import { table } from "./sessions.ts";
import { remoteName } from "./transfer.ts";
import { CliError } from "./errors.ts";

Deno.test("pick: fields by dot path, strings raw, the rest as JSON; a missing one says so", () => {
  const answer = {
    result: { status: "finished", exitCode: 0, console: [["stdout", "42\n"]] },
  };
  assertEquals(pick(answer, "result.status"), "finished\n");
  assertEquals(
    pick(answer, "result.exitCode, result.console.0"),
    '0\n["stdout","42\\n"]\n',
  );
  let msg = "";
  try {
    pick(answer, "result.nope");
  } catch (e) {
    msg = (e as Error).message;
  }
  assertEquals(msg, "the answer has no result.nope");
});

Deno.test("run -r: SLOT=AMOUNT items, numbers where numeric", () => {
  assertEquals(parseResources(["cpu=2", "mem=512m", "cuda.device=0.5"]), {
    cpu: 2,
    mem: "512m",
    "cuda.device": 0.5,
  });
  for (const bad of ["cpu", "=2", "cpu="]) {
    let err: unknown;
    try {
      parseResources([bad]);
    } catch (e) {
      err = e;
    }
    assertEquals(err instanceof CliError && err.exitCode === 2, true, bad);
  }
});

Deno.test("ps table: padded columns, the last one unpadded", () => {
  assertEquals(
    table(["NAME", "STATUS"], [["demo", "RUNNING"], [
      "a-longer-name",
      "PENDING",
    ]]),
    "NAME           STATUS\ndemo           RUNNING\na-longer-name  PENDING\n",
  );
});

Deno.test("upload: relative paths kept, others by their base name", () => {
  assertEquals(remoteName("data/a.csv"), "data/a.csv");
  assertEquals(remoteName("./a//b.txt"), "a/b.txt");
  assertEquals(remoteName("/etc/hosts"), "hosts");
  assertEquals(remoteName("x/../../y.txt"), "y.txt");
});
