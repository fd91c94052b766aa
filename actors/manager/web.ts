/**
 * The manager's side of the dashboard's port (port/web.ts): web sessions
 * in the store (only a SHA-256 of each cookie token is kept), a keypair's
 * jobs and policy use read from the store, and live usage asked of each
 * running session's kernel through its session actor.
 *
 * @module
 */

import type { ActorRef } from "../runtime/types.ts";
import type {
  Caller,
  ImageChoice,
  JobView,
  KernelUsage,
  WebDeps,
} from "./port/mod.ts";
import { RECIPES, resolveImage } from "../../images/catalog.ts";
import type { ImageResourceSpec } from "../../policies/slots.ts";
import { DomainError } from "./errors.ts";
import { toBase64Url } from "../protocol/base64.ts";
import {
  ENDED_STATUSES,
  isEnded,
  type Session,
  type SessionStatus,
  type Store,
} from "./store/mod.ts";
import type { Resolved, SessionsMsg } from "./session/sessions.ts";

/** What {@link createWebDeps} is built over. */
export interface WebWiring {
  store: Store;
  sessions: ActorRef<SessionsMsg>;
  /** The agent registry's view (each with `images` and `status`). */
  listAgents(): Promise<Record<string, unknown>[]>;
  /** Default and minimum slots of an image. */
  imageResources(name: string): ImageResourceSpec;
  /** How long one kernel may take to report its stats, ms. @default {5000} */
  statsTimeoutMs?: number;
  /** The storage nodes joined now (the registry's `list`), when folders run. */
  storageNodes?(): Promise<{ url: string }[]>;
}

/** Most live sessions whose kernels one usage call asks. */
const MAX_USAGE_ASKS = 64;
const ASK = { timeoutMs: 15_000 };
const TOKEN_BYTES = 32;

export function createWebDeps(w: WebWiring): WebDeps {
  const statsTimeoutMs = w.statsTimeoutMs ?? 5000;
  const storageNodes = w.storageNodes;
  return {
    ...(storageNodes && {
      async storageUrls() {
        return (await storageNodes()).map((n) => n.url);
      },
    }),
    webSessions: {
      async open(accessKey, opts) {
        // Expired rows go whenever someone signs in: the table stays small without a timer.
        await w.store.webSessions.deleteExpired();
        const token = randomToken();
        const row = await w.store.webSessions.insert({
          tokenHash: await sha256Hex(token),
          accessKey,
          csrfToken: randomToken(),
          userAgent: opts.userAgent?.slice(0, 256) ?? null,
          idleMs: opts.idleMs,
          maxAgeMs: opts.maxAgeMs,
        });
        return {
          token,
          accessKey: row.accessKey,
          csrfToken: row.csrfToken,
          expiresAt: row.expiresAt.toISOString(),
        };
      },
      async find(token, idleMs) {
        if (!TOKEN_RE.test(token)) return undefined;
        const row = await w.store.webSessions.use(
          await sha256Hex(token),
          idleMs,
        );
        return row
          ? {
            accessKey: row.accessKey,
            csrfToken: row.csrfToken,
            expiresAt: row.expiresAt.toISOString(),
          }
          : undefined;
      },
      async close(token) {
        if (!TOKEN_RE.test(token)) return;
        await w.store.webSessions.delete(await sha256Hex(token));
      },
    },

    async jobs(caller, { recent }) {
      const live = await w.store.sessions.listLive({
        accessKey: caller.accessKey,
      });
      const ended = recent > 0
        ? (await w.store.sessions.list({
          filters: {
            accessKey: caller.accessKey,
            status: ENDED_STATUSES as SessionStatus[],
          },
          limit: recent,
        })).items
        : [];
      return [...live.reverse(), ...ended].map(jobView);
    },

    async job(caller, sessionId) {
      const s = await w.store.sessions.get(sessionId);
      if (!s || s.accessKey !== caller.accessKey) {
        throw new DomainError("object-not-found", "No such session.");
      }
      return jobView(s);
    },

    async usage(caller) {
      const running = (await w.store.sessions.listLive({
        accessKey: caller.accessKey,
      })).filter((s) => s.status === "RUNNING").slice(-MAX_USAGE_ASKS);
      const samples = await Promise.all(
        running.map((s) => kernelUsage(w, caller, s.id, statsTimeoutMs)),
      );
      return samples.filter((u): u is KernelUsage => u !== undefined);
    },

    async summary(caller) {
      const kp = await w.store.keypairs.get(caller.accessKey);
      if (!kp) throw new DomainError("object-not-found", "No such keypair.");
      const policy = await w.store.policies.get(kp.resourcePolicy);
      const live = await w.store.sessions.listLive({
        accessKey: caller.accessKey,
      });
      const occupied: Record<string, number> = {};
      for (const s of live) {
        for (const [slot, n] of Object.entries(s.occupiedSlots)) {
          occupied[slot] = (occupied[slot] ?? 0) + Number(n);
        }
      }
      return {
        accessKey: caller.accessKey,
        resourcePolicy: kp.resourcePolicy,
        liveSessions: live.length,
        runningSessions: live.filter((s) => s.status === "RUNNING").length,
        maxConcurrentSessions: policy?.maxConcurrentSessions ?? 0,
        occupiedSlots: occupied,
        totalResourceSlots: policy?.totalResourceSlots ?? {},
      };
    },

    async images() {
      const present = new Set<string>();
      try {
        for (const a of await w.listAgents()) {
          if (a.status !== "ALIVE" || !Array.isArray(a.images)) continue;
          for (const ref of a.images) {
            const name = typeof ref === "string"
              ? resolveImage(ref)?.name
              : undefined;
            if (name) present.add(name);
          }
        }
      } catch {
        // No registry answer: offer every recipe rather than none.
      }
      const names = [...RECIPES.keys()].filter((n) =>
        present.size === 0 || present.has(n)
      );
      return names.map((name): ImageChoice => {
        const r = w.imageResources(name);
        return {
          name,
          defaults: r.defaults ?? {},
          minimums: r.minimums ?? {},
        };
      });
    },
  };
}

