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
import { frameOf, htmlPage } from "./errors.tsx";

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
  const { status, children, ...frame } = props;
  const { viewer } = frameOf(c);
  return htmlPage(
    c,
    <Layout
      {...frame}
      viewer={viewer}
      nav={ctx.nav}
      styleNonce={frame.styleNonce ?? c.get("styleNonce")}
    >
      {children}
    </Layout>,
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
