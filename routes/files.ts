/**
 * Session file routes (API.md "Files"): multipart upload into the work dir,
 * download, and listing. Paths are passed to the manager as given; it
 * confines them to the work dir.
 *
 * @module
 */
import type { Hono } from "hono";
import { requireAuth } from "./auth.ts";
import { callerOf } from "./caller.ts";
import type { GatewayEnv } from "./context.ts";
import type { GatewayDeps } from "../actors/manager/port/mod.ts";
import {
  ownerAccessKeyOf,
  queryParams,
  rawParams,
  stringListOf,
} from "./params.ts";
import { InvalidApiParams } from "./problems.ts";
import { SESSION_PREFIXES } from "./session.ts";

/** Mounts upload / download / files under both prefixes. */
export function mountFiles(app: Hono<GatewayEnv>, deps: GatewayDeps): void {
  for (const prefix of SESSION_PREFIXES) {
    app.post(`${prefix}/:ref/upload`, requireAuth(), async (c) => {
      const type = c.req.header("content-type") ?? "";
      if (!type.toLowerCase().startsWith("multipart/form-data")) {
        throw new InvalidApiParams("Upload needs a multipart/form-data body");
      }
      let form: FormData;
      try {
        form = await new Response(c.get("body"), {
          headers: { "content-type": type },
        }).formData();
      } catch {
        throw new InvalidApiParams("Malformed multipart body");
      }
      const files = [...form.values()].filter((v): v is File =>
        v instanceof File
      );
      if (files.length === 0) {
        throw new InvalidApiParams("No files in the upload");
      }
      const caller = callerOf(c, ownerAccessKeyOf(queryParams(c)));
      await deps.sessions.upload(caller, c.req.param("ref"), files);
      return c.body(null, 204);
    });

    app.get(`${prefix}/:ref/download`, requireAuth(), async (c) => {
      const params = { ...queryParams(c), ...rawParams(c) };
      const paths = stringListOf(params, "files");
      if (paths.length === 0) {
        throw new InvalidApiParams("files is required", [{
          path: "files",
          message: "required",
        }]);
      }
      const caller = callerOf(c, ownerAccessKeyOf(params));
      const { contentType, body } = await deps.sessions.download(
        caller,
        c.req.param("ref"),
        paths,
      );
      return c.body(body, 200, { "Content-Type": contentType });
    });

    app.get(`${prefix}/:ref/files`, requireAuth(), async (c) => {
      const params = { ...queryParams(c), ...rawParams(c) };
      const path = params.path ?? ".";
      if (typeof path !== "string") {
        throw new InvalidApiParams("path must be a string");
      }
      const caller = callerOf(c, ownerAccessKeyOf(params));
      return c.json(
        await deps.sessions.listFiles(caller, c.req.param("ref"), path),
      );
    });
  }
}
