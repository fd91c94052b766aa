/**
 * Virtual folder routes (`/folders`), as the JS client 21.3.1 and the
 * Python SDK 22.03.2 call them, both spellings where client versions
 * differ (`rename-file` / `rename_file`, ...), and the admin listing
 * `GET /x/admin/folders`. Parameters come from the JSON body or the query
 * string (the SDK sends JSON bodies on GET). Paths inside a folder are
 * passed on as sent: the manager refuses `..`, absolute paths and NUL, the
 * storage node symlink escapes.
 *
 * Uploads and downloads go to the storage node: `request-upload` and
 * `request-download` answer `{token, url}`, the client then speaks tus 1.0
 * to (or GETs) `url?token=`. `POST /folders/{name}/upload` (multipart, the
 * JS client's `upload`) is relayed by the manager to the same tus endpoint.
 *
 * @module
 */
import { z } from "zod";
import type { Context, Hono } from "hono";
import { requireAdmin, requireAuth } from "./auth.ts";
import { uploadedFiles } from "./body.ts";
import { callerOf } from "./caller.ts";
import type { GatewayEnv } from "./context.ts";
import type { FolderDeps, GatewayDeps } from "../actors/manager/port/mod.ts";
import {
  boolish,
  intish,
  normalizeKeys,
  ownerAccessKeyOf,
  queryParams,
  rawParams,
  stringListOf,
  validate,
} from "./params.ts";
import { InvalidApiParams } from "./problems.ts";
import { parseBinarySize } from "../policies/slots.ts";

const quotaSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseBinarySize(typeof v === "string" && v.trim() === "" ? 0 : v);
  } catch {
    ctx.addIssue({ code: "custom", message: "a size like 10g or bytes" });
    return z.NEVER;
  }
});

const createSchema = z.object({
  name: z.string(),
  host: z.string().min(1).optional(),
  permission: z.enum(["ro", "rw", "wd"]).default("rw"),
  quota: quotaSchema.optional(),
  usageMode: z.enum(["general", "data", "model"]).default("general"),
  cloneable: boolish.default(false),
  group: z.string().optional(),
  unmanagedPath: z.string().optional(),
}).loose();

const pathOf = (raw: Record<string, unknown>, key = "path"): string => {
  const v = raw[key] ?? ".";
  if (typeof v !== "string") {
    throw new InvalidApiParams(`${key} must be a string`, [{
      path: key,
      message: "string",
    }]);
  }
  return v;
};

/** Parameters of a folder route, keys camelCased (`new_name` → `newName`). */
function params(c: Context<GatewayEnv>): Record<string, unknown> {
  return normalizeKeys(rawParams(c));
}

