/**
 * Folder rows and storage listings in the JSON shapes Backend.AI answers.
 *
 * @module
 */

import type { FileEntry } from "../../protocol/storage.ts";
import type {
  AdminFolderView,
  FolderFileList,
  FolderView,
} from "../port/folders.ts";
import type { FolderRow } from "./repo.ts";

/** A uuid as Backend.AI prints folder ids: 32 hex digits. */
export const hexId = (id: string): string => id.replaceAll("-", "");

/** `GET /folders` item of a row. */
export function folderView(row: FolderRow): FolderView {
  return {
    id: hexId(row.id),
    name: row.name,
    host: row.host,
    usage_mode: row.usageMode,
    created_at: row.createdAt.toISOString(),
    is_owner: true,
    permission: row.permission,
    user: row.userId,
    group: null,
    creator: row.userId,
    user_email: row.userId,
    group_name: null,
    ownership_type: "user",
    type: "user",
    unmanaged_path: null,
    cloneable: row.cloneable,
    max_files: 0,
    max_size: row.quota === null ? 0 : Math.floor(row.quota / 2 ** 20),
    quota: row.quota,
    cur_size: row.usedBytes ?? 0,
    status: row.status === "ready" ? "ready" : row.status,
  };
}

/** The admin listing item of a row. */
export function adminFolderView(row: FolderRow): AdminFolderView {
  return {
    ...folderView(row),
    access_key: row.accessKey,
    used_bytes: row.usedBytes,
    usage_at: row.usageAt?.toISOString() ?? null,
    last_used: row.lastUsed?.toISOString() ?? null,
  };
}

/**
 * `ls -l`'s mode string of an `st_mode` (`drwxr-xr-x`).
 *
 * @example
 * ```ts
 * import { fileModeString } from "./views.ts";
 * if (fileModeString(0o40755) !== "drwxr-xr-x") throw new Error();
 * if (fileModeString(0o100644) !== "-rw-r--r--") throw new Error();
 * ```
 */
export function fileModeString(mode: number): string {
  const kind = (mode & 0o170000) === 0o040000
    ? "d"
    : (mode & 0o170000) === 0o120000
    ? "l"
    : "-";
  const bits = "rwxrwxrwx";
  let out = kind;
  for (let i = 0; i < 9; i++) {
    out += mode & (1 << (8 - i)) ? bits[i] : "-";
  }
  return out;
}

/** A storage listing as `GET /folders/{name}/files` answers it. */
export function fileListView(
  path: string,
  entries: FileEntry[],
  truncated: boolean,
): FolderFileList {
  const items = entries.map((e) => ({
    filename: e.name,
    type: e.type,
    size: e.size,
    mode: fileModeString(e.mode),
    mtime: e.mtime,
    atime: e.atime,
    ctime: e.ctime,
  }));
  return {
    files: JSON.stringify(items),
    folder_path: path || ".",
    items,
    truncated,
  };
}
