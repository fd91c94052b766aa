/**
 * SessionsActor (`/user/manager/sessions`): parent and supervisor of every
 * live SessionActor. It owns session creation (the request checked against
 * the image catalogue, name rules, the keypair's quota, the PENDING row,
 * then the wait for RUNNING as a deferred reply), resolves session refs,
 * and re-attaches live sessions from the store at start, so a manager
 * restart loses nothing.
 *
 * @module
 */

import {
  Actor,
  type ActorRef,
  replyLater,
  type SupervisorStrategy,
  type Terminated,
} from "../../runtime/mod.ts";
import type {
  Caller,
  CreateSessionRequest,
  CreateSessionResult,
} from "../port/mod.ts";
import { DomainError } from "../errors.ts";
import { isEnded, preopenOf } from "../lifecycle.ts";
import { servicePortsOf } from "../channel/service_ports.ts";
import type { ManagerServices, SessionRow } from "../services.ts";
import { SessionActor, type SessionMsg } from "./actor.ts";
import { createSpan, currentTraceparent } from "../spans.ts";
import type { WaitedStatus } from "./messages.ts";
import {
  type CreateCatalog,
  DEFAULT_MAX_WAIT_SECONDS,
  endedBeforeRunning,
  prepareCreate,
} from "./create.ts";

/** Creation, look-up and listing of sessions; persistence behind it. */
export interface SessionsStorePort {
  listLive(): Promise<SessionRow[]>;
  /** Sessions of a keypair matching `ref` (exact name, id prefix, name prefix). */
  findByRef(
    accessKey: string,
    ref: string,
    includeEnded: boolean,
  ): Promise<SessionRow[]>;
  insert(row: SessionRow): Promise<void>;
}

export type SessionsMsg =
  /** Answers CreateSessionResult once RUNNING (or at once with `enqueueOnly`). */
  | { type: "create"; caller: Caller; req: CreateSessionRequest }
  | {
    type: "resolve";
    accessKey: string;
    ref: string;
    includeEnded: boolean;
    /** Skip the in-memory index: ask the store (e.g. the actor just ended). */
    fresh?: boolean;
  }
  | { type: "tick" }
  /** A create made aside (see `#create`) stored its row: the actor starts here. */
  | {
    type: "adopt-created";
    row: SessionRow;
    origin?: string;
    key: string;
    created: CreateSessionResult;
    /** Wait this long for RUNNING (none: answer `created` at once). */
    waitMs?: number;
  }
  /** A create made aside failed: its name is free again. */
  | { type: "release-name"; key: string }
  /**
   * An agent is being stopped on purpose (the agent registry's `retire`):
   * every session placed on it ends now with `reason`. Answers how many
   * ended.
   */
  | { type: "agent.retired"; agentId: string; reason: string };

/** Answer of `resolve`: a live session's actor, or an ended session's row. */
export type Resolved = {
  live: true;
  ref: ActorRef<SessionMsg>;
} | { live: false; row: SessionRow };

/** Reserves a new session's slots against its keypair's policy. */
export type Admit = (
  accessKey: string,
  sessionId: string,
  slots: Record<string, number>,
  /** Where it will run (the cost budget prices it there). */
  scalingGroup?: string,
) => Promise<
  void | {
    hold?: string;
    /** The policy's `max_scratch_size` (none set: the agent's default). */
    scratchBytes?: number;
  }
>;

/**
 * How often live sessions (idle timeout, lifetime, idle pause) and their
 * keypairs (the live daily cost limit) are checked; `BAI_SESSION_TICK_MS`
 * shortens it (tests).
 */
export const SESSION_TICK_MS = tickFromEnv(5_000);

function tickFromEnv(fallback: number): number {
  try {
    const v = Number(Deno.env.get("BAI_SESSION_TICK_MS"));
    return Number.isFinite(v) && v >= 100 ? v : fallback;
  } catch {
    return fallback; // no env permission
  }
}

const nameKey = (accessKey: string, name: string) => `${accessKey}\n${name}`;

