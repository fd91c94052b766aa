/**
 * `deno task storage --manager ws://HOST:PORT`: a storage node
 * (actors/storage/node.ts): storage hosts, folders with quotas, tus uploads
 * and token downloads on its own HTTP port.
 *
 * @module
 */

import { run as runStorage } from "../actors/storage/node.ts";
import { exitWithParent } from "./exit_with_parent.ts";

export async function run(args: string[]): Promise<void> {
  await runStorage(args);
  exitWithParent(Deno.env.get("BAI_EXIT_WITH_PARENT"), "storage");
}
