/**
 * Kernel images end to end: build python, bash and c (cached after the first
 * time), start each hardened (`--network none --read-only --user 1000`,
 * tmpfs work dir) and talk images/PROTOCOL.md to its runner.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
} from "./fixtures/images_asserts.ts";
import { hardenedRunArgs, KernelClient } from "./fixtures/images_client.ts";
import { ensureImage, listImages } from "../images/build.ts";
import { RECIPES, resolveImage } from "../images/catalog.ts";
import { packageLayer } from "../images/dockerfile.ts";
import { buildFailure } from "../images/build.ts";
import { AptError, DockerBuildError } from "../images/errors.ts";
import { imageBuilt } from "./support/images.ts";

const engine = (await new Deno.Command("docker", {
  args: ["version"],
  stdout: "null",
  stderr: "null",
}).output()
  .catch(() => ({ success: false }))).success;
if (!engine) {
  console.error(
    "images_test: Docker engine not reachable; container tests are skipped",
  );
}

async function kernel(name: string) {
  const info = await ensureImage(name, {
    onProgress: (e) => console.error(`  [${e.image}] ${e.stage} ${e.message}`),
  });
  return await KernelClient.start("docker", hardenedRunArgs(info.ref));
}

Deno.test("resolveImage maps aliases and Backend.AI names", () => {
  assertEquals(resolveImage("python"), {
    ref: "bai/python:3.11-bookworm",
    name: "python",
  });
  assertEquals(resolveImage("python:3.11-ubuntu20.04")?.name, "python");
  assertEquals(resolveImage("cr.backend.ai/stable/python:3.9")?.name, "python");
  assertEquals(
    resolveImage("cr.backend.ai/multiarch/python-tensorflow:2.10-py38")?.name,
    "python-ml",
  );
  assertEquals(resolveImage("bai/c:gcc12-bookworm")?.name, "c");
  assertEquals(resolveImage("C")?.name, "c");
  for (
    const n of [
      "python-ml",
      "r",
      "octave",
      "php",
      "go",
      "cpp",
      "java",
      "nodejs",
      "lua",
      "haskell",
      "rust",
      "bash",
    ]
  ) {
    assertEquals(resolveImage(n)?.name, n);
  }
  assertEquals(resolveImage("julia"), undefined);
  assertEquals(resolveImage(""), undefined);
});

Deno.test("a failed apt install names the package", () => {
  const err = buildFailure("bai/x:1", [
    "E: Unable to locate package nosuchpkg",
    "The command returned a non-zero code: 100",
  ]);
  assert(err instanceof AptError);
  assertEquals(err.packages, ["nosuchpkg"]);
  assert(buildFailure("bai/x:1", ["COPY failed"]) instanceof DockerBuildError);
});

Deno.test("package layer: one RUN, unchanged text without forceInstall/prune", () => {
  const plain = RECIPES.get("c")!;
  assertEquals(
    packageLayer(plain),
    "RUN mkdir -p /usr/share/man/man1 && apt-get update -q" +
      " && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends gcc libc6-dev make" +
      " && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /usr/share/locale/*",
  );
  const py = packageLayer(RECIPES.get("python")!);
  assertStringIncludes(
    py,
    "apt-get download python3-matplotlib python3-pil && DEBIAN_FRONTEND=noninteractive dpkg -i --force-depends *.deb",
  );
  // Pruned in the same layer, so the files never count in the image size.
  assert(py.endsWith("mpl-data/fonts/ttf/DejaVuSansMono*"), py.slice(-80));
  assertEquals(py.split(" && ").filter((c) => c.startsWith("RUN ")).length, 1);
});

Deno.test({
  name: "an unchanged recipe is not rebuilt: the second ensureImage is cached",
  ignore: !engine,
  async fn() {
    const first = await ensureImage("bash");
    const stages: string[] = [];
    const again = await ensureImage("bash", {
      onProgress: (e) => stages.push(e.stage),
    });
    assertEquals(again.id, first.id);
    assertEquals(again.recipeHash, first.recipeHash);
    assertEquals(stages, ["cached"]);
  },
});

Deno.test({
  name: "python image: under 200 MB with numpy and matplotlib",
  ignore: !engine,
  async fn() {
    const info = await ensureImage("python");
    assert(
      info.sizeBytes < 200e6,
      `bai/python is ${(info.sizeBytes / 1e6).toFixed(1)} MB`,
    );
  },
});

Deno.test({
  name: "python kernel: output, errors, state, input, interrupt, files",
  ignore: !engine,
}, async (t) => {
  const { client, ready } = await kernel("python");
  try {
    assertEquals(ready.lang, "python");
    await t.step("hello world", async () => {
      const r = await client.exec("query", 'print("hello world")');
      assertEquals([r.stdout, r.status, r.exitCode], [
        "hello world\n",
        "finished",
        0,
      ]);
    });
    await t.step("runtime error: traceback on stderr, exit 1", async () => {
      const r = await client.exec("query", "1/0");
      assertStringIncludes(r.stderr, "ZeroDivisionError");
      assertEquals(r.exitCode, 1);
    });
    await t.step(
      "state survives between runs; last expression is shown",
      async () => {
        await client.exec("query", "x = 41");
        const r = await client.exec("query", "x + 1");
        assertEquals(r.stdout, "42\n");
      },
    );
    await t.step(
      "subprocess output reaches the run, not the protocol",
      async () => {
        const r = await client.exec(
          "query",
          'import os\nos.system("echo from-child")\nprint("after")',
        );
        assertEquals(r.stdout, "from-child\nafter\n");
      },
    );
    await t.step("input()", async () => {
      const r = await client.exec(
        "query",
        'name = input("who? ")\nprint("hi", name)',
        {},
        async (f, id) => {
          if (f.ev === "waiting-input" && f.id === id) {
            assertEquals(f.prompt, "who? ");
            await client.send({ op: "input", id, text: "ada" });
          }
        },
      );
      assertEquals(r.stdout, "hi ada\n");
    });
    await t.step(
      "interrupt of an infinite loop keeps the namespace",
      async () => {
        const r = await client.exec(
          "query",
          'y = 7\nprint("looping", flush=True)\nwhile True: pass',
          {},
          async (f, id) => {
            if (f.ev === "out" && f.id === id) {
              await client.send({ op: "interrupt", id });
            }
          },
        );
        assertEquals([r.status, r.exitCode], ["interrupted", 130]);
        assertStringIncludes(r.stderr, "KeyboardInterrupt");
        assertEquals(
          (await client.exec("query", "print(x, y)")).stdout,
          "41 7\n",
        );
      },
    );
    await t.step("exec timeout", async () => {
      const r = await client.exec("query", "import time\ntime.sleep(60)", {
        timeoutMs: 300,
      });
      assertEquals([r.status, r.exitCode], ["exec-timeout", 124]);
      assertEquals((await client.exec("query", "print(y)")).stdout, "7\n");
    });
    await t.step("output is bounded", async () => {
      const r = await client.exec("query", 'print("x" * 5000)', {
        maxOutputBytes: 1000,
      });
      assertEquals(r.stdout.length, 1000);
      assertStringIncludes(r.stderr, "output truncated");
    });
    await t.step("completion, put/get/list, ping", async () => {
      const c = await client.request({
        op: "complete",
        code: "impo",
        opts: {},
      });
      assert((c.items as string[]).includes("import"));
      assertEquals(
        (await client.request({
          op: "put",
          path: "a/b.txt",
          data: btoa("data!"),
        })).ev,
        "ok",
      );
      const g = await client.request({ op: "get", path: "a/b.txt" });
      assertEquals(atob(String(g.data)), "data!");
      const l = await client.request({ op: "list", path: "a" });
      assertEquals(
        (l.items as { name: string }[]).map((i) => i.name),
        ["b.txt"],
      );
      assertEquals(
        (await client.request({ op: "get", path: "../../etc/passwd" })).ev,
        "error",
      );
      assertEquals((await client.request({ op: "ping" })).ev, "ok");
    });
  } finally {
    await client.close();
  }
});

Deno.test({
  name: "bash kernel: output, errors, state, interrupt",
  ignore: !engine,
}, async (t) => {
  const { client, ready } = await kernel("bash");
  try {
    assertEquals(ready.lang, "shell");
    await t.step("hello world", async () => {
      const r = await client.exec("query", "echo hello world");
      assertEquals([r.stdout, r.exitCode], ["hello world\n", 0]);
    });
    await t.step("error on stderr with its exit code", async () => {
      const r = await client.exec("query", "ls /nonexistent");
      assertStringIncludes(r.stderr, "No such file");
      assertEquals(r.exitCode, 2);
    });
    await t.step("state between runs; output without a newline", async () => {
      await client.exec("query", "X=5; cd /tmp");
      const r = await client.exec("query", 'printf "%s %s" "$X" "$PWD"');
      assertEquals(r.stdout, "5 /tmp");
    });
    await t.step(
      "interrupt ends the run; the kernel answers afterwards",
      async () => {
        const r = await client.exec(
          "query",
          "echo go; while :; do :; done",
          {},
          async (f, id) => {
            if (f.ev === "out" && f.id === id) {
              await client.send({ op: "interrupt", id });
            }
          },
        );
        assertEquals(r.status, "interrupted");
        assertEquals(
          (await client.exec("query", "echo alive")).stdout,
          "alive\n",
        );
      },
    );
    await t.step("exec timeout", async () => {
      const r = await client.exec("query", "sleep 30", { timeoutMs: 300 });
      assertEquals([r.status, r.exitCode], ["exec-timeout", 124]);
    });
    await t.step("`exit 3` restarts the shell", async () => {
      assertEquals((await client.exec("query", "exit 3")).exitCode, 3);
      assertEquals((await client.exec("query", "echo back")).stdout, "back\n");
    });
  } finally {
    await client.close();
  }
});

Deno.test({
  name: "c kernel: compile+run, compile error, batch, timeout, bound",
  ignore: !engine,
}, async (t) => {
  const { client, ready } = await kernel("c");
  try {
    assertEquals(ready.lang, "c");
    await t.step("hello world", async () => {
      const r = await client.exec(
        "query",
        '#include <stdio.h>\nint main(void){ puts("hello world"); return 0; }\n',
      );
      assertEquals([r.stdout, r.exitCode], ["hello world\n", 0]);
    });
    await t.step("runtime exit code", async () => {
      const r = await client.exec(
        "query",
        '#include <stdio.h>\nint main(void){ fprintf(stderr, "bad\\n"); return 3; }\n',
      );
      assertEquals([r.stderr, r.exitCode], ["bad\n", 3]);
    });
    await t.step(
      "compile error: compiler message on stderr, non-zero exit",
      async () => {
        const r = await client.exec(
          "query",
          "int main(void){ return undefined_name; }\n",
        );
        assertMatch(
          r.stderr,
          /main\.c:1:\d+: error: .undefined_name. undeclared/,
        );
        assert(r.exitCode !== 0);
      },
    );
    await t.step("batch: build and exec a two-file program", async () => {
      await client.request({
        op: "put",
        path: "src/lib.c",
        data: btoa("int twice(int x){ return 2*x; }\n"),
      });
      await client.request({
        op: "put",
        path: "src/main.c",
        data: btoa(
          '#include <stdio.h>\nint twice(int);\nint main(void){ printf("%d\\n", twice(21)); return 0; }\n',
        ),
      });
      const r = await client.exec("batch", "", {
        clean: "rm -f prog",
        build: "gcc -o prog src/main.c src/lib.c",
        exec: "./prog",
      });
      const stages = r.events.filter((f) => f.ev === "stage").map((
        f,
      ) => [f.stage, f.exitCode]);
      assertEquals(stages, [["clean-finished", 0], ["build-finished", 0]]);
      assertEquals([r.stdout, r.exitCode], ["42\n", 0]);
    });
    await t.step("batch: failing build stops before exec", async () => {
      const r = await client.exec("batch", "", {
        build: "gcc -o prog nosuch.c",
        exec: "echo never",
      });
      assert(r.exitCode !== 0);
      assertEquals(r.stdout, "");
    });
    await t.step("exec timeout", async () => {
      const r = await client.exec("query", "int main(void){ for(;;); }\n", {
        timeoutMs: 500,
      });
      assertEquals([r.status, r.exitCode], ["exec-timeout", 124]);
    });
    await t.step("output is bounded", async () => {
      const r = await client.exec(
        "query",
        '#include <stdio.h>\nint main(void){ for(int i=0;i<100000;i++) puts("0123456789"); }\n',
        {
          maxOutputBytes: 4096,
        },
      );
      assertEquals(r.stdout.length, 4096);
      assertStringIncludes(r.stderr, "output truncated");
    });
  } finally {
    await client.close();
  }
});

Deno.test(
  { name: "listImages reads metadata from labels", ignore: !engine },
  async () => {
    await ensureImage("python");
    const py = (await listImages()).find((i) => i.name === "python");
    assert(py, "python image listed");
    assertEquals(py.ref, "bai/python:3.11-bookworm");
    assertEquals(py.languages, ["python"]);
    assert(py.features.includes("input"));
    assertEquals(py.labels["ai.backend.kernelspec"], "1");
    assertMatch(py.recipeHash, /^[0-9a-f]{16}$/);
  },
);

/** Hello world per language for the other light images, when they are built (`deno run -A images/build.ts build`). */
const HELLO: Record<string, string> = {
  cpp:
    '#include <iostream>\nint main(){ std::cout << "hello world" << std::endl; }\n',
  nodejs: 'console.log("hello world")\n',
  lua: 'print("hello world")\n',
  php: '<?php echo "hello world\\n";\n',
  go:
    'package main\nimport "fmt"\nfunc main() { fmt.Println("hello world") }\n',
  java:
    'public class Main { public static void main(String[] a) { System.out.println("hello world"); } }\n',
  rust: 'fn main() { println!("hello world"); }\n',
};
for (const [name, code] of Object.entries(HELLO)) {
  const ref = resolveImage(name)!.ref;
  const built = engine && await imageBuilt(ref);
  Deno.test({
    name: `${name} kernel: hello world${
      built
        ? ""
        : ` (ignored: ${ref} not built; run images/build.ts build ${name})`
    }`,
    ignore: !built,
    async fn() {
      const { client, ready } = await KernelClient.start(
        "docker",
        hardenedRunArgs(ref),
      );
      try {
        assert(String(ready.version).length > 0, "ready carries a version");
        const r = await client.exec("query", code, { timeoutMs: 60_000 });
        assertEquals([r.stdout, r.exitCode], ["hello world\n", 0], r.stderr);
      } finally {
        await client.close();
      }
    },
  });
}

