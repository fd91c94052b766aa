/**
 * Operators: the agents with capacity and use, their status and why
 * (`statusInfo`), the drain in force (who, why, since when), the group
 * autoscaler's last scale-in decision about each, and drain / undrain. A
 * drained agent takes no new session; its running ones go on. Admin
 * keypairs only (mod.ts guards `/admin/*`).
 *
 * @module
 */
import type { Hono } from "hono";
import type { UiContext, UiEnv } from "../env.ts";
import { CSRF_FIELD } from "../csrf.ts";
import { formatConfiguration, formatTime } from "../format.ts";
import { render } from "../render.tsx";

/** Path of the page (nav table). */
export const AGENTS_PATH = "/admin/agents";

type Slots = Record<string, number>;

/** The registry's drain in force, as the agent view carries it. */
interface Drain {
  by?: string;
  reason?: string;
  /** ISO time (ms since the epoch in older views). */
  since?: string | number;
}

/** An ISO time from either form, or "" (formatTime shows a dash). */
function isoOf(t: unknown): string {
  if (typeof t === "string") return t;
  if (typeof t === "number" && Number.isFinite(t)) {
    return new Date(t).toISOString();
  }
  return "";
}

/** The autoscaler's last note about an agent. */
interface ScaleIn {
  action?: string;
  reason?: string;
  detail?: string;
  at?: string;
}

const objectOf = <T,>(v: unknown): T | undefined =>
  v && typeof v === "object" ? v as T : undefined;

const slotsOf = (v: unknown): Slots =>
  v && typeof v === "object" ? v as Slots : {};

function used(capacity: Slots, available: Slots): Slots {
  const out: Slots = {};
  for (const [k, n] of Object.entries(capacity)) {
    out[k] = Math.max(0, Number(n) - Number(available[k] ?? n));
  }
  return out;
}

/** Mounts the agents table and the drain action. */
export function mountAgents(app: Hono<UiEnv>, ctx: UiContext): void {
  app.get(AGENTS_PATH, async (c) => {
    const agents = await ctx.deps.admin.listAgents();
    const csrf = c.get("web")!.csrfToken;
    return render(c, ctx, {
      title: "Agents",
      active: AGENTS_PATH,
      page: "agents",
      children: agents.length === 0
        ? <p class="empty">No agent has joined.</p>
        : (
          <div class="table-wrap">
            <table class="agents">
              <thead>
                <tr>
                  <th scope="col">Agent</th>
                  <th scope="col">Status</th>
                  <th scope="col">Scale-in</th>
                  <th scope="col">Scaling group</th>
                  <th scope="col">Capacity</th>
                  <th scope="col">In use</th>
                  <th scope="col">Kernels</th>
                  <th scope="col">Address</th>
                  <th scope="col">Last seen</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {agents.map((a) => {
                  const id = String(a.id);
                  const cap = slotsOf(a.resourceSlots);
                  const draining = a.schedulable === false;
                  const drain = objectOf<Drain>(a.drain);
                  const note = objectOf<ScaleIn>(a.scaleIn);
                  return (
                    <tr id={`agent-${id}`}>
                      <th scope="row" data-label="Agent">
                        <code>{id}</code>
                      </th>
                      <td data-label="Status">
                        <div>
                          <span
                            class={`badge ${
                              a.status === "ALIVE" ? "ok" : "bad"
                            }`}
                          >
                            {String(a.status)}
                          </span>
                          {draining && <span class="badge wait">DRAINING</span>}
                          {typeof a.statusInfo === "string" && a.statusInfo && (
                            <div class="reason">{a.statusInfo}</div>
                          )}
                          {drain && (
                            <div class="reason">
                              {`Draining since ${
                                formatTime(isoOf(drain.since))
                              }`}
                            </div>
                          )}
                        </div>
                      </td>
                      <td data-label="Scale-in">
                        <div>
                          {note
                            ? (
                              <>
                                <span>{String(note.action ?? "")}</span>
                                <div class="reason">
                                  {String(note.detail ?? note.reason ?? "")}
                                </div>
                              </>
                            )
                            : "—"}
                        </div>
                      </td>
                      <td data-label="Scaling group">
                        {String(a.scalingGroup ?? "")}
                      </td>
                      <td data-label="Capacity">{formatConfiguration(cap)}</td>
                      <td data-label="In use">
                        {formatConfiguration(
                          used(cap, slotsOf(a.availableSlots)),
                        )}
                      </td>
                      <td data-label="Kernels">{String(a.numKernels ?? 0)}</td>
                      <td data-label="Address">{String(a.addr ?? "")}</td>
                      <td data-label="Last seen">
                        {formatTime(String(a.lastSeen ?? ""))}
                      </td>
                      <td data-label="Actions">
                        <form
                          method="post"
                          action={`/ui/admin/agents/${
                            encodeURIComponent(id)
                          }/drain`}
                        >
                          <input type="hidden" name={CSRF_FIELD} value={csrf} />
                          <input
                            type="hidden"
                            name="draining"
                            value={draining ? "0" : "1"}
                          />
                          <button type="submit">
                            {draining ? "Undrain" : "Drain"}
                            <span class="sr-only">{` agent ${id}`}</span>
                          </button>
                        </form>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ),
    });
  });

  app.post(`${AGENTS_PATH}/:id/drain`, async (c) => {
    const form = await c.req.parseBody();
    await ctx.deps.admin.setAgentDraining(
      c.req.param("id"),
      form.draining === "1",
    );
    return c.redirect(`/ui${AGENTS_PATH}`, 303);
  });
}
