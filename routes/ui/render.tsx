/**
 * `render(c, ctx, props)`: a dashboard page in its frame, for the
 * signed-in viewer, with the navigation of the page table.
 *
 * @module
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { Layout, type LayoutProps } from "./components/layout.tsx";
import type { UiContext, UiEnv } from "./env.ts";
import { htmlPage } from "./errors.tsx";

/** Props of {@link render}: the frame's, less what the context supplies. */
export type PageProps = Omit<LayoutProps, "viewer" | "nav"> & {
  status?: ContentfulStatusCode;
};

/** Renders a page for the signed-in viewer. */
export function render(
  c: Context<UiEnv>,
  ctx: UiContext,
  props: PageProps,
): Response | Promise<Response> {
  const web = c.get("web");
  const caller = c.get("caller");
  const viewer = web && caller
    ? {
      accessKey: caller.accessKey,
      isAdmin: caller.isAdmin,
      csrfToken: web.csrfToken,
    }
    : undefined;
  const { status, children, ...frame } = props;
  return htmlPage(
    c,
    <Layout {...frame} viewer={viewer} nav={ctx.nav}>{children}</Layout>,
    status,
  );
}

/** A fragment (a table row, a panel) for an island to swap in. */
export function fragment(
  c: Context<UiEnv>,
  // deno-lint-ignore no-explicit-any
  element: any,
): Response | Promise<Response> {
  return c.html(element);
}
