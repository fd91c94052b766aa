/**
 * `GET /ui/events`: the live stream of a dashboard page (server-sent
 * events). Two kinds of event, both only about the signed-in keypair's own
 * sessions (also for admins):
 *
 * - `session` `{sessionId, status, reason}` on every lifecycle change, from
 *   the port's `events()`; the page then asks for the changed row.
 * - `usage` `[{sessionId, age, cpu?, mem?, cpuMs?, memKiB?, at?}]` every
 *   `usageIntervalMs`, with the figures already formatted by the server:
 *   live kernel stats and ages of the live sessions.
 * - `cost` `{today?: {spent, limit, projected, value, max}, sessions:
 *   [{sessionId, cost}]}` with each usage sample, when the manager meters
 *   cost: today's standing and each live session's cost so far, formatted.
 *
 * The stream checks its web session now and then and ends when it is gone
 * (signed out, expired), so an open tab stops receiving. The browser's
 * EventSource reconnects by itself after a manager restart.
 *
 * @module
 */
import type { Hono } from "hono";
import type { Caller, SessionEvent } from "../../actors/manager/port/mod.ts";
import type { UiContext, UiEnv } from "./env.ts";
import { formatAge, formatBytes, formatCpuTime } from "./format.ts";
import { callerOf, sessionToken } from "./web_session.ts";
import { costText, sessionCosts, todayOf } from "./costs.ts";

/** How often an open stream re-checks its web session, ms. */
const RECHECK_MS = 15_000;

const encoder = new TextEncoder();
const chunk = (event: string, data: unknown) =>
  encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

/** Mounts the page stream. */
export function mountLiveEvents(app: Hono<UiEnv>, ctx: UiContext): void {
  app.get("/events", async (c) => {
    const caller = callerOf(c);
    const token = sessionToken(c)!;
    // Not as admin: an admin's dashboard shows its own sessions too.
    const own: Caller = { ...caller, isAdmin: false };
    const events = await ctx.deps.sessions.events(own, {});
    const it = events[Symbol.asyncIterator]();
    const timers: ReturnType<typeof setInterval>[] = [];
    let closed = false;

    const stop = () => {
      if (closed) return;
      closed = true;
      for (const t of timers) clearInterval(t);
      void it.return?.(undefined).catch(() => {});
    };

    const stream = new ReadableStream<Uint8Array>({
      start(ctrl) {
        const send = (event: string, data: unknown) => {
          if (!closed) ctrl.enqueue(chunk(event, data));
        };
        const end = () => {
          if (closed) return;
          stop();
          try {
            ctrl.close();
          } catch { /* already closed */ }
        };
        ctrl.enqueue(encoder.encode("retry: 3000\n\n"));

        void (async () => {
          try {
            while (!closed) {
              const { value, done } = await it.next();
              if (done) break;
              const d = (value as SessionEvent).data as Record<string, unknown>;
              if (d.accessKey !== caller.accessKey) continue;
              send("session", {
                sessionId: d.sessionId,
                status: d.status,
                reason: d.reason ?? null,
              });
            }
          } catch {
            // The source failed: end the stream; the browser reconnects.
          }
          end();
        })();

        let busy = false;
        const tick = async () => {
          if (busy || closed) return;
          busy = true;
          try {
            const [jobs, usage] = await Promise.all([
              ctx.deps.web.jobs(caller, { recent: 0 }),
              ctx.deps.web.usage(caller),
            ]);
            const byId = new Map(usage.map((u) => [u.sessionId, u]));
            const cost = ctx.deps.cost;
            if (cost) {
              const [costs, today] = await Promise.all([
                sessionCosts(cost, caller, jobs),
                todayOf(cost, caller),
              ]);
              send("cost", {
                today: today && {
                  spent: today.spent,
                  limit: today.limit,
                  projected: today.projected,
                  value: today.value,
                  max: today.max,
                },
                sessions: jobs.map((j) => ({
                  sessionId: j.sessionId,
                  cost: costText(costs, j.sessionId),
                })),
              });
            }
            const now = Date.now();
            send(
              "usage",
              jobs.map((j) => {
                const u = byId.get(j.sessionId);
                return {
                  sessionId: j.sessionId,
                  age: formatAge(now - Date.parse(j.createdAt)),
                  ...(u && {
                    cpu: formatCpuTime(u.cpuMs),
                    mem: formatBytes(u.memKiB * 1024),
                    cpuMs: u.cpuMs,
                    memKiB: u.memKiB,
                    at: u.at,
                  }),
                };
              }),
            );
          } catch (err) {
            ctx.settings.logError("dashboard: usage sample failed", err);
          } finally {
            busy = false;
          }
        };
        void tick();
        timers.push(setInterval(tick, ctx.settings.usageIntervalMs));
        timers.push(setInterval(async () => {
          const still = await ctx.deps.web.webSessions.find(
            token,
            ctx.settings.idleMs,
          ).catch(() => undefined);
          if (!still) end();
        }, RECHECK_MS));
      },
      cancel() {
        stop();
      },
    });
    return c.body(stream, 200, {
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-cache",
    });
  });
}
