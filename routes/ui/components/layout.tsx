/**
 * The page frame: head (assets, the CSRF token for islands), a skip link,
 * the navigation with the operator group for admins, the sign-out form,
 * and `<main>`. Every value reaches the HTML through JSX, which escapes
 * text and attributes; nothing here writes raw HTML.
 *
 * @module
 */
import type { Child, FC } from "hono/jsx";
import { assetUrl } from "../assets.ts";
import { CSRF_FIELD } from "../csrf.ts";

/** One navigation link. */
export interface NavEntry {
  /** Path under /ui ("" is the Summary). */
  path: string;
  label: string;
  /** Shown to admin keypairs only. */
  admin?: boolean;
}

/** Who is signed in, as the frame shows it. */
export interface Viewer {
  accessKey: string;
  isAdmin: boolean;
  csrfToken: string;
}

/** Props of {@link Layout}. */
export interface LayoutProps {
  title: string;
  /** The nav path this page belongs to (marked `aria-current`). */
  active?: string;
  viewer?: Viewer;
  nav?: NavEntry[];
  /** `data-page` of `<body>`: which island behaviour the page wants. */
  page?: string;
  /** Open the live event stream on this page. */
  live?: boolean;
  /** Extra stylesheet / script assets (names in assets.ts). */
  styles?: string[];
  scripts?: string[];
  /**
   * The response's style nonce (headers.ts), given to the extra scripts:
   * an island reads it as `document.currentScript.nonce` to stamp the
   * `<style>` elements a library makes (xterm.js).
   */
  styleNonce?: string;
  children?: Child;
}

const NavLinks: FC<{ entries: NavEntry[]; active?: string; label: string }> = (
  p,
) => (
  <ul aria-label={p.label}>
    {p.entries.map((e) => (
      <li>
        <a
          href={`/ui${e.path}`}
          aria-current={p.active === e.path ? "page" : undefined}
        >
          {e.label}
        </a>
      </li>
    ))}
  </ul>
);

/** The frame of every dashboard page. */
export const Layout: FC<LayoutProps> = (p) => {
  const nav = p.nav ?? [];
  const user = nav.filter((e) => !e.admin);
  const ops = p.viewer?.isAdmin ? nav.filter((e) => e.admin) : [];
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {p.viewer && <meta name="csrf-token" content={p.viewer.csrfToken} />}
        <title>{`${p.title} · Backend.AI`}</title>
        {/* No icon request (it would reach the API and answer 404). */}
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={assetUrl("style.css")} />
        {(p.styles ?? []).map((s) => (
          <link rel="stylesheet" href={assetUrl(s)} />
        ))}
        {(p.scripts ?? []).map((s) => (
          <script defer src={assetUrl(s)} nonce={p.styleNonce} />
        ))}
        <script type="module" src={assetUrl("app.js")} />
      </head>
      <body data-page={p.page} data-live={p.live ? "1" : undefined}>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="/ui">Backend.AI</a>
          {p.viewer && (
            <nav aria-label="Main">
              <NavLinks entries={user} active={p.active} label="Pages" />
              {ops.length > 0 && (
                <NavLinks entries={ops} active={p.active} label="Operators" />
              )}
            </nav>
          )}
          {p.viewer && (
            <form class="signout" method="post" action="/ui/signout">
              <input
                type="hidden"
                name={CSRF_FIELD}
                value={p.viewer.csrfToken}
              />
              <span class="who" title="Signed-in access key">
                {p.viewer.accessKey}
                {p.viewer.isAdmin ? " (admin)" : ""}
              </span>
              <button type="submit">Sign out</button>
            </form>
          )}
        </header>
        <main id="main" tabindex={-1}>
          <h1>{p.title}</h1>
          {p.children}
        </main>
      </body>
    </html>
  );
};