/** Mounts `/folders` and `/x/admin/folders` when the manager has folders. */
export function mountFolders(app: Hono<GatewayEnv>, deps: GatewayDeps): void {
  const f = deps.folders;
  if (!f) return;
  const caller = (c: Context<GatewayEnv>) =>
    callerOf(c, ownerAccessKeyOf({ ...queryParams(c), ...safeRaw(c) }));
  const name = (c: Context<GatewayEnv>) => c.req.param("name")!;
  const both = (path: string) =>
    path.includes("-")
      ? [path, path.replaceAll("-", "_")]
      : [path, path.replaceAll("_", "-")];

  for (const p of both("/folders/_/hosts")) {
    app.get(p, requireAuth(), async (c) => c.json(await f.hosts(caller(c))));
  }
  for (const p of [...both("/folders/_/all-hosts")]) {
    app.get(p, requireAdmin(), async (c) => c.json(await f.hosts(caller(c))));
  }
  for (const p of both("/folders/_/allowed-types")) {
    app.get(p, requireAuth(), async (c) => c.json(await f.allowedTypes()));
  }

  app.post("/folders", requireAuth(), async (c) => {
    const p = validate(createSchema, params(c));
    if (p.unmanagedPath) {
      throw new InvalidApiParams("unmanaged folders are not supported");
    }
    const view = await f.create(caller(c), {
      name: p.name,
      host: p.host,
      permission: p.permission,
      quota: p.quota,
      usageMode: p.usageMode,
      cloneable: p.cloneable,
      group: p.group,
    });
    return c.json(view, 201);
  });
  app.get(
    "/folders",
    requireAuth(),
    async (c) => c.json(await f.list(caller(c))),
  );
  app.delete("/folders", requireAuth(), async (c) => {
    const p = params(c);
    if (typeof p.id !== "string" || !p.id) {
      throw new InvalidApiParams("id is required");
    }
    await f.delete(caller(c), { id: p.id });
    return c.body(null, 204);
  });

  app.get(
    "/folders/:name",
    requireAuth(),
    async (c) => c.json(await f.info(caller(c), name(c))),
  );
  app.delete("/folders/:name", requireAuth(), async (c) => {
    await f.delete(caller(c), { name: name(c) });
    return c.body(null, 204);
  });
  app.post("/folders/:name/rename", requireAuth(), async (c) => {
    const p = validate(z.object({ newName: z.string() }).loose(), params(c));
    await f.rename(caller(c), name(c), p.newName);
    return c.body(null, 201);
  });
  for (const p of both("/folders/:name/update-options")) {
    app.post(p, requireAuth(), async (c) => {
      const v = validate(
        z.object({
          permission: z.enum(["ro", "rw", "wd"]).optional(),
          cloneable: boolish.optional(),
        }).loose(),
        params(c),
      );
      await f.updateOptions(caller(c), name(c), v);
      return c.body(null, 201);
    });
  }
  app.post("/folders/:name/mkdir", requireAuth(), async (c) => {
    const p = params(c);
    const v = validate(
      z.object({
        parents: boolish.default(false),
        existOk: boolish.default(false),
      })
        .loose(),
      p,
    );
    await f.mkdir(caller(c), name(c), pathOf(p), v);
    return c.body(null, 201);
  });
  app.get("/folders/:name/files", requireAuth(), async (c) => {
    const p = { ...queryParams(c), ...params(c) };
    return c.json(await f.listFiles(caller(c), name(c), pathOf(p)));
  });
  for (const p of both("/folders/:name/rename-file")) {
    app.post(p, requireAuth(), async (c) => {
      const v = validate(
        z.object({ targetPath: z.string(), newName: z.string() }).loose(),
        params(c),
      );
      await f.renameFile(caller(c), name(c), v.targetPath, v.newName);
      return c.json({});
    });
  }
  for (const p of both("/folders/:name/move-file")) {
    app.post(p, requireAuth(), async (c) => {
      const v = validate(
        z.object({ src: z.string(), dst: z.string() }).loose(),
        params(c),
      );
      await f.moveFile(caller(c), name(c), v.src, v.dst);
      return c.json({});
    });
  }
  for (const p of both("/folders/:name/delete-files")) {
    const handler = async (c: Context<GatewayEnv>) => {
      const raw = params(c);
      const files = stringListOf(raw, "files");
      const v = validate(
        z.object({ recursive: boolish.default(false) }).loose(),
        raw,
      );
      await f.deleteFiles(caller(c), name(c), files, v.recursive);
      return c.body(null, 204);
    };
    app.delete(p, requireAuth(), handler);
    app.post(p, requireAuth(), handler);
  }
  for (
    const p of [
      ...both("/folders/:name/request-upload"),
      "/folders/:name/create_upload_session",
    ]
  ) {
    app.post(p, requireAuth(), async (c) => {
      const raw = params(c);
      const v = validate(
        z.object({ size: intish.pipe(z.number().int().min(0)) }).loose(),
        raw,
      );
      return c.json(
        await f.requestUpload(caller(c), name(c), pathOf(raw), v.size),
      );
    });
  }
  for (const p of both("/folders/:name/request-download")) {
    app.post(p, requireAuth(), async (c) => {
      const raw = params(c);
      // The Python SDK sends `path`, the JS client `file`.
      const path = raw.path ?? raw.file;
      if (typeof path !== "string" || path === "") {
        throw new InvalidApiParams("path is required");
      }
      if (raw.archive === true || raw.archive === "true") {
        throw new InvalidApiParams("archive downloads are not supported");
      }
      return c.json(await f.requestDownload(caller(c), name(c), path));
    });
  }
  app.post("/folders/:name/upload", requireAuth(), async (c) => {
    await f.upload(caller(c), name(c), await uploadedFiles(c));
    return c.body(null, 201);
  });

  mountAdminFolders(app, f);
}

function mountAdminFolders(app: Hono<GatewayEnv>, f: FolderDeps): void {
  const schema = z.object({
    accessKey: z.string().optional(),
    host: z.string().optional(),
    limit: intish.pipe(z.number().int().min(1).max(1000)).default(100),
    offset: intish.pipe(z.number().int().min(0)).default(0),
  });
  app.get("/x/admin/folders", requireAdmin(), async (c) => {
    const p = validate(schema, normalizeKeys(queryParams(c)));
    return c.json(await f.adminList(p));
  });
}

/** The JSON body, or nothing when there is none or it is not JSON. */
function safeRaw(c: Context<GatewayEnv>): Record<string, unknown> {
  try {
    return rawParams(c);
  } catch {
    return {};
  }
}
