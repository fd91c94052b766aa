/**
 * Builds kernel images from their recipes, offline: the shared base from
 * debootstrap (base.ts), then one `docker build` per recipe FROM it.
 *
 * CLI: `deno run -A images/build.ts build [NAME...|--all]` (no NAME: the
 * light images, i.e. all but the `heavy` ones) and
 * `deno run -A images/build.ts list`.
 *
 * @module
 */
import { describeImage, type ImageInfo } from "./listing.ts";
import { recipeFor, RECIPES } from "./catalog.ts";
import { BASE_REF, ensureBase } from "./base.ts";
import { labelsOf, recipeHash, writeContext } from "./dockerfile.ts";
import { assertEngine, inspect, run, stream } from "./docker.ts";
import {
  AptError,
  DockerBuildError,
  ImageBuildError,
  UnknownImageError,
} from "./errors.ts";
import {
  printProgress,
  type Progress,
  type ProgressEvent,
  progressFor,
} from "./progress.ts";
import { type Recipe, recipeRef } from "./recipe.ts";

export type { ProgressEvent } from "./progress.ts";
export * from "./errors.ts";

/** Metadata of a built kernel image, read back from its labels. */
export type { ImageInfo } from "./listing.ts";

/** Options of ensureImage. */
export interface EnsureImageOptions {
  /** Receives stage events while building (nothing when cached). */
  onProgress?: (e: ProgressEvent) => void;
}

const inFlight = new Map<string, Promise<ImageInfo>>();
let baseInFlight: Promise<string> | undefined;

/**
 * Makes sure the image for `name` (alias or ref, see resolveImage) exists
 * and matches its recipe; builds the base and the image if needed.
 * Concurrent calls for the same image in one process share one build.
 *
 * @throws UnknownImageError, EngineUnavailableError, DebootstrapError, AptError, DockerBuildError
 */
export function ensureImage(
  name: string,
  options: EnsureImageOptions = {},
): Promise<ImageInfo> {
  const recipe = recipeFor(name);
  if (!recipe) {
    return Promise.reject(
      new UnknownImageError(`no image recipe for "${name}"`, name),
    );
  }
  let p = inFlight.get(recipe.name);
  if (!p) {
    p = build(recipe, progressFor(recipe.name, options.onProgress)).finally(
      () => inFlight.delete(recipe.name),
    );
    inFlight.set(recipe.name, p);
  }
  return p;
}

async function build(recipe: Recipe, progress: Progress): Promise<ImageInfo> {
  await assertEngine();
  baseInFlight ??= ensureBase(progress).finally(
    () => (baseInFlight = undefined),
  );
  const baseId = await baseInFlight;
  const hash = await recipeHash(recipe, baseId);
  const ref = recipeRef(recipe);
  const [current] = await inspect([ref]);
  if (current?.Config.Labels?.["ai.backend.recipe-hash"] === hash) {
    progress.stage("cached", `${ref} is up to date (${hash})`);
    return toInfo(current, ref);
  }
  progress.stage(
    "build",
    `docker build ${ref} (${recipe.packages.join(" ") || "no extra packages"})`,
  );
  const ctx = await Deno.makeTempDir({ prefix: "bai-image-" });
  const tail: string[] = [];
  try {
    await writeContext(ctx, recipe, BASE_REF, labelsOf(recipe, hash));
    let installed = 0;
    const code = await stream("docker", [
      "build",
      "--network",
      "host",
      "-t",
      ref,
      ctx,
    ], (line) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      const step = line.match(/^Step (\d+\/\d+) : (.*)$/);
      if (step) progress.stage("step", `${step[1]} ${step[2].slice(0, 90)}`);
      else if (/^Setting up /.test(line) && ++installed % 20 === 0) {
        progress.stage("step", `apt: ${installed} packages set up`);
      }
    }, { env: { DOCKER_BUILDKIT: "0" } });
    if (code !== 0) throw buildFailure(ref, tail);
  } finally {
    await Deno.remove(ctx, { recursive: true }).catch(() => {});
  }
  const [made] = await inspect([ref]);
  if (!made) {
    throw new DockerBuildError(
      `docker build reported success but ${ref} is missing`,
      ref,
    );
  }
  progress.stage("done", `${ref} ${(made.Size / 1e6).toFixed(0)} MB`);
  return toInfo(made, ref);
}

