/**
 * The architecture, checked: reads every production file's imports and
 * fails when one points the wrong way (../shared/DESIGN.md, STYLE.md):
 *
 * - `actors/runtime/` imports nothing outside itself (npm packages aside);
 * - `actors/cluster/` imports no domain (manager, agent, protocol, routes,
 *   policies, images);
 * - `actors/telemetry/` imports only itself and `actors/runtime/`;
 * - `policies/` imports only `policies/`;
 * - nothing under `actors/` imports `routes/`;
 * - `actors/agent/` never imports `actors/manager/`, nor the reverse (what
 *   they share is in `actors/protocol/`);
 *
 * and that no production file passes 600 lines (the session actor 400).
 *
 * @module
 */

import { assertEquals } from "./support/assert.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** Test code and test helpers kept beside production code. */
function isTestFile(rel: string): boolean {
  const base = rel.slice(rel.lastIndexOf("/") + 1);
  return rel.startsWith("tests/") || base.endsWith("_test.ts") ||
    /^_(test|testing|test_util|test_assert|e2e_support)\b/.test(base);
}

async function* sources(dir = ""): AsyncGenerator<string> {
  for await (const e of Deno.readDir(ROOT + dir)) {
    const rel = dir + e.name;
    if (e.isDirectory) {
      if (["node_modules", "var", ".git"].includes(e.name)) continue;
      yield* sources(rel + "/");
    } else if (/\.(ts|tsx)$/.test(e.name) && !isTestFile(rel)) {
      yield rel;
    }
  }
}

/** Module specifiers of static imports, re-exports and dynamic imports. */
function specifiers(text: string): string[] {
  const out: string[] = [];
  const re =
    /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|(?:^|\n)\s*import\s*["']([^"']+)["']/g;
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** Repo-relative path of a relative specifier, or undefined for a package. */
function resolveRel(from: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const parts = from.split("/").slice(0, -1);
  for (const p of spec.split("/")) {
    if (p === "..") parts.pop();
    else if (p !== ".") parts.push(p);
  }
  return parts.join("/");
}

interface Rule {
  name: string;
  applies(file: string): boolean;
  forbids(target: string): boolean;
}

const under = (dir: string) => (p: string) => p.startsWith(dir);

const RULES: Rule[] = [
  {
    name: "actors/runtime imports only itself",
    applies: under("actors/runtime/"),
    forbids: (t) => !t.startsWith("actors/runtime/"),
  },
  {
    name: "actors/telemetry imports only itself and the runtime",
    applies: under("actors/telemetry/"),
    forbids: (t) =>
      !t.startsWith("actors/telemetry/") && !t.startsWith("actors/runtime/"),
  },
  {
    name: "actors/cluster imports no domain",
    applies: under("actors/cluster/"),
    forbids: (t) =>
      !t.startsWith("actors/cluster/") && !t.startsWith("actors/runtime/"),
  },
  {
    name: "policies import only policies",
    applies: under("policies/"),
    forbids: (t) => !t.startsWith("policies/"),
  },
  {
    name: "actors never import routes",
    applies: under("actors/"),
    forbids: under("routes/"),
  },
  {
    name: "the agent never imports the manager",
    applies: under("actors/agent/"),
    forbids: under("actors/manager/"),
  },
  {
    name: "the manager never imports the agent",
    applies: under("actors/manager/"),
    forbids: under("actors/agent/"),
  },
];

Deno.test("layering: every production import points inward", async () => {
  const violations: string[] = [];
  let files = 0;
  for await (const file of sources()) {
    files++;
    const text = await Deno.readTextFile(ROOT + file);
    for (const spec of specifiers(text)) {
      const target = resolveRel(file, spec);
      for (const rule of RULES) {
        if (!rule.applies(file)) continue;
        // Packages (npm:, node:, bare names mapped in deno.json) are allowed everywhere.
        if (target !== undefined && rule.forbids(target)) {
          violations.push(`${rule.name}: ${file} imports ${spec}`);
        }
      }
    }
  }
  if (files < 100) throw new Error(`only ${files} source files found`);
  assertEquals(violations, []);
});

Deno.test("layering: the checker itself catches a wrong import", () => {
  // A rule that finds nothing on a tree proves little unless it can fire.
  const spec = specifiers('import { x } from "../../routes/app.ts";')[0];
  const target = resolveRel("actors/manager/node.ts", spec)!;
  assertEquals(target, "routes/app.ts");
  const fired = RULES.filter((r) =>
    r.applies("actors/manager/node.ts") && r.forbids(target)
  ).map((r) => r.name);
  assertEquals(fired, ["actors never import routes"]);
  assertEquals(
    specifiers('export * from "./a.ts";\nconst m = await import("./b.ts");'),
    ["./a.ts", "./b.ts"],
  );
});

Deno.test("layering: no production file passes 600 lines, the session actor 400", async () => {
  const long: string[] = [];
  for await (const file of sources()) {
    const lines = (await Deno.readTextFile(ROOT + file)).split("\n").length;
    const limit = file === "actors/manager/session/actor.ts" ? 400 : 600;
    if (lines > limit) long.push(`${file}: ${lines} lines (limit ${limit})`);
  }
  assertEquals(long, []);
});
