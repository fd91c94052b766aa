/**
 * The identity of the local agent `deno task start` runs: one per data dir,
 * recorded in `<dataDir>/agent.id` on first start and read back after. An
 * agent labels its containers with its id and re-adopts (or removes) the
 * containers carrying it, so two clusters on one host must not share one:
 * with a fixed `local`, a second `deno task start` (another data dir) took
 * the first one's kernels for its own leftovers.
 *
 * A data dir from before this record (its agent already ran kernels, under
 * the id `local`) keeps `local`, so its running kernels are still re-adopted.
 * `LOCAL_AGENT_ID` overrides everything.
 *
 * @module
 */

/** Options of {@link localAgentId}. */
export interface LocalAgentIdOptions {
  /** `LOCAL_AGENT_ID` from the environment, if set. */
  override?: string;
  /** Random suffix source (tests). @default {crypto.getRandomValues} */
  random?: () => string;
}

const randomSuffix = () =>
  Array.from(
    crypto.getRandomValues(new Uint8Array(4)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");

/**
 * The local agent's id for `dataDir`: the override, else the recorded one,
 * else `local` for a legacy data dir, else a new `local-<8 hex>` (recorded).
 *
 * @example
 * ```ts ignore
 * const id = await localAgentId("./var"); // "local-3f9a0c12", the same on every later start
 * ```
 */
export async function localAgentId(
  dataDir: string,
  options: LocalAgentIdOptions = {},
): Promise<string> {
  if (options.override) return options.override;
  const file = `${dataDir}/agent.id`;
  try {
    const recorded = (await Deno.readTextFile(file)).trim();
    if (recorded) return recorded;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const id = (await ranKernels(`${dataDir}/agent`))
    ? "local"
    : `local-${(options.random ?? randomSuffix)()}`;
  await Deno.mkdir(dataDir, { recursive: true });
  await Deno.writeTextFile(file, id + "\n");
  return id;
}

/** Whether an agent already kept kernel dirs under `agentDir` (a data dir from before agent.id). */
async function ranKernels(agentDir: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(`${agentDir}/kernels`)) return true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return false;
}
