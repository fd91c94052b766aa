/**
 * Pieces of the Jobs pages: a session's row (also served alone, for the
 * live island to swap in), its status badge, and its usage cells. Usage
 * cells carry `data-usage-of` so the island can refresh them from the
 * event stream with text the server formatted.
 *
 * @module
 */
import type { FC } from "hono/jsx";
import type { JobView, KernelUsage } from "../../../actors/manager/port/mod.ts";
import { isEnded } from "../../../actors/manager/lifecycle.ts";
import {
  formatAge,
  formatBytes,
  formatConfiguration,
  formatCpuTime,
  formatTime,
} from "../format.ts";
import { CSRF_FIELD } from "../csrf.ts";

/** Status word with a class per kind (running, waiting, ended, failed). */
export const StatusBadge: FC<{ status: string }> = ({ status }) => {
  const kind = status === "RUNNING"
    ? "ok"
    : status === "ERROR"
    ? "bad"
    : isEnded(status)
    ? "ended"
    : "wait";
  return <span class={`badge ${kind}`}>{status}</span>;
};

/** CPU time and memory of a session: live figures, else those stored at its end. */
export function usageText(
  job: JobView,
  usage?: KernelUsage,
): { cpu: string; mem: string } {
  if (usage) {
    return {
      cpu: formatCpuTime(usage.cpuMs),
      mem: formatBytes(usage.memKiB * 1024),
    };
  }
  const s = job.lastStat;
  const cpuMs = typeof s?.cpuMs === "number" ? s.cpuMs : undefined;
  const peak = typeof s?.memPeakKiB === "number" ? s.memPeakKiB : undefined;
  return {
    cpu: cpuMs !== undefined ? formatCpuTime(cpuMs) : "—",
    mem: peak !== undefined ? `${formatBytes(peak * 1024)} peak` : "—",
  };
}

/** How long a session has lived (to its end, when it ended). */
export function ageOf(job: JobView, now: number): string {
  const end = job.terminatedAt ? Date.parse(job.terminatedAt) : now;
  return formatAge(end - Date.parse(job.createdAt));
}

/** The slots a session holds, else those it asked for. */
export function slotsOf(job: JobView): Record<string, number> {
  return Object.keys(job.occupiedSlots).length > 0
    ? job.occupiedSlots
    : job.requestedSlots;
}

/** A short form of a session id for tables (the full id is in the link). */
export const shortId = (id: string): string => id.slice(0, 8);

/** The stop control of a live session. */
export const StopForm: FC<{ job: JobView; csrf: string; back: string }> = (
  p,
) => (
  <form method="post" action={`/ui/jobs/${p.job.sessionId}/stop`}>
    <input type="hidden" name={CSRF_FIELD} value={p.csrf} />
    <input type="hidden" name="next" value={p.back} />
    <button
      type="submit"
      class="danger"
      aria-label={`Stop session ${p.job.sessionName}`}
    >
      Stop
    </button>
  </form>
);

/** Suspend (RUNNING) or resume (SUSPENDED) control; nothing otherwise. */
export const PauseForm: FC<{ job: JobView; csrf: string; back: string }> = (
  p,
) => {
  const action = p.job.status === "RUNNING"
    ? "suspend"
    : p.job.status === "SUSPENDED"
    ? "resume"
    : undefined;
  if (!action) return null;
  const word = action === "suspend" ? "Suspend" : "Resume";
  return (
    <form
      method="post"
      action={`/ui/jobs/${p.job.sessionId}/${action}`}
    >
      <input type="hidden" name={CSRF_FIELD} value={p.csrf} />
      <input type="hidden" name="next" value={p.back} />
      <button
        type="submit"
        class="secondary"
        aria-label={`${word} session ${p.job.sessionName}`}
      >
        {word}
      </button>
    </form>
  );
};

/** Props of {@link JobRow}. */
export interface JobRowProps {
  job: JobView;
  usage?: KernelUsage;
  now: number;
  csrf: string;
  /** Cost so far, formatted ("—" when unknown). */
  cost?: string;
}

/** One session as a table row (cards on narrow screens, by CSS). */
export const JobRow: FC<JobRowProps> = ({ job, usage, now, csrf, cost }) => {
  const ended = isEnded(job.status);
  const u = usageText(job, usage);
  const id = job.sessionId;
  return (
    <tr
      id={`job-${id}`}
      data-session-id={id}
      data-status={job.status}
      data-ended={ended ? "1" : undefined}
    >
      <th scope="row" data-label="Name">
        <a href={`/ui/jobs/${id}`}>{job.sessionName}</a>
      </th>
      <td data-label="ID" class="nowrap">
        <code title={id}>{shortId(id)}</code>
      </td>
      <td data-label="Image">{job.image}</td>
      <td data-label="Started" class="nowrap">
        <time datetime={job.createdAt}>{formatTime(job.createdAt)}</time>
      </td>
      <td data-label="Age" class="nowrap">
        <span data-age-of={ended ? undefined : id}>{ageOf(job, now)}</span>
      </td>
      <td data-label="Configuration">{formatConfiguration(slotsOf(job))}</td>
      <td data-label="CPU time" class="nowrap">
        <span data-cpu-of={ended ? undefined : id}>{u.cpu}</span>
      </td>
      <td data-label="Memory" class="nowrap">
        <span data-mem-of={ended ? undefined : id}>{u.mem}</span>
      </td>
      <td data-label="Cost" class="nowrap">
        <span data-cost-of={ended ? undefined : id}>{cost ?? "—"}</span>
      </td>
      <td data-label="Status">
        <div>
          <StatusBadge status={job.status} />
          {job.statusInfo && <div class="reason">{job.statusInfo}</div>}
        </div>
      </td>
      <td data-label="Actions">
        <div class="actions">
          <a
            href={`/ui/jobs/${id}`}
            aria-label={`Details of ${job.sessionName}`}
          >
            Details
          </a>
          <PauseForm job={job} csrf={csrf} back="/ui/jobs" />
          {!ended && <StopForm job={job} csrf={csrf} back="/ui/jobs" />}
        </div>
      </td>
    </tr>
  );
};

/** Column heads of the jobs tables. */
export const JobHead: FC = () => (
  <thead>
    <tr>
      <th scope="col">Name</th>
      <th scope="col">ID</th>
      <th scope="col">Image</th>
      <th scope="col">Started</th>
      <th scope="col">Age</th>
      <th scope="col">Configuration</th>
      <th scope="col">CPU time</th>
      <th scope="col">Memory</th>
      <th scope="col">Cost</th>
      <th scope="col">Status</th>
      <th scope="col">Actions</th>
    </tr>
  </thead>
);