export class SessionsActor extends Actor<SessionsMsg> {
  #timer?: ReturnType<typeof setInterval>;
  /**
   * Live sessions by id and by (keypair, name): an exact id or name, the
   * common case, resolves without a store query, which would otherwise
   * serialise every request of every keypair behind one SQL round trip in
   * this actor's mailbox. Prefixes still go to the store.
   */
  readonly #owners = new Map<string, { accessKey: string; name: string }>();
  readonly #names = new Map<string, string>();
  /** Names of creates going on outside the mailbox (reserved, not yet spawned). */
  readonly #creating = new Set<string>();

  constructor(
    readonly svc: ManagerServices,
    readonly store: SessionsStorePort,
    readonly admit: Admit,
    readonly catalog: CreateCatalog,
  ) {
    super();
  }

  /** A failing session is restarted from its stored state, alone. */
  override supervisorStrategy(): SupervisorStrategy {
    return {
      kind: "one_for_one",
      maxRestarts: 5,
      withinMs: 10_000,
      decide: () => "restart",
    };
  }

  override async preStart(): Promise<void> {
    for (const row of await this.store.listLive()) this.#spawn(row);
    const self = this.ctx.self;
    this.#timer = setInterval(
      () => self.tell({ type: "tick" }),
      SESSION_TICK_MS,
    );
  }

  override postStop(): void {
    clearInterval(this.#timer);
  }

  receive(msg: SessionsMsg): unknown {
    switch (msg.type) {
      case "create": {
        const key = nameKey(msg.caller.accessKey, msg.req.name);
        if (this.#names.has(key) || this.#creating.has(key)) {
          // Taken (reuse or conflict) or being made: decided in the mailbox.
          return createSpan(
            msg.caller.accessKey,
            msg.req,
            () => this.#create(msg.caller.accessKey, msg.req),
          );
        }
        // A free name, reserved now; the checks, the admission and the row
        // (database round trips, ~10 ms) go on outside the mailbox, so
        // creates do not queue behind each other (nor resolves behind them).
        this.#creating.add(key);
        return replyLater(createSpan(
          msg.caller.accessKey,
          msg.req,
          () => this.#create(msg.caller.accessKey, msg.req, key),
        ));
      }
      case "adopt-created": {
        this.#creating.delete(msg.key);
        const ref = this.#spawn(msg.row, msg.origin, msg.row);
        // Asked in the turn that starts the actor, so the wait is in its
        // mailbox before it can end (an unschedulable session ends at once).
        const running = msg.waitMs === undefined
          ? undefined
          : awaitRunning(ref, msg.created, msg.waitMs);
        running?.catch(() => undefined); // the creator awaits it (and its failure)
        return { running };
      }
      case "release-name":
        this.#creating.delete(msg.key);
        return;
      case "resolve":
        return this.#resolve(
          msg.accessKey,
          msg.ref,
          msg.includeEnded,
          msg.fresh,
        );
      case "tick": {
        const now = Date.now();
        for (const child of this.ctx.children()) {
          child.tell({ type: "tick", now });
        }
        // The live daily cost limit of every keypair with live sessions.
        const keys = new Set(
          [...this.#owners.values()].map((o) => o.accessKey),
        );
        for (const ak of keys) {
          this.svc.keypairs.tell(ak, { type: "cost.tick" });
        }
        return;
      }
      case "agent.retired":
        return replyLater(this.#retired(msg.agentId, msg.reason));
    }
  }

  /** `origin`: the trace of the create that made it (spans.ts), if any. */
  /**
   * `stored`: the row just written by a create, so the actor's first start
   * needs no read back from the store (a restart reads it, as always).
   */
  #spawn(
    row: Pick<SessionRow, "id" | "accessKey" | "name">,
    origin?: string,
    stored?: SessionRow,
  ) {
    const id = row.id;
    let initial = stored;
    const make = () => {
      const actor = Object.assign(new SessionActor(id, this.svc), {
        origin,
        initial,
      });
      initial = undefined;
      return actor;
    };
    const ref = this.ctx.spawn(make, {
      name: id,
    }) as ActorRef<SessionMsg>;
    this.#owners.set(id, { accessKey: row.accessKey, name: row.name });
    this.#names.set(nameKey(row.accessKey, row.name), id);
    this.ctx.watch(ref);
    return ref;
  }

  /** Tells every live session; those on `agentId` answer once they ended. */
  async #retired(agentId: string, reason: string): Promise<number> {
    const msg = { type: "agent.retired", agentId, reason } as const;
    const answers = await Promise.allSettled(
      this.ctx.children().map((c) =>
        (c as ActorRef<SessionMsg>).ask<boolean>(msg, { timeoutMs: 10_000 })
      ),
    );
    return answers.filter((a) => a.status === "fulfilled" && a.value).length;
  }

  /** A session actor stops once its session ended: forget it. */
  override onTerminated(t: Terminated): void {
    const id = t.ref.path.slice(t.ref.path.lastIndexOf("/") + 1);
    const owner = this.#owners.get(id);
    if (!owner || this.ctx.child(id)) return;
    this.#owners.delete(id);
    const key = nameKey(owner.accessKey, owner.name);
    if (this.#names.get(key) === id) this.#names.delete(key);
  }

  /** The live session `ref` names exactly (full id or name), if known here. */
  #exact(accessKey: string, ref: string): ActorRef<SessionMsg> | undefined {
    // A full id wins over a name, as in the store's rules.
    const byId = ref.toLowerCase();
    const id = this.#owners.get(byId)?.accessKey === accessKey
      ? byId
      : this.#names.get(nameKey(accessKey, ref));
    return id
      ? this.ctx.child(id) as ActorRef<SessionMsg> | undefined
      : undefined;
  }

  async #resolve(
    accessKey: string,
    ref: string,
    includeEnded: boolean,
    fresh = false,
  ): Promise<Resolved> {
    const known = fresh ? undefined : this.#exact(accessKey, ref);
    if (known) return { live: true, ref: known };
    // The store applies Backend.AI's matching rules (id, exact name, then prefixes).
    const rows = await this.store.findByRef(accessKey, ref, includeEnded);
    if (rows.length === 0) {
      throw new DomainError("object-not-found", "No such session.");
    }
    if (rows.length > 1) {
      throw new DomainError(
        "too-many-sessions-matched",
        "Too many sessions matched.",
        {
          matches: rows.map((r) => ({
            id: r.id,
            name: r.name,
            status: r.status,
          })),
        },
      );
    }
    const row = rows[0];
    if (isEnded(row.status)) return { live: false, row };
    const child = this.ctx.child(row.id) as ActorRef<SessionMsg> | undefined;
    return { live: true, ref: child ?? this.#spawn(row) };
  }

  /**
   * Creates a session; `reserved`: the name's reservation when this runs
   * outside the mailbox (then the actor is started through a message, and
   * the reservation is given back if the create fails).
   */
  async #create(
    accessKey: string,
    req: CreateSessionRequest,
    reserved?: string,
  ): Promise<CreateSessionResult | ReturnType<typeof replyLater>> {
    if (reserved === undefined) return await this.#createIn(accessKey, req);
    const self = this.ctx.self;
    let adopted = false;
    try {
      return await this.#createIn(
        accessKey,
        req,
        async (row, origin, created, waitMs) => {
          const { running } = await self.ask<
            { running?: Promise<CreateSessionResult> }
          >({
            type: "adopt-created",
            row,
            origin,
            key: reserved,
            created,
            waitMs,
          });
          adopted = true;
          return running ? await running : created;
        },
      );
    } finally {
      if (!adopted) self.tell({ type: "release-name", key: reserved });
    }
  }

  async #createIn(
    accessKey: string,
    req: CreateSessionRequest,
    adopt?: (
      row: SessionRow,
      origin: string | undefined,
      created: CreateSessionResult,
      waitMs: number | undefined,
    ) => Promise<CreateSessionResult>,
  ): Promise<CreateSessionResult | ReturnType<typeof replyLater>> {
    const { image, slots, mounts } = await prepareCreate(
      this.catalog,
      accessKey,
      req,
    );
    // Every live session is in the index: a name not in it is free, and
    // the store is asked only when it is taken (saves a query per create).
    const taken = this.#names.has(nameKey(accessKey, req.name));
    const existing = taken
      ? (await this.store.findByRef(accessKey, req.name, false))
        .find((r) => r.name === req.name)
      : undefined;
    if (existing) {
      if (req.reuseIfExists && existing.image === image) {
        return {
          sessionId: existing.id,
          sessionName: existing.name,
          status: existing.status,
          servicePorts: servicePortsOf(existing.image, preopenOf(existing)),
          created: false,
        };
      }
      throw new DomainError(
        "session-already-exists",
        "The session already exists.",
        { existingSessionId: existing.id },
      );
    }
    const id = crypto.randomUUID();
    // No group named: the cheapest that can host it now (cost optimisation).
    const group = req.config.scalingGroup ??
      await this.svc.scalingGroupFor?.(slots) ?? "default";
    const admitted = await this.admit(accessKey, id, slots, group);
    const hold = admitted?.hold;
    const scratchBytes = admitted?.scratchBytes;
    const protect = Boolean(req.config.scaleInProtected);
    const now = Date.now();
    const row: SessionRow = {
      id,
      name: req.name,
      accessKey,
      image,
      type: req.type,
      status: "PENDING",
      statusInfo: hold ?? "pending",
      agentId: null,
      kernelId: null,
      scalingGroup: group,
      requestedSlots: slots,
      occupiedSlots: {},
      config: {
        environ: req.config.environ,
        bootstrapScript: req.bootstrapScript,
        mounts: req.config.mounts,
        mountMap: req.config.mountMap,
        startupCommand: req.startupCommand,
        resourceOpts: req.config.resourceOpts,
        scaleInProtected: protect,
        preopenPorts: req.config.preopenPorts,
        ...(scratchBytes ? { scratchBytes } : {}),
        // "maintain" holds it for the cost budget (resume.ts re-announces it held).
        ...(hold ? { costHold: hold } : {}),
      },
      mounts,
      tag: req.tag ?? null,
      protected: protect,
      createdAt: now,
      terminatedAt: null,
      lastActivity: now,
      numQueries: 0,
      lastStat: null,
    };
    try {
      await this.store.insert(row);
    } catch (err) {
      // Nothing was stored: give the reserved slots back.
      this.svc.keypairs.tell(accessKey, {
        type: "session.status",
        sessionId: id,
        status: "CANCELLED",
        slots: {},
      });
      throw err;
    }
    const created: CreateSessionResult = {
      sessionId: id,
      sessionName: row.name,
      status: "PENDING",
      servicePorts: servicePortsOf(image, req.config.preopenPorts),
      created: true,
    };
    const waitMs = req.enqueueOnly
      ? undefined
      : (req.maxWaitSeconds > 0
        ? req.maxWaitSeconds
        : DEFAULT_MAX_WAIT_SECONDS) * 1000;
    // Outside the mailbox already (adopt): the actor starts in it and the
    // wait is awaited here; inside, the wait must not hold the mailbox.
    if (adopt) return await adopt(row, currentTraceparent(), created, waitMs);
    const ref = this.#spawn(row, currentTraceparent(), row);
    if (waitMs === undefined) return created;
    return replyLater(awaitRunning(ref, created, waitMs));
  }
}

/** The create's answer once its session is RUNNING, ended, or the wait is over (TIMEOUT). */
async function awaitRunning(
  ref: ActorRef<SessionMsg>,
  created: CreateSessionResult,
  timeoutMs: number,
): Promise<CreateSessionResult> {
  const { status, statusInfo } = await ref.ask<WaitedStatus>(
    { type: "wait-status", statuses: ["RUNNING"], timeoutMs },
    { timeoutMs: timeoutMs + 15_000 },
  );
  if (status === "ERROR" || status === "CANCELLED") {
    throw endedBeforeRunning(status, statusInfo, created.sessionId);
  }
  return { ...created, status };
}
