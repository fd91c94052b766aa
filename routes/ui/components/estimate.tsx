/**
 * The New session form's cost estimate: what the chosen image, resources
 * and mounts would cost per hour and per day in the cheapest scaling group
 * with room for them now (the port's `cost.estimate`), against what is
 * left of today's limit. Rendered on the server, once with the page and
 * again as a fragment each time the form changes (static/new_session.js,
 * debounced).
 *
 * @module
 */
import type { FC } from "hono/jsx";
import type {
  Caller,
  CostEstimate,
  ImageChoice,
} from "../../../actors/manager/port/mod.ts";
import type { UiDeps } from "../env.ts";
import { formatConfiguration, formatCost } from "../format.ts";
import { type TodayFigures, todayOf } from "../costs.ts";
import { toProblem } from "../../problems.ts";

/** What the form asks for, as the estimate reads it. */
export interface EstimateInput {
  image: string;
  /** Cores, as typed. */
  cpu: number;
  /** Bytes. */
  mem: number;
  mounts: string[];
}

/** What {@link EstimatePanel} shows. */
export interface EstimateView {
  input: EstimateInput;
  /** The slots priced: the request raised to the image's minimums. */
  resources: Record<string, number>;
  raised: boolean;
  estimate?: CostEstimate;
  today?: TodayFigures;
  /** Why there is no estimate (bad input, no cost part). */
  problem?: string;
}

/** The request raised to the image's minimums (what a session would get). */
export function pricedResources(
  input: EstimateInput,
  image: ImageChoice | undefined,
): { resources: Record<string, number>; raised: boolean } {
  const min = image?.minimums ?? {};
  const cpu = Math.max(input.cpu, Number(min.cpu ?? 0));
  const mem = Math.max(input.mem, Number(min.mem ?? 0));
  return {
    resources: { cpu, mem },
    raised: cpu !== input.cpu || mem !== input.mem,
  };
}

/** Asks the port for the estimate of `input` (never throws: problems are shown). */
export async function estimateFor(
  deps: UiDeps,
  caller: Caller,
  input: EstimateInput,
  images: ImageChoice[],
): Promise<EstimateView> {
  const { resources, raised } = pricedResources(
    input,
    images.find((i) => i.name === input.image),
  );
  const view: EstimateView = { input, resources, raised };
  if (!(input.cpu > 0) || !(input.mem > 0)) {
    return { ...view, problem: "Give CPU cores and memory to see the cost." };
  }
  if (!deps.cost) {
    return { ...view, problem: "This manager does not meter cost." };
  }
  try {
    const [estimate, today] = await Promise.all([
      deps.cost.estimate(caller, { resources, hours: 24 }),
      todayOf(deps.cost, caller),
    ]);
    return { ...view, estimate, today };
  } catch (err) {
    const p = toProblem(err);
    return {
      ...view,
      problem: p?.msg ?? p?.title ?? "No estimate could be made now.",
    };
  }
}

/** The estimate card (`#estimate`, swapped whole by the island). */
export const EstimatePanel: FC<{ v: EstimateView }> = ({ v }) => {
  const e = v.estimate;
  const g = e?.cheapest;
  return (
    <section
      id="estimate"
      class="card estimate"
      aria-labelledby="estimate-h"
      aria-live="polite"
      data-per-hour={g ? String(g.perHour.total) : undefined}
    >
      <h2 id="estimate-h">Cost estimate</h2>
      <p>
        {`${v.input.image}, ${formatConfiguration(v.resources)}`}
        {v.raised && <span class="note">(raised to the image's minimum)</span>}
      </p>
      {v.problem && <p class="note" id="estimate-problem">{v.problem}</p>}
      {e && !g && (
        <p id="estimate-none">
          No scaling group has room for this now: the session would wait in the
          queue.
        </p>
      )}
      {g && (
        <dl class="facts">
          <dt>Per hour</dt>
          <dd id="estimate-hour">{formatCost(g.perHour.total)}</dd>
          <dt>Per day</dt>
          <dd id="estimate-day">{formatCost(g.perDay.total)}</dd>
          <dt>While suspended</dt>
          <dd>{`${formatCost(g.paused.perHour.total)} per hour`}</dd>
          <dt>Scaling group</dt>
          <dd>
            {g.scalingGroup}
            {g.priced ? " (cheapest with room now)" : " (not priced: free)"}
          </dd>
          {v.today && (
            <>
              <dt>Today</dt>
              <dd id="estimate-today">
                {`${v.today.spent} spent ${v.today.limit}`}
              </dd>
            </>
          )}
        </dl>
      )}
      <p class="note" id="estimate-mounts">
        {v.input.mounts.length === 0
          ? "No folders mounted."
          : `Mounts ${
            v.input.mounts.join(", ")
          } (under /home/work); folders cost nothing per hour.`}
      </p>
    </section>
  );
};
