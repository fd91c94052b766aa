/**
 * Whether a kernel image is built in the local Docker engine, for tests
 * that need one: they skip with {@link imageMissing}'s reason (the command
 * that builds it) instead of failing on a missing image.
 *
 * @example
 * ```ts ignore
 * const missing = await imageMissing("python-jupyter");
 * if (missing) console.log(`my_test skipped: ${missing}`);
 * Deno.test({ name: "…", ignore: missing !== undefined, fn() {} });
 * ```
 *
 * @module
 */
import { resolveImage } from "../../images/catalog.ts";

/** Whether `ref` is in the local engine (false when Docker cannot answer). */
export async function imageBuilt(ref: string): Promise<boolean> {
  const out = await new Deno.Command("docker", {
    args: ["image", "inspect", ref],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => undefined);
  return out?.success ?? false;
}

/** Undefined when the image of `name` (a recipe or alias) is built, else why not. */
export async function imageMissing(name: string): Promise<string | undefined> {
  const ref = resolveImage(name)?.ref ?? name;
  return await imageBuilt(ref)
    ? undefined
    : `${ref} is not built (deno task images build ${name})`;
}
