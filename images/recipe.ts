/**
 * The recipe schema: what `images/NAME/recipe.json` may say. Validated with
 * zod at load so a typo fails the build loudly, not a container at runtime.
 *
 * @module
 */
import { z } from "zod";

/** How the runner executes query-mode code (see images/runner/). */
export const DriverSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("python"), lang: z.string() }),
  z.object({
    kind: z.literal("repl"),
    lang: z.string(),
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
    ext: z.string(),
    /** Shell command; `{file}` is the cell's source file. */
    run: z.string(),
    versionCmd: z.string().optional(),
  }),
  z.object({
    kind: z.literal("compiled"),
    lang: z.string(),
    source: z.string(),
    compile: z.string(),
    run: z.string(),
    versionCmd: z.string().optional(),
  }),
]);

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
  servicePorts: z.string().default(""),
  /** Extra `ai.backend.*` labels. */
  labels: z.record(z.string(), z.string()).default({}),
  /** Built by default and in the test suite; large ones are opt-in. */
  heavy: z.boolean().default(false),
  notes: z.string().optional(),
});

export type Recipe = z.infer<typeof RecipeSchema>;
export type Driver = z.infer<typeof DriverSchema>;

/** Image reference of a recipe, e.g. `bai/python:3.11-bookworm`. */
export function recipeRef(r: Recipe): string {
  return `bai/${r.name}:${r.tag}`;
}
