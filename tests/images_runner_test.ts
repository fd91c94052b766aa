/**
 * The kernel runner's behaviour that real clients lean on, in the built
 * python, bash and c images (hardened `docker run`, images/PROTOCOL.md):
 * - batch `*` (what `backend.ai run` sends without --build/--exec) worked
 *   out per language, next to explicit commands (issue 11);
 * - a user's error shows only the user's own frames (issue 19);
 * - large output is cut into small events and media counts in the output
 *   bound; files move in ranges (issue 18).
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
} from "./fixtures/images_asserts.ts";
import {
  type Frame,
  hardenedRunArgs,
  KernelClient,
} from "./fixtures/images_client.ts";
import { ensureImage } from "../images/build.ts";

const engine = (await new Deno.Command("docker", {
  args: ["version"],
  stdout: "null",
  stderr: "null",
}).output().catch(() => ({ success: false }))).success;
if (!engine) {
  console.error("images_runner_test: Docker engine not reachable; skipped");
}

async function kernel(name: string) {
  const info = await ensureImage(name);
  return (await KernelClient.start("docker", hardenedRunArgs(info.ref))).client;
}

async function put(client: KernelClient, path: string, text: string) {
  const r = await client.request({ op: "put", path, data: btoa(text) });
  assertEquals(r.ev, "ok", JSON.stringify(r));
}

/** Stage frames of a batch run as [stage, exitCode]. */
function stages(events: Frame[]): [unknown, unknown][] {
  return events.filter((f) => f.ev === "stage").map((
    f,
  ) => [f.stage, f.exitCode]);
}

const STAR = { clean: "*", build: "*", exec: "*" };

Deno.test({
  name: "batch `*`: python runs main.py; explicit commands still run as given",
  ignore: !engine,
}, async () => {
  const client = await kernel("python");
  try {
    const none = await client.exec("batch", "", STAR);
    assertEquals(none.exitCode, 127);
    assertStringIncludes(none.stderr, "found no main.py");
    await put(
      client,
      "main.py",
      "from twice import twice\nprint('star', twice(21))\n",
    );
    await put(client, "twice.py", "def twice(x):\n    return 2 * x\n");
    const star = await client.exec("batch", "", STAR);
    assertEquals(stages(star.events), [["clean-finished", 0], [
      "build-finished",
      0,
    ]]);
    assertEquals([star.stdout, star.exitCode], ["star 42\n", 0], star.stderr);
    const given = await client.exec("batch", "", {
      build: "python3 -m py_compile main.py",
      exec: "python3 -c 'import main'",
    });
    assertEquals(
      [given.stdout, given.exitCode],
      ["star 42\n", 0],
      given.stderr,
    );
    // input() in a `*` run reads the line the client answers.
    await put(client, "main.py", "print('hi', input('name? '))\n");
    const asked = await client.exec("batch", "", STAR, async (f, id) => {
      if (f.ev === "waiting-input" && f.id === id) {
        await client.send({ op: "input", id, text: "ada" });
      }
    });
    assertEquals(asked.stdout, "name? hi ada\n");
  } finally {
    await client.close();
  }
});

Deno.test({
  name: "batch `*`: bash runs main.sh; a Makefile builds with make",
  ignore: !engine,
}, async () => {
  const client = await kernel("bash");
  try {
    await put(client, "main.sh", 'source ./lib.sh\necho "star $(twice 21)"\n');
    await put(client, "lib.sh", "twice() { echo $(( $1 * 2 )); }\n");
    const star = await client.exec("batch", "", STAR);
    assertEquals([star.stdout, star.exitCode], ["star 42\n", 0], star.stderr);
    const given = await client.exec("batch", "", {
      exec: "bash main.sh | tr a-z A-Z",
    });
    assertEquals(given.stdout, "STAR 42\n");
    // No make in the bash image: `*` build with a Makefile says so (127).
    await put(client, "Makefile", "all:\n\techo made\n");
    const make = await client.exec("batch", "", STAR);
    assertEquals(stages(make.events), [["clean-finished", 0], [
      "build-finished",
      127,
    ]]);
    assertStringIncludes(make.stderr, "make");
  } finally {
    await client.close();
  }
});

