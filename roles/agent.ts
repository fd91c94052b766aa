/**
 * `deno task agent --manager ws://HOST:PORT`: an agent node (actors/agent/node.ts).
 *
 * @module
 */

export { run } from "../actors/agent/node.ts";
