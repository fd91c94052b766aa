/**
 * The dashboard's Hono environment and the context its pages are built
 * with: what the cookie-session middleware leaves on each request, and the
 * port and settings every page module receives.
 *
 * @module
 */
import type { AppOrigin } from "../app_proxy/origin.ts";
import type {
  Caller,
  GatewayDeps,
  KeypairAuth,
  WebDeps,
  WebSession,
} from "../../actors/manager/port/mod.ts";
import type { NavEntry } from "./components/layout.tsx";
import type { SigninLimiter } from "./signin_limiter.ts";

/** Per-request values set by the dashboard's middleware. */
export interface UiVariables {
  /** The signed-in web session, when the cookie names a live one. */
  web?: WebSession;
  /** Who the pages act for (the session's keypair). */
  caller?: Caller;
  /** The keypair as the manager knows it now (admin flag, active). */
  keypair?: KeypairAuth;
  /** The navigation, for pages rendered outside a page module (errors). */
  nav?: NavEntry[];
  /** A nonce this response's `<style>` elements may carry (headers.ts). */
  styleNonce?: string;
}

/** Hono `Env` of the dashboard app. */
export interface UiEnv {
  Variables: UiVariables;
}

/** The port with the dashboard's part present. */
export type UiDeps = GatewayDeps & { web: WebDeps };

/** Settings of the dashboard, defaults filled in. */
export interface UiSettings {
  /** A web session unused this long ends, ms. */
  idleMs: number;
  /** A web session ends this long after sign-in, ms. */
  maxAgeMs: number;
  /** How often the live stream sends usage and ages, ms. */
  usageIntervalMs: number;
  /** Ended sessions the Jobs page lists. */
  recentJobs: number;
  /** Where unexpected failures are reported. */
  logError: (msg: string, err: unknown) => void;
  /** How long the storage nodes' origins (for the CSP) are kept, ms. */
  storageOriginsMs: number;
  /** Where session apps are served (routes/app_proxy/origin.ts). */
  appOrigin: AppOrigin;
}

/** What each page module gets at mount time. */
export interface UiContext {
  deps: UiDeps;
  settings: UiSettings;
  limiter: SigninLimiter;
  /** The navigation, from the page table (pages/mod.ts). */
  nav: NavEntry[];
}
