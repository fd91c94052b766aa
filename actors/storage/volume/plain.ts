/**
 * A plain directory as a volume: no limits (a shared filesystem such as an
 * NFS export enforces its own, or nothing). A limit asked of it is refused,
 * never silently ignored; usage is measured with `du` on demand.
 *
 * @module
 */

import { dfCapacity } from "./btrfs.ts";
import { exec, VolumeError } from "./exec.ts";
import {
  checkDirName,
  type DirUsage,
  type QuotaVolume,
  type VolumeCapacity,
} from "./volume.ts";

export class PlainVolume implements QuotaVolume {
  readonly kind = "plain";
  readonly enforcesQuota = false;

  constructor(readonly root: string) {}

  static async open(root: string): Promise<PlainVolume> {
    const r = root.replace(/\/+$/, "");
    await Deno.mkdir(r, { recursive: true });
    return new PlainVolume(r);
  }

  #path(name: string): string {
    return `${this.root}/${checkDirName(name)}`;
  }

  async create(name: string, limitBytes: number | null): Promise<string> {
    if (limitBytes !== null) {
      throw new VolumeError(`${this.root} cannot enforce a quota`);
    }
    const path = this.#path(name);
    await Deno.mkdir(path); // throws AlreadyExists
    return path;
  }

  setLimit(_name: string, limitBytes: number | null): Promise<void> {
    if (limitBytes === null) return Promise.resolve();
    return Promise.reject(
      new VolumeError(`${this.root} cannot enforce a quota`),
    );
  }

  async usage(name: string): Promise<DirUsage> {
    const out = await exec("du", ["-sb", this.#path(name)]);
    return { usedBytes: Number(out.split(/\s/)[0]) || 0, limitBytes: null };
  }

  async usageAll(): Promise<Map<string, DirUsage>> {
    const out = new Map<string, DirUsage>();
    for await (const e of Deno.readDir(this.root)) {
      if (!e.isDirectory) continue;
      try {
        out.set(e.name, await this.usage(e.name));
      } catch { /* a name we would not make: skip */ }
    }
    return out;
  }

  async remove(name: string): Promise<void> {
    await Deno.remove(this.#path(name), { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }

  async has(name: string): Promise<boolean> {
    try {
      await Deno.lstat(this.#path(name));
      return true;
    } catch {
      return false;
    }
  }

  async capacity(): Promise<VolumeCapacity> {
    return await dfCapacity(this.root);
  }
}
