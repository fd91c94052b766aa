/**
 * `deno task agent --manager ws://HOST:PORT`: an agent node (actors/agent/node.ts).
 *
 * @module
 */

import { run as runAgent } from "../actors/agent/node.ts";
import { exitWithParent } from "./exit_with_parent.ts";

export async function run(args: string[]): Promise<void> {
  await runAgent(args);
  exitWithParent(Deno.env.get("BAI_EXIT_WITH_PARENT"), "agent");
}
