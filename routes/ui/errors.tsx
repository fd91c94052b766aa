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
import { Layout } from "./components/layout.tsx";

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

/** An error page with `status`. */
export function renderProblemPage(
  c: Context,
  status: ContentfulStatusCode,
  page: ProblemPage,
): Response | Promise<Response> {
  return htmlPage(
    c,
    <Layout title={page.title}>
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
  c: Context,
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
