/**
 * The Folders page: the keypair's virtual folders with their usage, a
 * form to create one, and delete. Browsing, uploads and downloads are on
 * each folder's page (folder.tsx). Everything goes through the port's
 * `folders` with the signed-in caller, as `/folders` does for the API.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { UiContext, UiEnv } from "../env.ts";
import type {
  Caller,
  FolderDeps,
  FolderView,
} from "../../../actors/manager/port/mod.ts";
import { CSRF_FIELD } from "../csrf.ts";
import { formatBytes, formatTime } from "../format.ts";
import { render } from "../render.tsx";
import { callerOf } from "../web_session.ts";
import { toProblem } from "../../problems.ts";

/** Path of the page (nav table). */
export const FOLDERS_PATH = "/folders";

/** The URL of a folder's page (a sub-directory with `path`). */
export function folderUrl(name: string, path = ""): string {
  const base = `/ui${FOLDERS_PATH}/${encodeURIComponent(name)}`;
  return path ? `${base}?path=${encodeURIComponent(path)}` : base;
}

/** Folders whose fresh usage one page load asks the storage nodes for. */
const MAX_USAGE_ASKS = 50;

/** A folder with the usage its storage node reports now (else the last stored figure). */
export interface FolderUsage {
  folder: FolderView;
  usedBytes: number;
}

/** The caller's folders with fresh usage where the storage node answers. */
export async function foldersWithUsage(
  folders: FolderDeps,
  caller: Caller,
): Promise<FolderUsage[]> {
  const list = await folders.list(caller);
  return await Promise.all(list.map(async (folder, i) => {
    if (i >= MAX_USAGE_ASKS) return { folder, usedBytes: folder.cur_size };
    try {
      const info = await folders.info(caller, folder.name);
      return { folder, usedBytes: info.used_bytes };
    } catch {
      return { folder, usedBytes: folder.cur_size }; // its host is away now
    }
  }));
}

const PERMISSIONS = [
  ["rw", "Read and write"],
  ["ro", "Read only"],
  ["wd", "Read, write and delete"],
] as const;

interface CreateValues {
  name: string;
  host: string;
  permission: string;
}

async function listPage(
  c: Context<UiEnv>,
  ctx: UiContext,
  form?: { values: CreateValues; error: string },
  status: ContentfulStatusCode = 200,
) {
  const folders = ctx.deps.folders!;
  const caller = callerOf(c);
  const [rows, hosts] = await Promise.all([
    foldersWithUsage(folders, caller),
    folders.hosts(caller).catch(() => ({ default: null, allowed: [] })),
  ]);
  const csrf = c.get("web")!.csrfToken;
  const v = form?.values ?? {
    name: "",
    host: hosts.default ?? "",
    permission: "rw",
  };
  const total = rows.reduce((n, r) => n + r.usedBytes, 0);
  return render(c, ctx, {
    title: "Folders",
    active: FOLDERS_PATH,
    page: "folders",
    status,
    children: (
      <>
        <p class="note" id="folders-total">
          {`${rows.length} ${rows.length === 1 ? "folder" : "folders"}, ${
            formatBytes(total)
          } used.`}
        </p>
        {rows.length === 0
          ? <p class="empty">No folders yet.</p>
          : (
            <div class="table-wrap">
              <table id="folders">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Host</th>
                    <th scope="col">Permission</th>
                    <th scope="col">Used</th>
                    <th scope="col">Created</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map(({ folder: f, usedBytes }) => (
                    <tr id={`folder-${f.id}`}>
                      <th scope="row" data-label="Name">
                        <a href={folderUrl(f.name)}>{f.name}</a>
                      </th>
                      <td data-label="Host">{f.host}</td>
                      <td data-label="Permission">{f.permission}</td>
                      <td data-label="Used" class="nowrap">
                        {formatBytes(usedBytes)}
                        {f.quota ? ` of ${formatBytes(f.quota)}` : ""}
                      </td>
                      <td data-label="Created" class="nowrap">
                        {formatTime(f.created_at)}
                      </td>
                      <td data-label="Actions">
                        <div class="actions">
                          <a
                            href={folderUrl(f.name)}
                            aria-label={`Browse folder ${f.name}`}
                          >
                            Browse
                          </a>
                          <form
                            method="post"
                            action={`${folderUrl(f.name)}/delete`}
                          >
                            <input
                              type="hidden"
                              name={CSRF_FIELD}
                              value={csrf}
                            />
                            <button
                              type="submit"
                              class="danger"
                              aria-label={`Delete folder ${f.name}`}
                            >
                              Delete
                            </button>
                          </form>
                        </div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        <form
          class="card narrow"
          method="post"
          action={`/ui${FOLDERS_PATH}`}
          id="new-folder"
        >
          <h2>New folder</h2>
          {form?.error && (
            <p class="error" role="alert" id="folder-error">{form.error}</p>
          )}
          <input type="hidden" name={CSRF_FIELD} value={csrf} />
          <label for="folder-name">Folder name</label>
          <input
            id="folder-name"
            name="name"
            required
            maxlength={64}
            value={v.name}
            spellcheck={false}
            autocapitalize="off"
          />
          {hosts.allowed.length > 1 && (
            <>
              <label for="folder-host">Storage host</label>
              <select id="folder-host" name="host">
                {hosts.allowed.map((h) => (
                  <option value={h} selected={h === v.host}>{h}</option>
                ))}
              </select>
            </>
          )}
          <label for="folder-permission">Permission</label>
          <select id="folder-permission" name="permission">
            {PERMISSIONS.map(([value, label]) => (
              <option value={value} selected={value === v.permission}>
                {label}
              </option>
            ))}
          </select>
          <button type="submit">Create folder</button>
        </form>
      </>
    ),
  });
}

/** Mounts the list, create and delete. */
export function mountFolders(app: Hono<UiEnv>, ctx: UiContext): void {
  const folders = ctx.deps.folders!;
  app.get(FOLDERS_PATH, (c) => listPage(c, ctx));

  app.post(FOLDERS_PATH, async (c) => {
    const form = await c.req.parseBody();
    const str = (k: string) =>
      typeof form[k] === "string" ? form[k].trim() : "";
    const values = {
      name: str("name"),
      host: str("host"),
      permission: str("permission") || "rw",
    };
    const permission = PERMISSIONS.find(([p]) => p === values.permission)?.[0];
    if (!permission) {
      return listPage(c, ctx, { values, error: "Choose a permission." }, 400);
    }
    try {
      const f = await folders.create(callerOf(c), {
        name: values.name,
        host: values.host || undefined,
        permission,
        usageMode: "general",
        cloneable: false,
      });
      return c.redirect(folderUrl(f.name), 303);
    } catch (err) {
      const p = toProblem(err);
      if (!p) throw err;
      return listPage(
        c,
        ctx,
        { values, error: p.msg ?? p.title },
        p.status as ContentfulStatusCode,
      );
    }
  });

  app.post(`${FOLDERS_PATH}/:name/delete`, async (c) => {
    await folders.delete(callerOf(c), { name: c.req.param("name") });
    return c.redirect(`/ui${FOLDERS_PATH}`, 303);
  });
}
