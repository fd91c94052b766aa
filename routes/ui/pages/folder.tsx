/**
 * One folder: browse its directories, upload (tus-js-client in the
 * browser, resumable, with a progress bar: static/folders.js), download,
 * make a directory, delete.
 *
 * A browser cannot sign requests, so transfers go by ticket: the island
 * asks `POST .../upload-ticket` (CSRF header, the cookie's caller) and the
 * port's `requestUpload` answers a storage-node URL with a short-lived
 * token, which tus then PATCHes directly (the CSP's `connect-src` names
 * the storage nodes: headers.ts). A download link answers 303 to the
 * storage node's URL with a download token.
 *
 * File names are whatever users uploaded; they reach the page only as
 * JSX text and attributes (escaped), never as markup.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { FC } from "hono/jsx";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { UiContext, UiEnv } from "../env.ts";
import type { FolderFileList } from "../../../actors/manager/port/mod.ts";
import { CSRF_FIELD } from "../csrf.ts";
import { formatBytes, formatTime } from "../format.ts";
import { fragment, render } from "../render.tsx";
import { callerOf } from "../web_session.ts";
import { toProblem } from "../../problems.ts";
import { FOLDERS_PATH, folderUrl } from "./folders.tsx";

/** A directory path inside a folder as the page keeps it: no leading or trailing slash. */
export function cleanDir(p: unknown): string {
  if (typeof p !== "string") return "";
  return p.split("/").filter((s) => s !== "" && s !== ".").join("/");
}

const join = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);

type Entry = FolderFileList["items"][number];