Deno.test({
  name:
    "batch `*`: c compiles every .c into ./main and runs it; Makefile first; explicit as given",
  ignore: !engine,
}, async () => {
  const client = await kernel("c");
  try {
    const none = await client.exec("batch", "", STAR);
    assertEquals(stages(none.events), [["clean-finished", 0], [
      "build-finished",
      127,
    ]]);
    assertStringIncludes(none.stderr, "found no Makefile or main.c");
    await put(
      client,
      "main.c",
      '#include <stdio.h>\nint twice(int);\nint main(void){ printf("star %d\\n", twice(21)); return 0; }\n',
    );
    await put(client, "lib/twice.c", "int twice(int x){ return 2 * x; }\n");
    const star = await client.exec("batch", "", STAR);
    assertEquals(stages(star.events), [["clean-finished", 0], [
      "build-finished",
      0,
    ]]);
    assertEquals([star.stdout, star.exitCode], ["star 42\n", 0], star.stderr);
    const given = await client.exec("batch", "", {
      build: "gcc -o prog main.c lib/twice.c",
      exec: "./prog",
    });
    assertEquals(
      [given.stdout, given.exitCode],
      ["star 42\n", 0],
      given.stderr,
    );
    // Only exec `*` (build already done): runs ./main.
    const execOnly = await client.exec("batch", "", { exec: "*" });
    assertEquals(execOnly.stdout, "star 42\n");
    // A compile error stops before exec, with gcc's message.
    await put(client, "main.c", "int main(void){ return undefined_name; }\n");
    const bad = await client.exec("batch", "", STAR);
    assert(bad.exitCode !== 0);
    assertMatch(bad.stderr, /undefined_name/);
    // A Makefile wins over the heuristic; `*` clean runs its clean target.
    await put(
      client,
      "Makefile",
      "all:\n\techo built-by-make > made.txt\nclean:\n\trm -f made.txt\n",
    );
    const made = await client.exec("batch", "", {
      clean: "*",
      build: "*",
      exec: "cat made.txt",
    });
    assertEquals(made.exitCode, 0, made.stderr);
    // make echoes its recipes: the clean target ran, then the build.
    assertEquals(
      made.stdout,
      "rm -f made.txt\necho built-by-make > made.txt\nbuilt-by-make\n",
    );
  } finally {
    await client.close();
  }
});

