/**
 * The recipe schema: what `images/NAME/recipe.json` may say. Validated with
 * zod at load so a typo fails the build loudly, not a container at runtime.
 *
 * @module
 */
import { z } from "zod";
import { parseServicePorts, ServicePortError } from "./service_ports.ts";

/**
 * One candidate command of a batch `*` stage: `run` (a bash command line,
 * run in /home/work with `globstar` on) is chosen when the path (or glob)
 * `when` exists under /home/work; without `when` it always applies.
 */
export const BatchRuleSchema = z.object({
  when: z.string().min(1).optional(),
  run: z.string().min(1),
});

/**
 * What `"*"` means for each batch stage of this language (Backend.AI's
 * build/exec heuristics): the first rule whose `when` exists wins. For
 * `build`, a `Makefile` (run with `make`) comes before these rules.
 */
export const BatchHeuristicSchema = z.object({
  clean: z.array(BatchRuleSchema).default([]),
  build: z.array(BatchRuleSchema).default([]),
  exec: z.array(BatchRuleSchema).default([]),
});

const batch = BatchHeuristicSchema.optional();

/** How the runner executes query-mode code (see images/runner/). */
export const DriverSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("python"), lang: z.string(), batch }),
  z.object({
    kind: z.literal("repl"),
    lang: z.string(),
    batch,
    argv: z.array(z.string()).optional(),
    /** Line sent per cell; `{file}` and `{token}` are substituted. */
    cell: z.string().optional(),
    /**
     * Cell lines go on their own pipe (fd number: `{cmdfd}` in argv and
     * $BAI_CMD_FD) so the interpreter's stdin is free for user input.
     */
    cmdPipe: z.boolean().optional(),
    versionCmd: z.string().optional(),
  }),
  z.object({
    kind: z.literal("script"),
    lang: z.string(),
    batch,
    ext: z.string(),
    /** Shell command; `{file}` is the cell's source file. */
    run: z.string(),
    versionCmd: z.string().optional(),
  }),
  z.object({
    kind: z.literal("compiled"),
    lang: z.string(),
    batch,
    source: z.string(),
    compile: z.string(),
    run: z.string(),
    versionCmd: z.string().optional(),
  }),
]);

/**
 * A service-port app: argv run as the kernel's user in /home/work, in its
 * own session. `{port}`, `{base_url}`, `{token}` and `{home}` are filled in
 * (images/runner/bai_apps.py); the channel connects once the port accepts.
 */
export const AppSchema = z.object({
  command: z.array(z.string()).min(1),
  env: z.record(z.string(), z.string()).default({}),
  /** @default 60 */
  startTimeoutS: z.number().positive().optional(),
});

export const RecipeSchema = z.object({
  /** Image repository name under `bai/` and the recipe's folder name. */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  tag: z.string().regex(/^[A-Za-z0-9._-]+$/),
  /** Lower-case names (and Backend.AI repo names) that select this image. */
  aliases: z.array(z.string()).default([]),
  languages: z.array(z.string()).min(1),
  /** Debian bookworm packages installed on top of the shared base. */
  packages: z.array(z.string()).default([]),
  /**
   * Debian packages installed with `dpkg --force-depends` after `packages`,
   * in the same layer: for packages whose Depends drag in far more than they
   * need at run time (python3-matplotlib → python3-fonttools → scipy →
   * pythran → g++). Their real run-time libraries go in `packages`.
   */
  forceInstall: z.array(z.string()).default([]),
  /**
   * Paths (shell globs) removed at the end of the package layer, so they
   * never count in the image size (test suites, headers).
   */
  prune: z.array(z.string()).default([]),
  /** Extra shell commands run as root after the packages. */
  setup: z.array(z.string()).default([]),
  driver: DriverSchema,
  features: z.string().default("query batch"),
  runtimeType: z.string(),
  runtimePath: z.string(),
  minCpu: z.number().positive().default(1),
  minMem: z.string().default("256m"),
  /**
   * The `ai.backend.service-ports` label, Backend.AI's format
   * (`jupyter:http:8080`; see service_ports.ts).
   */
  servicePorts: z.string().default(""),
  /** How the runner starts each http/tcp service port on first use. */
  apps: z.record(z.string(), AppSchema).default({}),
  /** Extra `ai.backend.*` labels. */
  labels: z.record(z.string(), z.string()).default({}),
  /** Built by default and in the test suite; large ones are opt-in. */
  heavy: z.boolean().default(false),
  notes: z.string().optional(),
});

export type Recipe = z.infer<typeof RecipeSchema>;

/**
 * Checks what zod cannot see field by field: the service-ports label
 * parses, and every http/tcp port has an app command to start it.
 */
export function checkRecipe(r: Recipe): Recipe {
  const ports = parseServicePorts(r.servicePorts);
  for (const p of ports) {
    if ((p.protocol === "http" || p.protocol === "tcp") && !r.apps[p.name]) {
      throw new ServicePortError(
        `recipe ${r.name}: service port ${p.name} has no app command`,
      );
    }
  }
  for (const name of Object.keys(r.apps)) {
    if (!ports.some((p) => p.name === name)) {
      throw new ServicePortError(
        `recipe ${r.name}: app ${name} is not in servicePorts`,
      );
    }
  }
  return r;
}
export type Driver = z.infer<typeof DriverSchema>;

/** Image reference of a recipe, e.g. `bai/python:3.11-bookworm`. */
export function recipeRef(r: Recipe): string {
  return `bai/${r.name}:${r.tag}`;
}