function jobView(s: Session): JobView {
  return {
    sessionId: s.id,
    sessionName: s.name,
    image: s.image,
    type: s.type,
    status: s.status,
    statusInfo: s.statusInfo,
    createdAt: s.createdAt.toISOString(),
    terminatedAt: s.terminatedAt?.toISOString() ?? null,
    requestedSlots: s.requestedSlots,
    occupiedSlots: s.occupiedSlots,
    scalingGroup: s.scalingGroup,
    lastStat: isEnded(s.status) && s.lastStat && typeof s.lastStat === "object"
      ? s.lastStat as Record<string, unknown>
      : null,
  };
}

/** One kernel's stats, or undefined when it does not answer in time (or has none yet). */
async function kernelUsage(
  w: WebWiring,
  caller: Caller,
  sessionId: string,
  timeoutMs: number,
): Promise<KernelUsage | undefined> {
  try {
    const r = await w.sessions.ask<Resolved>({
      type: "resolve",
      accessKey: caller.accessKey,
      ref: sessionId,
      includeEnded: false,
      fresh: false,
    }, ASK);
    if (!r.live) return undefined;
    const s = await r.ref.ask<Record<string, number>>(
      { type: "kernel", msg: { type: "stats" } },
      { timeoutMs },
    );
    if (typeof s?.cpuMs !== "number") return undefined;
    return {
      sessionId,
      cpuMs: s.cpuMs,
      memKiB: s.memKiB ?? 0,
      memPeakKiB: s.memPeakKiB ?? 0,
      at: new Date().toISOString(),
    };
  } catch {
    return undefined; // ended meanwhile, not yet running, or slow: no sample this time
  }
}

/** base64url of TOKEN_BYTES random bytes. */
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(TOKEN_BYTES));
  return toBase64Url(bytes);
}

async function sha256Hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(text),
  );
  return new Uint8Array(d).toHex();
}
