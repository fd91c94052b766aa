/**
 * A storage host: a named directory holding folders, on a quota volume.
 * `local` is a btrfs volume under the storage node's data dir; a shared
 * filesystem (an NFS export mounted at the same path on the agents) is a
 * plain host whose folders have no limits of their own.
 *
 * Layout of one host:
 *
 *     ROOT/.bai-storage-host.json   marker {name, id}: agents look for it
 *     ROOT/FOLDER_ID/               the folder's quota dir (a subvolume)
 *     ROOT/FOLDER_ID/data/          what kernels mount and clients list
 *     ROOT/FOLDER_ID/uploads/       tus uploads in progress (they count
 *                                   against the quota before they land)
 *
 * @module
 */

import type { StorageHostInfo } from "../protocol/storage.ts";
import { giveToKernels } from "./files.ts";
import { openQuotaVolume, type QuotaVolume } from "./volume/mod.ts";
import { MARKER_FILE, readMarker } from "./marker.ts";

export { MARKER_FILE, readMarker };

/** How a host is made. */
export interface HostSpec {
  name: string;
  /** A plain directory at this path (no quotas), instead of a btrfs volume under the data dir. */
  path?: string;
}

export class StorageHost {
  private constructor(
    readonly name: string,
    readonly volume: QuotaVolume,
    readonly markerId: string,
  ) {}

  /**
   * Opens (making when needed) the host: a btrfs volume at
   * `dataDir/hosts/NAME` (image `dataDir/images/NAME.img`, `sizeBytes`
   * sparse), or the plain dir `spec.path`.
   */
  static async open(
    spec: HostSpec,
    dataDir: string,
    sizeBytes?: number,
  ): Promise<StorageHost> {
    const volume = spec.path
      ? await openQuotaVolume({ root: spec.path, image: "", kind: "plain" })
      : await openQuotaVolume({
        root: `${dataDir}/hosts/${spec.name}`,
        image: `${dataDir}/images/${spec.name}.img`,
        sizeBytes,
      });
    let marker = await readMarker(volume.root);
    if (marker && marker.name !== spec.name) {
      throw new Error(
        `storage host ${spec.name}: ${volume.root} belongs to host ${marker.name}`,
      );
    }
    if (!marker) {
      marker = { name: spec.name, id: crypto.randomUUID() };
      await Deno.writeTextFile(
        `${volume.root}/${MARKER_FILE}`,
        JSON.stringify(marker),
      );
    }
    return new StorageHost(spec.name, volume, marker.id);
  }

  get root(): string {
    return this.volume.root;
  }

  /** The dir kernels mount and clients browse. */
  dataDir(folderId: string): string {
    return `${this.root}/${folderId}/data`;
  }

  /** Where the folder's tus uploads stage. */
  uploadsDir(folderId: string): string {
    return `${this.root}/${folderId}/uploads`;
  }

  async hasFolder(folderId: string): Promise<boolean> {
    return await this.volume.has(folderId);
  }

  /** Makes the folder's quota dir with `data/` (owned by the kernels' user) and `uploads/`. */
  async createFolder(folderId: string, quota: number | null): Promise<string> {
    const dir = await this.volume.create(folderId, quota);
    try {
      await Deno.mkdir(`${dir}/data`, { mode: 0o755 });
      await giveToKernels(`${dir}/data`);
      await Deno.mkdir(`${dir}/uploads`, { mode: 0o700 });
    } catch (e) {
      await this.volume.remove(folderId).catch(() => undefined);
      throw e;
    }
    return this.dataDir(folderId);
  }

  async info(): Promise<StorageHostInfo> {
    const cap = await this.volume.capacity().catch(() => ({
      totalBytes: 0,
      freeBytes: 0,
    }));
    return {
      name: this.name,
      path: this.root,
      markerId: this.markerId,
      kind: this.volume.kind,
      ...cap,
    };
  }
}