Deno.test("build CLI: unknown image and missing engine are clear errors", async () => {
  const cli = (args: string[], env?: Record<string, string>) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../images/build.ts", import.meta.url).pathname,
        ...args,
      ],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
  const unknown = await cli(["build", "julia"]);
  assertEquals(unknown.code, 1);
  assertStringIncludes(
    new TextDecoder().decode(unknown.stderr),
    'UnknownImageError: no image recipe for "julia"',
  );
  const noEngine = await cli(["build", "python"], { PATH: "/nonexistent" });
  assertEquals(noEngine.code, 1);
  assertStringIncludes(
    new TextDecoder().decode(noEngine.stderr),
    "EngineUnavailableError: docker is not installed",
  );
});

/** Checks for heavy images, run only when they are built (`images/build.ts build python-ml r`). */
async function builtRef(name: string): Promise<string | undefined> {
  const ref = resolveImage(name)!.ref;
  return engine && await imageBuilt(ref) ? ref : undefined;
}

const mlRef = await builtRef("python-ml");
Deno.test({
  name: `python-ml kernel: matplotlib figure as media${
    mlRef ? "" : " (ignored: bai/python-ml not built)"
  }`,
  ignore: !mlRef,
  async fn() {
    const { client } = await KernelClient.start(
      "docker",
      hardenedRunArgs(mlRef!),
    );
    try {
      const r = await client.exec(
        "query",
        "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nNone",
        { timeoutMs: 60_000 },
      );
      assertEquals(r.exitCode, 0, r.stderr);
      const media = r.events.filter((f) => f.ev === "media");
      assertEquals(media.map((f) => f.mime), ["image/png"]);
      assert(atob(String(media[0].data)).startsWith("\x89PNG"), "a PNG");
    } finally {
      await client.close();
    }
  },
});

const rRef = await builtRef("r");
Deno.test({
  name: `r kernel: output, state, error${
    rRef ? "" : " (ignored: bai/r not built)"
  }`,
  ignore: !rRef,
  async fn() {
    const { client } = await KernelClient.start(
      "docker",
      hardenedRunArgs(rRef!),
    );
    try {
      assertEquals(
        (await client.exec("query", 'cat("hello world\\n")')).stdout,
        "hello world\n",
      );
      await client.exec("query", "x <- 41");
      assertEquals(
        (await client.exec("query", "cat(x + 1, '\\n')")).stdout,
        "42 \n",
      );
      const err = await client.exec("query", 'stop("boom")');
      assertStringIncludes(err.stderr, "boom");
      assertEquals(err.exitCode, 1);
    } finally {
      await client.close();
    }
  },
});
