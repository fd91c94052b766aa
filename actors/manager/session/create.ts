/**
 * What a session create needs before anything is stored: the image it
 * names, the slots it gets (the request's, else the image's defaults,
 * checked against the image's minimums and the cluster's slot names) and
 * the folders it mounts. Refusals are 4xx DomainErrors, raised before any
 * slot is reserved or row written, so a refused create leaves no trace.
 *
 * @module
 */

import {
  type ImageResourceSpec,
  normalizeRequestedSlots,
} from "../../../policies/slots.ts";
import type { CreateSessionRequest } from "../port/mod.ts";
import { DomainError } from "../errors.ts";
import type { SessionRow } from "../services.ts";

/** A folder mount as the agent gets it. */
export type Mount = NonNullable<SessionRow["mounts"]>[number];

/** Slots this cluster knows, with their units (`GET /config/resource-slots`). */
export const RESOURCE_SLOTS = {
  cpu: "count",
  mem: "bytes",
  "cuda.device": "count",
} as const;

/**
 * How long a create waits for RUNNING when the request gives no
 * `maxWaitSeconds`: then it answers with status `TIMEOUT` and the session
 * stays queued (Backend.AI's behaviour for a bounded wait).
 */
export const DEFAULT_MAX_WAIT_SECONDS = 120;

/** The catalogue a create is checked against. */
export interface CreateCatalog {
  /** The image reference for a name or alias; undefined when unknown. */
  resolveImage(name: string): string | undefined;
  /** Default and minimum slots of an image (from its recipe). */
  imageResources(name: string): ImageResourceSpec;
  /**
   * The folders a create mounts, as host paths; throws `vfolder-not-found`
   * for a name the keypair has no folder of.
   */
  resolveMounts(
    accessKey: string,
    req: CreateSessionRequest,
  ): Promise<Mount[]>;
}

/** A create request, checked and resolved. */
export interface PreparedCreate {
  image: string;
  slots: Record<string, number>;
  mounts: Mount[];
}

/** Checks image and resources, then resolves mounts; throws 4xx DomainErrors. */
export async function prepareCreate(
  catalog: CreateCatalog,
  accessKey: string,
  req: CreateSessionRequest,
): Promise<PreparedCreate> {
  const image = catalog.resolveImage(req.image);
  if (!image) {
    throw new DomainError(
      "invalid-api-params",
      `Unknown image: ${req.image}`,
      { image: req.image },
    );
  }
  let slots: Record<string, number>;
  try {
    slots = normalizeRequestedSlots(
      req.config.resources,
      catalog.imageResources(req.image),
      { knownSlots: Object.keys(RESOURCE_SLOTS) },
    );
  } catch (e) {
    throw new DomainError(
      "invalid-api-params",
      e instanceof Error ? e.message : String(e),
    );
  }
  const mounts = await catalog.resolveMounts(accessKey, req);
  return { image, slots, mounts };
}

/** Folders are not built yet: any mount names a folder that does not exist. */
export function refuseMounts(
  _accessKey: string,
  req: CreateSessionRequest,
): Promise<Mount[]> {
  const folders = [...req.config.mounts, ...Object.keys(req.config.mountMap)];
  if (folders.length === 0) return Promise.resolve([]);
  return Promise.reject(
    new DomainError(
      "vfolder-not-found",
      `No such virtual folder: ${folders[0]}`,
      { folders },
    ),
  );
}

/**
 * The problem a create answers when its session ended before RUNNING:
 * CANCELLED means no agent could ever host it (or it was destroyed while
 * pending), ERROR that its kernel failed; the session's own reason is the
 * problem's message.
 */
export function endedBeforeRunning(
  status: "ERROR" | "CANCELLED",
  statusInfo: string | null | undefined,
  sessionId: string,
): DomainError {
  return new DomainError(
    status === "CANCELLED"
      ? "instance-not-available"
      : "kernel-creation-failed",
    statusInfo ?? `session ended in ${status}`,
    { sessionId, status },
  );
}