/** Classifies a failed `docker build` from its last output lines. */
export function buildFailure(ref: string, tail: string[]): ImageBuildError {
  const text = tail.join("\n");
  const pkgs = new Set<string>();
  for (const m of text.matchAll(/Unable to locate package (\S+)/g)) {
    pkgs.add(m[1]);
  }
  for (
    const m of text.matchAll(
      /Package '?([^' ]+)'? has no installation candidate/g,
    )
  ) pkgs.add(m[1]);
  for (
    const m of text.matchAll(/Failed to fetch \S+\/([a-z0-9.+-]+)_[^ ]+\.deb/g)
  ) pkgs.add(m[1]);
  const errs = tail.filter((l) => /^E: /.test(l));
  if (pkgs.size || errs.length) {
    return new AptError(
      `apt failed while building ${ref}${
        pkgs.size ? ` (package: ${[...pkgs].join(", ")})` : ""
      }:\n${errs.join("\n")}`,
      ref,
      [...pkgs],
    );
  }
  return new DockerBuildError(
    `docker build of ${ref} failed:\n${tail.slice(-12).join("\n")}`,
    ref,
  );
}

function toInfo(
  img: {
    Id: string;
    Size: number;
    Created: string;
    Config: { Labels: Record<string, string> | null };
  },
  ref: string,
): ImageInfo {
  return describeImage({
    ref,
    id: img.Id,
    sizeBytes: img.Size,
    created: img.Created,
    labels: img.Config.Labels ?? {},
  });
}

/** The kernel images present in the engine (label ai.backend.kernelspec=1), from their labels. */
export async function listImages(): Promise<ImageInfo[]> {
  await assertEngine();
  const r = await run("docker", [
    "images",
    "--filter",
    "label=ai.backend.kernelspec=1",
    "--format",
    "{{.Repository}}:{{.Tag}}",
  ]);
  const refs = r.stdout.split("\n").map((s) => s.trim()).filter((s) =>
    s && !s.includes("<none>")
  );
  const imgs = await inspect(refs);
  return imgs.map((img, i) =>
    toInfo(img, img.RepoTags?.find((t) => refs.includes(t)) ?? refs[i])
  );
}

/** Builds the named images (all light ones when `names` is empty, every one with `--all`). */
export async function buildImages(
  names: string[],
  onProgress = printProgress,
): Promise<ImageInfo[]> {
  const all = names.includes("--all");
  const picked = all
    ? [...RECIPES.values()]
    : names.length
    ? names.map((n) =>
      recipeFor(n) ?? (() => {
        throw new UnknownImageError(`no image recipe for "${n}"`, n);
      })()
    )
    : [...RECIPES.values()].filter((r) => !r.heavy);
  const out: ImageInfo[] = [];
  for (const recipe of picked) {
    out.push(await ensureImage(recipe.name, { onProgress }));
  }
  return out;
}

async function main(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  try {
    if (cmd === "build") {
      const t0 = performance.now();
      const infos = await buildImages(rest);
      for (const i of infos) {
        console.log(
          `${i.ref}\t${(i.sizeBytes / 1e6).toFixed(0)} MB\t${i.recipeHash}`,
        );
      }
      console.error(
        `built ${infos.length} image(s) in ${
          ((performance.now() - t0) / 1000).toFixed(1)
        } s`,
      );
      return 0;
    }
    if (cmd === "list") {
      for (const i of await listImages()) {
        console.log(
          `${i.ref}\t${i.languages.join(",")}\t${
            (i.sizeBytes / 1e6).toFixed(0)
          } MB\t${i.features.join(",")}`,
        );
      }
      return 0;
    }
    console.error("usage: images/build.ts build [NAME...|--all] | list");
    return 2;
  } catch (e) {
    if (e instanceof ImageBuildError) {
      console.error(`error: ${e.name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

/** Entry of `deno task images ...` (main.ts's `images` role). */
export async function runCli(args: string[]): Promise<void> {
  const code = await main(args);
  if (code !== 0) Deno.exit(code);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
