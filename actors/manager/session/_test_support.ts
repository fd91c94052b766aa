/**
 * For the session unit tests: the session actors' surroundings in one
 * process. A memory store implements the same ports Postgres does
 * (services.ts, sessions.ts), and a stand-in agent answers `kernel.create`
 * by spawning a stand-in kernel, which runs "code" by echoing it back as
 * run events, the way a real runner reports. Everything talks through real
 * actor refs of one ActorSystem, so death watch and asks behave as they do
 * across nodes.
 *
 * @module
 */

import { Actor, type ActorRef, ActorSystem } from "../../runtime/mod.ts";
import type { AgentMsg, KernelMsg } from "../../protocol/agent.ts";
import { canTransition, isEnded } from "../lifecycle.ts";
import type { SessionEvent } from "../port/mod.ts";
import type { SchedulerMsg } from "../scheduler.ts";
import {
  createEventBus,
  type ManagerServices,
  type SessionRow,
  type SessionStorePort,
} from "../services.ts";
import type { KeypairMsg } from "../keypair.ts";
import type { SessionsStorePort } from "./sessions.ts";
import { SessionActor, type SessionMsg } from "./actor.ts";

/** Sessions in memory, with the store's transition check. */
export class MemoryStore implements SessionStorePort, SessionsStorePort {
  rows = new Map<string, SessionRow>();
  usage: { id: string; stats: Record<string, number> }[] = [];
  failInsert?: Error;

  getSession(id: string): Promise<SessionRow | undefined> {
    const r = this.rows.get(id);
    return Promise.resolve(r ? structuredClone(r) : undefined);
  }
  transition(
    id: string,
    status: SessionRow["status"],
    reason: string,
    patch: Partial<SessionRow> = {},
    via?: { status: SessionRow["status"]; reason: string },
  ): Promise<SessionRow> {
    const r = this.rows.get(id);
    if (!r) return Promise.reject(new Error(`no session ${id}`));
    const first = via?.status ?? status;
    if (
      !canTransition(r.status, first) ||
      (via && !canTransition(via.status, status))
    ) {
      return Promise.reject(new Error(`illegal ${r.status} → ${status}`));
    }
    Object.assign(r, patch, { status, statusInfo: reason });
    if (isEnded(status)) r.terminatedAt ??= Date.now();
    return Promise.resolve(structuredClone(r));
  }
  touch(id: string, n: number): Promise<void> {
    const r = this.rows.get(id);
    if (r) r.numQueries = n;
    return Promise.resolve();
  }
  recordUsage(row: SessionRow, stats: Record<string, number>): Promise<void> {
    this.usage.push({ id: row.id, stats });
    return Promise.resolve();
  }
  listLive(): Promise<SessionRow[]> {
    return Promise.resolve(
      [...this.rows.values()].filter((r) => !isEnded(r.status)),
    );
  }
  findByRef(
    accessKey: string,
    ref: string,
    includeEnded: boolean,
  ): Promise<SessionRow[]> {
    return Promise.resolve(
      [...this.rows.values()].filter((r) =>
        r.accessKey === accessKey &&
        (includeEnded || !isEnded(r.status)) &&
        (r.id === ref || r.name === ref || r.id.startsWith(ref))
      ),
    );
  }
  insert(row: SessionRow): Promise<void> {
    if (this.failInsert) return Promise.reject(this.failInsert);
    this.rows.set(row.id, structuredClone(row));
    return Promise.resolve();
  }
}

type Owner = ActorRef<{ type: string; [k: string]: unknown }>;

/** A stand-in kernel: `exec` echoes its code as stdout, then `done`. */
class StubKernel extends Actor<KernelMsg> {
  constructor(readonly owner: Owner, readonly kernelId: string) {
    super();
  }
  receive(msg: KernelMsg): unknown {
    const event = (runId: string, ev: Record<string, unknown>) =>
      this.owner.tell({
        type: "run.event",
        kernelId: this.kernelId,
        runId,
        ev,
      });
    switch (msg.type) {
      case "exec":
        if (msg.code === "hang") return { ok: true }; // never finishes
        event(msg.runId, { ev: "out", stream: "stdout", data: msg.code });
        event(msg.runId, { ev: "done", exitCode: 0 });
        return { ok: true };
      case "interrupt":
        return { ok: true };
      case "list":
        return { items: [] };
      case "stats":
        return { cpuMs: 5 };
      default:
        return { ok: true };
    }
  }
}

/** A stand-in agent: creates, lists and destroys stand-in kernels. */
export class StubAgent extends Actor<AgentMsg> {
  created: string[] = [];
  destroyed: string[] = [];
  failCreate = false;

