/**
 * The dashboard's pages as a table: what the navigation lists (in order),
 * who sees it, and the function that adds its routes. A new page (phase 2:
 * Folders, Statistics, Settings) is a module and one line here. Operator
 * pages live under `/admin/`, which mod.ts closes to user keypairs.
 *
 * @module
 */
import type { Hono } from "hono";
import type { NavEntry } from "../components/layout.tsx";
import type { UiContext, UiEnv } from "../env.ts";
import { mountSummary } from "./summary.tsx";
import { JOBS_PATH, mountJobs } from "./jobs.tsx";
import { mountJob } from "./job.tsx";
import { mountNewSession, NEW_SESSION_PATH } from "./new_session.tsx";
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
}

/** Every signed-in page, in navigation order. */
export const PAGES: readonly UiPage[] = [
  { nav: [{ path: "", label: "Summary" }], mount: mountSummary },
  { nav: [{ path: JOBS_PATH, label: "Jobs" }], mount: mountJobs },
  { nav: [], mount: mountJob },
  {
    nav: [{ path: NEW_SESSION_PATH, label: "New session" }],
    mount: mountNewSession,
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

/** The navigation of {@link PAGES}. */
export const NAV: NavEntry[] = PAGES.flatMap((p) => p.nav);
