/**
 * The dashboard's pages as a table: what the navigation lists (in order),
 * who sees it, what part of the port it needs, and the function that adds
 * its routes. A new page is a module and one line here. Operator pages
 * live under `/admin/`, which mod.ts closes to user keypairs. A page whose
 * port part is absent (a manager without folders, cost or channels) is
 * neither mounted nor listed.
 *
 * @module
 */
import type { Hono } from "hono";
import type { NavEntry } from "../components/layout.tsx";
import type { UiContext, UiDeps, UiEnv } from "../env.ts";
import { mountSummary } from "./summary.tsx";
import { JOBS_PATH, mountJobs } from "./jobs.tsx";
import { mountJob } from "./job.tsx";
import { mountJobTools } from "./job_tools.tsx";
import { mountNewSession, NEW_SESSION_PATH } from "./new_session.tsx";
import { FOLDERS_PATH, mountFolders } from "./folders.tsx";
import { mountFolder } from "./folder.tsx";
import { mountStats, STATS_PATH } from "./stats.tsx";
import { mountSettings, SETTINGS_PATH } from "./settings.tsx";
import { AGENTS_PATH, mountAgents } from "./admin_agents.tsx";
import {
  GROUPS_PATH,
  KEYPAIRS_PATH,
  mountCluster,
  PENDING_PATH,
  POLICIES_PATH,
} from "./admin_cluster.tsx";

/** A page of the dashboard: its nav entries and its routes. */
export interface UiPage {
  nav: NavEntry[];
  mount(app: Hono<UiEnv>, ctx: UiContext): void;
  /** Whether the port has what the page needs. @default {always} */
  needs?(deps: UiDeps): boolean;
}

const hasFolders = (d: UiDeps) => d.folders !== undefined;
const hasCost = (d: UiDeps) => d.cost !== undefined;

/** Every signed-in page, in navigation order. */
export const PAGES: readonly UiPage[] = [
  { nav: [{ path: "", label: "Summary" }], mount: mountSummary },
  { nav: [{ path: JOBS_PATH, label: "Jobs" }], mount: mountJobs },
  { nav: [], mount: mountJob },
  { nav: [], mount: mountJobTools },
  {
    nav: [{ path: NEW_SESSION_PATH, label: "New session" }],
    mount: mountNewSession,
  },
  {
    nav: [{ path: FOLDERS_PATH, label: "Folders" }],
    mount: mountFolders,
    needs: hasFolders,
  },
  { nav: [], mount: mountFolder, needs: hasFolders },
  {
    nav: [{ path: STATS_PATH, label: "Statistics" }],
    mount: mountStats,
    needs: hasCost,
  },
  {
    nav: [{ path: SETTINGS_PATH, label: "Settings" }],
    mount: mountSettings,
    needs: hasCost,
  },
  {
    nav: [{ path: AGENTS_PATH, label: "Agents", admin: true }],
    mount: mountAgents,
  },
  {
    nav: [
      { path: GROUPS_PATH, label: "Scaling groups", admin: true },
      { path: PENDING_PATH, label: "Pending", admin: true },
      { path: KEYPAIRS_PATH, label: "Keypairs", admin: true },
      { path: POLICIES_PATH, label: "Policies", admin: true },
    ],
    mount: mountCluster,
  },
];

/** The navigation of the pages `deps` can serve. */
export function navFor(deps: UiDeps): NavEntry[] {
  return PAGES.filter((p) => !p.needs || p.needs(deps)).flatMap((p) => p.nav);
}
