/**
 * Messages between the manager and storage nodes (and the one agents send
 * the storage registry), with their zod schemas. A storage node's actor
 * (`/user/storage` there) owns its hosts' folders and files; the manager's
 * storage registry (`/user/storage` on the manager) knows which node owns
 * which host. Replies are values too: a refusal is `{ error }` naming an API
 * problem, never a thrown text the other side would have to match.
 *
 * @module
 */

import { z } from "zod";

/** Path of the storage registry on the manager and of the storage actor on a storage node. */
export const STORAGE_PATH = "/user/storage";

/** A refusal the manager maps to an API problem (API.md "Errors"). */
export const StorageError = z.object({
  type: z.enum([
    "invalid-api-params",
    "generic-forbidden",
    "object-not-found",
    "vfolder-not-found",
    "quota-exceeded",
    "service-unavailable",
    "vfolder-already-exists",
  ]),
  msg: z.string(),
});
export type StorageError = z.infer<typeof StorageError>;

/** A storage host as its node reports it. */
export const StorageHostInfo = z.object({
  /** Cluster-wide name (`local`, `nfs1`): what clients pass as `host`. */
  name: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/),
  /** Absolute path of its root on the storage node (and on agents that mount it). */
  path: z.string().startsWith("/"),
  /** Random id in the host's marker file: an agent seeing it at `path` sees this host. */
  markerId: z.string(),
  /** `btrfs` enforces folder quotas; `plain` does not. */
  kind: z.enum(["btrfs", "plain"]),
  totalBytes: z.number(),
  freeBytes: z.number(),
});
export type StorageHostInfo = z.infer<typeof StorageHostInfo>;

/** A storage node's identity, sent on join and with every heartbeat. */
export const StorageNodeInfo = z.object({
  id: z.string().min(1).max(64),
  /** Base URL clients reach for uploads and downloads (`http://HOST:PORT`). */
  url: z.string().url(),
  version: z.string(),
  hosts: z.array(StorageHostInfo),
});
export type StorageNodeInfo = z.infer<typeof StorageNodeInfo>;

/** Messages of the manager's storage registry. */
export const StorageRegistryMsg = z.discriminatedUnion("type", [
  z.object({ type: z.literal("storage.join"), info: StorageNodeInfo }),
  z.object({ type: z.literal("storage.heartbeat"), info: StorageNodeInfo }),
  z.object({ type: z.literal("storage.leave"), id: z.string() }),
  /** From agents: the hosts to look for (answers {@link StorageHostInfo}[]). */
  z.object({ type: z.literal("storage.hosts") }),
]);
export type StorageRegistryMsg = z.infer<typeof StorageRegistryMsg>;

const Folder = {
  host: z.string(),
  /** The folder's uuid. */
  folderId: z.string().uuid(),
};
/** A path inside a folder as the client sent it (checked by the storage node). */
const RelPath = z.string().max(4096);

/** Messages of a storage node's actor. */
export const StorageMsg = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("folder.create"),
    ...Folder,
    /** Bytes; null = no limit of its own (the host's size bounds it). */
    quota: z.number().int().positive().nullable(),
  }),
  z.object({ type: z.literal("folder.delete"), ...Folder }),
  z.object({
    type: z.literal("folder.set-quota"),
    ...Folder,
    quota: z.number().int().positive().nullable(),
  }),
  z.object({
    type: z.literal("folder.usage"),
    host: z.string(),
    /** Only these folders; all of the host's when absent. */
    folderIds: z.array(z.string().uuid()).optional(),
  }),
  z.object({ type: z.literal("files.list"), ...Folder, path: RelPath }),
  z.object({
    type: z.literal("files.mkdir"),
    ...Folder,
    path: RelPath,
    parents: z.boolean().default(false),
    existOk: z.boolean().default(false),
  }),
  z.object({
    type: z.literal("files.rename"),
    ...Folder,
    path: RelPath,
    newName: z.string(),
  }),
  z.object({
    type: z.literal("files.move"),
    ...Folder,
    src: RelPath,
    dst: RelPath,
  }),
  z.object({
    type: z.literal("files.delete"),
    ...Folder,
    paths: z.array(RelPath).max(10_000),
    recursive: z.boolean().default(false),
  }),
  z.object({
    type: z.literal("upload.prepare"),
    ...Folder,
    path: RelPath,
    size: z.number().int().nonnegative(),
  }),
  z.object({
    type: z.literal("download.prepare"),
    ...Folder,
    path: RelPath,
  }),
]);
export type StorageMsg = z.infer<typeof StorageMsg>;

/** One entry of a listing. */
export const FileEntry = z.object({
  name: z.string(),
  type: z.enum(["FILE", "DIRECTORY", "SYMLINK"]),
  size: z.number(),
  /** Permission bits and type, as `stat`'s st_mode. */
  mode: z.number(),
  /** Seconds since the epoch. */
  mtime: z.number(),
  atime: z.number(),
  ctime: z.number(),
});
export type FileEntry = z.infer<typeof FileEntry>;

/** Usage of one folder. */
export const FolderUsage = z.object({
  folderId: z.string(),
  usedBytes: z.number(),
  limitBytes: z.number().nullable(),
});
export type FolderUsage = z.infer<typeof FolderUsage>;

/** Replies, by message type; each may instead be `{ error }`. */
export const StorageReply = {
  ok: z.object({ ok: z.literal(true) }),
  created: z.object({ ok: z.literal(true), path: z.string() }),
  usage: z.object({ usage: z.array(FolderUsage) }),
  list: z.object({ entries: z.array(FileEntry), truncated: z.boolean() }),
  transfer: z.object({ token: z.string(), url: z.string() }),
} as const;

/** Any reply: the expected shape or a refusal. */
export function storageReply<S extends z.ZodType>(
  shape: S,
): z.ZodUnion<[S, z.ZodObject<{ error: typeof StorageError }>]> {
  return z.union([shape, z.object({ error: StorageError })]);
}