/** The listing of one directory (swapped in after an upload). */
const Listing: FC<{
  folder: string;
  dir: string;
  items: Entry[];
  truncated: boolean;
  csrf: string;
}> = (p) => (
  <div id="folder-files">
    {p.items.length === 0
      ? <p class="empty">This directory is empty.</p>
      : (
        <div class="table-wrap">
          <table id="files">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Size</th>
                <th scope="col">Modified</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {p.items.map((f) => {
                const path = join(p.dir, f.filename);
                const isDir = f.type === "DIRECTORY";
                return (
                  <tr data-file={f.filename}>
                    <th scope="row" data-label="Name">
                      {isDir
                        ? (
                          <a href={folderUrl(p.folder, path)} class="fname">
                            {`${f.filename}/`}
                          </a>
                        )
                        : <span class="fname">{f.filename}</span>}
                    </th>
                    <td data-label="Size" class="nowrap">
                      {isDir ? "folder" : formatBytes(f.size)}
                    </td>
                    <td data-label="Modified" class="nowrap">
                      {formatTime(new Date(f.mtime * 1000).toISOString())}
                    </td>
                    <td data-label="Actions">
                      <div class="actions">
                        {!isDir && (
                          <a
                            href={`${folderUrl(p.folder)}/download?path=${
                              encodeURIComponent(path)
                            }`}
                            aria-label={`Download ${f.filename}`}
                          >
                            Download
                          </a>
                        )}
                        <form
                          method="post"
                          action={`${folderUrl(p.folder)}/delete-files`}
                        >
                          <input
                            type="hidden"
                            name={CSRF_FIELD}
                            value={p.csrf}
                          />
                          <input type="hidden" name="file" value={path} />
                          <input type="hidden" name="dir" value={p.dir} />
                          <button
                            type="submit"
                            class="danger"
                            aria-label={`Delete ${f.filename}`}
                          >
                            Delete
                          </button>
                        </form>
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    {p.truncated && <p class="note">Only the first entries are listed.</p>}
  </div>
);

/** Links to each directory above `dir`. */
const Crumbs: FC<{ folder: string; dir: string }> = ({ folder, dir }) => {
  const parts = dir ? dir.split("/") : [];
  return (
    <nav aria-label="Directory" class="crumbs">
      <a href={`/ui${FOLDERS_PATH}`}>Folders</a>
      <span aria-hidden="true">/</span>
      {parts.length === 0
        ? <span aria-current="page">{folder}</span>
        : <a href={folderUrl(folder)}>{folder}</a>}
      {parts.map((seg, i) => {
        const last = i === parts.length - 1;
        return (
          <>
            <span aria-hidden="true">/</span>
            {last
              ? <span aria-current="page">{seg}</span>
              : (
                <a href={folderUrl(folder, parts.slice(0, i + 1).join("/"))}>
                  {seg}
                </a>
              )}
          </>
        );
      })}
    </nav>
  );
};

async function listing(c: Context<UiEnv>, ctx: UiContext, dir: string) {
  const name = c.req.param("name")!;
  const r = await ctx.deps.folders!.listFiles(callerOf(c), name, dir || ".");
  return (
    <Listing
      folder={name}
      dir={dir}
      items={r.items}
      truncated={r.truncated}
      csrf={c.get("web")!.csrfToken}
    />
  );
}

async function folderPage(
  c: Context<UiEnv>,
  ctx: UiContext,
  dir: string,
  notice?: { msg: string; status: ContentfulStatusCode },
) {
  const name = c.req.param("name")!;
  const info = await ctx.deps.folders!.info(callerOf(c), name);
  const csrf = c.get("web")!.csrfToken;
  const base = folderUrl(name);
  return render(c, ctx, {
    title: `Folder ${info.name}`,
    active: FOLDERS_PATH,
    page: "folder",
    status: notice?.status,
    scripts: ["vendor/tus.js", "folders.js"],
    children: (
      <>
        <Crumbs folder={info.name} dir={dir} />
        <p class="note">
          {`${formatBytes(info.used_bytes)} used${
            info.quota ? ` of ${formatBytes(info.quota)}` : ""
          } on ${info.host}, permission ${info.permission}.`}
        </p>
        {notice && <p class="error" role="alert">{notice.msg}</p>}
        {await listing(c, ctx, dir)}
        <div class="cards">
          <form
            class="card"
            id="upload-form"
            data-ticket={`${base}/upload-ticket`}
            data-list={`${base}/files?path=${encodeURIComponent(dir)}`}
            data-dir={dir}
          >
            <h2>Upload</h2>
            <label for="upload-file">File to upload</label>
            <input id="upload-file" name="file" type="file" required />
            <div id="upload-progress-row" class="progress-row" hidden>
              <label for="upload-progress">Upload progress</label>
              <progress id="upload-progress" max={100} value={0} />
              <span id="upload-status" role="status" aria-live="polite" />
            </div>
            <div class="toolbar">
              <button type="submit" id="upload-start">Upload</button>
              <button type="button" id="upload-pause" hidden>Pause</button>
            </div>
          </form>
          <form class="card" method="post" action={`${base}/mkdir`}>
            <h2>New directory</h2>
            <input type="hidden" name={CSRF_FIELD} value={csrf} />
            <input type="hidden" name="dir" value={dir} />
            <label for="dirname">Directory name</label>
            <input
              id="dirname"
              name="dirname"
              required
              maxlength={255}
              spellcheck={false}
              autocapitalize="off"
            />
            <button type="submit">Create directory</button>
          </form>
        </div>
      </>
    ),
  });
}

/** What the page shows of a port failure (its message and status), or a rethrow. */
function problemNotice(
  err: unknown,
): { msg: string; status: ContentfulStatusCode } {
  const p = toProblem(err);
  if (!p) throw err;
  return { msg: p.msg ?? p.title, status: p.status as ContentfulStatusCode };
}

/** Mounts browse, the listing fragment, tickets, mkdir and delete. */
export function mountFolder(app: Hono<UiEnv>, ctx: UiContext): void {
  const folders = ctx.deps.folders!;
  const path = `${FOLDERS_PATH}/:name`;

  app.get(path, (c) => folderPage(c, ctx, cleanDir(c.req.query("path"))));

  app.get(
    `${path}/files`,
    async (c) =>
      fragment(c, await listing(c, ctx, cleanDir(c.req.query("path")))),
  );

  app.post(`${path}/upload-ticket`, async (c) => {
    let body: { path?: unknown; size?: unknown };
    try {
      body = await c.req.json();
    } catch {
      body = {};
    }
    const file = cleanDir(body.path);
    const size = Number(body.size);
    if (!file || !Number.isSafeInteger(size) || size < 0) {
      return c.json({ title: "Bad request", detail: "path and size" }, 400);
    }
    try {
      const t = await folders.requestUpload(
        callerOf(c),
        c.req.param("name"),
        file,
        size,
      );
      return c.json({ url: `${t.url}?token=${encodeURIComponent(t.token)}` });
    } catch (err) {
      const p = toProblem(err);
      if (!p) throw err;
      return c.json(
        { title: p.title, detail: p.msg ?? p.title },
        p.status as 400,
      );
    }
  });

  app.get(`${path}/download`, async (c) => {
    const file = cleanDir(c.req.query("path"));
    const t = await folders.requestDownload(
      callerOf(c),
      c.req.param("name"),
      file,
    );
    return c.redirect(`${t.url}?token=${encodeURIComponent(t.token)}`, 303);
  });

  app.post(`${path}/mkdir`, async (c) => {
    const form = await c.req.parseBody();
    const dir = cleanDir(form.dir);
    const sub = typeof form.dirname === "string" ? form.dirname.trim() : "";
    try {
      await folders.mkdir(callerOf(c), c.req.param("name"), join(dir, sub), {
        parents: false,
        existOk: false,
      });
    } catch (err) {
      return folderPage(c, ctx, dir, problemNotice(err));
    }
    return c.redirect(folderUrl(c.req.param("name"), dir), 303);
  });

  app.post(`${path}/delete-files`, async (c) => {
    const form = await c.req.parseBody();
    const dir = cleanDir(form.dir);
    const file = typeof form.file === "string" ? form.file : "";
    try {
      await folders.deleteFiles(callerOf(c), c.req.param("name"), [file], true);
    } catch (err) {
      return folderPage(c, ctx, dir, problemNotice(err));
    }
    return c.redirect(folderUrl(c.req.param("name"), dir), 303);
  });
}
