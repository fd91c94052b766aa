/**
 * `deno task storage --manager ws://HOST:PORT`: a storage node
 * (actors/storage/node.ts): storage hosts, folders with quotas, tus uploads
 * and token downloads on its own HTTP port.
 *
 * @module
 */

export { run } from "../actors/storage/node.ts";
