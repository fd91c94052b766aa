/**
 * The virtual-folder operations of the manager's port (`/folders`, as
 * Backend.AI's clients call them, and `/x/admin/folders`). Replies are the
 * JSON shapes Backend.AI answers (snake_case keys), so routes pass them on
 * as they are. Paths inside a folder are passed as the client sent them;
 * the manager refuses bad ones (4xx) and the storage node confines the rest.
 *
 * @module
 */

import type { Caller } from "./keypairs.ts";

/** A folder in listings (`GET /folders`). */
export interface FolderView {
  /** 32 hex digits, as Backend.AI answers. */
  id: string;
  name: string;
  host: string;
  usage_mode: string;
  created_at: string;
  is_owner: boolean;
  permission: string;
  user: string;
  group: string | null;
  creator: string;
  user_email: string;
  group_name: string | null;
  ownership_type: "user";
  type: "user";
  unmanaged_path: null;
  cloneable: boolean;
  max_files: number;
  /** Quota in MiB (Backend.AI's unit); 0 = none. */
  max_size: number;
  /** Quota in bytes; null = none. */
  quota: number | null;
  /** Last reported usage in bytes. */
  cur_size: number;
  status: string;
  [extra: string]: unknown;
}

/** `GET /folders/{name}`: the view plus counts. */
export interface FolderInfo extends FolderView {
  numFiles: number;
  used_bytes: number;
  last_used: string | null;
}

/** A validated `POST /folders`. */
export interface CreateFolderRequest {
  name: string;
  /** Absent: the default host. */
  host?: string;
  permission: "ro" | "rw" | "wd";
  /** Bytes; absent or 0 = the policy's max_vfolder_size (or none). */
  quota?: number;
  usageMode: "general" | "data" | "model";
  cloneable: boolean;
  /** Group folders are not supported: a group is refused. */
  group?: string;
}

/** `GET /folders/{name}/files`: Backend.AI's shape, `files` a JSON string. */
export interface FolderFileList {
  files: string;
  folder_path: string;
  /** The same entries as objects (ours). */
  items: {
    filename: string;
    type: "FILE" | "DIRECTORY" | "SYMLINK";
    size: number;
    mode: string;
    mtime: number;
    atime: number;
    ctime: number;
  }[];
  truncated: boolean;
}

/** Where a client sends or fetches bytes: `url?token=...`. */
export interface TransferTicket {
  token: string;
  url: string;
}

/** `GET /folders/_/hosts`. */
export interface FolderHosts {
  default: string | null;
  allowed: string[];
  volume_info: Record<
    string,
    { backend: string; capabilities: string[]; usage?: unknown }
  >;
}

/** A session's folder mount, resolved for the agent. */
export interface ResolvedMount {
  name: string;
  folderId: string;
  host: string;
  /** The folder's data dir on the host (and on agents that see the host). */
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

/** Admin listing filter (`GET /x/admin/folders`). */
export interface AdminFolderFilter {
  accessKey?: string;
  host?: string;
  limit: number;
  offset: number;
}

/** A folder as admins list it. */
export interface AdminFolderView extends FolderView {
  access_key: string;
  used_bytes: number | null;
  usage_at: string | null;
  last_used: string | null;
}

/** The folder operations of the public API. */
export interface FolderDeps {
  hosts(caller: Caller): Promise<FolderHosts>;
  allowedTypes(): Promise<string[]>;
  create(caller: Caller, req: CreateFolderRequest): Promise<FolderView>;
  list(caller: Caller): Promise<FolderView[]>;
  info(caller: Caller, name: string): Promise<FolderInfo>;
  rename(caller: Caller, name: string, newName: string): Promise<void>;
  updateOptions(
    caller: Caller,
    name: string,
    patch: { permission?: "ro" | "rw" | "wd"; cloneable?: boolean },
  ): Promise<void>;
  /** By name, or by id (`DELETE /folders {"id"}`). */
  delete(caller: Caller, ref: { name: string } | { id: string }): Promise<void>;
  mkdir(
    caller: Caller,
    name: string,
    path: string,
    opts: { parents: boolean; existOk: boolean },
  ): Promise<void>;
  listFiles(
    caller: Caller,
    name: string,
    path: string,
  ): Promise<FolderFileList>;
  renameFile(
    caller: Caller,
    name: string,
    targetPath: string,
    newName: string,
  ): Promise<void>;
  moveFile(
    caller: Caller,
    name: string,
    src: string,
    dst: string,
  ): Promise<void>;
  deleteFiles(
    caller: Caller,
    name: string,
    files: string[],
    recursive: boolean,
  ): Promise<void>;
  requestUpload(
    caller: Caller,
    name: string,
    path: string,
    size: number,
  ): Promise<TransferTicket>;
  requestDownload(
    caller: Caller,
    name: string,
    path: string,
  ): Promise<TransferTicket>;
  /** `POST /folders/{name}/upload` (multipart): each file at its name. */
  upload(caller: Caller, name: string, files: File[]): Promise<void>;
  /** Across keypairs, with usage (admins). */
  adminList(
    filter: AdminFolderFilter,
  ): Promise<{ folders: AdminFolderView[]; total: number }>;
}
