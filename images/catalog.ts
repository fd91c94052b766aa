/**
 * The image catalog: every recipe under images/, and name resolution from
 * what a user types (`python`, `bai/c:gcc12-bookworm`,
 * `cr.backend.ai/stable/python:3.9-ubuntu20.04`) to a local image ref.
 *
 * Recipes are imported statically (JSON modules) so resolution is
 * synchronous and works without touching the disk or the engine.
 *
 * Julia: Debian 12 ships no julia package, so there is no julia image.
 *
 * @module
 */
import { checkRecipe, type Recipe, recipeRef, RecipeSchema } from "./recipe.ts";
import bash from "./bash/recipe.json" with { type: "json" };
import c from "./c/recipe.json" with { type: "json" };
import cpp from "./cpp/recipe.json" with { type: "json" };
import go from "./go/recipe.json" with { type: "json" };
import haskell from "./haskell/recipe.json" with { type: "json" };
import java from "./java/recipe.json" with { type: "json" };
import lua from "./lua/recipe.json" with { type: "json" };
import nodejs from "./nodejs/recipe.json" with { type: "json" };
import octave from "./octave/recipe.json" with { type: "json" };
import php from "./php/recipe.json" with { type: "json" };
import python from "./python/recipe.json" with { type: "json" };
import pythonMl from "./python-ml/recipe.json" with { type: "json" };
import pythonJupyter from "./python-jupyter/recipe.json" with {
  type: "json",
};
import r from "./r/recipe.json" with { type: "json" };
import rust from "./rust/recipe.json" with { type: "json" };

/** All recipes, validated, by name. The default image is `python`. */
export const RECIPES: ReadonlyMap<string, Recipe> = new Map(
  [
    python,
    bash,
    c,
    cpp,
    nodejs,
    lua,
    php,
    go,
    java,
    rust,
    r,
    octave,
    haskell,
    pythonMl,
    pythonJupyter,
  ]
    .map((raw) => checkRecipe(RecipeSchema.parse(raw)))
    .map((recipe) => [recipe.name, recipe]),
);

/** The image the manager builds on first start. */
export const DEFAULT_IMAGE = "python";

/** A resolved image: the local ref and the recipe name it comes from. */
export interface ResolvedImage {
  ref: string;
  name: string;
}

const byAlias = new Map<string, Recipe>();
for (const recipe of RECIPES.values()) {
  byAlias.set(recipe.name, recipe);
  for (const alias of recipe.aliases) byAlias.set(alias.toLowerCase(), recipe);
}

/**
 * The shape of a Docker image reference (distribution's grammar, lower-cased):
 * `[host[:port]/]component(/component)*[:tag][@algo:hex]`, each path
 * component `[a-z0-9]+` joined by `.`, `_`, `__` or dashes. Anything else
 * (`../../python`, `python/`, ` python`) names no image.
 */
const IMAGE_REF = new RegExp(
  "^(?:[a-z0-9-]+(?:\\.[a-z0-9-]+)*(?::[0-9]+)?/)?" + // optional registry host
    "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*" + // first path component
    "(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*" + // more components
    "(?::[a-z0-9_][a-z0-9_.-]{0,127})?" + // tag
    "(?:@[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-f0-9]{32,})?$", // digest
);

/**
 * Maps a user's image name to a recipe.
 *
 * Accepts an alias (`python`, `c`, `cpp` ...), a local ref (`bai/c`,
 * `bai/c:gcc12-bookworm`; any tag selects the recipe's single tag), or a
 * Backend.AI style ref whose last path segment's repo name is an alias
 * (`python:3.11-ubuntu20.04`, `cr.backend.ai/stable/python:3.9`,
 * `cr.backend.ai/multiarch/python-tensorflow:2.10-py38`).
 * Returns undefined for anything else (e.g. `julia`, or `../../python`,
 * which is no image reference at all).
 *
 * @example
 * ```ts
 * import { resolveImage } from "./catalog.ts";
 * resolveImage("cr.backend.ai/stable/python:3.9"); // { ref: "bai/python:3.11-bookworm", name: "python" }
 * ```
 */
export function resolveImage(nameOrAlias: string): ResolvedImage | undefined {
  const text = nameOrAlias.trim().toLowerCase();
  if (!text || !IMAGE_REF.test(text)) return undefined;
  const noDigest = text.split("@")[0];
  const lastSlash = noDigest.lastIndexOf("/");
  const lastSegment = noDigest.slice(lastSlash + 1);
  const repo = lastSegment.split(":")[0];
  const recipe = byAlias.get(repo);
  if (!recipe) return undefined;
  return { ref: recipeRef(recipe), name: recipe.name };
}

/** The recipe of a resolved name, or undefined. */
export function recipeFor(nameOrAlias: string): Recipe | undefined {
  const resolved = resolveImage(nameOrAlias);
  return resolved && RECIPES.get(resolved.name);
}