  receive(msg: AgentMsg): unknown {
    switch (msg.type) {
      case "kernel.create": {
        if (this.failCreate) throw new Error("no room on this agent");
        const owner = this.ctx.system.refFor(
          (msg.owner as { $ref: { node: string; path: string } }).$ref ??
            msg.owner,
        ) as Owner;
        if (!this.ctx.child(msg.kernelId)) {
          this.ctx.spawn(() => new StubKernel(owner, msg.kernelId), {
            name: msg.kernelId,
          });
          this.created.push(msg.kernelId);
        }
        return { containerId: `c-${msg.kernelId.slice(0, 8)}` };
      }
      case "kernel.destroy": {
        this.destroyed.push(msg.kernelId);
        const k = this.ctx.child(msg.kernelId);
        if (k) void this.ctx.stop(k);
        return { stats: { cpuMs: 5 } };
      }
      case "kernel.list":
        return this.ctx.children().map((c) => ({
          kernelId: c.path.slice(c.path.lastIndexOf("/") + 1),
          containerId: "c",
        }));
      default:
        return undefined;
    }
  }
}

/** Collects what a session actor tells the scheduler. */
class Recorder<M> extends Actor<M> {
  constructor(readonly seen: M[]) {
    super();
  }
  receive(msg: M): void {
    this.seen.push(msg);
  }
}

export interface Harness {
  system: ActorSystem;
  store: MemoryStore;
  services: ManagerServices;
  agent: StubAgent;
  agentRef: ActorRef<AgentMsg>;
  scheduled: SchedulerMsg[];
  keypairMsgs: { accessKey: string; msg: KeypairMsg }[];
  events: SessionEvent[];
  close(): Promise<void>;
}

/** One local system with a stand-in agent `a1` and recorders for the rest. */
export function harness(): Harness {
  const system = new ActorSystem({ nodeId: "manager" });
  const store = new MemoryStore();
  const scheduled: SchedulerMsg[] = [];
  const keypairMsgs: { accessKey: string; msg: KeypairMsg }[] = [];
  const events: SessionEvent[] = [];
  let agent!: StubAgent;
  const agentRef = system.spawn(() => (agent = new StubAgent()), {
    name: "a1",
  }) as ActorRef<AgentMsg>;
  const scheduler = system.spawn(() => new Recorder(scheduled), {
    name: "scheduler",
  }) as ActorRef<SchedulerMsg>;
  const bus = createEventBus();
  bus.subscribe((e) => events.push(e));
  const services: ManagerServices = {
    store,
    scheduler,
    keypairs: {
      tell: (accessKey, msg) => keypairMsgs.push({ accessKey, msg }),
    },
    events: bus,
    agentRef: () => agentRef,
    kernelRef: (_agentId, kernelId) =>
      system.refFor<KernelMsg>({
        node: "manager",
        path: `${agentRef.path}/${kernelId}`,
      }),
    expiry: () => undefined,
  };
  return {
    system,
    store,
    services,
    get agent() {
      return agent;
    },
    agentRef,
    scheduled,
    keypairMsgs,
    events,
    close: () => system.shutdown({ deadlineMs: 2_000 }),
  };
}

/** A PENDING session row for `accessKey`. */
export function pendingRow(
  id: string,
  accessKey = "AKTEST",
  name = `s-${id.slice(0, 6)}`,
): SessionRow {
  const now = Date.now();
  return {
    id,
    name,
    accessKey,
    image: "bai/python:test",
    type: "interactive",
    status: "PENDING",
    statusInfo: "pending",
    agentId: null,
    kernelId: null,
    scalingGroup: "default",
    requestedSlots: { cpu: 1, mem: 1 << 30 },
    occupiedSlots: {},
    config: {},
    mounts: [],
    tag: null,
    protected: false,
    createdAt: now,
    terminatedAt: null,
    lastActivity: now,
    numQueries: 0,
    lastStat: null,
  };
}

/** Polls `check` until it holds (a few seconds at most). */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 3_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Stores a PENDING row `id`, spawns its session actor and waits until the
 * actor asked the scheduler for room.
 */
export async function spawnPending(
  h: Harness,
  id: string,
): Promise<ActorRef<SessionMsg>> {
  h.store.rows.set(id, pendingRow(id));
  const ref = h.system.spawn(() => new SessionActor(id, h.services), {
    name: id,
  }) as ActorRef<SessionMsg>;
  await until(() => h.scheduled.length > 0, "enqueue");
  return ref;
}

/** {@link spawnPending}, then placed on agent `a1` and waited for until RUNNING. */
export async function spawnRunning(
  h: Harness,
  id: string,
): Promise<ActorRef<SessionMsg>> {
  const ref = await spawnPending(h, id);
  ref.tell({ type: "scheduled", agentId: "a1" });
  await until(() => h.store.rows.get(id)?.status === "RUNNING", "RUNNING");
  return ref;
}
