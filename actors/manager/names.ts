/**
 * The manager node's identity on the cluster and the version `GET /`
 * reports: constants every manager module may import without importing
 * the node's wiring (node.ts).
 *
 * @module
 */

/** The manager's node id; agents address its actors by it. */
export const MANAGER_NODE = "manager";

/** Our manager version, reported by `GET /`. */
export const MANAGER_VERSION = "0.1.0";