Deno.test({
  name: "python tracebacks show only the user's frames, like python3 -c",
  ignore: !engine,
}, async () => {
  const client = await kernel("python");
  try {
    const syntax = await client.exec("query", "print(1)\nx = = 2")
      .then((r) => r.stderr);
    assertMatch(syntax, /^ {2}File "<cell-\d+>", line 2\n {4}x = = 2\n/);
    assertStringIncludes(syntax, "SyntaxError:");
    assert(!syntax.includes("Traceback"), syntax);
    const nul = await client.exec("query", "x = 1\0").then((r) => r.stderr);
    assertStringIncludes(nul, "null bytes"); // 3.11: a ValueError, as python3 says
    assert(!/bai_|ast\.py|runner/.test(nul), nul);

    const deep = await client.exec(
      "query",
      "import json\ndef f():\n    return json.loads('{')\nf()",
    );
    assertEquals(deep.exitCode, 1);
    const lines = deep.stderr.split("\n").filter((l) =>
      l.startsWith("  File ")
    );
    assertMatch(lines[0], /<cell-\d+>", line 4, in <module>/);
    assertMatch(lines[1], /<cell-\d+>", line 3, in f/);
    assert(lines.slice(2).every((l) => l.includes("/json/")), deep.stderr);
    assert(!/bai_|\/opt\/kernel/.test(deep.stderr), deep.stderr);
    assertStringIncludes(deep.stderr, "json.decoder.JSONDecodeError");

    const chained = await client.exec(
      "query",
      "try:\n    1 / 0\nexcept Exception as e:\n    raise ValueError('wrapped') from e",
    );
    assertStringIncludes(chained.stderr, "ZeroDivisionError");
    assertStringIncludes(chained.stderr, "direct cause");
    assert(!/bai_|\/opt\/kernel/.test(chained.stderr), chained.stderr);
  } finally {
    await client.close();
  }
});

Deno.test({
  name:
    "large output comes in small events; media counts in the output bound; files in ranges",
  ignore: !engine,
}, async () => {
  const client = await kernel("python");
  try {
    await client.exec("query", "kept = 41");
    const big = await client.exec(
      "query",
      "import sys\nsys.stdout.write('z' * (5 << 20))\nNone",
      { maxOutputBytes: 8 << 20 },
    );
    assertEquals([big.exitCode, big.stdout.length], [0, 5 << 20]);
    const outs = big.events.filter((f) => f.ev === "out");
    assert(
      outs.every((f) => String(f.data).length <= 32 * 1024),
      "small events",
    );
    assertEquals(
      (await client.exec("query", "print(kept + 1)")).stdout,
      "42\n",
    );

    const plot =
      "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\nplt.figure(figsize=(8, 8), dpi=150)\nplt.plot(range(1000), [i * i % 97 for i in range(1000)])\nNone";
    const cut = await client.exec("query", plot, { maxOutputBytes: 1000 });
    assertEquals(cut.events.filter((f) => f.ev === "media").length, 0);
    assertStringIncludes(cut.stderr, "output truncated");
    const whole = await client.exec("query", plot, { maxOutputBytes: 8 << 20 });
    const parts = whole.events.filter((f) => f.ev === "media");
    assert(
      parts.length >= 1 &&
        parts.every((f) => String(f.data).length <= 32 * 1024),
    );
    assert(
      parts.slice(0, -1).every((f) => f.more === true) && !parts.at(-1)!.more,
    );
    const png = atob(parts.map((f) => String(f.data)).join(""));
    assert(png.startsWith("\x89PNG"), "the parts join into one PNG");

    const size = 13 * 1024 * 1024 + 7;
    await client.exec(
      "query",
      `open('big.bin', 'wb').write(bytes(i % 251 for i in range(${size})))\nNone`,
    );
    const whole13 = await client.request({ op: "get", path: "big.bin" });
    assertEquals(
      whole13.ev,
      "error",
      "a whole-file get stays capped at 12 MiB",
    );
    let offset = 0;
    let eof = false;
    const chunk = 1 << 20;
    while (!eof) {
      const r = await client.request({
        op: "get",
        path: "big.bin",
        offset,
        length: chunk,
      });
      assertEquals([r.ev, r.size, r.offset], ["file", size, offset]);
      const piece = atob(String(r.data));
      assert(piece.length <= chunk);
      assertEquals(piece.charCodeAt(0), offset % 251);
      offset += piece.length;
      eof = r.eof === true;
    }
    assertEquals(offset, size);
    // put at offsets appends pieces; offset 0 truncates.
    await client.request({ op: "put", path: "p.txt", data: btoa("hello ") });
    await client.request({
      op: "put",
      path: "p.txt",
      data: btoa("world"),
      offset: 6,
    });
    assertEquals(
      atob(String((await client.request({ op: "get", path: "p.txt" })).data)),
      "hello world",
    );
    await client.request({ op: "put", path: "p.txt", data: btoa("new") });
    assertEquals(
      atob(String((await client.request({ op: "get", path: "p.txt" })).data)),
      "new",
    );
  } finally {
    await client.close();
  }
});

Deno.test({
  name:
    "kernel edges: nothing in a kernel can ptrace pid 1 or open its memory; a user's own child still can be traced",
  ignore: !engine,
}, async () => {
  const client = await kernel("python");
  try {
    const r = await client.exec(
      "query",
      [
        "import ctypes, os, subprocess",
        "libc = ctypes.CDLL(None, use_errno=True)",
        "def attach(pid):",
        "    r = libc.ptrace(16, pid, 0, 0)  # PTRACE_ATTACH",
        "    return 'ok' if r == 0 else os.strerror(ctypes.get_errno())",
        "child = subprocess.Popen(['sleep', '30'])",
        "print(attach(1), attach(child.pid), sep='|')",
        "child.kill()",
        // A shell started by the runner inherits the filter as well.
        "print(subprocess.run(['python3', '-c', 'import ctypes,os; l=ctypes.CDLL(None,use_errno=True); l.ptrace(16,1,0,0); print(os.strerror(ctypes.get_errno()))'], capture_output=True, text=True).stdout.strip())",
        // pid 1 is the runner's init, not dumpable: its memory is closed too.
        "try:",
        "    open('/proc/1/mem', 'rb')",
        "    print('open')",
        "except OSError as e:",
        "    print(e.strerror)",
      ].join("\n"),
    );
    assertEquals(
      r.stdout,
      "Operation not permitted|ok\nOperation not permitted\nPermission denied\n",
      r.stderr,
    );
  } finally {
    await client.close();
  }
});
