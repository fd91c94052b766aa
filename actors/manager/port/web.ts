/**
 * The dashboard's part of the manager's port (routes/ui/): signed-in web
 * sessions, and the read models its pages show that the REST API has no
 * call for (a keypair's jobs as a list, live kernel usage, slots in use
 * against the policy, the images to choose from). Everything that changes
 * state goes through the same calls the API uses (`SessionDeps`,
 * `AdminDeps`), with a {@link Caller} built from the web session.
 *
 * @module
 */

import type { Caller } from "./keypairs.ts";

/** A signed-in browser session, as the dashboard sees it. */
export interface WebSession {
  accessKey: string;
  /** Sent back by every state-changing request (form field or header). */
  csrfToken: string;
  /** ISO time the session ends if unused. */
  expiresAt: string;
}

/** A new web session: the cookie token is known only here, once. */
export interface OpenedWebSession extends WebSession {
  token: string;
}

/** How long web sessions live. */
export interface WebSessionLifetime {
  /** Unused this long, a session ends, ms. */
  idleMs: number;
  /** However much it is used, a session ends this long after sign-in, ms. */
  maxAgeMs: number;
}

/**
 * Web sessions, kept in the store so a manager restart keeps them. Only a
 * hash of the token is stored.
 */
export interface WebSessionDeps {
  /** Opens a session for a keypair whose secret key the caller verified. */
  open(
    accessKey: string,
    opts: WebSessionLifetime & { userAgent?: string },
  ): Promise<OpenedWebSession>;
  /**
   * The live session of a cookie token (its idle expiry pushed forward by
   * `idleMs`), or undefined for an unknown, expired or malformed token.
   */
  find(token: string, idleMs: number): Promise<WebSession | undefined>;
  /** Ends the session of a token (sign-out); no error when there is none. */
  close(token: string): Promise<void>;
}

/** A session as a row of the Jobs page. */
export interface JobView {
  sessionId: string;
  sessionName: string;
  image: string;
  type: string;
  status: string;
  statusInfo: string | null;
  /** ISO times. */
  createdAt: string;
  terminatedAt: string | null;
  /** What was asked for: `cpu` cores, `mem` bytes, ... */
  requestedSlots: Record<string, number>;
  /** What it holds now (empty before it is placed). */
  occupiedSlots: Record<string, number>;
  scalingGroup: string;
  /** Metered totals stored at the end (`cpuMs`, `memPeakKiB`, ...), or null. */
  lastStat: Record<string, unknown> | null;
}

/** Live usage of one running session's kernel (kernel stats). */
export interface KernelUsage {
  sessionId: string;
  /** CPU time used so far (user + system), ms. */
  cpuMs: number;
  /** Memory in use now, KiB. */
  memKiB: number;
  /** Highest memory use so far, KiB. */
  memPeakKiB: number;
  /** ISO time the sample was taken. */
  at: string;
}

/** A keypair's use against its resource policy (the Summary page). */
export interface KeypairUsageSummary {
  accessKey: string;
  resourcePolicy: string;
  /** Live sessions (not ended) of the keypair. */
  liveSessions: number;
  /** Sessions running now. */
  runningSessions: number;
  maxConcurrentSessions: number;
  /** Slots held by live sessions, summed. */
  occupiedSlots: Record<string, number>;
  /** The policy's caps per slot; a slot not named here is not capped. */
  totalResourceSlots: Record<string, number>;
}

/** An image the New session form offers, with its resource bounds. */
export interface ImageChoice {
  /** The name users type (`python`, `c`, ...). */
  name: string;
  /** Slots a session gets when it asks for none: `cpu` cores, `mem` bytes. */
  defaults: Record<string, number>;
  /** The least a session of this image may ask for. */
  minimums: Record<string, number>;
}

/** What the dashboard calls besides the API's operations. */
export interface WebDeps {
  webSessions: WebSessionDeps;
  /** The caller's sessions, newest first: all live ones, then up to `recent` ended ones. */
  jobs(caller: Caller, opts: { recent: number }): Promise<JobView[]>;
  /** One of the caller's sessions (live or ended) by id; object-not-found otherwise. */
  job(caller: Caller, sessionId: string): Promise<JobView>;
  /** Kernel stats of the caller's running sessions (those that answer in time). */
  usage(caller: Caller): Promise<KernelUsage[]>;
  /** Slots in use against the caller's resource policy. */
  summary(caller: Caller): Promise<KeypairUsageSummary>;
  /** Images sessions can be started from (present on an agent, else every recipe). */
  images(): Promise<ImageChoice[]>;
  /**
   * Base URLs of the storage nodes joined now (what upload and download
   * tickets point at), for the dashboard's CSP `connect-src`. Optional:
   * a manager without folders has none.
   */
  storageUrls?(): Promise<string[]>;
}
