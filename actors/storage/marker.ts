/**
 * The marker file at a storage host's root: `{ name, id }`. A node that
 * reads the same id at the host's path sees that host (agents use it to
 * report which hosts they can mount; a copy or an empty mountpoint at the
 * same path has another id, or none).
 *
 * @module
 */

/** Name of the marker file at a host's root. */
export const MARKER_FILE = ".bai-storage-host.json";

/** Reads the marker at `root`, or null. */
export async function readMarker(
  root: string,
): Promise<{ name: string; id: string } | null> {
  try {
    const m = JSON.parse(await Deno.readTextFile(`${root}/${MARKER_FILE}`));
    return typeof m?.name === "string" && typeof m?.id === "string"
      ? { name: m.name, id: m.id }
      : null;
  } catch {
    return null;
  }
}
