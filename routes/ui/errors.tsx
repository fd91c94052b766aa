/**
 * Error pages of the dashboard: a failure is answered as an HTML page with
 * the API's status for it (404 for an unknown session, 412 for a quota,
 * 403 for a user on an operator page), never a stack trace.
 *
 * @module
 */
import type { Context } from "hono";
import { html } from "hono/html";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { toProblem } from "../problems.ts";
import { Layout, type LayoutProps } from "./components/layout.tsx";
import type { UiEnv } from "./env.ts";

/** What an error page says. */
export interface ProblemPage {
  title: string;
  detail?: string;
}

/** `<!DOCTYPE html>` + the rendered element, as an HTML response. */
export function htmlPage(
  c: Context,
  // deno-lint-ignore no-explicit-any
  element: any,
  status: ContentfulStatusCode = 200,
): Response | Promise<Response> {
  return c.html(html`<!DOCTYPE html>${element}`, status);
}

/** The signed-in viewer and the navigation of the frame, when signed in. */
export function frameOf(
  c: Context<UiEnv>,
): Pick<LayoutProps, "viewer" | "nav"> {
  const web = c.get("web");
  const caller = c.get("caller");
  if (!web || !caller) return {};
  return {
    viewer: {
      accessKey: caller.accessKey,
      isAdmin: caller.isAdmin,
      csrfToken: web.csrfToken,
    },
    nav: c.get("nav"),
  };
}

/** An error page with `status` (in the full frame when signed in). */
export function renderProblemPage(
  c: Context<UiEnv>,
  status: ContentfulStatusCode,
  page: ProblemPage,
): Response | Promise<Response> {
  return htmlPage(
    c,
    <Layout title={page.title} {...frameOf(c)}>
      <p role="alert">{page.detail ?? ""}</p>
      <p>
        <a href="/ui">Back to the dashboard</a>
      </p>
    </Layout>,
    status,
  );
}

/**
 * The page for a thrown error: problems (ProblemError, DomainError) keep
 * their status and message; anything else is logged and answered 500.
 */
export function errorPage(
  err: Error,
  c: Context<UiEnv>,
  logError: (msg: string, err: unknown) => void,
): Response | Promise<Response> {
  const problem = toProblem(err);
  if (problem) {
    return renderProblemPage(c, problem.status as ContentfulStatusCode, {
      title: problem.title,
      detail: problem.msg,
    });
  }
  if (err instanceof HTTPException && err.status < 500) {
    return renderProblemPage(c, err.status as ContentfulStatusCode, {
      title: "Bad request",
      detail: err.message,
    });
  }
  logError("dashboard: unexpected failure", err);
  return renderProblemPage(c, 500, {
    title: "Something went wrong",
    detail: "The dashboard could not answer this request. Try again.",
  });
}
