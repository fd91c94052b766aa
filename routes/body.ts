/**
 * Reads the request body once, under a size limit, so that a huge or endless
 * body ends in 413 instead of memory growth or a hang. Uploads get a larger
 * limit than JSON calls.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import type { GatewayEnv } from "./context.ts";
import { preloadedBody } from "./override.ts";
import { InvalidApiParams, ProblemError } from "./problems.ts";

/** Options of {@link bodyReader}. */
export interface BodyLimits {
  /** Bytes allowed for ordinary (JSON) requests. @default {1048576} */
  jsonBodyLimit: number;
  /** Bytes allowed on upload routes. @default {67108864} */
  uploadBodyLimit: number;
}

const EMPTY = new Uint8Array();
const UPLOAD_PATH = /\/upload$/;

function tooLarge(limit: number): ProblemError {
  return new ProblemError("request-too-large", {
    msg: `The request body exceeds ${limit} bytes.`,
  });
}

/**
 * Reads `req`'s body, failing with 413 request-too-large past `limit`
 * (checked on Content-Length first, then while streaming).
 */
export async function readLimited(
  req: Request,
  limit: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const pre = preloadedBody(req);
  if (pre) {
    if (pre.byteLength > limit) throw tooLarge(limit);
    return pre;
  }
  if (req.body === null) return EMPTY;
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    await req.body.cancel().catch(() => {});
    throw tooLarge(limit);
  }
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** Middleware setting `body` on the context; the limit depends on the route. */
export function bodyReader(limits: BodyLimits): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const limit = UPLOAD_PATH.test(c.req.path)
      ? limits.uploadBodyLimit
      : limits.jsonBodyLimit;
    c.set("body", await readLimited(c.req.raw, limit));
    await next();
  };
}

/**
 * The files of a `multipart/form-data` upload body (session and folder
 * uploads): 400 invalid-api-params for another content type, a malformed
 * form, or a form without files.
 */
export async function uploadedFiles(c: Context<GatewayEnv>): Promise<File[]> {
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
  const files = [...form.values()].filter((v): v is File => v instanceof File);
  if (files.length === 0) throw new InvalidApiParams("No files in the upload");
  return files;
}
