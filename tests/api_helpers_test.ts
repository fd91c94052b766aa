/**
 * Helpers shared by the `tests/api_*_test.ts` integration tests (it holds no
 * tests itself; the `_test` suffix keeps it inside the test file pattern
 * those tests own). Everything here speaks to a real cluster from
 * tests/support/cluster.ts over real HTTP and WebSocket.
 *
 * @module
 */
import type { TestCluster } from "./support/cluster.ts";
import { assert, assertEquals } from "./support/assert.ts";
import type { Credentials } from "../routes/cli/sign.ts";
import { signedSocket, whenOpen } from "./support/terminal.ts";

/** One `result` object of `POST /session/{ref}`. */
export interface RunResult {
  runId: string;
  status: string;
  exitCode: number | null;
  console: [string, unknown][];
  files: unknown[];
  options: Record<string, unknown> | null;
}

/** A problem+json body. */
export interface Problem {
  type: string;
  title: string;
  msg?: string;
  data?: Record<string, unknown>;
}

/** Concatenated text of one console stream of `results`. */
export function textOf(
  results: RunResult | RunResult[],
  stream: "stdout" | "stderr" = "stdout",
): string {
  return [results].flat().flatMap((r) => r.console)
    .filter(([kind]) => kind === stream).map(([, s]) => s as string).join("");
}

/** One execute call; throws on a non-200 reply. */
export async function execute(
  c: TestCluster,
  ref: string,
  body: {
    mode: string;
    code?: string;
    runId: string | null;
    options?: Record<string, unknown>;
  },
  creds?: Credentials,
): Promise<RunResult> {
  const res = await c.json<{ result: RunResult }>(
    "POST",
    `/session/${ref}`,
    { code: "", ...body },
    creds,
  );
  return res.result;
}

/**
 * Runs `code` in query mode and sends `continue` until the run leaves
 * `continued`; returns every reply in order (the last one is not `continued`).
 */
export async function runQuery(
  c: TestCluster,
  ref: string,
  code: string,
  options: Record<string, unknown> = {},
): Promise<RunResult[]> {
  const runId = crypto.randomUUID().slice(0, 16);
  const replies = [
    await execute(c, ref, { mode: "query", code, runId, options }),
  ];
  while (replies.at(-1)!.status === "continued") {
    replies.push(await execute(c, ref, { mode: "continue", runId }));
  }
  return replies;
}

/** `runQuery` that expects a clean finish; returns the stdout. */
export async function stdoutOf(
  c: TestCluster,
  ref: string,
  code: string,
): Promise<string> {
  const replies = await runQuery(c, ref, code);
  const last = replies.at(-1)!;
  assertEquals(
    [last.status, last.exitCode],
    ["finished", 0],
    `run of ${JSON.stringify(code)}: ${JSON.stringify(replies)}`,
  );
  return textOf(replies);
}

/** Creates (and waits for) a session; returns its id. */
export async function createSession(
  c: TestCluster,
  name: string,
  image = "python",
  creds?: Credentials,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await c.json<{ sessionId: string; status: string }>(
    "POST",
    "/session",
    { image, name, ...extra },
    creds,
  );
  assertEquals(res.status, "RUNNING", `session ${name}`);
  return res.sessionId;
}

/** Asserts a problem reply of `status` and type `name`; returns its body. */
export async function expectProblem(
  res: Response,
  status: number,
  name: string,
): Promise<Problem> {
  const text = await res.text();
  assertEquals(
    res.status,
    status,
    `expected ${status} ${name}, got ${res.status}: ${text}`,
  );
  assertEquals(
    res.headers.get("content-type")?.split(";")[0],
    "application/problem+json",
  );
  const body = JSON.parse(text) as Problem;
  assertEquals(body.type, `https://api.backend.ai/probs/${name}`, text);
  return body;
}

/** A streaming-execution socket with everything it received so far. */
export interface StreamSocket {
  ws: WebSocket;
  frames: Record<string, unknown>[];
  /** Resolves when the server (or the client) closed the socket. */
  closed: Promise<CloseEvent>;
}

/**
 * Opens `GET target` as a WebSocket signed the way Backend.AI clients sign
 * the upgrade: a GET with no Content-Type (so `application/octet-stream`).
 */
export async function openStream(
  c: TestCluster,
  target: string,
  creds: Credentials = c.admin,
): Promise<StreamSocket> {
  const ws = signedSocket(c, target, creds);
  const frames: Record<string, unknown>[] = [];
  const closed = new Promise<CloseEvent>((r) =>
    ws.addEventListener("close", (e) => r(e))
  );
  ws.addEventListener("message", (e) => frames.push(JSON.parse(e.data)));
  await whenOpen(ws, "socket failed");
  return { ws, frames, closed };
}

/** Resolves once `pred` holds for one of the socket's frames. */
export function frameWhere(
  s: StreamSocket,
  pred: (f: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const hit = s.frames.find(pred);
    if (hit) return resolve(hit);
    const onMsg = () => {
      const f = s.frames.find(pred);
      if (f) {
        s.ws.removeEventListener("message", onMsg);
        resolve(f);
      }
    };
    s.ws.addEventListener("message", onMsg);
    s.closed.then(() => {
      const f = s.frames.find(pred);
      if (f) resolve(f);
      else {
        reject(
          new Error(
            `socket closed without the frame; got ${JSON.stringify(s.frames)}`,
          ),
        );
      }
    });
  });
}

/** Concatenated stdout of stream frames. */
export function streamStdout(frames: Record<string, unknown>[]): string {
  return frames.flatMap((f) => (f.console ?? []) as [string, unknown][])
    .filter(([k]) => k === "stdout").map(([, s]) => s as string).join("");
}

/** Uploads `files` (name → text) into a session's work dir. */
export async function upload(
  c: TestCluster,
  ref: string,
  files: Record<string, string>,
  creds?: Credentials,
): Promise<void> {
  const form = new FormData();
  for (const [name, text] of Object.entries(files)) {
    form.append("src", new File([text], name));
  }
  const res = await c.api("POST", `/session/${ref}/upload`, form, creds);
  const body = await res.text();
  assert(res.status === 204, `upload → ${res.status}: ${body}`);
}
